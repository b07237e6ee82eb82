"""Fill, Position, Balance and the events: validated, immutable values."""

from __future__ import annotations

import dataclasses
from decimal import Decimal
from typing import Any

import pytest

from engine.domain import (
    Balance,
    Fill,
    Liquidity,
    OrderCanceled,
    OrderDenied,
    OrderFilled,
    OrderRejected,
    OrderSide,
    OrderUpdated,
    Position,
    ValidationError,
)
from engine.domain import events as events_module

D = Decimal

FILL: dict[str, Any] = {
    "trade_id": "T-1",
    "client_order_id": "o-1",
    "symbol": "BTCUSDT",
    "side": OrderSide.BUY,
    "price": D("60000.1"),
    "quantity": D("0.002"),
    "fee": D("0.0000012"),
    "fee_currency": "BTC",
    "liquidity": Liquidity.TAKER,
    "ts_event": 1_723_075_200_000_000_000,
}


def test_fill_values() -> None:
    fill = Fill(**FILL)
    assert fill.notional == D("120.0002")
    assert fill.signed_quantity == D("0.002")
    assert Fill(**{**FILL, "side": OrderSide.SELL}).signed_quantity == D("-0.002")
    assert Fill(**{**FILL, "fee": D("-0.01")}).fee == D("-0.01")  # a maker rebate
    with pytest.raises(dataclasses.FrozenInstanceError):
        fill.price = D("1")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("trade_id", "", ["trade_id"]),
        ("client_order_id", "bad id", ["client_order_id"]),
        ("symbol", "", ["symbol"]),
        ("side", "BUY", ["side", "OrderSide"]),
        ("price", D("0"), ["price 0", "> 0"]),
        ("price", 60000.1, ["float"]),
        ("quantity", D("-0.002"), ["quantity -0.002"]),
        ("fee", D("NaN"), ["fee", "finite"]),
        ("fee_currency", "", ["fee_currency"]),
        ("liquidity", "MAKER", ["Liquidity"]),
        ("ts_event", -1, ["ts_event -1"]),
        ("ts_event", True, ["ts_event", "int nanoseconds"]),
    ],
)
def test_fill_rules(field: str, value: object, words: list[str]) -> None:
    with pytest.raises(ValidationError) as err:
        Fill(**{**FILL, field: value})
    assert err.value.field == field
    for word in words:
        assert word in str(err.value)


POSITION: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "currency": "USDT",
    "quantity": D("-0.5"),
    "avg_entry_price": D("60000"),
    "realized_pnl": D("-12.5"),
    "fees": D("3.2"),
    "ts_event": 1,
}


def test_position_values() -> None:
    short = Position(**POSITION)
    assert (short.is_short, short.is_long, short.is_flat) == (True, False, False)
    flat = Position(**{**POSITION, "quantity": D("0"), "avg_entry_price": D("0")})
    assert flat.is_flat
    with pytest.raises(dataclasses.FrozenInstanceError):
        short.quantity = D("0")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "field", "words"),
    [
        ({"symbol": ""}, "symbol", []),
        ({"currency": ""}, "currency", []),
        ({"quantity": 0.5}, "quantity", ["float"]),
        ({"avg_entry_price": D("-1")}, "avg_entry_price", [">= 0"]),
        ({"avg_entry_price": D("0")}, "avg_entry_price", ["open position"]),
        ({"quantity": D("0")}, "avg_entry_price", ["0 when flat"]),
        ({"realized_pnl": D("Infinity")}, "realized_pnl", ["finite"]),
        ({"fees": None}, "fees", ["Decimal"]),
        ({"ts_event": -5}, "ts_event", []),
    ],
)
def test_position_rules(changes: dict[str, Any], field: str, words: list[str]) -> None:
    with pytest.raises(ValidationError) as err:
        Position(**{**POSITION, **changes})
    assert err.value.field == field
    for word in words:
        assert word in str(err.value)


def test_balance_values_and_exact_total() -> None:
    balance = Balance(asset="BTC", free=D("0.123456789012345678901234567"), locked=D("1000000"))
    assert balance.total == D("1000000.123456789012345678901234567")  # 34 digits, exact
    with pytest.raises(dataclasses.FrozenInstanceError):
        balance.free = D("0")  # type: ignore[misc]


@pytest.mark.parametrize(
    ("changes", "field"),
    [({"asset": ""}, "asset"), ({"free": D("-1")}, "free"), ({"locked": D("-0.1")}, "locked")],
)
def test_balance_rules(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(ValidationError) as err:
        Balance(**{"asset": "USDT", "free": D("1"), "locked": D("0"), **changes})
    assert err.value.field == field


def test_every_event_is_frozen_and_names_order_and_time() -> None:
    classes = [getattr(events_module, name) for name in events_module.__all__]
    for cls in classes:
        assert dataclasses.is_dataclass(cls)
        assert getattr(cls, "__dataclass_params__").frozen, cls  # noqa: B009
        names = {f.name for f in dataclasses.fields(cls)}
        assert {"client_order_id", "ts_event"} <= names, cls
    event = OrderCanceled(client_order_id="o-1", ts_event=3, reason="slippage cap 50 bps")
    with pytest.raises(dataclasses.FrozenInstanceError):
        event.ts_event = 4  # type: ignore[misc]


@pytest.mark.parametrize(
    ("build", "field"),
    [
        (lambda: OrderCanceled(client_order_id="", ts_event=1), "client_order_id"),
        (lambda: OrderCanceled(client_order_id="o-1", ts_event=-1), "ts_event"),
        (lambda: OrderCanceled(client_order_id="o-1", ts_event=1.0), "ts_event"),  # type: ignore[arg-type]
        (lambda: OrderDenied(client_order_id="o-1", ts_event=1, reason=""), "reason"),
        (lambda: OrderRejected(client_order_id="o-1", ts_event=1, reason="  "), "reason"),
        (lambda: OrderUpdated(client_order_id="o-1", ts_event=1), "update"),
        (lambda: OrderUpdated(client_order_id="o-1", ts_event=1, price=D("0")), "price"),
        (lambda: OrderUpdated(client_order_id="o-1", ts_event=1, quantity=D("-1")), "quantity"),
        (
            lambda: OrderFilled(client_order_id="o-2", ts_event=1, fill=Fill(**FILL)),
            "fill.client_order_id",
        ),
        (lambda: OrderFilled(client_order_id="o-1", ts_event=1, fill=None), "fill"),  # type: ignore[arg-type]
    ],
)
def test_event_rules(build: Any, field: str) -> None:
    with pytest.raises(ValidationError) as err:
        build()
    assert err.value.field == field
