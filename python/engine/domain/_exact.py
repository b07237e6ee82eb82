"""Decimal arithmetic that cannot round silently: contexts wide enough, Inexact trapped."""

from __future__ import annotations

from decimal import (
    ROUND_HALF_EVEN,
    Context,
    Decimal,
    DivisionByZero,
    Inexact,
    InvalidOperation,
    Overflow,
)

AVERAGE_DIGITS = 40
"""Significant digits of an average price. A quotient that terminates within them is
exact; one that does not (301 / 3) is rounded half-even at the 40th digit, far below any
tick. The exact numerator and denominator stay available (filled_notional, filled_qty)."""


_WIDE = Context(prec=120, traps=[Inexact])
"""Wide enough for any sum or product of two amounts a venue can print (the fast path);
wider operands fall back to a context sized for them. Inexact stays trapped either way."""


def _digits(value: Decimal) -> int:
    return len(value.as_tuple().digits)


def _exponent(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)  # only finite Decimals reach here
    return exponent


def product(left: Decimal, right: Decimal) -> Decimal:
    """left * right, exactly (raises decimal.Inexact rather than round)."""
    try:
        return _WIDE.multiply(left, right)
    except Inexact:
        pass
    digits = _digits(left) + _digits(right) + 2
    return Context(prec=max(28, digits), traps=[Inexact]).multiply(left, right)


def total(left: Decimal, right: Decimal) -> Decimal:
    """left + right, exactly (raises decimal.Inexact rather than round)."""
    try:
        return _WIDE.add(left, right)
    except Inexact:
        pass
    span = max(_digits(left) + _exponent(left), _digits(right) + _exponent(right))
    low = min(_exponent(left), _exponent(right))
    return Context(prec=max(28, span - low + 2), traps=[Inexact]).add(left, right)


def difference(left: Decimal, right: Decimal) -> Decimal:
    return total(left, -right)


_AVERAGE = Context(
    prec=AVERAGE_DIGITS,
    rounding=ROUND_HALF_EVEN,
    traps=[InvalidOperation, DivisionByZero, Overflow],
)
"""Built once (a Context costs more to build than the division): half-even and the
usual traps spelled out, so the rule does not depend on the thread's context."""


def average(numerator: Decimal, denominator: Decimal) -> Decimal:
    """numerator / denominator to AVERAGE_DIGITS significant digits, trailing zeros cut."""
    quotient = _AVERAGE.divide(numerator, denominator)
    return quotient.normalize(_AVERAGE) if quotient else Decimal(0)
