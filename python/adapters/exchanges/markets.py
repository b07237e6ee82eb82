"""Instruments from ccxt markets: tick size, lot size, limits and fees, exact.

ccxt parses an exchange's market list into dicts whose numbers are floats; each float
here is read back through its shortest text (`repr`), which is the decimal the exchange
sent for the values exchanges use (0.01, 1e-05, 5.0), so the Instrument holds exact
Decimals. In TICK_SIZE mode (Binance, and most exchanges in ccxt 4) `precision.price`
and `precision.amount` are the steps themselves; in DECIMAL_PLACES mode they are digit
counts. A market the engine cannot trade yet (inverse, dated futures, options) is
refused by name. Markets can be saved to a JSON file and loaded offline, so a backtest
or a test uses the exchange's real rules without a connection.
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

__all__ = ["instrument_from_market", "instruments_from_markets", "load_markets", "save_markets"]

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
