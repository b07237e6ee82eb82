"""Bars from trades (engine._core): BAR_DTYPE, bars_from_events and BarBuilder."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.data.binance_capture import BinanceCaptureReader
from engine import _core

S = 1_000_000_000
BarTuple = tuple[int, int, int, int, int, int, int, int]


def trade_rows(trades: list[tuple[int, int, int, int]]) -> npt.NDArray[np.void]:
    """(ts_event, ts_recv, price, qty) -> KIND_TRADE rows."""
    rows = np.zeros(len(trades), dtype=_core.EVENT_DTYPE)
    for i, (ts_event, ts_recv, price, qty) in enumerate(trades):
        rows[i]["ts_event"] = ts_event
        rows[i]["ts_recv"] = ts_recv
        rows[i]["price"] = price
        rows[i]["qty"] = qty
        rows[i]["order_id"] = i + 1
        rows[i]["kind"] = _core.KIND_TRADE
        rows[i]["flags"] = _core.FLAG_BEGIN | _core.FLAG_END
    return rows


def as_tuples(bars: npt.NDArray[np.void]) -> list[BarTuple]:
    return [tuple(int(x) for x in b) for b in bars.tolist()]  # type: ignore[misc]


def test_bar_dtype_layout() -> None:
    dt = _core.BAR_DTYPE
    assert dt.names == ("ts_open", "ts_close", "open", "high", "low", "close", "volume", "trades")
    assert dt.itemsize == 64
    assert dt["trades"] == np.dtype("<u8")
    assert dt["volume"] == np.dtype("<i8")


def test_bars_from_events_by_hand() -> None:
    rows = trade_rows(
        [
            (5 * S, 0, 100, 2),
            (0, 20 * S, 104, 1),  # no exchange time: the receive time counts
            (30 * S, 1, 97, 3),  # ts_recv 1 is ignored: ts_event wins
            (60 * S - 1, 0, 101, 4),
            (180 * S, 0, 99, 5),  # minutes 1 and 2 had no trade: no bar for them
            (180 * S + 1, 0, 98, 0),  # a print of size 0 is skipped
        ]
    )
    diff = np.zeros(1, dtype=_core.EVENT_DTYPE)
    diff["kind"] = _core.KIND_DIFF
    diff["price"] = 1_000
    diff["qty"] = 1
    bars = _core.bars_from_events(np.concatenate([rows[:2], diff, rows[2:]]), 60 * S)
    assert bars.dtype == _core.BAR_DTYPE
    assert as_tuples(bars) == [
        (0, 60 * S, 100, 104, 97, 101, 10, 4),
        (180 * S, 240 * S, 99, 99, 99, 99, 5, 1),
    ]
    assert len(_core.bars_from_events(diff, 60 * S)) == 0


def test_bars_from_events_errors() -> None:
    rows = trade_rows([(1, 1, 1, 1)])
    rule = r"interval_ns 0 is not positive \(rule: interval_ns > 0\)"
    with pytest.raises(ValueError, match=rule):
        _core.bars_from_events(rows, 0)
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.bars_from_events(trade_rows([(1, 1, 1, 1), (2, 2, 2, 2), (3, 3, 3, 3)])[::2], 10)


def test_bar_builder_by_hand() -> None:
    b = _core.BarBuilder(10)
    assert b.interval_ns == 10
    assert b.on_trade(25, 50, 1) is None
    assert b.on_trade(3, 70, 2) is None  # late: joins the open bar [20, 30)
    assert b.late_trades == 1
    assert b.current() == (20, 30, 50, 70, 50, 70, 3, 2)
    assert b.on_trade(30, 60, 4) == (20, 30, 50, 70, 50, 70, 3, 2)
    assert b.on_trade(-5, 10, 1) is None
    assert b.flush() == (30, 40, 60, 60, 10, 10, 5, 2)
    assert b.flush() is None
    assert b.current() is None


def test_bar_builder_errors_leave_it_unchanged() -> None:
    with pytest.raises(ValueError, match=r"interval_ns -1 is not positive"):
        _core.BarBuilder(-1)
    b = _core.BarBuilder(10)
    b.on_trade(1, 5, 1)
    with pytest.raises(ValueError, match=r"qty 0 is not positive \(rule: qty > 0 lots\)"):
        b.on_trade(2, 9, 0)
    with pytest.raises(ValueError, match=r"qty -3 is not positive"):
        b.on_trade(11, 9, -3)
    assert b.current() == (0, 10, 5, 5, 5, 5, 1, 1)


def model(trades: list[tuple[int, int, int]], interval: int) -> list[BarTuple]:
    """Plain Python: a trade's interval is its own or the latest seen (late trades join)."""
    out: list[list[int]] = []
    clock: int | None = None
    for ts, price, qty in trades:
        k = ts // interval if clock is None else max(clock, ts // interval)
        clock = k
        if out and out[-1][0] == k * interval:
            last = out[-1]
            last[3], last[4], last[5] = max(last[3], price), min(last[4], price), price
            last[6] += qty
            last[7] += 1
        else:
            out.append([k * interval, (k + 1) * interval, price, price, price, price, qty, 1])
    return [(a, b, c, d, e, f, g, h) for a, b, c, d, e, f, g, h in out]


trade_steps = st.lists(
    st.tuples(st.integers(-30, 120), st.integers(-500, 500), st.integers(1, 40)), max_size=60
)


@given(trade_steps, st.integers(1, 300))
def test_builder_and_batch_match_the_model(
    steps: list[tuple[int, int, int]], interval: int
) -> None:
    ts = 1_000
    trades = []
    for dt, price, qty in steps:
        ts += dt
        trades.append((ts, price, qty))
    expected = model(trades, interval)
    b = _core.BarBuilder(interval)
    streamed = [bar for t in trades if (bar := b.on_trade(*t)) is not None]
    if (last := b.flush()) is not None:
        streamed.append(last)
    assert streamed == expected
    rows = trade_rows([(t, 0, p, q) for t, p, q in trades])
    assert as_tuples(_core.bars_from_events(rows, interval)) == expected


def test_real_capture_bars_match_a_numpy_groupby(usdm_capture: Path) -> None:
    reader = BinanceCaptureReader(usdm_capture)
    events = np.concatenate([c.events for c in reader.chunks()])
    trades = events[events["kind"] == _core.KIND_TRADE]
    ts = np.where(trades["ts_event"] != 0, trades["ts_event"], trades["ts_recv"])
    assert bool(np.all(np.diff(ts) >= 0))  # in order, so no late-trade rule is involved
    bars = _core.bars_from_events(events, S)
    assert len(trades) == 21_313  # the capture's trade lines (test_capture_reader.py)
    assert int(bars["trades"].sum()) == len(trades)
    assert int(bars["volume"].sum()) == int(trades["qty"].sum())
    # Group by second independently of the Rust code.
    sec = ts // S
    starts = np.flatnonzero(np.r_[True, sec[1:] != sec[:-1]])
    ends = np.r_[starts[1:], len(sec)]
    assert np.array_equal(bars["ts_open"], sec[starts] * S)
    assert np.array_equal(bars["open"], trades["price"][starts])
    assert np.array_equal(bars["close"], trades["price"][ends - 1])
    assert np.array_equal(bars["high"], np.maximum.reduceat(trades["price"], starts))
    assert np.array_equal(bars["low"], np.minimum.reduceat(trades["price"], starts))
    assert len(bars) >= 200
