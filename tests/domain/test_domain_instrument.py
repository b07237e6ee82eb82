"""Instrument: validation, exact grid conversion through the core, explicit rounding."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.domain import (
    DomainError,
    Instrument,
    OrderSide,
    PrecisionError,
    Rounding,
    ValidationError,
)

D = Decimal


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("symbol", "", ["symbol", "identifier"]),
        ("symbol", "BTC USDT", ["symbol", "whitespace"]),
        ("base", "", ["base"]),
        ("kind", "SPOT", ["kind", "InstrumentKind"]),
        ("tick_size", D("0"), ["tick_size 0", "> 0"]),
        ("tick_size", D("-0.1"), ["tick_size -0.1", "> 0"]),
        ("tick_size", 0.1, ["tick_size 0.1", "float", "Decimal"]),
        ("lot_size", D("0"), ["lot_size 0", "> 0"]),
        ("lot_size", D("NaN"), ["lot_size", "finite"]),
        ("min_quantity", D("0"), ["min_quantity 0", "> 0"]),
        ("min_quantity", D("2000"), ["min_quantity 2000", "above max_quantity 1000"]),
        ("min_quantity", D("0.0015"), ["min_quantity 0.0015", "multiple of lot_size 0.001"]),
        ("max_quantity", D("1000.0005"), ["max_quantity 1000.0005", "lot_size"]),
        ("min_notional", D("-1"), ["min_notional -1", ">= 0"]),
        ("maker_fee_rate", D("-0.002"), ["maker_fee_rate -0.002", "-0.001"]),
        ("maker_fee_rate", D("0.02"), ["maker_fee_rate 0.02", "not percent"]),
        ("taker_fee_rate", D("-0.0001"), ["taker_fee_rate -0.0001", "[0, 0.01]"]),
        ("taker_fee_rate", D("0.05"), ["taker_fee_rate 0.05", "[0, 0.01]"]),
        ("price_precision", 0, ["price_precision 0", "tick_size 0.1", ">= 1 decimals"]),
        ("quantity_precision", 2, ["quantity_precision 2", "lot_size 0.001", ">= 3"]),
        ("price_precision", -1, ["price_precision -1", "[0, 18]"]),
        ("price_precision", 19, ["price_precision 19", "[0, 18]"]),
        ("price_precision", True, ["price_precision", "int"]),
    ],
)
def test_every_bad_field_is_refused_by_name(
    instrument_fields: dict[str, Any], field: str, value: object, words: list[str]
) -> None:
    instrument_fields[field] = value
    with pytest.raises(ValidationError) as err:
        Instrument(**instrument_fields)
    assert isinstance(err.value, DomainError)
    assert isinstance(err.value, ValueError)
    assert err.value.field == field
    for word in words:
        assert word in str(err.value)


def test_maker_rebate_and_zero_fees_are_allowed(instrument_fields: dict[str, Any]) -> None:
    instrument_fields.update(maker_fee_rate=D("-0.0001"), taker_fee_rate=D("0"))
    assert Instrument(**instrument_fields).maker_fee_rate == D("-0.0001")


def test_instrument_is_immutable_and_a_value(btcusdt: Instrument) -> None:
    with pytest.raises(dataclasses.FrozenInstanceError):
        btcusdt.tick_size = D("1")  # type: ignore[misc]
    assert btcusdt == dataclasses.replace(btcusdt)
    assert hash(btcusdt) == hash(dataclasses.replace(btcusdt))
    assert dataclasses.replace(btcusdt, tick_size=D("0.5")).price_to_ticks(D("2")) == 4


def test_exact_conversion_both_ways(btcusdt: Instrument) -> None:
    assert btcusdt.price_to_ticks(D("61800.2")) == 618_002
    assert btcusdt.price_to_ticks(D("6.18002E+4")) == 618_002  # exponent form is fine
    assert btcusdt.qty_to_lots(D("1.5")) == 1_500
    assert btcusdt.ticks_to_price(618_002) == D("61800.2")
    assert str(btcusdt.ticks_to_price(618_002)) == "61800.20"  # written with precision
    assert str(btcusdt.lots_to_qty(5)) == "0.005"


@pytest.mark.parametrize(
    ("method", "value", "words"),
    [
        ("price_to_ticks", D("61800.25"), ["price 61800.25", "step 0.1", "BTCUSDT"]),
        ("price_to_ticks", D("-1"), ["price -1", "negative"]),
        ("qty_to_lots", D("0.0005"), ["quantity 0.0005", "step 0.001", "BTCUSDT"]),
        ("qty_to_lots", D("1E+30"), ["quantity", "overflows"]),
    ],
)
def test_core_errors_surface_as_domain_errors(
    btcusdt: Instrument, method: str, value: Decimal, words: list[str]
) -> None:
    with pytest.raises(PrecisionError) as err:
        getattr(btcusdt, method)(value)
    for word in words:
        assert word in str(err.value)


def test_floats_never_reach_the_grid(btcusdt: Instrument) -> None:
    with pytest.raises(ValidationError, match="float"):
        btcusdt.price_to_ticks(61800.2)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("price", "mode", "expected"),
    [
        (D("61800.25"), Rounding.DOWN, "61800.20"),
        (D("61800.25"), Rounding.UP, "61800.30"),
        (D("61800.25"), Rounding.HALF_EVEN, "61800.20"),
        (D("61800.35"), Rounding.HALF_EVEN, "61800.40"),
        (D("61800.26"), Rounding.HALF_EVEN, "61800.30"),
        (D("61800.2"), Rounding.UP, "61800.20"),  # on the grid: unchanged
    ],
)
def test_round_price(btcusdt: Instrument, price: Decimal, mode: Rounding, expected: str) -> None:
    assert str(btcusdt.round_price(price, mode)) == expected


def test_passive_price_never_makes_an_order_more_aggressive(btcusdt: Instrument) -> None:
    assert btcusdt.passive_price(D("61800.29"), OrderSide.BUY) == D("61800.2")
    assert btcusdt.passive_price(D("61800.21"), OrderSide.SELL) == D("61800.3")


def test_round_qty_defaults_down(btcusdt: Instrument) -> None:
    assert btcusdt.round_qty(D("0.0019")) == D("0.001")
    assert btcusdt.round_qty(D("0.0011"), Rounding.UP) == D("0.002")
    assert btcusdt.round_qty(D("0.0004")) == D("0")  # then check_quantity refuses it


@given(
    units=st.integers(min_value=0, max_value=10**12),
    extra=st.integers(min_value=0, max_value=999),
    mode=st.sampled_from(list(Rounding)),
)
def test_rounding_lands_on_the_grid_within_one_step(
    btcusdt: Instrument, units: int, extra: int, mode: Rounding
) -> None:
    instrument = btcusdt
    qty = D(units) * D("0.001") + D(extra) * D("0.000001")
    rounded = instrument.round_qty(qty, mode)
    assert instrument.lots_to_qty(instrument.qty_to_lots(rounded)) == rounded
    assert abs(rounded - qty) < D("0.001")
    if mode is Rounding.DOWN:
        assert rounded <= qty
    if mode is Rounding.UP:
        assert rounded >= qty


@pytest.mark.parametrize(
    ("quantity", "message"),
    [
        (D("0.0004"), "quantity 0.0004 below min_quantity 0.001 for BTCUSDT"),
        (D("1001"), "quantity 1001 above max_quantity 1000 for BTCUSDT"),
        (D("0"), "quantity 0 is not positive (rule: > 0) for BTCUSDT"),
    ],
)
def test_check_quantity_messages(btcusdt: Instrument, quantity: Decimal, message: str) -> None:
    with pytest.raises(ValidationError) as err:
        btcusdt.check_quantity(quantity)
    assert str(err.value) == message


def test_check_quantity_off_the_lot_grid(btcusdt: Instrument) -> None:
    with pytest.raises(PrecisionError, match=r"quantity 0\.0015"):
        btcusdt.check_quantity(D("0.0015"))
    assert btcusdt.check_quantity(D("0.002")) == D("0.002")


def test_check_price_and_notional(btcusdt: Instrument) -> None:
    assert btcusdt.check_price(D("60000.1")) == D("60000.1")
    with pytest.raises(ValidationError, match="price 0 is not positive"):
        btcusdt.check_price(D("0"))
    with pytest.raises(PrecisionError, match=r"price 60000\.15"):
        btcusdt.check_price(D("60000.15"))
    assert btcusdt.check_notional(D("60000"), D("0.002")) == D("120")
    with pytest.raises(ValidationError) as err:
        btcusdt.check_notional(D("60000"), D("0.001"))
    assert str(err.value) == "notional 60.000 below min_notional 100 for BTCUSDT"
