"""The market maker answers a top change that moved only sizes with a lookup once its
quotes have settled. That must change nothing it does: the same run with the shortcut
turned off journals the same records, byte for byte, on both bundled markets."""

from __future__ import annotations

from typing import Any

import engine
from adapters.data import BUNDLED_BINANCE_DIR
from engine.strategies.market_maker import MarketMaker
from engine.strategy.base import BookTop, Context

USDM = BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808.gz"
SPOT = BUNDLED_BINANCE_DIR / "spot-btcusdt-20240808.gz"
BOTH = {"symbols": "BTC/USDT:USDT,BTC/USDT"}


class AlwaysLooks(MarketMaker):
    """The same market maker working its quotes out again at every top change."""

    def on_book(self, ctx: Context, top: BookTop) -> None:
        self._settled.clear()
        super().on_book(ctx, top)


class Counting(MarketMaker):
    """The shipped market maker, counting the changes it had to work through."""

    worked = 0

    def on_book(self, ctx: Context, top: BookTop) -> None:
        before = dict(self._settled)
        super().on_book(ctx, top)
        if self._settled != before or top.symbol not in before:
            Counting.worked += 1


def _run(strategy: Any) -> Any:
    return engine.backtest([USDM, SPOT], strategy, BOTH)


def test_skipping_size_only_changes_changes_nothing_journaled() -> None:
    shortcut, always = _run(MarketMaker), _run(AlwaysLooks)
    assert shortcut.journal_sha256 == always.journal_sha256
    assert shortcut.summary()["fills"] == always.summary()["fills"] > 0
    assert shortcut.summary()["book_callbacks"] == always.summary()["book_callbacks"]


def test_most_top_changes_are_answered_by_the_lookup() -> None:
    Counting.worked = 0
    run = _run(Counting)
    callbacks = run.summary()["book_callbacks"]
    assert 0 < Counting.worked < callbacks / 2
