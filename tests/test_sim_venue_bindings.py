"""The simulated venue through its Python bindings: hand-computed scenarios and
argument errors that name the argument.

Instrument: tick 0.1, lot 0.001 (10000 ticks = 1000.0; 1 lot = 0.001), maker fee
0.0002, taker fee 0.0005, fees charged to 6 decimals rounded toward +inf."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest

from engine import _core

BUY, SELL = 0, 1
Level = tuple[int, int, int]  # (side, price, qty)


class Feed:
    """Builds EVENT_DTYPE arrays for a futures stream whose update ids chain."""

    def __init__(self) -> None:
        self.last = 100
        self.rows: list[dict[str, int]] = []

    def _message(self, kind: int, ts: int, ids: tuple[int, int, int], levels: list[Level]) -> None:
        body = levels or [(0, 0, 0)]
        for j, (side, price, qty) in enumerate(body):
            last = _core.FLAG_END if j == len(body) - 1 else 0
            flags = (_core.FLAG_BEGIN if j == 0 else 0) | last
            if not levels:
                flags |= _core.FLAG_EMPTY
            self.rows.append(
                {
                    "ts_event": ts,
                    "ts_recv": ts,
                    "seq_first": ids[0],
                    "seq_last": ids[1],
                    "seq_prev": ids[2],
                    "price": price,
                    "qty": qty,
                    "kind": kind,
                    "side": side,
                    "flags": flags,
                }
            )

    def snapshot(self, ts: int, levels: list[Level]) -> Feed:
        self.last = 100
        self._message(_core.KIND_SNAPSHOT, ts, (0, 100, -1), levels)
        return self

    def diff(self, ts: int, levels: list[Level]) -> Feed:
        self._message(_core.KIND_DIFF, ts, (self.last, self.last + 1, self.last), levels)
        self.last += 1
        return self

    def trade(self, ts: int, aggressor: int, price: int, qty: int) -> Feed:
        self._message(_core.KIND_TRADE, ts, (0, 0, -1), [(aggressor, price, qty)])
        return self

    def take(self) -> Any:
        """The rows built since the last take, as an EVENT_DTYPE array."""
        arr = np.zeros(len(self.rows), dtype=_core.EVENT_DTYPE)
        for i, row in enumerate(self.rows):
            for key, value in row.items():
                arr[i][key] = value
        self.rows = []
        return arr


def venue(**over: Any) -> _core.SimVenue:
    args: dict[str, Any] = {"maker_fee": "0.0002", "taker_fee": "0.0005", "fee_decimals": 6}
    args.update(over)
    return _core.SimVenue("0.1", "0.001", **args)


def accepted(ts: int, oid: int) -> tuple[object, ...]:
    return (ts, oid, "accepted", 0, 0, "", "", 0, "")


def test_a_partial_fill_as_maker() -> None:
    v = venue()
    f = Feed()
    # apply_events answers how many reports wait to be drained: none for market data
    # alone, the ack and the fill after the print.
    assert v.apply_events(f.snapshot(1_000, [(BUY, 9990, 5), (SELL, 10000, 2)]).take()) == 0
    assert v.best_bid() == (9990, 5)
    assert v.best_ask() == (10000, 2)
    oid = v.submit(1_100, BUY, "limit", 3, price=9995, client_id="c1")
    assert v.open_orders() == [(oid, "c1", BUY, 9995, 3, 0)]
    # A seller prints 2 lots at 9995, nothing of the market ahead of us there:
    # 999.5 x 0.002 x 0.0002 = 0.0003998 -> 0.0004.
    assert v.apply_events(f.trade(1_200, SELL, 9995, 2).take()) == 2
    reports = v.drain_reports()
    assert reports == [
        accepted(1_100, oid),
        (1_200, oid, "filled", 9995, 2, "maker", "0.0004", 1, ""),
    ]
    assert Decimal(reports[1][6]) == Decimal("0.0004")
    assert v.open_orders() == [(oid, "c1", BUY, 9995, 3, 2)]
    assert v.position == 2
    assert v.clock == 1_200
    assert v.drain_reports() == []


def test_a_market_order_stops_at_its_slippage_cap() -> None:
    v = venue()
    f = Feed()
    book = [(BUY, 9995, 4), (SELL, 10000, 2), (SELL, 10005, 3), (SELL, 10010, 1), (SELL, 10011, 5)]
    v.apply_events(f.snapshot(1_000, book).take())
    # 10 bps from the best ask 10000: cap 10010. Taker fees: 2 @ 1000.0 -> 0.001;
    # 3 @ 1000.5 -> 0.00150075 -> 0.001501; 1 @ 1001.0 -> 0.0005005 -> 0.000501.
    oid = v.submit(2_000, BUY, "market", 10, slippage_bps=10)
    assert v.drain_reports() == [
        accepted(2_000, oid),
        (2_000, oid, "filled", 10000, 2, "taker", "0.001", 8, ""),
        (2_000, oid, "filled", 10005, 3, "taker", "0.001501", 5, ""),
        (2_000, oid, "filled", 10010, 1, "taker", "0.000501", 4, ""),
        (2_000, oid, "canceled", 0, 0, "", "", 0, "SLIPPAGE_CAP"),
    ]
    assert v.position == 6
    assert v.open_orders() == []
    stats = v.stats()
    assert (stats["orders"], stats["fills"], stats["pending_commands"]) == (1, 3, 0)


def test_a_cancel_that_loses_the_race_to_a_fill() -> None:
    v = venue(submit_latency_ns=100, cancel_latency_ns=300)
    f = Feed()
    v.apply_events(f.snapshot(1_000, [(BUY, 9990, 5), (SELL, 10000, 2)]).take())
    oid = v.submit(1_100, BUY, "limit", 3, price=9995)  # arrives at 1200
    v.apply_events(f.trade(1_250, SELL, 9995, 1).take())
    v.cancel(1_300, oid)  # arrives at 1600
    # A print at exactly 1600 goes before the cancel: the last 2 lots fill.
    v.apply_events(f.trade(1_600, SELL, 9995, 2).take())
    v.advance_to(1_700)
    assert v.drain_reports() == [
        accepted(1_200, oid),
        (1_250, oid, "filled", 9995, 1, "maker", "0.0002", 2, ""),
        (1_600, oid, "filled", 9995, 2, "maker", "0.0004", 0, ""),
        (1_600, oid, "cancel_rejected", 0, 0, "", "", 0, "UNKNOWN_ORDER"),
    ]
    assert v.position == 3
    assert v.clock == 1_700


def test_modify_and_reduce_only() -> None:
    v = venue()
    f = Feed()
    v.apply_events(f.snapshot(1_000, [(BUY, 9995, 9), (SELL, 10000, 2), (SELL, 10001, 3)]).take())
    v.set_position(-4)
    oid = v.submit(1_100, BUY, "limit", 6, price=9990, reduce_only=True)
    # Cut to the short of 4 at once; then repriced through the asks: 2 @ 1000.0 (0.001)
    # and 2 @ 1000.1 (2.0002 x 0.0005 = 0.0010001 -> 0.001001), flat.
    v.modify(1_200, oid, price=10001)
    assert v.drain_reports() == [
        accepted(1_100, oid),
        (1_100, oid, "modified", 9990, 4, "", "", 0, ""),
        (1_200, oid, "modified", 10001, 4, "", "", 0, ""),
        (1_200, oid, "filled", 10000, 2, "taker", "0.001", 2, ""),
        (1_200, oid, "filled", 10001, 2, "taker", "0.001001", 0, ""),
    ]
    assert v.position == 0
    late = v.submit(1_300, SELL, "market", 1, reduce_only=True)
    v.modify(1_300, oid, qty=1)
    assert v.drain_reports() == [
        (1_300, late, "rejected", 0, 0, "", "", 0, "REDUCE_ONLY_WOULD_INCREASE"),
        (1_300, oid, "modify_rejected", 0, 0, "", "", 0, "UNKNOWN_ORDER"),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"order_type": "market", "price": 10000},
            r"price 10000 is not allowed .*order_type \"market\"",
        ),
        ({"order_type": "limit"}, r"price is missing: order_type \"limit\" requires it"),
        ({"order_type": "iceberg"}, r"order_type \"iceberg\" is not \"market\", \"limit\""),
        ({"order_type": "limit", "price": 9990, "tif": "day"}, r"tif \"day\" is not \"gtc\""),
        ({"order_type": "limit", "price": 9990, "tif": "gtd"}, r"expiry is missing: tif \"gtd\""),
        (
            {"order_type": "limit", "price": 9990, "expiry": 5},
            r"expiry 5 is not allowed .*only tif \"gtd\"",
        ),
        ({"order_type": "market", "slippage_bps": -1}, r"slippage_bps -1 is out of range"),
        (
            {"order_type": "limit", "price": 9990, "slippage_bps": 5},
            r"slippage_bps 5 is not allowed .*only market types",
        ),
        (
            {"order_type": "limit", "price": 9990, "trigger_price": 9000},
            r"trigger_price 9000 is not allowed .*not a conditional order",
        ),
        (
            {"order_type": "market", "trail_offset_ticks": 5},
            r"trail_offset_ticks 5 is not allowed .*not trailing_stop_market",
        ),
        (
            {"order_type": "market", "trigger_source": "mark"},
            r"trigger_source \"mark\" is not allowed",
        ),
        ({"order_type": "market", "side": 2}, r"side 2 is not 0 \(bid\) or 1 \(ask\)"),
    ],
)
def test_submit_argument_errors_name_the_argument(kwargs: dict[str, Any], message: str) -> None:
    v = venue()
    args: dict[str, Any] = {"side": BUY}
    args.update(kwargs)
    side, order_type = args.pop("side"), args.pop("order_type")
    with pytest.raises(ValueError, match=message):
        v.submit(1_000, side, order_type, 1, **args)
    assert v.drain_reports() == []
    assert v.stats()["orders"] == 0


def test_constructor_argument_errors_name_the_argument() -> None:
    latency = r"cancel_latency_ns -1 is not allowed \(rule: latency >= 0\)"
    with pytest.raises(ValueError, match=latency):
        venue(cancel_latency_ns=-1)
    with pytest.raises(ValueError, match=r"rule \"perp\" is not \"spot\" or \"futures\""):
        venue(rule="perp")
    with pytest.raises(ValueError, match=r"default_slippage_bps -5 is out of range"):
        venue(default_slippage_bps=-5)
    with pytest.raises(ValueError, match=r"fee_decimals -1 is out of range"):
        venue(fee_decimals=-1)
    with pytest.raises(ValueError, match=r"taker_fee: fee rate \"x\" is invalid"):
        venue(taker_fee="x")
    with pytest.raises(ValueError, match=r"tick_size"):
        _core.SimVenue("0", "0.001", maker_fee="0.0002", taker_fee="0.0005")


def test_commands_before_any_book_are_refused_by_the_venue() -> None:
    v = venue()
    with pytest.raises(ValueError, match=r"order_id -1 is negative"):
        v.cancel(5, -1)
    assert v.stale
    oid = v.submit(5, SELL, "market", 1)
    assert v.drain_reports() == [(5, oid, "rejected", 0, 0, "", "", 0, "BOOK_STALE")]
    assert v.best_bid() is None


def test_a_stop_triggers_and_sells_at_market() -> None:
    v = venue()
    f = Feed()
    book = [(BUY, 9995, 3), (BUY, 9990, 5), (SELL, 10000, 2)]
    v.apply_events(f.snapshot(1_000, book).trade(1_001, BUY, 9998, 1).take())
    v.set_position(4)
    stop = v.submit(1_100, SELL, "stop_market", 4, trigger_price=9996, reduce_only=True)
    # The last price 9998 is already at or below a sell stop at 9998: refused.
    through = v.submit(1_100, SELL, "stop_market", 1, trigger_price=9998)
    # Sell take-profit on the mark, limit 10001.
    tp = v.submit(
        1_100, SELL, "take_profit_limit", 1, price=10001, trigger_price=10010, trigger_source="mark"
    )
    v.apply_events(f.trade(1_200, SELL, 9997, 1).take())
    assert v.drain_reports() == [
        accepted(1_100, stop),
        (1_100, through, "rejected", 0, 0, "", "", 0, "WOULD_TRIGGER_IMMEDIATELY"),
        accepted(1_100, tp),
    ]
    # 9996 fires the stop: 3 @ 999.5 (2.9985 x 0.0005 = 0.00149925 -> 0.0015), 1 @ 999.0
    # (0.999 x 0.0005 = 0.0004995 -> 0.0005).
    v.apply_events(f.trade(1_300, SELL, 9996, 1).take())
    assert v.drain_reports() == [
        (1_300, stop, "triggered", 9996, 0, "", "", 0, ""),
        (1_300, stop, "filled", 9995, 3, "taker", "0.0015", 1, ""),
        (1_300, stop, "filled", 9990, 1, "taker", "0.0005", 0, ""),
    ]
    assert v.position == 0
    # The take-profit fires on the mark and rests at its limit 10001, not at 10010.
    v.on_mark(1_400, 10010)
    assert v.drain_reports() == [(1_400, tp, "triggered", 10010, 0, "", "", 0, "")]
    assert v.open_orders() == [(tp, None, SELL, 10001, 1, 0)]
    with pytest.raises(ValueError, match="mark"):
        v.on_mark(1_500, 2**62)


def test_a_trailing_stop_moves_with_the_price_and_can_be_tightened() -> None:
    v = venue()
    f = Feed()
    v.apply_events(
        f.snapshot(1_000, [(BUY, 9995, 3), (SELL, 10000, 2)]).trade(1_001, BUY, 9998, 1).take()
    )
    # 10 ticks behind the high (9998 -> stop 9988); highs at 10005 move it to 9995.
    oid = v.submit(1_100, SELL, "trailing_stop_market", 1, trail_offset_ticks=10)
    v.apply_events(f.trade(1_200, BUY, 10005, 1).trade(1_300, SELL, 9998, 1).take())
    v.modify(1_400, oid, trigger_price=9990)  # looser than 9995: refused
    v.modify(1_400, oid, trigger_price=9997)  # tighter: accepted
    v.apply_events(f.trade(1_500, SELL, 9997, 1).take())
    assert v.drain_reports() == [
        accepted(1_100, oid),
        (1_400, oid, "modify_rejected", 0, 0, "", "", 0, "TRIGGER_WOULD_LOOSEN"),
        (1_400, oid, "modified", 0, 1, "", "", 0, ""),
        (1_500, oid, "triggered", 9997, 0, "", "", 0, ""),
        (1_500, oid, "filled", 9995, 1, "taker", "0.0005", 0, ""),
    ]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"order_type": "stop_market"},
            r"trigger_price is missing: order_type \"stop_market\" requires it",
        ),
        (
            {"order_type": "trailing_stop_market"},
            r"trail_offset_ticks or trail_offset_bps is missing",
        ),
        (
            {"order_type": "trailing_stop_market", "trail_offset_ticks": 5, "trail_offset_bps": 7},
            r"trail_offset_bps 7 is not allowed .*exactly one",
        ),
        (
            {"order_type": "stop_limit", "trigger_price": 9000},
            r"price is missing: order_type \"stop_limit\" requires it",
        ),
        (
            {"order_type": "stop_market", "trigger_price": 9000, "trigger_source": "index"},
            r"trigger_source \"index\" is not \"last\", \"bid_ask\" or \"mark\"",
        ),
        (
            {"order_type": "trailing_stop_market", "trail_offset_bps": -3},
            r"trail_offset_bps -3 is out of range",
        ),
    ],
)
def test_conditional_argument_errors_name_the_argument(
    kwargs: dict[str, Any], message: str
) -> None:
    v = venue()
    order_type = kwargs.pop("order_type")
    with pytest.raises(ValueError, match=message):
        v.submit(1_000, SELL, order_type, 1, **kwargs)
    assert v.stats()["orders"] == 0
