"""The instrument facts a replay needs: tick and lot sizes, the venue's sequence rule, and
the unified symbol the rest of quantx trades it under.

Symbols: `symbol` is the exchange's own id (Binance `BTCUSDT`), what its data files and
wire messages carry; `unified` is ccxt's unified symbol (`BTC/USDT` spot,
`BTC/USDT:USDT` a USDT-settled perpetual), unique across markets, so one run can hold
the spot and the perpetual of the same pair. Orders, positions, journals and reports
use `unified`."""

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
    `unified` is `BASE/QUOTE` (spot) or `BASE/QUOTE:SETTLE` (a derivative); empty means
    the native `symbol` is used as it is.
    """

    venue: str
    market: str
    symbol: str
    tick_size: str
    lot_size: str
    sequence_rule: SequenceRule
    book_lot_size: str = ""
    unified: str = ""

    def __post_init__(self) -> None:
        if not self.book_lot_size:
            object.__setattr__(self, "book_lot_size", self.lot_size)
        if not self.unified:
            object.__setattr__(self, "unified", self.symbol)

    @property
    def base(self) -> str:
        """The base asset, from the unified symbol (`BTC` of `BTC/USDT:USDT`)."""
        return self._split()[0]

    @property
    def quote(self) -> str:
        """The quote asset, from the unified symbol (`USDT` of `BTC/USDT:USDT`)."""
        return self._split()[1]

    def _split(self) -> tuple[str, str]:
        pair = self.unified.partition(":")[0]
        base, sep, quote = pair.partition("/")
        if not sep or not base or not quote:
            raise UnknownInstrumentError(
                f"instrument {self.key}: unified symbol {self.unified!r} is not BASE/QUOTE"
                " or BASE/QUOTE:SETTLE (rule: ccxt unified symbols)"
            )
        return base, quote

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
    ("usdm", "BTCUSDT"): InstrumentSpec(
        "binance", "usdm", "BTCUSDT", "0.1", "0.001", "futures", unified="BTC/USDT:USDT"
    ),
    ("spot", "BTCUSDT"): InstrumentSpec(
        "binance",
        "spot",
        "BTCUSDT",
        "0.01",
        "0.00001",
        "spot",
        book_lot_size="0.00000001",
        unified="BTC/USDT",
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
