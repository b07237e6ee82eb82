"""Instruments from ccxt markets: tick size, lot size, limits and fees, exact.

ccxt parses an exchange's market list into dicts whose numbers are floats; each float
here is read back through its shortest text (`repr`), which is the decimal the exchange
sent for the values exchanges use (0.01, 1e-05, 5.0), so the Instrument holds exact
Decimals. In TICK_SIZE mode (Binance, and most exchanges in ccxt 4) `precision.price`
and `precision.amount` are the steps themselves; in DECIMAL_PLACES mode they are digit
counts. A market the engine cannot trade yet (inverse, dated futures, options) is
refused by name. Markets can be saved to a JSON file and loaded offline, so a backtest
or a test uses the exchange's real rules without a connection.

Exchange corrections (`exchange_instrument`): where ccxt's market is known to carry the
wrong rules, the exchange's documented rules replace them. Upbit (ccxt 4.5 `upbit`):
its markets state precision 1e-8 for price and amount and no limits (and
`fetch_market` puts the 5,000 KRW minimum total into `limits.amount.min` as if it were
BTC). A KRW market's instrument gets instead the KRW tick of the price band the
market trades in now (`reference_price`: 1,000 KRW at 2,000,000 KRW and above,
`engine.marketdata.upbit`), lot 1e-8, minimum quantity one lot, minimum notional
5,000 KRW, and Upbit's 0.05 % fees. Below 2,000,000 KRW the band table has changed over
the years (2024-10, 2025-07-31), so no tick is guessed there: the market is refused.
The tick holds while the price stays in its band; a run is started again if it leaves.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

from engine.domain.enums import InstrumentKind
from engine.domain.errors import ValidationError
from engine.domain.instrument import Instrument
from engine.marketdata.upbit import (
    KRW_BTC,
    LOWEST_PRICE_ON_GRID_KRW,
    UPBIT_INSTRUMENT_DEFAULTS,
)

__all__ = [
    "exchange_instrument",
    "instrument_from_market",
    "instruments_from_markets",
    "load_markets",
    "needs_reference_price",
    "save_markets",
    "upbit_krw_tick",
]

TICK_SIZE: Final = 4
DECIMAL_PLACES: Final = 2
"""ccxt's `precisionMode` values this module reads (ccxt.base.decimal_to_precision)."""
NO_MAX_QUANTITY: Final = Decimal("1000000000")
"""The cap used when a market states no maximum order size."""


def _exact(value: object, field: str, symbol: str) -> Decimal:
    if isinstance(value, bool) or not isinstance(value, int | float | str | Decimal):
        raise ValidationError(field, value, "is not a number (rule: a ccxt market value)", symbol)
    text = repr(value) if isinstance(value, float) else str(value)
    try:
        number = Decimal(text)
    except ArithmeticError:
        raise ValidationError(field, value, "is not a number", symbol) from None
    if not number.is_finite():
        raise ValidationError(field, value, "is not finite", symbol)
    return number.normalize() if number else Decimal(0)


def _step(value: object, mode: int, field: str, symbol: str) -> Decimal:
    if value is None:
        raise ValidationError(field, None, "is missing (rule: markets state their steps)", symbol)
    if mode == DECIMAL_PLACES:
        places = _exact(value, field, symbol)
        if places != places.to_integral_value() or places < 0:
            raise ValidationError(field, value, "is not a digit count", symbol)
        return Decimal(1).scaleb(-int(places))
    if mode != TICK_SIZE:
        rule = f"(rule: TICK_SIZE {TICK_SIZE} or DECIMAL_PLACES {DECIMAL_PLACES})"
        raise ValidationError("precisionMode", mode, f"is not supported {rule}", symbol)
    return _exact(value, field, symbol)


def _places(step: Decimal) -> int:
    exponent = step.normalize().as_tuple().exponent
    return max(0, -exponent) if isinstance(exponent, int) else 0


def _kind(market: Mapping[str, Any], symbol: str) -> InstrumentKind:
    if market.get("spot"):
        return InstrumentKind.SPOT
    if market.get("swap") and market.get("linear"):
        contract = market.get("contractSize")
        if contract not in (None, 1, 1.0):
            rule = "(rule: linear perpetuals of one base unit per contract)"
            raise ValidationError("contractSize", contract, f"is not supported {rule}", symbol)
        return InstrumentKind.LINEAR_PERPETUAL
    rule = "(rule: spot or linear perpetual swap)"
    raise ValidationError("type", market.get("type"), f"is not supported yet {rule}", symbol)


def instrument_from_market(
    market: Mapping[str, Any],
    precision_mode: int = TICK_SIZE,
    *,
    maker_fee_rate: Decimal | None = None,
    taker_fee_rate: Decimal | None = None,
) -> Instrument:
    """The Instrument of one ccxt market; the fee rates given override the market's
    (an account's own rates, once fetched)."""
    symbol = str(market.get("symbol") or "")
    if not symbol:
        raise ValidationError("symbol", market.get("symbol"), "is missing (rule: unified symbol)")
    kind = _kind(market, symbol)
    precision = market.get("precision") or {}
    tick = _step(precision.get("price"), precision_mode, "precision.price", symbol)
    lot = _step(precision.get("amount"), precision_mode, "precision.amount", symbol)
    limits = market.get("limits") or {}
    amount = limits.get("amount") or {}
    cost = limits.get("cost") or {}
    low, high, notional = amount.get("min"), amount.get("max"), cost.get("min")
    min_qty = lot if low is None else max(lot, _exact(low, "limits.amount.min", symbol))
    max_qty = NO_MAX_QUANTITY if high is None else _exact(high, "limits.amount.max", symbol)
    max_qty -= max_qty % lot  # a whole number of lots, never above the stated maximum
    maker = maker_fee_rate if maker_fee_rate is not None else market.get("maker")
    taker = taker_fee_rate if taker_fee_rate is not None else market.get("taker")
    return Instrument(
        symbol=symbol,
        base=str(market.get("base") or ""),
        quote=str(market.get("quote") or ""),
        kind=kind,
        tick_size=tick,
        lot_size=lot,
        min_quantity=min_qty,
        max_quantity=max_qty,
        min_notional=Decimal(0)
        if notional is None
        else _exact(notional, "limits.cost.min", symbol),
        maker_fee_rate=_exact(0 if maker is None else maker, "maker", symbol),
        taker_fee_rate=_exact(0 if taker is None else taker, "taker", symbol),
        price_precision=_places(tick),
        quantity_precision=_places(lot),
    )


def upbit_krw_tick(price: Decimal, symbol: str = "") -> Decimal:
    """Upbit's KRW price unit at `price`: 1,000 KRW from 2,000,000 KRW up (the one row of
    the table that every version shares); lower prices are refused (see the module
    docstring)."""
    if price >= LOWEST_PRICE_ON_GRID_KRW:
        return Decimal(KRW_BTC.tick_size)
    rule = f"is below {LOWEST_PRICE_ON_GRID_KRW} KRW (rule: Upbit KRW ticks known from there up)"
    raise ValidationError("reference_price", price, rule, symbol)


def needs_reference_price(exchange_id: str) -> bool:
    """Whether `exchange_instrument` needs the market's current price (its tick depends
    on it)."""
    return exchange_id == "upbit"


def exchange_instrument(
    exchange_id: str,
    market: Mapping[str, Any],
    precision_mode: int = TICK_SIZE,
    *,
    reference_price: Decimal | None = None,
) -> Instrument:
    """The Instrument of one market of `exchange_id`: `instrument_from_market`, with the
    exchange's own rules where ccxt's are known to be wrong (module docstring)."""
    if exchange_id != "upbit":
        return instrument_from_market(market, precision_mode)
    symbol = str(market.get("symbol") or "")
    if market.get("quote") != "KRW" or not market.get("spot"):
        rule = "is not a KRW spot market (rule: Upbit rules are known for KRW markets only)"
        raise ValidationError("quote", market.get("quote"), rule, symbol)
    if reference_price is None or reference_price <= 0:
        rule = "is missing (rule: an Upbit KRW tick depends on the current price)"
        raise ValidationError("reference_price", reference_price, rule, symbol)
    tick = upbit_krw_tick(reference_price, symbol)
    lot = Decimal(KRW_BTC.lot_size)
    return Instrument(
        symbol=symbol,
        base=str(market.get("base") or ""),
        quote="KRW",
        tick_size=tick,
        lot_size=lot,
        price_precision=_places(tick),
        quantity_precision=_places(lot),
        **UPBIT_INSTRUMENT_DEFAULTS["spot"],
    )


def instruments_from_markets(
    markets: Iterable[Mapping[str, Any]], precision_mode: int = TICK_SIZE
) -> dict[str, Instrument]:
    """Every market the engine can trade, by unified symbol (others are left out)."""
    out: dict[str, Instrument] = {}
    for market in markets:
        try:
            instrument = instrument_from_market(market, precision_mode)
        except ValidationError as err:
            if err.field in ("type", "contractSize"):
                continue
            raise
        out[instrument.symbol] = instrument
    return out


def save_markets(
    path: Path,
    exchange_id: str,
    markets: Iterable[Mapping[str, Any]],
    precision_mode: int = TICK_SIZE,
) -> None:
    """Writes markets for offline use (sorted by symbol, so equal markets give equal
    files); the file is replaced whole."""
    document = {
        "exchange": exchange_id,
        "precisionMode": precision_mode,
        "markets": sorted((dict(m) for m in markets), key=lambda m: str(m.get("symbol"))),
    }
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(document, sort_keys=True, indent=1) + "\n")
    os.replace(temporary, path)


def load_markets(path: Path) -> tuple[str, dict[str, Instrument]]:
    """(exchange id, instruments by symbol) from a file `save_markets` wrote."""
    try:
        document = json.loads(path.read_text())
    except OSError as err:
        raise ValidationError("markets", str(path), f"cannot be read ({err.strerror})") from None
    except json.JSONDecodeError as err:
        raise ValidationError("markets", str(path), f"is not JSON ({err.msg})") from None
    if not isinstance(document, dict) or not isinstance(document.get("markets"), list):
        raise ValidationError("markets", str(path), "has no market list (rule: save_markets)")
    mode = document.get("precisionMode", TICK_SIZE)
    return str(document.get("exchange", "")), instruments_from_markets(document["markets"], mode)
