"""Exact Decimal sums and products: the fast wide context and the sized fallback agree
with integer arithmetic, and nothing is ever rounded."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from engine.domain import _exact


def _as_fraction(value: Decimal) -> tuple[int, int]:
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    n = int("".join(map(str, digits)) or "0") * (-1 if sign else 1)
    return (n * 10**exponent, 1) if exponent >= 0 else (n, 10**-exponent)


amounts = st.builds(
    lambda n, e: Decimal(f"{n}E{e}"),  # from text: scaleb would round at 28 digits
    st.integers(-(10**40), 10**40),
    st.integers(-150, 150),
)


@given(amounts, amounts)
def test_total_and_product_are_exact_at_any_width(a: Decimal, b: Decimal) -> None:
    (an, ad), (bn, bd) = _as_fraction(a), _as_fraction(b)
    s_n, s_d = _as_fraction(_exact.total(a, b))
    assert s_n * ad * bd == (an * bd + bn * ad) * s_d
    p_n, p_d = _as_fraction(_exact.product(a, b))
    assert p_n * ad * bd == an * bn * p_d


def test_very_wide_sums_take_the_sized_path_and_stay_exact() -> None:
    big, tiny = Decimal("1e150"), Decimal("1e-150")
    assert _exact.total(big, tiny) == Decimal("1" + "0" * 299 + "1E-150")
    assert _exact.difference(big, tiny) == Decimal("9" * 300 + "E-150")
    assert _exact.product(Decimal("1" * 80), Decimal("1" * 80)) == Decimal(int("1" * 80) ** 2)
