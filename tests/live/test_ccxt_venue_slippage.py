"""The slippage cap on live market orders: CcxtVenue sends a MARKET order as a limit IOC
at the cap from the caller's touch (buy: ask * (1 + bps) rounded down to the tick; sell:
bid * (1 - bps) rounded up), so it fills only within the cap and the rest comes back
canceled naming the cap; with no touch nothing is sent."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from ccxt_venue_harness import (
    SPOT,
    USDM,
    FixedClock,
    fixed_touch,
    kinds,
    posts,
    terms,
    venue_on,
    wait_events,
)

from adapters.store.memory import MemoryStore
from adapters.venues.ccxt_orders import capped_price
from engine.domain.enums import OrderSide, OrderStatus, OrderType
from engine.domain.events import OrderCanceled, OrderFilled, OrderRejected
from engine.services.order_manager import OrderManager
from fakex import FakeBinance

D = Decimal


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as f:
        f.set_balance("USDT", "100000")
        f.set_balance("USDT", "100000", market="futures")
        yield f


def test_capped_price_rounds_toward_the_touch() -> None:
    # 60000.01 * 1.01 = 60600.0101 -> down to 60600.01; * 0.99 = 59400.0099 -> up to 59400.01
    assert capped_price(OrderSide.BUY, D("60000.01"), 100, D("0.01")) == D("60600.01")
    assert capped_price(OrderSide.SELL, D("60000.01"), 100, D("0.01")) == D("59400.01")
    # a cap under one tick: the touch itself
    assert capped_price(OrderSide.BUY, D("100"), 1, D("0.1")) == D("100.0")
    assert capped_price(OrderSide.SELL, D("100"), 1, D("0.1")) == D("100.0")
    # the whole bid away: never a price of 0, one tick
    assert capped_price(OrderSide.SELL, D("5"), 10_000, D("0.1")) == D("0.1")


def test_spot_market_buy_through_a_thin_book_stops_at_the_cap(fake: FakeBinance) -> None:
    # 50 bps over 60000 = 60300: the 60100 and 60300 levels are within, 60301 is not
    fake.set_book(
        "BTCUSDT",
        [("59990", "1")],
        [("60000", "0.01"), ("60100", "0.01"), ("60300", "0.01"), ("60301", "1")],
    )
    with venue_on(fake, "spot", touch=fixed_touch("59990", "60000")) as (venue, _, _):
        om = OrderManager(
            venue=venue, store=MemoryStore(), clock=FixedClock(), instruments=venue.instruments
        )
        order = om.submit(
            symbol=SPOT,
            side=OrderSide.BUY,
            order_type=OrderType.MARKET,
            quantity=D("0.05"),
            max_slippage_bps=50,
        )
        events = wait_events(venue, lambda e: any(isinstance(x, OrderCanceled) for x in e))
        for event in events:
            om.on_venue_event(event)
        assert kinds(events) == [
            "OrderAccepted",
            "OrderFilled",
            "OrderFilled",
            "OrderFilled",
            "OrderCanceled",
        ]
        prices = [e.fill.price for e in events if isinstance(e, OrderFilled)]
        assert prices == [D("60000"), D("60100"), D("60300")]
        closing = events[-1]
        assert isinstance(closing, OrderCanceled)
        assert closing.reason == (
            "SLIPPAGE_CAP: the rest was not fillable within 50 bps of the best ask 60000 "
            "(limit 60300)"
        )
        # the manager takes a canceled market order: 0.03 of 0.05 filled, the rest canceled
        assert (order.status, order.filled_qty) == (OrderStatus.CANCELED, D("0.03"))
        assert om.anomalies == []
        (post,) = posts(fake)
        assert (post["params"]["type"], post["params"]["timeInForce"]) == ("LIMIT", "IOC")
        assert D(post["params"]["price"]) == D("60300")


def test_usdm_market_sell_within_the_cap_fills_fully(fake: FakeBinance) -> None:
    fake.set_book(
        "BTCUSDT", [("59990.0", "0.004"), ("59900.0", "1")], [("60000.0", "1")], market="futures"
    )
    # default cap 100 bps: 59990 * 0.99 = 59390.1
    with venue_on(fake, "futures", touch=fixed_touch("59990.0", "60000.0")) as (venue, _, _):
        venue.submit(terms("qx-1", "sell", "0.01", symbol=USDM))
        events = wait_events(venue, lambda e: len(e) >= 3)
        assert kinds(events) == ["OrderAccepted", "OrderFilled", "OrderFilled"]
        fills = [(e.fill.price, e.fill.quantity) for e in events if isinstance(e, OrderFilled)]
        assert fills == [(D("59990.0"), D("0.004")), (D("59900.0"), D("0.006"))]
        assert venue.position(USDM) == D("-0.01")
        (post,) = posts(fake)
        assert (post["params"]["type"], post["params"]["timeInForce"]) == ("LIMIT", "IOC")
        assert D(post["params"]["price"]) == D("59390.1")


@pytest.mark.parametrize("touch", [None, fixed_touch("59990", None)])
def test_no_touch_rejects_without_a_request(fake: FakeBinance, touch: object) -> None:
    with venue_on(fake, "spot", touch=touch) as (venue, _, _):
        before = len(fake.requests)
        venue.submit(terms("qx-1", "buy", "0.01"))
        events = wait_events(venue, lambda e: len(e) >= 1)
        (event,) = events
        assert isinstance(event, OrderRejected)
        assert event.reason.startswith(
            f"NO_REFERENCE_PRICE: {'no best ask' if touch else 'no touch source'}"
        )
        assert event.reason.endswith("nothing was sent")
        assert len(fake.requests) == before
        assert venue.stats["rejects"] == 1
