"""Upbit spot instruments: the market-data spec (tick, lot, sequence rule) and the trading
facts (minimum order amount, fees), each with the source it comes from.

Upbit names a pair `{quote}-{base}` (`KRW-BTC`); the unified (ccxt) name is `BTC/KRW`.

Sources (Upbit developer center, docs.upbit.com):
- Tick: "원화(KRW) 마켓 주문 가격 단위 / 최소 주문 가능 금액" (/kr/docs/krw-market-info):
  the KRW tick depends on the price; at 2,000,000 KRW and above it is 1,000 KRW. That
  row is the same in every version of the table (before and after the 2024-10 and
  2025-07-31 changes, which touched the bands below 2,000,000 KRW only), and BTC has
  traded far above 2,000,000 KRW since 2017, so KRW-BTC is one grid of 1,000 KRW. A price
  below that band (finer tick) is off this grid and is refused, never rounded.
- Minimum order amount: 5,000 KRW per order on the KRW market (same page; the order-chance
  API reports it per pair as `market.bid.min_total` / `market.ask.min_total`).
- Maximum order amount: `market.max_total` = 1,000,000,000 KRW (order-chance API).
- Quantity: 8 decimal places; Upbit truncates anything finer (FAQ "주문 관련 문의":
  10000 / 30000 = 0.33333333..., "소수점 아래 9자리 이하는 버림"). Market-data sizes carry
  the same 8 decimals, so the book counts in the same lot.
- Fees: the KRW market's general rate is 0.05 % for makers and takers alike; the rate
  that applies to an account is what the order-chance API returns (`bid_fee`, `ask_fee`,
  `maker_bid_fee`, `maker_ask_fee`), which a live adapter should read instead.

Sequence rule: Upbit's `orderbook` messages carry no update ids; each one is the whole
book (15 levels per side in the 2024 API, 30 by default in the current one, or the
count the subscription asked for). The reader makes every message a KIND_SNAPSHOT (flags BEGIN on
its first row, END on its last, EMPTY when it has no level), which `L2Book` applies by
clearing both sides and setting the message's levels: levels absent from a message are
gone. The rule ("spot") only governs diffs, and an Upbit stream has none, so no gap can
ever be reported; staleness after a reconnect cannot be detected from the data either.

In the simulated venue every snapshot sets a resting order's queue_ahead to at most the
size its level now shows, and a level missing from a snapshot shows 0: an order whose
level drops out of the shown depth (or empties for a moment) goes to the front of its
queue and stays there. Optimistic for orders resting beyond the shown depth; pinned in
tests/test_upbit_sim_queue.py.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from engine.domain import InstrumentKind
from engine.domain.instrument import Instrument
from engine.marketdata.instruments import InstrumentSpec, UnknownInstrumentError

__all__ = [
    "KRW_BTC",
    "MAX_ORDER_TOTAL_KRW",
    "MIN_ORDER_TOTAL_KRW",
    "UNIFIED_SYMBOLS",
    "UPBIT_INSTRUMENT_DEFAULTS",
    "upbit_instrument",
    "upbit_trading_instrument",
]

KRW_BTC = InstrumentSpec(
    "upbit", "spot", "KRW-BTC", "1000", "0.00000001", "spot", unified="BTC/KRW"
)
"""KRW-BTC as its market data sees it: tick 1,000 KRW (price >= 2,000,000 KRW), lot 1e-8 BTC."""

UNIFIED_SYMBOLS: dict[str, str] = {"KRW-BTC": "BTC/KRW"}
"""Upbit code -> unified (ccxt) symbol, for the `unified` field InstrumentSpec is getting."""

MIN_ORDER_TOTAL_KRW = Decimal("5000")
MAX_ORDER_TOTAL_KRW = Decimal("1000000000")

LOWEST_PRICE_ON_GRID_KRW = Decimal("2000000")
"""Bottom of the tick band KRW_BTC assumes; below it the real tick is finer than 1,000."""

_UPBIT: dict[tuple[str, str], InstrumentSpec] = {("spot", "KRW-BTC"): KRW_BTC}

# Upbit limits the order amount, not the quantity. max_quantity is the largest quantity
# max_total allows at the lowest price the grid covers (1e9 / 2e6 = 500 BTC), so it never
# binds before max_total does; callers should put MAX_ORDER_TOTAL_KRW in their risk
# limits (RiskLimits.max_notional) to enforce the amount itself.
UPBIT_INSTRUMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "spot": {
        "kind": InstrumentKind.SPOT,
        "min_quantity": Decimal("0.00000001"),
        "max_quantity": MAX_ORDER_TOTAL_KRW / LOWEST_PRICE_ON_GRID_KRW,
        "min_notional": MIN_ORDER_TOTAL_KRW,
        "maker_fee_rate": Decimal("0.0005"),
        "taker_fee_rate": Decimal("0.0005"),
    },
}
"""Trading facts per Upbit market, in the shape of adapters.backtest.INSTRUMENT_DEFAULTS."""


def upbit_instrument(market: str, symbol: str) -> InstrumentSpec:
    """The spec of an Upbit pair by its Upbit code (`KRW-BTC`); raises
    UnknownInstrumentError naming what is known."""
    spec = _UPBIT.get((market, symbol.upper()))
    if spec is None:
        known = ", ".join(f"{m} {s}" for m, s in sorted(_UPBIT))
        raise UnknownInstrumentError(
            f"no tick/lot spec for Upbit market={market!r} symbol={symbol!r}; known: {known}"
        )
    return spec


def upbit_trading_instrument(spec: InstrumentSpec) -> Instrument:
    """The tradable instrument behind an Upbit spec: base and quote from the
    `{quote}-{base}` code, limits and fees from UPBIT_INSTRUMENT_DEFAULTS."""
    if spec.venue != "upbit":
        raise UnknownInstrumentError(f"{spec.key}: not an Upbit instrument (venue must be 'upbit')")
    defaults = UPBIT_INSTRUMENT_DEFAULTS.get(spec.market)
    quote, sep, base = spec.symbol.partition("-")
    if defaults is None or not sep or not quote or not base:
        raise UnknownInstrumentError(
            f"{spec.key}: no trading facts for market {spec.market!r} or the symbol is not "
            "'{quote}-{base}' (known markets: " + ", ".join(sorted(UPBIT_INSTRUMENT_DEFAULTS)) + ")"
        )
    tick, lot = Decimal(spec.tick_size), Decimal(spec.lot_size)
    return Instrument(
        symbol=spec.unified,
        base=base,
        quote=quote,
        tick_size=tick,
        lot_size=lot,
        price_precision=_decimals(tick),
        quantity_precision=_decimals(lot),
        **defaults,
    )


def _decimals(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # a finite step
    return max(0, -exponent)
