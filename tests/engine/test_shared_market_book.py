"""The simulated venue's market book read by the kernel instead of a copy of its own
(`SharesMarketBook`): the venue's book equals an `L2Book` fed the same rows at every
step of every bundled capture (top, depth, staleness), a backtest reads it (and shows
its strategy the same tops and depth as a kernel with its own book), and a venue whose
book follows another sequence rule, or one without a book, leaves the kernel its own."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import numpy as np
import pytest

import adapters.backtest as bt
from adapters.clocks import SimulatedClock
from adapters.data import BUNDLED_BINANCE_DIR
from adapters.venues.simulated import SimulatedVenue
from engine import _core
from engine.domain import OrderSide
from engine.kernel import MarketStream
from engine.ports import SharesMarketBook
from engine.strategy import BookTop, Context, EmptyParams, Strategy

CAPTURES = sorted(BUNDLED_BINANCE_DIR.glob("*.gz"))


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
def test_the_venue_s_book_is_the_l2_book_of_the_same_rows_at_every_step(capture: Any) -> None:
    streams, instruments = bt.load_streams([capture])
    stream = streams[0]
    inst = instruments[stream.symbol]
    venue = _core.SimVenue(
        format(inst.tick_size, "f"), format(inst.lot_size, "f"), rule=stream.rule,
        maker_fee="0.0002", taker_fee="0.0005",
    )  # fmt: skip
    book = _core.L2Book(stream.rule)
    steps = _core.plan(stream.events, stream.rule, True)[0]
    compared = 0
    for i, (_, _, a, b, _, _) in enumerate(steps):
        rows = stream.events[a:b]
        venue.apply_events(rows)
        book.apply_events(rows)
        assert venue.stale == book.stale
        assert venue.top() == book.top() == (venue.best_bid(), venue.best_ask())
        if i % 50 == 0:
            for side in (0, 1):
                assert venue.depth(side, 10) == book.depth(side, 10)
            compared += 1
    assert compared > 10
    # A file with a snapshot ends with a book; the one continuing the spot day has none.
    has_snapshot = bool((stream.events["kind"] == _core.KIND_SNAPSHOT).any())
    assert (book.top()[0] is not None) == has_snapshot
    with pytest.raises(ValueError):
        venue.depth(2, 5)


class DepthWatcher(Strategy[EmptyParams]):
    """Records each top and the five best levels per side it is shown."""

    def __init__(self, params: EmptyParams) -> None:
        super().__init__(params)
        self.seen: list[tuple[BookTop, list[tuple[Decimal, Decimal]], list[Any]]] = []

    def on_book(self, ctx: Context, top: BookTop) -> None:
        bids = ctx.depth(top.symbol, OrderSide.BUY, 5)
        self.seen.append((top, bids, ctx.depth(top.symbol, OrderSide.SELL, 5)))


def _run(monkeypatch: pytest.MonkeyPatch, share: bool) -> tuple[Any, list[object]]:
    """The watcher on the start of the spot capture; with `share` False the venue
    offers no book (the kernel keeps its own). Returns the result and what the venue
    offered."""
    streams, instruments = bt.load_streams([CAPTURES[-1]])
    s = streams[0]
    rows = np.ascontiguousarray(s.events[:30_000])
    short = [MarketStream(s.symbol, s.rule, rows, s.data_lot_size)]
    monkeypatch.setattr(bt, "load_streams", lambda paths: (short, instruments))
    offered: list[object] = []
    original = SimulatedVenue.market_book

    def market_book(self: SimulatedVenue, symbol: str, rule: str) -> Any:
        book = original(self, symbol, rule) if share else None
        offered.append(book)
        return book

    monkeypatch.setattr(SimulatedVenue, "market_book", market_book)
    return bt.run_backtest([], f"{__file__}:DepthWatcher"), offered


def test_a_backtest_reads_the_venue_s_book_and_shows_the_same_market(monkeypatch: Any) -> None:
    shared, offered = _run(monkeypatch, share=True)
    assert len(offered) == 1 and isinstance(offered[0], _core.SimVenue)
    own, offered = _run(monkeypatch, share=False)
    assert offered == [None]
    assert len(shared.strategy.seen) > 100
    assert shared.strategy.seen == own.strategy.seen  # tops and depth, step by step


def test_the_kernel_keeps_its_own_book_unless_the_venue_s_follows_the_same_rule() -> None:
    streams, instruments = bt.load_streams([CAPTURES[0]])
    symbol = streams[0].symbol
    clock = SimulatedClock()
    same = SimulatedVenue(instruments, clock, rules={symbol: streams[0].rule})
    other = "spot" if streams[0].rule == "futures" else "futures"
    assert isinstance(same, SharesMarketBook)
    assert isinstance(same.market_book(symbol, streams[0].rule), _core.SimVenue)
    assert same.market_book(symbol, other) is None
    assert same.market_book("ETH/USDT", streams[0].rule) is None
