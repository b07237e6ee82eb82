"""The kernel on real data: callbacks where the top changed, timers in order, queued
strategy callbacks, determinism; and the strategy registry's errors."""

from __future__ import annotations

import pickle
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest

import adapters.backtest as bt
from adapters.data import BUNDLED_BINANCE_DIR
from engine import _core
from engine.domain import OrderFilled, OrderSide, OrderType
from engine.kernel import MarketStream, _canonical
from engine.strategy import BookTop, Context, EmptyParams, Strategy, StrategyLoadError, Trade
from engine.strategy.registry import load_strategy

CAPTURE = BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808.gz"
ROWS = 40_000


@pytest.fixture(scope="module")
def data() -> tuple[list[MarketStream], dict[str, Any]]:
    streams, instruments = bt.load_streams([CAPTURE])
    s = streams[0]
    return [MarketStream(s.symbol, s.rule, s.events[:ROWS], s.data_lot_size)], instruments


@pytest.fixture
def run(data: tuple[list[MarketStream], dict[str, Any]], monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr(bt, "load_streams", lambda paths: data)

    def go(strategy: str, params: dict[str, object] | None = None) -> bt.BacktestResult:
        return bt.run_backtest([], strategy, params)

    return go


class Recorder(Strategy[EmptyParams]):
    def __init__(self, params: EmptyParams) -> None:
        super().__init__(params)
        self.seen: list[tuple[str, int]] = []

    def on_start(self, ctx: Context) -> None:
        self.seen.append(("start", ctx.now_ns()))
        t0 = ctx.now_ns()
        ctx.set_timer("b", t0 + 2_000_000_000)
        ctx.set_timer("a", t0 + 1_000_000_000)
        ctx.set_timer("tie", t0 + 2_000_000_000)

    def on_book(self, ctx: Context, top: BookTop) -> None:
        assert top.bid is not None and top.ask is not None and top.bid < top.ask
        self.seen.append(("book", ctx.now_ns()))

    def on_trade(self, ctx: Context, trade: Trade) -> None:
        self.seen.append(("trade", ctx.now_ns()))

    def on_timer(self, ctx: Context, name: str) -> None:
        self.seen.append((f"timer:{name}", ctx.now_ns()))

    def on_stop(self, ctx: Context) -> None:
        self.seen.append(("stop", ctx.now_ns()))


def test_callbacks_come_where_the_top_changed_and_timers_fire_in_order(run: Any, data: Any) -> None:
    result = run(f"{__file__}:Recorder")
    seen = result.strategy.seen
    kinds = [k for k, _ in seen]
    assert kinds[0] == "start" and kinds[-1] == "stop"
    times = [t for _, t in seen]
    assert times == sorted(times)  # the clock never goes back
    timers = [(k, t - seen[0][1]) for k, t in seen if k.startswith("timer")]
    assert timers[:3] == [
        ("timer:a", 1_000_000_000),
        ("timer:b", 2_000_000_000),
        ("timer:tie", 2_000_000_000),
    ]
    # Independently: a plain book fed message by message; count every change of the top.
    events = data[0][0].events
    book = _core.L2Book("futures")
    ends = np.flatnonzero((events["kind"] <= 2) & ((events["flags"] & 2) != 0))
    changes, last, start = 0, None, 0
    for end in ends.tolist():
        book.apply_events(events[start : end + 1])
        start = end + 1
        top = (book.best_bid(), book.best_ask())
        if not book.stale and top != last:
            changes, last = changes + 1, top
    assert kinds.count("book") == result.stats.book_callbacks == changes
    assert kinds.count("trade") == int(np.count_nonzero(events["kind"] == 3))


class Flipper(Strategy[EmptyParams]):
    """Buys once, and on each fill submits the opposite order (a callback that submits)."""

    def __init__(self, params: EmptyParams) -> None:
        super().__init__(params)
        self.fills: list[str] = []

    def on_book(self, ctx: Context, top: BookTop) -> None:
        if not ctx.open_orders() and ctx.position("BTC/USDT:USDT").quantity == 0 and not self.fills:
            ctx.submit(
                symbol="BTC/USDT:USDT",
                side=OrderSide.BUY,
                order_type=OrderType.MARKET,
                quantity=Decimal("0.002"),
            )

    def on_fill(self, ctx: Context, fill: Any) -> None:
        self.fills.append(fill.client_order_id)
        if len(self.fills) == 1:
            ctx.submit(
                symbol="BTC/USDT:USDT",
                side=OrderSide.SELL,
                order_type=OrderType.MARKET,
                quantity=Decimal("0.002"),
            )


def test_a_callback_that_submits_is_handled_in_the_same_batch(run: Any) -> None:
    result = run(f"{__file__}:Flipper")
    assert result.strategy.fills[:2] == ["qx-1", "qx-2"]
    assert result.portfolio.position("BTC/USDT:USDT").quantity == 0
    filled = [r for _, r in result.store.records() if isinstance(r, OrderFilled)]
    assert [f.client_order_id for f in filled][:2] == ["qx-1", "qx-2"]


def test_the_same_backtest_twice_gives_the_same_journal(run: Any) -> None:
    a = run("engine.strategies.market_maker:MarketMaker")
    b = run("engine.strategies.market_maker:MarketMaker")
    ra = [r for _, r in a.store.records()]
    rb = [r for _, r in b.store.records()]
    assert len(ra) > 100 and ra == rb
    assert a.stats.fills > 0 and a.stats.orders > 0


def test_the_market_maker_respects_its_inventory_limit(run: Any) -> None:
    result = run(
        "engine.strategies.market_maker:MarketMaker",
        {"max_inventory": "0.020", "quote_size": "0.010"},
    )
    positions = [
        r.quantity for _, r in result.store.records() if type(r).__name__ == "PositionSnapshot"
    ]
    assert positions and max(abs(p) for p in positions) <= Decimal("0.030")  # limit + one quote


def test_registry_loads_by_module_and_by_file(tmp_path: Path) -> None:
    s = load_strategy("engine.strategies.market_maker:MarketMaker", {"half_spread_ticks": 7})
    assert s.params.half_spread_ticks == 7  # type: ignore[attr-defined]
    f = tmp_path / "mine.py"
    f.write_text("from engine.strategy import Strategy\nclass Mine(Strategy):\n    pass\n")
    assert type(load_strategy(f"{f}:Mine")).__name__ == "Mine"


@pytest.mark.parametrize(
    ("spec", "params", "message"),
    [
        ("nocolon", None, "is not 'module:Class'"),
        ("no.such.module:X", None, "cannot import 'no.such.module'"),
        ("engine.strategies.market_maker:Nope", None, "has no 'Nope'"),
        ("engine.strategies.market_maker:Decimal", None, "is not a Strategy subclass"),
        ("missing/file.py:X", None, "no such file"),
        (
            "engine.strategies.market_maker:MarketMaker",
            {"half_spread_ticks": 0},
            "parameter half_spread_ticks = 0",
        ),
        ("engine.strategies.market_maker:MarketMaker", {"bogus": 1}, "parameter bogus = 1"),
    ],
)
def test_registry_errors_name_what_failed(
    spec: str, params: dict[str, object] | None, message: str
) -> None:
    with pytest.raises(StrategyLoadError, match=message.replace("(", r"\(")):
        load_strategy(spec, params)


def test_rows_are_handed_to_the_core_under_the_event_dtype_object_itself() -> None:
    """An equal dtype that is another object (np.concatenate, unpickling) is swapped for
    `_core.EVENT_DTYPE` by a view (same memory); any other dtype is left for the core to
    refuse."""
    rows = np.zeros(4, dtype=_core.EVENT_DTYPE)
    rows["price"] = [1, 2, 3, 4]
    copy = pickle.loads(pickle.dumps(rows))
    assert copy.dtype == _core.EVENT_DTYPE and copy.dtype is not _core.EVENT_DTYPE
    same = _canonical(copy)
    assert same.dtype is _core.EVENT_DTYPE and np.shares_memory(same, copy)
    assert same["price"].tolist() == [1, 2, 3, 4]
    assert _canonical(rows) is rows
    other = np.zeros(4, dtype=[("a", "<i8"), ("b", "V64")])  # 72 bytes, other fields
    assert _canonical(other) is other
    with pytest.raises((TypeError, ValueError)):
        _core.SimVenue("0.1", "0.001", maker_fee="0", taker_fee="0").apply_events(other)
