"""An aiohttp app served on 127.0.0.1 (random port) by an event loop in a daemon thread,
and bounded hops from the test thread onto that loop."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

from aiohttp import web

T = TypeVar("T")
TIMEOUT_S = 10.0  # bound on every hop from the test thread onto the server loop


class LoopThread:
    """Runs one app; `call`/`do` run work on its loop and wait at most TIMEOUT_S."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self, make_app: Callable[[], web.Application]) -> str:
        """Serves the app `make_app` builds (on the new loop); returns http://127.0.0.1:port."""
        ready = threading.Event()
        self._thread = threading.Thread(
            target=self._run, args=(make_app, ready), name=self.name, daemon=True
        )
        self._thread.start()
        if not ready.wait(TIMEOUT_S) or not self.url:
            raise RuntimeError(f"{self.name}: server did not start within {TIMEOUT_S:.0f} s")
        return self.url

    def _run(self, make_app: Callable[[], web.Application], ready: threading.Event) -> None:
        loop = asyncio.new_event_loop()
        self.loop = loop
        asyncio.set_event_loop(loop)
        runner = web.AppRunner(
            make_app(), handle_signals=False, access_log=None, shutdown_timeout=0.5
        )
        loop.run_until_complete(runner.setup())
        site = web.TCPSite(runner, "127.0.0.1", 0)
        loop.run_until_complete(site.start())
        self.url = f"http://127.0.0.1:{runner.addresses[0][1]}"
        ready.set()
        loop.run_forever()
        loop.run_until_complete(runner.cleanup())
        loop.close()

    def stop(self, before: Callable[[], Coroutine[Any, Any, None]] | None = None) -> None:
        """Runs `before` on the loop (errors ignored), then stops the loop and the thread."""
        if self.loop is None or self._thread is None:
            return
        if before is not None:
            with contextlib.suppress(Exception):
                self.call(before())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(TIMEOUT_S)
        self.loop = self._thread = None

    def call(self, coro: Coroutine[Any, Any, T]) -> T:
        assert self.loop is not None, f"{self.name}: start() the server first"
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(TIMEOUT_S)

    def do(self, fn: Callable[[], T]) -> T:
        async def run() -> T:
            return fn()

        return self.call(run())
