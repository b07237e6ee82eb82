"""The order manager driving CcxtVenue against the fake: the venue's reports are what the
manager's state machine expects (no anomalies), for amends, cancel-replace and fills."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from decimal import Decimal

import pytest
from ccxt_venue_harness import SPOT, USDM, FixedClock, fixed_touch, kinds, venue_on, wait_events

from adapters.store.memory import MemoryStore
from adapters.venues.ccxt_venue import CcxtVenue
from engine.domain.enums import OrderSide, OrderStatus, OrderType
from engine.domain.events import OrderFilled
from engine.services.order_manager import OrderManager
from fakex import FakeBinance

D = Decimal


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as f:
        f.set_balance("USDT", "10000")
        f.set_balance("USDT", "10000", market="futures")
        yield f


def pump(
    om: OrderManager, venue: CcxtVenue, until: Callable[[], bool], timeout_s: float = 5
) -> None:
    """Hands the venue's reports to the manager (as the kernel does) until `until()`."""
    end = time.monotonic() + timeout_s
    while True:
        for event in venue.drain():
            om.on_venue_event(event)
        if until():
            return
        if time.monotonic() > end:
            raise AssertionError(f"never reached: {[o.status for o in om.orders]}")
        time.sleep(0.01)


def manager(venue: CcxtVenue) -> OrderManager:
    return OrderManager(
        venue=venue, store=MemoryStore(), clock=FixedClock(), instruments=venue.instruments
    )


def test_usdm_amend_partial_fills_and_cancel_through_the_manager(fake: FakeBinance) -> None:
    with venue_on(fake, "futures") as (venue, _, _):
        om = manager(venue)
        order = om.submit(
            symbol=USDM,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=D("0.002"),
            price=D("59000"),
        )
        pump(om, venue, lambda: order.status is OrderStatus.ACCEPTED)
        (venue_id,) = fake.orders
        fake.fill(venue_id, "0.001")
        pump(om, venue, lambda: order.status is OrderStatus.PARTIALLY_FILLED)
        om.modify(order.client_order_id, quantity=D("0.003"), price=D("59100"))
        pump(
            om,
            venue,
            lambda: order.status is OrderStatus.PARTIALLY_FILLED and order.price == D("59100"),
        )
        assert (order.quantity, order.filled_qty) == (D("0.003"), D("0.001"))
        fake.fill(venue_id, "0.001")
        pump(om, venue, lambda: order.filled_qty == D("0.002"))
        om.cancel(order.client_order_id)
        pump(om, venue, lambda: order.status is OrderStatus.CANCELED)
        assert om.anomalies == []


def test_spot_cancel_replace_and_market_fill_through_the_manager(fake: FakeBinance) -> None:
    fake.set_book("BTCUSDT", [("59990", "1")], [("60000", "0.01"), ("60001", "0.02")])
    with venue_on(fake, "spot", touch=fixed_touch("59990", "60000")) as (venue, _, _):
        om = manager(venue)
        first = om.submit(
            symbol=SPOT,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=D("0.01"),
            price=D("50000"),
        )
        pump(om, venue, lambda: first.status is OrderStatus.ACCEPTED)
        om.modify(first.client_order_id, price=D("50100"))  # spot: cancel, then a new order
        pump(
            om,
            venue,
            lambda: len(om.orders()) == 2 and om.orders()[1].status is OrderStatus.ACCEPTED,
        )
        second = om.orders()[1]
        assert (first.status, second.price, second.quantity) == (
            OrderStatus.CANCELED,
            D("50100"),
            D("0.01"),
        )
        assert [o.price for o in fake.spot.orders.values()] == [D("50000"), D("50100")]
        market = om.submit(
            symbol=SPOT, side=OrderSide.BUY, order_type=OrderType.MARKET, quantity=D("0.02")
        )
        pump(om, venue, lambda: market.status is OrderStatus.FILLED)
        # 0.01 @ 60000 + 0.01 @ 60001
        assert market.filled_qty == D("0.02")
        assert om.anomalies == []


def test_usdm_amend_of_an_order_that_filled_meanwhile_is_answered_by_its_fill(
    fake: FakeBinance,
) -> None:
    """Found by the soak: the manager amends an order whose fill the venue has already
    reported but the manager has not drained yet. The fill answers the amend: no
    OrderUpdateRejected after it (the manager would hold it as an anomaly)."""
    with venue_on(fake, "futures") as (venue, _, _):
        om = manager(venue)
        order = om.submit(
            symbol=USDM,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=D("0.002"),
            price=D("59000"),
        )
        pump(om, venue, lambda: order.status is OrderStatus.ACCEPTED)
        (venue_id,) = fake.orders
        fake.fill(venue_id, "0.002")
        held = wait_events(venue, lambda e: any(isinstance(x, OrderFilled) for x in e))
        om.modify(order.client_order_id, price=D("59100"))  # the manager thinks it open
        events = wait_events(venue, lambda e: True, held)
        assert kinds(events) == ["OrderFilled"]  # and nothing for the amend
        for event in events:
            om.on_venue_event(event)
        assert (order.status, order.filled_qty) == (OrderStatus.FILLED, D("0.002"))
        assert om.anomalies == []
        assert [r for r in fake.requests if r["method"] == "PUT"] == []


def test_usdm_amend_refused_as_unknown_is_looked_up_and_the_fill_reported(
    fake: FakeBinance,
) -> None:
    """The fill's report is late (held back on the stream): the exchange answers the
    amend "unknown order" (-2013); the venue looks the order up, finds it filled and
    reports the fill instead of refusing the amend."""
    with venue_on(fake, "futures") as (venue, _, _):
        om = manager(venue)
        order = om.submit(
            symbol=USDM,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=D("0.002"),
            price=D("59000"),
        )
        pump(om, venue, lambda: order.status is OrderStatus.ACCEPTED)
        (venue_id,) = fake.orders
        fake.faults.user_ws(reorder=1)  # the fill's report is held back
        fake.fill(venue_id, "0.002")
        om.modify(order.client_order_id, price=D("59100"))
        pump(om, venue, lambda: order.is_closed)
        events = wait_events(venue, lambda e: True)
        assert events == []
        assert (order.status, order.filled_qty) == (OrderStatus.FILLED, D("0.002"))
        assert [type(e).__name__ for e in order.events][-2:] == [
            "OrderPendingUpdate",
            "OrderFilled",
        ]
        assert om.anomalies == []
        paths = ("/fapi/v1/order", "/fapi/v1/userTrades")
        calls = [(r["method"], r["path"]) for r in fake.requests if r["path"] in paths]
        # the amend, the lookup by client id, then the order's trades
        assert calls[-3:] == [
            ("PUT", "/fapi/v1/order"),
            ("GET", "/fapi/v1/order"),
            ("GET", "/fapi/v1/userTrades"),
        ]
