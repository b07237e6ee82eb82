"""OrderTerms: every combination rule of types, prices, triggers, time in force, flags."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from engine.domain import (
    OrderTerms,
    OrderType,
    TimeInForce,
    TriggerSource,
    ValidationError,
)

D = Decimal
T = OrderType

VALID: list[dict[str, Any]] = [
    {"order_type": T.MARKET, "price": None},
    {"order_type": T.LIMIT},
    {"order_type": T.LIMIT, "post_only": True},
    {
        "order_type": T.LIMIT,
        "post_only": True,
        "time_in_force": TimeInForce.GTD,
        "expire_time_ns": 2,
        "ts_init": 1,
    },
    {"order_type": T.LIMIT, "time_in_force": TimeInForce.IOC, "reduce_only": True},
    {"order_type": T.LIMIT, "time_in_force": TimeInForce.FOK},
    {"order_type": T.STOP_MARKET, "price": None, "trigger_price": D("59000")},
    {"order_type": T.STOP_LIMIT, "trigger_price": D("59000")},
    {"order_type": T.TAKE_PROFIT_MARKET, "price": None, "trigger_price": D("61000")},
    {
        "order_type": T.TAKE_PROFIT_LIMIT,
        "trigger_price": D("61000"),
        "trigger_source": TriggerSource.MARK,
    },
    {"order_type": T.TRAILING_STOP_MARKET, "price": None, "trailing_offset": D("50")},
    {
        "order_type": T.TRAILING_STOP_MARKET,
        "price": None,
        "trailing_offset_bps": D("25"),
        "trigger_price": D("59000"),
    },
    {"client_order_id": "A.b:c/d_e-9" + "x" * 25},  # 36 characters of every allowed kind
]


@pytest.mark.parametrize("overrides", VALID)
def test_valid_combinations_are_accepted(
    make_terms: Callable[..., OrderTerms], overrides: dict[str, Any]
) -> None:
    terms = make_terms(**overrides)
    assert terms.order_type is overrides.get("order_type", T.LIMIT)


def test_trigger_source_defaults_to_last_trade_for_trigger_types_only(
    make_terms: Callable[..., OrderTerms],
) -> None:
    stop = make_terms(order_type=T.STOP_MARKET, price=None, trigger_price=D("59000"))
    assert stop.trigger_source is TriggerSource.LAST_TRADE
    assert make_terms().trigger_source is None


INVALID: list[tuple[dict[str, Any], str, list[str]]] = [
    ({"client_order_id": ""}, "client_order_id", ["1..36"]),
    ({"client_order_id": "x" * 37}, "client_order_id", ["1..36"]),
    ({"client_order_id": "has space"}, "client_order_id", ["A-Z a-z 0-9 . : / _ -"]),
    ({"client_order_id": "ordre-é"}, "client_order_id", ["rule"]),
    ({"client_order_id": "a#b"}, "client_order_id", ["rule"]),
    ({"symbol": ""}, "symbol", ["identifier"]),
    ({"side": "BUY"}, "side", ["OrderSide"]),
    ({"order_type": "LIMIT"}, "order_type", ["OrderType"]),
    ({"time_in_force": "GTC"}, "time_in_force", ["TimeInForce"]),
    ({"quantity": D("0")}, "quantity", ["quantity 0", "> 0"]),
    ({"quantity": D("-1")}, "quantity", ["quantity -1"]),
    ({"quantity": 1.0}, "quantity", ["float"]),
    ({"quantity": D("Infinity")}, "quantity", ["finite"]),
    ({"ts_init": -1}, "ts_init", ["nanoseconds"]),
    ({"ts_init": 1.5}, "ts_init", ["int nanoseconds"]),
    ({"reduce_only": 1}, "reduce_only", ["bool"]),
    # limit price: exactly on the limit-priced types
    ({"price": None}, "price", ["missing", "required for LIMIT"]),
    ({"price": D("0")}, "price", ["price 0", "> 0"]),
    (
        {"order_type": T.STOP_LIMIT, "price": None, "trigger_price": D("1")},
        "price",
        ["required for STOP_LIMIT"],
    ),
    (
        {"order_type": T.TAKE_PROFIT_LIMIT, "price": None, "trigger_price": D("1")},
        "price",
        ["required for TAKE_PROFIT_LIMIT"],
    ),
    ({"order_type": T.MARKET}, "price", ["MARKET has no limit price"]),
    (
        {"order_type": T.STOP_MARKET, "trigger_price": D("1")},
        "price",
        ["STOP_MARKET has no limit price"],
    ),
    (
        {"order_type": T.TRAILING_STOP_MARKET, "trailing_offset": D("1")},
        "price",
        ["TRAILING_STOP_MARKET has no limit price"],
    ),
    # trigger price: its own field, required on stops and take-profits
    (
        {"order_type": T.STOP_MARKET, "price": None},
        "trigger_price",
        ["missing", "required for STOP_MARKET"],
    ),
    ({"order_type": T.STOP_LIMIT}, "trigger_price", ["required for STOP_LIMIT"]),
    ({"order_type": T.TAKE_PROFIT_MARKET, "price": None}, "trigger_price", ["TAKE_PROFIT_MARKET"]),
    ({"order_type": T.TAKE_PROFIT_LIMIT}, "trigger_price", ["TAKE_PROFIT_LIMIT"]),
    ({"order_type": T.STOP_LIMIT, "trigger_price": D("-1")}, "trigger_price", ["> 0"]),
    ({"trigger_price": D("59000")}, "trigger_price", ["LIMIT has no trigger"]),
    ({"trigger_source": TriggerSource.MARK}, "trigger_source", ["LIMIT has no trigger"]),
    (
        {"order_type": T.STOP_LIMIT, "trigger_price": D("1"), "trigger_source": "MARK"},
        "trigger_source",
        ["TriggerSource"],
    ),
    # trailing stops: exactly one offset, positive, only on trailing stops
    (
        {"order_type": T.TRAILING_STOP_MARKET, "price": None},
        "trailing offset",
        ["exactly one of trailing_offset, trailing_offset_bps"],
    ),
    (
        {
            "order_type": T.TRAILING_STOP_MARKET,
            "price": None,
            "trailing_offset": D("1"),
            "trailing_offset_bps": D("10"),
        },
        "trailing offset",
        ["exactly one"],
    ),
    (
        {"order_type": T.TRAILING_STOP_MARKET, "price": None, "trailing_offset": D("0")},
        "trailing_offset",
        ["> 0"],
    ),
    (
        {"order_type": T.TRAILING_STOP_MARKET, "price": None, "trailing_offset_bps": D("10000")},
        "trailing_offset_bps",
        ["< 100%"],
    ),
    ({"trailing_offset": D("1")}, "trailing_offset", ["only for TRAILING_STOP_MARKET"]),
    ({"trailing_offset_bps": D("1")}, "trailing_offset_bps", ["only for TRAILING_STOP_MARKET"]),
    # time in force
    ({"time_in_force": TimeInForce.GTD}, "expire_time_ns", ["required for GTD"]),
    (
        {"time_in_force": TimeInForce.GTD, "expire_time_ns": 5, "ts_init": 5},
        "expire_time_ns",
        ["not after ts_init 5"],
    ),
    (
        {"time_in_force": TimeInForce.GTC, "expire_time_ns": 5},
        "expire_time_ns",
        ["with GTC", "GTD only"],
    ),
    ({"time_in_force": TimeInForce.IOC, "expire_time_ns": 5}, "expire_time_ns", ["IOC"]),
    (
        {
            "order_type": T.MARKET,
            "price": None,
            "time_in_force": TimeInForce.GTD,
            "expire_time_ns": 5,
        },
        "time_in_force",
        ["no GTD"],
    ),
    # post-only: LIMIT with GTC or GTD
    ({"post_only": True, "time_in_force": TimeInForce.IOC}, "post_only", ["LIMIT IOC"]),
    ({"post_only": True, "time_in_force": TimeInForce.FOK}, "post_only", ["FOK"]),
    ({"post_only": True, "order_type": T.MARKET, "price": None}, "post_only", ["MARKET"]),
    (
        {"post_only": True, "order_type": T.STOP_LIMIT, "trigger_price": D("1")},
        "post_only",
        ["STOP_LIMIT"],
    ),
]


@pytest.mark.parametrize(("overrides", "field", "words"), INVALID)
def test_every_rule_names_field_value_and_rule(
    make_terms: Callable[..., OrderTerms],
    overrides: dict[str, Any],
    field: str,
    words: list[str],
) -> None:
    with pytest.raises(ValidationError) as err:
        make_terms(**overrides)
    assert err.value.field == field
    assert "rule" in str(err.value)
    for word in words:
        assert word in str(err.value)


def test_terms_are_immutable(make_terms: Callable[..., OrderTerms]) -> None:
    terms = make_terms()
    with pytest.raises(dataclasses.FrozenInstanceError):
        terms.price = D("1")  # type: ignore[misc]
    assert terms.is_market is False
    assert make_terms(order_type=T.STOP_MARKET, price=None, trigger_price=D("1")).is_market
