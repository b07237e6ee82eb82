"""The feed's hand-over to the kernel thread, on a stepped clock: order, conflation,
the trade ring's bound, staleness transitions; and the number reading at its edge."""

from __future__ import annotations

import threading
import time
from decimal import Decimal

import numpy as np
import pytest

from adapters.exchanges.aioloop import AsyncioThread
from adapters.feeds.ccxt_ws import CcxtFeed, decimal_text, default_data_lot_size
from adapters.feeds.handoff import ALERT_CAPACITY, Handoff
from engine import _core
from engine.domain.enums import InstrumentKind
from engine.domain.instrument import Instrument
from engine.ports.feed import FeedAlertKind, FeedMessage


class SteppedClock:
    def __init__(self, now: int = 1_000) -> None:
        self.now = now

    def now_ns(self) -> int:
        return self.now


def msg(symbol: str, ts: int, kind: int = _core.KIND_SNAPSHOT) -> FeedMessage:
    rows = np.zeros(1, dtype=_core.EVENT_DTYPE)
    rows["kind"] = kind
    rows["ts_recv"] = ts
    return FeedMessage(symbol, ts, rows)


def trade(symbol: str, ts: int) -> FeedMessage:
    return msg(symbol, ts, _core.KIND_TRADE)


def drain(h: Handoff) -> list[tuple[str, int, int]]:
    out = []
    while (m := h.take(0)) is not None:
        out.append((m.symbol, m.ts, int(m.events["kind"][0])))
    return out


S, T = _core.KIND_SNAPSHOT, _core.KIND_TRADE


def test_messages_leave_in_arrival_order_and_a_newer_book_takes_the_newest_place() -> None:
    h = Handoff(["A", "B"], SteppedClock(), trade_capacity=8, stale_after_ns=10**9)
    h.put_book(msg("A", 1))
    h.put_trade(trade("A", 2))
    h.put_book(msg("B", 3))
    h.put_book(msg("A", 4))  # replaces A@1, and now comes after B@3
    h.put_trade(trade("B", 5))
    assert h.queued == 4
    assert drain(h) == [("A", 2, T), ("B", 3, S), ("A", 4, S), ("B", 5, T)]
    status = h.status()
    assert (status["A"].conflated, status["B"].conflated) == (1, 0)


def test_the_trade_ring_drops_the_oldest_with_one_alert_per_episode() -> None:
    h = Handoff(["A", "B"], SteppedClock(), trade_capacity=3, stale_after_ns=10**9)
    for ts in range(1, 6):  # 5 prints into 3 places: A@1 and B@2 go
        h.put_trade(trade("A" if ts % 2 else "B", ts))
    assert h.queued == 3
    assert [a.kind for a in h.take_alerts()] == [FeedAlertKind.DROPPED, FeedAlertKind.DROPPED]
    status = h.status()
    assert (status["A"].dropped, status["B"].dropped) == (1, 1)
    h.put_trade(trade("A", 6))  # drops A@3: same episode for A, no new alert
    assert h.take_alerts() == []
    assert drain(h) == [("B", 4, T), ("A", 5, T), ("A", 6, T)]
    for ts in range(7, 11):  # the ring was emptied: a new overflow is a new episode
        h.put_trade(trade("A", ts))
    alerts = h.take_alerts()
    assert [(a.kind, a.symbol, a.ts) for a in alerts] == [(FeedAlertKind.DROPPED, "A", 10)]
    assert h.status()["A"].dropped == 3


def test_stale_after_the_limit_on_the_clock_then_fresh_on_the_next_book() -> None:
    ms = 1_000_000
    clock = SteppedClock(1_000 * ms)
    h = Handoff(["A"], clock, trade_capacity=4, stale_after_ns=500 * ms)
    clock.now = 1_499 * ms
    assert h.check_stale() == []  # measured from the start until a first book
    clock.now = 1_500 * ms
    assert h.check_stale() == ["A"]
    assert h.check_stale() == ["A"]  # still stale, no second alert
    (stale,) = h.take_alerts()
    assert (stale.kind, stale.ts) == (FeedAlertKind.STALE, 1_500 * ms)
    assert stale.detail == "no book yet for 0.500 s"
    h.put_trade(trade("A", 1_600 * ms))  # prints do not make a book fresh
    assert h.status()["A"].stale
    clock.now = 1_700 * ms
    h.put_book(msg("A", 1_700 * ms))
    (fresh,) = h.take_alerts()
    assert (fresh.kind, fresh.ts) == (FeedAlertKind.FRESH, 1_700 * ms)
    status = h.status()["A"]
    assert (status.stale, status.last_update_ns) == (False, 1_700 * ms)
    clock.now = 2_199 * ms
    assert h.check_stale() == []
    clock.now = 2_450 * ms
    assert h.check_stale() == ["A"]
    (again,) = h.take_alerts()
    assert again.detail == "no book update for 0.750 s"
    assert h.stale_for_ns("A") == 750 * ms
    h.close()
    h.put_book(msg("A", 2_500 * ms))  # a watch finishing after close adds nothing
    h.put_trade(trade("A", 2_500 * ms))
    assert h.queued == 0 and h.take(0) is None


def test_staleness_counts_from_the_start_of_the_watches() -> None:
    ms = 1_000_000
    clock = SteppedClock(0)
    h = Handoff(["A"], clock, trade_capacity=4, stale_after_ns=500 * ms)
    clock.now = 10_000 * ms  # built long before it started
    h.started()
    clock.now = 10_499 * ms
    assert h.check_stale() == []
    clock.now = 10_500 * ms
    assert h.check_stale() == ["A"]


def test_connected_gave_up_and_alerts_are_bounded() -> None:
    clock = SteppedClock()
    h = Handoff(["A"], clock, trade_capacity=4, stale_after_ns=10**9)
    h.stream_state("A", "book", up=False)
    assert not h.status()["A"].connected
    h.stream_state("A", "book", up=True)
    assert h.status()["A"].connected
    h.give_up("A", "book: first")
    h.give_up("A", "trades: second")
    assert [(a.kind, a.detail) for a in h.take_alerts()] == [(FeedAlertKind.GAVE_UP, "book: first")]
    assert not h.status()["A"].connected
    for i in range(ALERT_CAPACITY + 5):
        h.alert(FeedAlertKind.RECONNECTED, "A", str(i))
    alerts = h.take_alerts()
    assert len(alerts) == ALERT_CAPACITY and alerts[0].detail == "5"


def test_take_waits_for_a_message_from_another_thread_and_close_wakes_it() -> None:
    h = Handoff(["A"], SteppedClock(), trade_capacity=4, stale_after_ns=10**9)
    threading.Timer(0.05, lambda: h.put_book(msg("A", 7))).start()
    got = h.take(10.0)
    assert got is not None and got.ts == 7
    threading.Timer(0.05, h.close).start()
    start = time.monotonic()
    assert h.take(10.0) is None
    assert time.monotonic() - start < 5  # woken by close, not by the 10 s timeout
    assert h.closed


def test_bad_limits_are_refused_by_name() -> None:
    with pytest.raises(ValueError, match="queue_capacity 0"):
        Handoff(["A"], SteppedClock(), trade_capacity=0, stale_after_ns=1)
    with pytest.raises(ValueError, match="stale_after_s"):
        Handoff(["A"], SteppedClock(), trade_capacity=1, stale_after_ns=0)


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (61828.01, "61828.01"),
        (1e-05, "0.00001"),
        (0.0455, "0.0455"),
        (25.426189, "25.426189"),
        (1e16, "10000000000000000"),
        (60000.0, "60000.0"),
        (3, "3"),
        ("0.10", "0.10"),
    ],
)
def test_ccxt_numbers_read_back_as_their_shortest_decimal(value: object, text: str) -> None:
    assert decimal_text(value) == text


@pytest.mark.parametrize("value", [float("nan"), float("inf"), None, True, [1], "1e", "inf"])
def test_non_numbers_are_refused(value: object) -> None:
    with pytest.raises(ValueError):
        decimal_text(value)


def _instrument(kind: InstrumentKind, lot: str) -> Instrument:
    return Instrument(
        symbol="X/USDT",
        base="X",
        quote="USDT",
        kind=kind,
        tick_size=Decimal("0.01"),
        lot_size=Decimal(lot),
        min_quantity=Decimal(lot),
        max_quantity=Decimal("1000"),
        min_notional=Decimal(0),
        maker_fee_rate=Decimal(0),
        taker_fee_rate=Decimal(0),
        price_precision=2,
        quantity_precision=max(0, -Decimal(lot).as_tuple().exponent),  # type: ignore[operator]
    )


@pytest.mark.parametrize(
    ("kind", "lot", "unit"),
    [
        (InstrumentKind.SPOT, "0.00001", "0.00000001"),  # finer than the lot: 1e-8
        (InstrumentKind.SPOT, "0.000000001", "0.000000001"),  # the lot is finer already
        (InstrumentKind.SPOT, "1", "0.00000001"),
        (InstrumentKind.LINEAR_PERPETUAL, "0.001", "0.001"),  # futures books print lots
    ],
)
def test_default_size_unit(kind: InstrumentKind, lot: str, unit: str) -> None:
    assert default_data_lot_size(_instrument(kind, lot)) == unit


def test_next_message_never_waits_past_the_kernels_next_timer() -> None:
    """Not started: nothing will come. A deadline already reached returns at once
    although the timeout is 30 s; closing makes the feed exhausted."""
    clock = SteppedClock(5_000_000_000)
    with AsyncioThread() as loop:
        feed = CcxtFeed(
            object(),
            {"X/USDT": _instrument(InstrumentKind.SPOT, "0.00001")},
            clock=clock,
            loop=loop,
        )
        start = time.monotonic()
        assert feed.next_message(30.0, until_ns=clock.now) is None
        assert feed.next_message(30.0, until_ns=clock.now - 1) is None
        assert time.monotonic() - start < 5
        assert not feed.exhausted
        feed.close()
        assert feed.exhausted and feed.next_message(30.0) is None
        with pytest.raises(RuntimeError, match="after close"):
            feed.start()


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"depth": 0}, "depth 0"),
        ({"max_retries": -1}, "max_retries -1"),
        ({"stale_after_s": 0}, "stale_after_s 0"),
        ({"queue_capacity": 0}, "queue_capacity 0"),
        ({"data_lot_size": {"Y/USDT": "0.1"}}, r"data_lot_size names \['Y/USDT'\]"),
    ],
)
def test_bad_settings_are_refused_by_name(kwargs: dict[str, object], match: str) -> None:
    with AsyncioThread() as loop, pytest.raises(ValueError, match=match):
        CcxtFeed(
            object(),
            {"X/USDT": _instrument(InstrumentKind.SPOT, "0.00001")},
            clock=SteppedClock(),
            loop=loop,
            **kwargs,  # type: ignore[arg-type]
        )
