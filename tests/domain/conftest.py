"""Builders for the domain tests: a Binance-like BTCUSDT perpetual and order factories."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import pytest

from engine.domain import Instrument, InstrumentKind, OrderSide, OrderTerms, OrderType

D = Decimal

INSTRUMENT_FIELDS: dict[str, Any] = {
    "symbol": "BTCUSDT",
    "base": "BTC",
    "quote": "USDT",
    "kind": InstrumentKind.LINEAR_PERPETUAL,
    "tick_size": D("0.1"),
    "lot_size": D("0.001"),
    "min_quantity": D("0.001"),
    "max_quantity": D("1000"),
    "min_notional": D("100"),
    "maker_fee_rate": D("0.0002"),
    "taker_fee_rate": D("0.0005"),
    "price_precision": 2,
    "quantity_precision": 3,
}


@pytest.fixture
def instrument_fields() -> dict[str, Any]:
    return dict(INSTRUMENT_FIELDS)


@pytest.fixture(scope="session")
def btcusdt() -> Instrument:
    """Immutable, so one for the session (Hypothesis tests may use it too)."""
    return Instrument(**INSTRUMENT_FIELDS)


def limit_terms(**overrides: Any) -> OrderTerms:
    fields: dict[str, Any] = {
        "client_order_id": "o-1",
        "symbol": "BTCUSDT",
        "side": OrderSide.BUY,
        "order_type": OrderType.LIMIT,
        "quantity": D("1.000"),
        "price": D("60000.0"),
    }
    fields.update(overrides)
    return OrderTerms(**fields)


@pytest.fixture
def make_terms() -> Callable[..., OrderTerms]:
    return limit_terms
