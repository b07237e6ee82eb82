"""Instrument: a tradable contract's grid, limits and fees, and exact Decimal <-> ticks/lots.

Rounding rules (explicit, never implicit; see `Rounding`):
- `round_qty` defaults to DOWN: an order never exceeds the size its caller intended.
- `passive_price(price, side)` rounds a limit price away from the touch: a BUY rounds
  DOWN, a SELL rounds UP, so rounding never makes an order more aggressive.
- `round_price` / `round_qty` also take UP and HALF_EVEN (banker's rounding) when a
  caller wants them on purpose.
Values are rounded to whole multiples of tick_size / lot_size counted from zero, then
written with the instrument's precision. Fee rates are fractions (0.0004 = 4 bps);
maker may be negative (a rebate) down to MIN_MAKER_FEE_RATE; no rate above MAX_FEE_RATE.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from engine import _core
from engine.domain import _checks, _exact
from engine.domain.enums import InstrumentKind, OrderSide, Rounding
from engine.domain.errors import PrecisionError, ValidationError

__all__ = ["MAX_FEE_RATE", "MAX_PRECISION", "MIN_MAKER_FEE_RATE", "Instrument"]

MIN_MAKER_FEE_RATE = Decimal("-0.001")
"""A 10 bps maker rebate; anything larger is a typo (a percent given as a fraction)."""
MAX_FEE_RATE = Decimal("0.01")
"""100 bps; real venues charge 0-10 bps, so anything above is a percent/fraction mix-up."""
MAX_PRECISION = 18
"""More decimal places than any venue prints; also keeps the core's i64 units meaningful."""


class _Memo:
    """Conversions already made through the grid, both ways (exact results only; a
    refusal is never remembered). Prices and sizes repeat all through a replay, and a
    dict lookup costs a fraction of a round trip through the core and Decimal text."""

    __slots__ = ("lots", "prices", "quantities", "rounded", "ticks")

    def __init__(self) -> None:
        self.rounded: dict[tuple[Decimal, Rounding], Decimal] = {}
        self.ticks: dict[Decimal, int] = {}
        self.lots: dict[Decimal, int] = {}
        self.prices: dict[int, Decimal] = {}
        self.quantities: dict[int, Decimal] = {}


_MEMO_SIZE: Final = 8192
"""Entries each memo holds before it starts again."""


def _remember(memo: dict[Any, Any], key: object, value: object) -> None:
    if len(memo) >= _MEMO_SIZE:
        memo.clear()
    memo[key] = value


@dataclass(frozen=True, slots=True)
class Instrument:
    """One tradable instrument. Immutable; every amount is a Decimal."""

    symbol: str
    base: str
    quote: str
    kind: InstrumentKind
    tick_size: Decimal
    lot_size: Decimal
    min_quantity: Decimal
    max_quantity: Decimal
    min_notional: Decimal
    maker_fee_rate: Decimal
    taker_fee_rate: Decimal
    price_precision: int
    quantity_precision: int
    _grid: _core.Grid = field(init=False, repr=False, compare=False)
    _memo: _Memo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        symbol = _checks.text("symbol", self.symbol)
        _checks.text("base", self.base, symbol)
        _checks.text("quote", self.quote, symbol)
        _checks.member("kind", self.kind, InstrumentKind, symbol)
        tick = _checks.positive("tick_size", self.tick_size, symbol)
        lot = _checks.positive("lot_size", self.lot_size, symbol)
        min_qty = _checks.positive("min_quantity", self.min_quantity, symbol)
        max_qty = _checks.positive("max_quantity", self.max_quantity, symbol)
        _checks.non_negative("min_notional", self.min_notional, symbol)
        if min_qty > max_qty:
            raise ValidationError(
                "min_quantity", min_qty, f"above max_quantity {_plain(max_qty)}", symbol
            )
        for name, qty in (("min_quantity", min_qty), ("max_quantity", max_qty)):
            if qty % lot != 0:
                raise ValidationError(
                    name, qty, f"not a multiple of lot_size {_plain(lot)}", symbol
                )
        maker = _checks.decimal("maker_fee_rate", self.maker_fee_rate, symbol)
        taker = _checks.decimal("taker_fee_rate", self.taker_fee_rate, symbol)
        if not MIN_MAKER_FEE_RATE <= maker <= MAX_FEE_RATE:
            rule = f"outside [{MIN_MAKER_FEE_RATE}, {MAX_FEE_RATE}] (rule: a fraction, not percent)"
            raise ValidationError("maker_fee_rate", maker, rule, symbol)
        if not 0 <= taker <= MAX_FEE_RATE:
            rule = f"outside [0, {MAX_FEE_RATE}] (rule: a fraction, not percent)"
            raise ValidationError("taker_fee_rate", taker, rule, symbol)
        self._check_precision("price_precision", self.price_precision, "tick_size", tick)
        self._check_precision("quantity_precision", self.quantity_precision, "lot_size", lot)
        try:
            grid = _core.Grid(_plain(tick), _plain(lot))
        except _core.FixedPointError as err:  # e.g. a step finer than the core's scale
            raise PrecisionError("grid", f"{_plain(tick)}/{_plain(lot)}", str(err), symbol) from err
        object.__setattr__(self, "_grid", grid)
        object.__setattr__(self, "_memo", _Memo())

    def _check_precision(self, name: str, value: object, step_name: str, step: Decimal) -> None:
        if not isinstance(value, int) or isinstance(value, bool):
            raise ValidationError(name, value, "is not an int (rule: decimal places)", self.symbol)
        if not 0 <= value <= MAX_PRECISION:
            raise ValidationError(name, value, f"outside [0, {MAX_PRECISION}]", self.symbol)
        needed = _checks.decimals_of(step)
        if value < needed:
            rule = f"cannot write {step_name} {_plain(step)} (rule: >= {needed} decimals)"
            raise ValidationError(name, value, rule, self.symbol)

    # --- exact conversion through the Rust grid ------------------------------------------
    def price_to_ticks(self, price: Decimal) -> int:
        """Exact; a price off the tick grid raises PrecisionError (never rounds)."""
        memo = self._memo.ticks
        if type(price) is Decimal and price.is_finite():
            known = memo.get(price)
            if known is not None:
                return known
        value = _checks.decimal("price", price, self.symbol)
        try:
            ticks: int = self._grid.price_to_ticks(_plain(value))
        except _core.FixedPointError as err:
            raise _from_core("price", value, err, self.symbol) from err
        _remember(memo, value, ticks)
        return ticks

    def qty_to_lots(self, quantity: Decimal) -> int:
        """Exact; a quantity off the lot grid raises PrecisionError (never rounds)."""
        memo = self._memo.lots
        if type(quantity) is Decimal and quantity.is_finite():
            known = memo.get(quantity)
            if known is not None:
                return known
        value = _checks.decimal("quantity", quantity, self.symbol)
        try:
            lots: int = self._grid.qty_to_lots(_plain(value))
        except _core.FixedPointError as err:
            raise _from_core("quantity", value, err, self.symbol) from err
        _remember(memo, value, lots)
        return lots

    def ticks_to_price(self, ticks: int) -> Decimal:
        memo = self._memo.prices
        price = memo.get(ticks) if type(ticks) is int else None
        if price is None:
            price = self._written(Decimal(self._grid.ticks_to_price(ticks)), self.price_precision)
            if type(ticks) is int:
                _remember(memo, ticks, price)
        return price

    def lots_to_qty(self, lots: int) -> Decimal:
        memo = self._memo.quantities
        quantity = memo.get(lots) if type(lots) is int else None
        if quantity is None:
            quantity = self._written(Decimal(self._grid.lots_to_qty(lots)), self.quantity_precision)
            if type(lots) is int:
                _remember(memo, lots, quantity)
        return quantity

    # --- explicit rounding ----------------------------------------------------------------
    def round_price(self, price: Decimal, mode: Rounding) -> Decimal:
        """`price` on the tick grid, rounded as `mode` says (no default on purpose)."""
        memo = self._memo.rounded
        key = (price, mode)
        if type(price) is Decimal and price.is_finite() and type(mode) is Rounding:
            known = memo.get(key)
            if known is not None:
                return known
        value = _checks.non_negative("price", price, self.symbol)
        rounded = self._written(_round_to_step(value, self.tick_size, mode), self.price_precision)
        if type(price) is Decimal and type(mode) is Rounding:
            _remember(memo, key, rounded)
        return rounded

    def passive_price(self, price: Decimal, side: OrderSide) -> Decimal:
        """A limit price rounded away from the touch: BUY rounds DOWN, SELL rounds UP."""
        mode = Rounding.DOWN if side is OrderSide.BUY else Rounding.UP
        return self.round_price(price, mode)

    def round_qty(self, quantity: Decimal, mode: Rounding = Rounding.DOWN) -> Decimal:
        """`quantity` on the lot grid; DOWN by default so an order never grows."""
        value = _checks.non_negative("quantity", quantity, self.symbol)
        return self._written(_round_to_step(value, self.lot_size, mode), self.quantity_precision)

    # --- order-entry checks (a Python mirror of the Rust risk gate's first rules) ----------
    def check_price(self, price: Decimal) -> Decimal:
        """A positive price on the tick grid, else a DomainError naming the rule."""
        value = _checks.positive("price", price, self.symbol)
        self.price_to_ticks(value)
        return value

    def check_quantity(self, quantity: Decimal) -> Decimal:
        """A quantity on the lot grid within [min_quantity, max_quantity]."""
        value = _checks.positive("quantity", quantity, self.symbol)
        if value < self.min_quantity:
            rule = f"below min_quantity {_plain(self.min_quantity)}"
            raise ValidationError("quantity", value, rule, self.symbol)
        if value > self.max_quantity:
            rule = f"above max_quantity {_plain(self.max_quantity)}"
            raise ValidationError("quantity", value, rule, self.symbol)
        self.qty_to_lots(value)
        return value

    def check_notional(self, price: Decimal, quantity: Decimal) -> Decimal:
        """price * quantity, refused below min_notional; returns the notional."""
        notional = self.notional(price, quantity)
        if notional < self.min_notional:
            rule = f"below min_notional {_plain(self.min_notional)}"
            raise ValidationError("notional", notional, rule, self.symbol)
        return notional

    def notional(self, price: Decimal, quantity: Decimal) -> Decimal:
        """Exact price * quantity in quote currency (linear contracts: multiplier 1)."""
        value = _checks.non_negative("price", price, self.symbol)
        qty = _checks.non_negative("quantity", quantity, self.symbol)
        return _exact.product(value, qty)

    def _written(self, value: Decimal, precision: int) -> Decimal:
        return value.quantize(_QUANTA[precision])


_UP: Final = Rounding.UP  # bound once: reading a member off its enum class is slow on 3.11
_HALF_EVEN: Final = Rounding.HALF_EVEN

_QUANTA: Final = tuple(Decimal(1).scaleb(-places) for places in range(MAX_PRECISION + 1))
"""1, 0.1, ... 1E-18: the quantum for each precision (precisions are checked in range)."""


def _round_to_step(value: Decimal, step: Decimal, mode: Rounding) -> Decimal:
    """Exact: divmod on Decimals never rounds, so the remainder decides alone."""
    if not isinstance(mode, Rounding):
        _checks.member("mode", mode, Rounding)
    steps, remainder = divmod(value, step)
    if remainder and (
        mode is _UP
        or (
            mode is _HALF_EVEN
            and (2 * remainder > step or (2 * remainder == step and steps % 2 == 1))
        )
    ):
        steps += 1
    return steps * step


def _plain(value: Decimal) -> str:
    """Fixed-point text (the core refuses exponent forms such as 1E+3)."""
    return format(value, "f")


def _from_core(field_name: str, value: Decimal, err: Exception, symbol: str) -> PrecisionError:
    """The core says e.g. 'price: value "1.05" is not a multiple of step 0.1 (rule: ...)'."""
    detail = str(err).split(": ", 1)[-1]
    return PrecisionError(field_name, value, f"refused by the grid: {detail}", symbol)
