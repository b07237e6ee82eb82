"""The webhook notifier against a loopback aiohttp server: JSON bodies in order, retries
on 5xx then success, no retry on 4xx, timeouts bounded, a full queue drops and counts;
the log notifier and the fan-out."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator

import orjson
import pytest
from aiohttp import web

from adapters.http.loopback import LoopbackServer
from adapters.notify.log import FanOut, LogNotifier
from adapters.notify.webhook import WebhookNotifier
from engine.ports import AlertLevel


class Receiver:
    """A loopback server: answers each POST with the next status of `script` (then 200),
    keeping the bodies; `delay_s` makes it slow."""

    def __init__(self, script: list[int] | None = None, delay_s: float = 0.0) -> None:
        self.script = list(script or [])
        self.delay_s = delay_s
        self.bodies: list[dict[str, object]] = []
        app = web.Application()
        app.router.add_post("/hook", self._hook)
        self.server = LoopbackServer(app)

    async def _hook(self, request: web.Request) -> web.Response:
        self.bodies.append(orjson.loads(await request.read()))
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        status = self.script.pop(0) if self.script else 200
        return web.Response(status=status)

    @property
    def url(self) -> str:
        return f"{self.server.url}/hook"


@pytest.fixture
def receiver() -> Iterator[Callable[..., Receiver]]:
    made: list[Receiver] = []

    def make(script: list[int] | None = None, delay_s: float = 0.0) -> Receiver:
        r = Receiver(script, delay_s)
        r.server.start()
        made.append(r)
        return r

    yield make
    for r in made:
        r.server.stop()


def wait_for(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.01)


def test_alerts_arrive_as_json_in_order(receiver: Callable[..., Receiver]) -> None:
    r = receiver()
    n = WebhookNotifier(r.url, backoff_s=0.01)
    n.alert(AlertLevel.CRITICAL, "emergency stop started", "operator")
    n.alert(AlertLevel.WARNING, "circuit breaker", "DAILY_LOSS: x")
    n.close()
    assert r.bodies == [
        {"level": "critical", "title": "emergency stop started", "detail": "operator",
         "source": "quantx", "seq": 1},
        {"level": "warning", "title": "circuit breaker", "detail": "DAILY_LOSS: x",
         "source": "quantx", "seq": 2},
    ]  # fmt: skip
    assert (n.sent, n.failed, n.dropped, n.attempts) == (2, 0, 0, 2)


def test_5xx_and_429_are_retried_with_the_same_body_4xx_is_not(
    receiver: Callable[..., Receiver],
) -> None:
    r = receiver([500, 429, 200, 400])
    n = WebhookNotifier(r.url, retries=3, backoff_s=0.01)
    n.alert(AlertLevel.INFO, "a", "retried twice")
    n.alert(AlertLevel.INFO, "b", "refused")
    n.close()
    assert [b["seq"] for b in r.bodies] == [1, 1, 1, 2]
    assert (n.sent, n.failed, n.attempts) == (1, 1, 4)


def test_retries_are_bounded_and_a_timeout_counts_as_a_failure(
    receiver: Callable[..., Receiver],
) -> None:
    r = receiver([503] * 10)
    n = WebhookNotifier(r.url, retries=2, backoff_s=0.01)
    n.alert(AlertLevel.INFO, "a", "x")
    n.close()
    assert (len(r.bodies), n.sent, n.failed, n.attempts) == (3, 0, 1, 3)
    slow = receiver(delay_s=1.0)
    n = WebhookNotifier(slow.url, timeout_s=0.1, retries=1, backoff_s=0.01)
    started = time.monotonic()
    n.alert(AlertLevel.INFO, "a", "x")
    n.close()
    assert (n.sent, n.failed, n.attempts) == (0, 1, 2)
    assert time.monotonic() - started < 1.5  # two 0.1 s attempts, not two 1 s waits


def test_a_full_queue_drops_and_counts_and_alert_never_blocks(
    receiver: Callable[..., Receiver],
) -> None:
    r = receiver()
    n = WebhookNotifier(r.url, queue_size=2, autostart=False)
    started = time.monotonic()
    for i in range(5):
        n.alert(AlertLevel.INFO, "burst", str(i))
    assert time.monotonic() - started < 0.5
    assert n.dropped == 3
    n.start()
    n.close()
    assert [b["detail"] for b in r.bodies] == ["0", "1"]
    assert n.sent == 2


def test_an_unreachable_url_fails_without_raising() -> None:
    n = WebhookNotifier("http://127.0.0.1:9/none", retries=1, backoff_s=0.01, timeout_s=1)
    n.alert(AlertLevel.INFO, "a", "x")
    n.close()
    assert (n.sent, n.failed, n.attempts) == (0, 1, 2)
    n.close()  # twice is fine


@pytest.mark.parametrize(
    ("kwargs", "word"),
    [
        ({"url": "ftp://x"}, "url"),
        ({"url": "http://x", "timeout_s": 0}, "timeout_s"),
        ({"url": "http://x", "retries": 11}, "retries"),
        ({"url": "http://x", "queue_size": 0}, "queue_size"),
    ],
)
def test_bad_settings_name_the_field(kwargs: dict[str, object], word: str) -> None:
    with pytest.raises(ValueError, match=word):
        WebhookNotifier(autostart=False, **kwargs)  # type: ignore[arg-type]


def test_the_log_notifier_and_the_fan_out(caplog: pytest.LogCaptureFixture) -> None:
    seen: list[tuple[AlertLevel, str, str]] = []

    class Keep:
        def alert(self, level: AlertLevel, title: str, detail: str) -> None:
            seen.append((level, title, detail))

    with caplog.at_level(logging.INFO, logger="quantx.alerts"):
        FanOut(LogNotifier(), Keep()).alert(AlertLevel.CRITICAL, "kill", "why")
    assert [(r.levelno, r.getMessage()) for r in caplog.records] == [
        (logging.CRITICAL, "kill: why")
    ]
    assert seen == [(AlertLevel.CRITICAL, "kill", "why")]
