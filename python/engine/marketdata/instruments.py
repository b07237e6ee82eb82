"""The instrument facts a replay needs: tick and lot sizes and the venue's sequence rule."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

SequenceRule = Literal["spot", "futures"]


@dataclass(frozen=True, slots=True)
class InstrumentSpec:
    """One tradable instrument as a market-data source sees it.

    Sizes stay decimal strings: the Rust core turns them into an exact `Grid`.
    `lot_size` is the order-entry step; `book_lot_size` is the finer step that sizes in
    the venue's market data can carry (orders resting from before a venue raised its
    lot size keep their old precision), so a book must be kept in that unit.
    """

    venue: str
    market: str
    symbol: str
    tick_size: str
    lot_size: str
    sequence_rule: SequenceRule
    book_lot_size: str = ""

    def __post_init__(self) -> None:
        if not self.book_lot_size:
            object.__setattr__(self, "book_lot_size", self.lot_size)

    @property
    def key(self) -> str:
        """`venue:market:symbol`, the name used in reports and errors."""
        return f"{self.venue}:{self.market}:{self.symbol}"


class UnknownInstrumentError(ValueError):
    """No spec is known for a venue, market and symbol."""


# Binance exchangeInfo: PRICE_FILTER.tickSize, LOT_SIZE.stepSize and, for the book, the
# size precision of market data. Spot BTCUSDT depth carries sizes such as "25.42618900"
# (6 decimals, below the 0.00001 step) in the bundled capture, so the spot book counts in
# baseAssetPrecision (8 decimals), the precision Binance prints every spot size with.
_BINANCE: dict[tuple[str, str], InstrumentSpec] = {
    ("usdm", "BTCUSDT"): InstrumentSpec("binance", "usdm", "BTCUSDT", "0.1", "0.001", "futures"),
    ("spot", "BTCUSDT"): InstrumentSpec(
        "binance", "spot", "BTCUSDT", "0.01", "0.00001", "spot", book_lot_size="0.00000001"
    ),
}

BINANCE_MARKETS: dict[str, SequenceRule] = {"usdm": "futures", "spot": "spot"}
"""Binance market name -> the sequence rule its depth diffs follow."""


def binance_instrument(market: str, symbol: str) -> InstrumentSpec:
    """The spec of a Binance instrument; raises UnknownInstrumentError naming what is known."""
    spec = _BINANCE.get((market, symbol.upper()))
    if spec is None:
        known = ", ".join(f"{m} {s}" for m, s in sorted(_BINANCE))
        raise UnknownInstrumentError(
            f"no tick/lot spec for Binance market={market!r} symbol={symbol!r}; known: {known}"
        )
    return spec
