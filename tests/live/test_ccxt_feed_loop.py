"""The feed's reconnect loop against a scripted exchange (no sockets): what each kind of
failure leads to, how many attempts, and what is reported. Waits are tiny and the
outcome does not depend on them."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import ccxt
import pytest

from adapters.clocks import LiveClock
from adapters.exchanges.aioloop import AsyncioThread
from adapters.exchanges.backoff import BackoffPolicy
from adapters.feeds.ccxt_ws import CcxtFeed
from engine import _core
from engine.domain.enums import InstrumentKind
from engine.domain.instrument import Instrument
from engine.ports.feed import FeedAlertKind, FeedMessage

K = FeedAlertKind
TINY = BackoffPolicy(initial_s=0.001, max_s=0.004)


def book(bid: float, ask: float) -> dict[str, Any]:
    return {"bids": [[bid, 0.5]], "asks": [[ask, 1e-05]], "timestamp": 1_723_161_256_501}


class ScriptedExchange:
    """watch_order_book answers from a script: an error to raise at once, or a book
    once the test lets one through (so none is conflated away); then it waits forever
    (a quiet stream)."""

    def __init__(self, script: list[Any]) -> None:
        self.script = list(script)
        self.calls = 0
        self.permits = 0

    async def watch_order_book(self, symbol: str) -> Any:
        self.calls += 1
        if not self.script:
            await asyncio.Event().wait()
        step = self.script.pop(0)
        if isinstance(step, BaseException):
            raise step
        while self.permits == 0:
            await asyncio.sleep(0.001)
        self.permits -= 1
        return step


def instrument() -> Instrument:
    return Instrument(
        symbol="BTC/USDT",
        base="BTC",
        quote="USDT",
        kind=InstrumentKind.SPOT,
        tick_size=Decimal("0.01"),
        lot_size=Decimal("0.00001"),
        min_quantity=Decimal("0.00001"),
        max_quantity=Decimal("9000"),
        min_notional=Decimal("5"),
        maker_fee_rate=Decimal("0.001"),
        taker_fee_rate=Decimal("0.001"),
        price_precision=2,
        quantity_precision=5,
    )


@contextmanager
def scripted(script: list[Any], **kwargs: Any) -> Iterator[tuple[CcxtFeed, ScriptedExchange]]:
    exchange = ScriptedExchange(script)
    kwargs.setdefault("backoff", TINY)
    kwargs.setdefault("stale_after_s", 30)
    with AsyncioThread() as loop:
        feed = CcxtFeed(
            exchange,
            {"BTC/USDT": instrument()},
            clock=LiveClock(),
            loop=loop,
            trades=False,
            **kwargs,
        )
        feed.start()
        try:
            yield feed, exchange
        finally:
            feed.close()


def collect(
    feed: CcxtFeed, exchange: ScriptedExchange, books: int, alerts: int = 0
) -> tuple[list[FeedMessage], list[Any]]:
    """Lets `books` books through one at a time, taking each; waits for `alerts` too."""
    got: list[FeedMessage] = []
    seen: list[Any] = []
    end = time.monotonic() + 5
    while len(got) < books or len(seen) < alerts:
        assert time.monotonic() < end, f"got {len(got)} books, alerts {seen}"
        if exchange.permits == 0 and len(got) < books:
            exchange.permits = 1
        message = feed.next_message(0.01)
        seen += feed.take_alerts()
        if message is not None:
            got.append(message)
    return got, seen


def top(message: FeedMessage) -> list[tuple[int, int, int]]:
    return [(int(r["side"]), int(r["price"]), int(r["qty"])) for r in message.events]


def test_each_book_is_one_snapshot_with_its_own_increasing_id() -> None:
    with scripted([book(60000.01, 60000.02), book(60000.0, 60000.5)]) as (feed, exchange):
        (first, second), alerts = collect(feed, exchange, 2)
    # 0.5 BTC = 50,000,000 units of 1e-8; 1e-05 BTC = 1,000
    assert top(first) == [(0, 6_000_001, 50_000_000), (1, 6_000_002, 1_000)]
    assert top(second) == [(0, 6_000_000, 50_000_000), (1, 6_000_050, 1_000)]
    assert {int(k) for k in first.events["kind"]} == {_core.KIND_SNAPSHOT}
    assert [int(first.events["seq_last"][0]), int(second.events["seq_last"][0])] == [1, 2]
    assert int(first.events["ts_event"][0]) == 1_723_161_256_501_000_000
    assert alerts == []


def test_network_errors_are_retried_then_reconnected_is_reported() -> None:
    script = [
        book(1.0, 2.0),
        ccxt.NetworkError("down"),
        ccxt.RequestTimeout("slow"),
        book(1.0, 2.0),
    ]
    with scripted(script) as (feed, exchange):
        _, alerts = collect(feed, exchange, 2, 1)
        status = feed.status()["BTC/USDT"]
    assert [a.kind for a in alerts] == [K.RECONNECTED]
    assert alerts[0].detail.startswith("book: after 2 failed attempts, down ")
    assert (status.reconnects, status.resyncs, status.connected) == (1, 0, True)
    assert exchange.calls >= 4


def test_a_sequence_gap_is_resubscribed_at_once_and_reported_resynced() -> None:
    # a 60 s first wait would hang the test if the gap were treated as a network error
    slow = BackoffPolicy(initial_s=60, max_s=60)
    script = [book(1.0, 2.0), ccxt.ChecksumError("gap"), book(1.0, 2.0)]
    with scripted(script, backoff=slow) as (feed, exchange):
        _, alerts = collect(feed, exchange, 2, 1)
        status = feed.status()["BTC/USDT"]
    assert [a.kind for a in alerts] == [K.RESYNCED]
    assert (status.resyncs, status.reconnects) == (1, 0)


def test_the_exchange_refusing_the_symbol_is_never_retried() -> None:
    refusal = ccxt.BadSymbol("binance does not have market symbol BTC/USDT")
    with scripted([refusal]) as (feed, exchange):
        _, alerts = collect(feed, exchange, 0, 1)
        time.sleep(0.05)
        assert exchange.calls == 1
        assert feed.status()["BTC/USDT"].gave_up
    assert [a.kind for a in alerts] == [K.GAVE_UP]
    assert alerts[0].detail == (
        "book: BAD_SYMBOL: binance does not have market symbol BTC/USDT (never retried)"
    )


def test_gives_up_after_max_retries_plus_one_failed_attempts() -> None:
    script = [ccxt.NetworkError(f"down {i}") for i in range(10)]
    with scripted(script, max_retries=3) as (feed, exchange):
        _, alerts = collect(feed, exchange, 0, 1)
        time.sleep(0.05)
        assert exchange.calls == 4  # the first attempt and three retries
    assert alerts[0].detail == "book: 4 attempts failed in a row, last NETWORK: down 3"


def test_a_book_off_the_grid_is_malformed_and_the_next_one_goes_through() -> None:
    with scripted([book(60000.001, 60000.02), book(60000.0, 60000.02)]) as (feed, exchange):
        (good,), alerts = collect(feed, exchange, 1)
        assert feed.status()["BTC/USDT"].malformed == 1
    assert top(good)[0] == (0, 6_000_000, 50_000_000)
    assert alerts == []


def test_an_internal_error_gives_the_symbol_up_loudly() -> None:
    class Broken(dict[str, Any]):
        def __getitem__(self, key: str) -> Any:
            raise RuntimeError("a bug")

    with scripted([Broken()]) as (feed, exchange):
        exchange.permits = 1
        _, alerts = collect(feed, exchange, 0, 1)
    assert [a.kind for a in alerts] == [K.GAVE_UP]
    assert alerts[0].detail == "book: internal error RuntimeError('a bug')"


@pytest.mark.parametrize("error", [KeyError("spot"), TypeError("ccxt parse")])
def test_non_ccxt_errors_from_a_watch_are_malformed_and_retried(error: Exception) -> None:
    with scripted([error, book(1.0, 2.0)]) as (feed, exchange):
        _, alerts = collect(feed, exchange, 1, 1)
        status = feed.status()["BTC/USDT"]
    assert [a.kind for a in alerts] == [K.RECONNECTED]
    assert (status.malformed, status.reconnects) == (1, 1)
