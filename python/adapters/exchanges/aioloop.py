"""The asyncio loop the synchronous kernel reaches ccxt through.

The engine is synchronous and forbids asyncio (one loop owns all state, see DESIGN);
ccxt's async classes and ccxt.pro websockets need a running loop. `AsyncioThread` runs
one loop in a daemon thread: `call(coroutine, timeout_s)` runs a coroutine there and
waits for its result (a bounded wait: a hung exchange call raises TimeoutError in the
caller and the coroutine is cancelled); `spawn(coroutine)` starts a long-lived task
(a websocket reader) that reports through whatever queue it was given."""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

__all__ = ["AsyncioThread"]

T = TypeVar("T")


class AsyncioThread:
    def __init__(self, name: str = "quantx-asyncio") -> None:
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()
        self._ready.wait()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.call_soon(self._ready.set)
        self._loop.run_forever()

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return self._loop

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._loop.is_closed()

    def call(self, coroutine: Coroutine[Any, Any, T], timeout_s: float) -> T:
        """Runs `coroutine` on the loop and returns its result; TimeoutError after
        `timeout_s` (the coroutine is cancelled), its own exception otherwise."""
        if timeout_s <= 0:
            coroutine.close()
            raise ValueError(f"timeout_s {timeout_s!r} is not positive (rule: > 0)")
        if not self.running:
            coroutine.close()
            raise RuntimeError("the asyncio thread is stopped (rule: call before stop)")
        future = asyncio.run_coroutine_threadsafe(coroutine, self._loop)
        try:
            return future.result(timeout_s)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise TimeoutError(f"call did not finish within {timeout_s:g} s") from None

    def spawn(self, coroutine: Coroutine[Any, Any, Any]) -> concurrent.futures.Future[Any]:
        """Starts `coroutine` as a task on the loop and returns at once."""
        if not self.running:
            coroutine.close()
            raise RuntimeError("the asyncio thread is stopped (rule: spawn before stop)")
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop)

    def stop(self, timeout_s: float = 5.0) -> None:
        """Cancels what still runs, stops the loop and joins the thread (idempotent)."""
        if self._loop.is_closed():
            return
        if self._thread.is_alive():
            asyncio.run_coroutine_threadsafe(self._cancel_all(), self._loop).result(timeout_s)
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout_s)
        self._loop.close()

    async def _cancel_all(self) -> None:
        current = asyncio.current_task()
        tasks = [t for t in asyncio.all_tasks() if t is not current]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def __enter__(self) -> AsyncioThread:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
