"""An aiohttp application served on 127.0.0.1 from a thread of its own.

The engine's loop is synchronous; the server runs its own asyncio loop in a daemon
thread, so requests never wait on the kernel and the kernel never waits on them. Only
loopback addresses are accepted (a control endpoint must not face the network)."""

from __future__ import annotations

import asyncio
import threading

from aiohttp import web

__all__ = ["LOOPBACK_HOSTS", "LoopbackServer"]

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "::1", "localhost"})


class LoopbackServer:
    def __init__(self, app: web.Application, *, host: str = "127.0.0.1", port: int = 0) -> None:
        if host not in LOOPBACK_HOSTS:
            raise ValueError(f"host {host!r} is not a loopback address (rule: 127.0.0.1 or ::1)")
        if not isinstance(port, int) or not 0 <= port <= 65_535:
            raise ValueError(f"port {port!r} is not in 0..65535 (rule: 0 picks a free one)")
        self._app = app
        self._host = host
        self._want = port
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._runner: web.AppRunner | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def start(self, timeout_s: float = 10.0) -> int:
        """Starts serving; returns the port (the one asked for, or a free one)."""
        ready = threading.Event()
        failure: list[BaseException] = []

        def serve() -> None:
            loop = self._loop = asyncio.new_event_loop()
            asyncio.set_event_loop(loop)
            try:
                runner = self._runner = web.AppRunner(self._app, access_log=None)
                loop.run_until_complete(runner.setup())
                site = web.TCPSite(runner, self._host, self._want)
                loop.run_until_complete(site.start())
                self.port = runner.addresses[0][1]
            except BaseException as err:  # reported to the caller of start()
                failure.append(err)
                ready.set()
                loop.close()
                return
            ready.set()
            try:
                loop.run_forever()
            finally:
                loop.run_until_complete(runner.cleanup())
                loop.close()

        self._thread = threading.Thread(target=serve, name="quantx-http", daemon=True)
        self._thread.start()
        if not ready.wait(timeout_s):
            raise TimeoutError(f"the HTTP server did not start within {timeout_s} s")
        if failure:
            raise OSError(f"cannot serve on {self._host}:{self._want}: {failure[0]}")
        return self.port

    def stop(self, timeout_s: float = 5.0) -> None:
        loop, thread = self._loop, self._thread
        if loop is None or thread is None or not thread.is_alive():
            return
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout_s)
