"""WebhookNotifier: each alert POSTed as JSON to a URL, from a background thread.

`alert` only puts the alert on a bounded queue and returns: the kernel's loop never
waits on the network. A full queue drops the alert (counted in `dropped`). The thread
sends one alert at a time with aiohttp: `timeout_s` per attempt, up to `retries` more
attempts after a connection error, a timeout, 429 or a 5xx answer (waiting `backoff_s`,
doubling each time); any other answer ends it (2xx: `sent`, else `failed`).

Body: `{"level", "title", "detail", "source": "quantx", "seq"}`, seq counting alerts
from 1 (a receiver can tell a retry from a new alert)."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from typing import Any

import aiohttp
import orjson

from engine.ports.notifier import AlertLevel

__all__ = ["WebhookNotifier"]

_STOP = object()


class WebhookNotifier:
    def __init__(
        self,
        url: str,
        *,
        timeout_s: float = 5.0,
        retries: int = 3,
        backoff_s: float = 0.5,
        queue_size: int = 256,
        autostart: bool = True,
    ) -> None:
        if not isinstance(url, str) or not url.startswith(("http://", "https://")):
            raise ValueError(f"webhook url {url!r} is not http(s)://... (rule: an HTTP URL)")
        if not timeout_s > 0:
            raise ValueError(f"webhook timeout_s {timeout_s!r} is not > 0")
        if not (isinstance(retries, int) and 0 <= retries <= 10):
            raise ValueError(f"webhook retries {retries!r} is not in 0..10")
        if not (isinstance(queue_size, int) and queue_size >= 1):
            raise ValueError(f"webhook queue_size {queue_size!r} is not >= 1")
        self.url = url
        self._timeout = timeout_s
        self._retries = retries
        self._backoff = backoff_s
        self._queue: queue.Queue[Any] = queue.Queue(maxsize=queue_size)
        self._seq = 0
        self._lock = threading.Lock()
        self.sent = 0
        self.failed = 0
        self.dropped = 0
        self.attempts = 0
        self._thread: threading.Thread | None = None
        if autostart:
            self.start()

    def alert(self, level: AlertLevel, title: str, detail: str) -> None:
        with self._lock:
            self._seq += 1
            doc = {
                "level": str(level),
                "title": title,
                "detail": detail,
                "source": "quantx",
                "seq": self._seq,
            }
        try:
            self._queue.put_nowait(doc)
        except queue.Full:
            with self._lock:
                self.dropped += 1

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="quantx-webhook", daemon=True)
            self._thread.start()

    def close(self, timeout_s: float = 10.0) -> None:
        """Sends what is queued (within `timeout_s`), then stops the thread."""
        if self._thread is None:
            return
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                self._queue.put(_STOP, timeout=max(0.01, deadline - time.monotonic()))
                break
            except queue.Full:
                if time.monotonic() >= deadline:
                    break
        self._thread.join(max(0.0, deadline - time.monotonic()))

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        try:
            loop.run_until_complete(self._serve())
        finally:
            loop.close()

    async def _serve(self) -> None:
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while True:
                doc = await asyncio.to_thread(self._queue.get)
                if doc is _STOP:
                    return
                ok = await self._post(session, orjson.dumps(doc))
                with self._lock:
                    if ok:
                        self.sent += 1
                    else:
                        self.failed += 1

    async def _post(self, session: aiohttp.ClientSession, body: bytes) -> bool:
        wait = self._backoff
        for attempt in range(self._retries + 1):
            if attempt:
                await asyncio.sleep(wait)
                wait *= 2
            with self._lock:
                self.attempts += 1
            try:
                async with session.post(
                    self.url, data=body, headers={"Content-Type": "application/json"}
                ) as response:
                    if 200 <= response.status < 300:
                        return True
                    if response.status != 429 and response.status < 500:
                        return False  # the receiver refuses it: retrying will not help
            except (aiohttp.ClientError, TimeoutError):
                pass
        return False
