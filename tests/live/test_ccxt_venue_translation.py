"""ccxt <-> domain translation of the ccxt venue (no exchange needed)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ccxt_venue_harness import terms

from adapters.venues.ccxt_orders import (
    Malformed,
    client_id_of,
    fill_from_trade,
    number,
    on_grid,
    order_request,
    venue_state,
)
from engine.domain.enums import InstrumentKind, Liquidity, OrderSide, OrderType, TimeInForce
from engine.domain.instrument import Instrument

D = Decimal


def instrument(kind: InstrumentKind = InstrumentKind.SPOT) -> Instrument:
    spot = kind is InstrumentKind.SPOT
    return Instrument(
        symbol="BTC/USDT" if spot else "BTC/USDT:USDT",
        base="BTC",
        quote="USDT",
        kind=kind,
        tick_size=D("0.01") if spot else D("0.1"),
        lot_size=D("0.00001") if spot else D("0.001"),
        min_quantity=D("0.00001") if spot else D("0.001"),
        max_quantity=D("9000"),
        min_notional=D("5") if spot else D("100"),
        maker_fee_rate=D("0.001"),
        taker_fee_rate=D("0.001"),
        price_precision=2 if spot else 1,
        quantity_precision=5 if spot else 3,
    )


def test_numbers_are_read_back_exactly() -> None:
    assert number(0.1, "x") == D("0.1")
    assert number(60001.0, "x") == D("60001")
    assert number("0.00012345", "x") == D("0.00012345")
    assert number(None, "x") is None
    for bad in (True, "abc", float("nan"), [1]):
        with pytest.raises(Malformed):
            number(bad, "x")


def test_on_grid_removes_float_noise_and_refuses_the_rest() -> None:
    assert on_grid(D(repr(0.1 + 0.2)), D("0.1"), "q") == D("0.3")  # 0.30000000000000004
    assert on_grid(D("0.004"), D("0.00001"), "q") == D("0.00400")
    with pytest.raises(Malformed, match=r"q 0\.000015 is not a multiple of 0\.00001"):
        on_grid(D("0.000015"), D("0.00001"), "q")


def test_order_requests() -> None:
    spot, perp = instrument(), instrument(InstrumentKind.LINEAR_PERPETUAL)
    # a market order never carries a price (ccxt's binance would make it a quote amount)
    assert order_request(terms("qx-1", "buy", "0.02"), spot) == (
        "market",
        "buy",
        "0.02",
        None,
        {"clientOrderId": "qx-1"},
    )
    ioc = terms("qx-2", "sell", "0.5", "60000.10", tif=TimeInForce.IOC)
    assert order_request(ioc, spot) == (
        "limit",
        "sell",
        "0.5",
        "60000.10",
        {"clientOrderId": "qx-2", "timeInForce": "IOC"},
    )
    maker = terms("qx-3", "buy", "0.001", "59000", post_only=True)
    assert order_request(maker, spot)[4] == {"clientOrderId": "qx-3", "postOnly": True}
    # reduce-only: sent for derivatives, not for spot (it has none)
    reduce = terms("qx-4", "sell", "0.01", symbol="BTC/USDT:USDT", reduce_only=True)
    assert order_request(reduce, perp)[4] == {"clientOrderId": "qx-4", "reduceOnly": True}
    assert order_request(terms("qx-5", "sell", "0.01", reduce_only=True), spot)[4] == {
        "clientOrderId": "qx-5"
    }


def test_fill_from_a_trade() -> None:
    trade = {
        "id": "17",
        "price": 60000.5,
        "amount": 0.005,
        "fee": {"cost": 0.15000125, "currency": "USDT"},
        "takerOrMaker": None,
    }
    fill = fill_from_trade(
        trade,
        client_order_id="qx-1",
        instrument=instrument(InstrumentKind.LINEAR_PERPETUAL),
        side=OrderSide.BUY,
        ts_event=5,
        default_liquidity=Liquidity.TAKER,
    )
    assert (fill.trade_id, fill.price, fill.quantity, fill.fee, fill.liquidity) == (
        "17",
        D("60000.5"),
        D("0.005"),
        D("0.15000125"),
        Liquidity.TAKER,
    )
    with pytest.raises(Malformed, match="trade id is missing"):
        fill_from_trade(
            {**trade, "id": None},
            client_order_id="qx-1",
            instrument=instrument(),
            side=OrderSide.BUY,
            ts_event=5,
            default_liquidity=Liquidity.TAKER,
        )


def test_venue_state_and_client_ids() -> None:
    order = {
        "id": "42",
        "clientOrderId": "web_AbC",
        "status": "canceling",
        "type": "limit_maker",
        "side": "sell",
        "amount": 0.01,
        "price": 61000.0,
        "filled": 0.004,
        "reduceOnly": None,
        "triggerPrice": None,
    }
    state = venue_state(order, instrument(), 9)
    assert (state.client_order_id, state.status, state.order_type, state.side) == (
        "web_AbC",
        "open",
        OrderType.LIMIT,
        OrderSide.SELL,
    )
    assert (state.quantity, state.price, state.filled) == (D("0.01"), D("61000"), D("0.004"))
    # an id the domain cannot carry, or none: named after the venue's id
    assert client_id_of({**order, "clientOrderId": "has space"}) == "ext-42"
    assert client_id_of({**order, "clientOrderId": None}) == "ext-42"
    with pytest.raises(Malformed, match="status 'weird' is not known"):
        venue_state({**order, "status": "weird"}, instrument(), 9)
