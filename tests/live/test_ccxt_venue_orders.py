"""CcxtVenue against the fake Binance: orders accepted, filled, canceled and amended on
spot and USDⓈ-M, with the exact events (quantities and fees hand-computed below)."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from ccxt_venue_harness import (
    NOW_NS,
    USDM,
    fixed_touch,
    kinds,
    posts,
    terms,
    venue_on,
    wait_events,
)

from engine.domain.enums import Liquidity, OrderSide, OrderType, TimeInForce
from engine.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderUpdated,
    OrderUpdateRejected,
)
from fakex import FakeBinance

D = Decimal


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as f:
        yield f


def fills(events: list[OrderEvent]) -> list[tuple[str, Decimal, Decimal, Decimal, str, Liquidity]]:
    return [
        (
            e.fill.trade_id,
            e.fill.price,
            e.fill.quantity,
            e.fill.fee,
            e.fill.fee_currency,
            e.fill.liquidity,
        )
        for e in events
        if isinstance(e, OrderFilled)
    ]


def only_order(fake: FakeBinance) -> int:
    (order_id,) = [int(o.order_id) for o in fake.orders.values() if o.is_open]
    return order_id


def test_spot_limit_accepted_partly_filled_filled(fake: FakeBinance) -> None:
    fake.set_balance("USDT", "1000")
    with venue_on(fake, "spot") as (venue, _, logs):
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        events = wait_events(venue, lambda e: len(e) >= 1)
        order_id = only_order(fake)
        assert events == [
            OrderAccepted(client_order_id="qx-1", ts_event=NOW_NS, venue_order_id=str(order_id))
        ]
        (post,) = posts(fake)
        # the terms' own text goes out, with our client order id
        assert (post["params"]["newClientOrderId"], post["params"]["quantity"]) == ("qx-1", "0.01")
        assert (post["params"]["price"], post["params"]["type"]) == ("50000", "LIMIT")
        fake.fill(order_id, "0.004")
        fake.fill(order_id, "0.006")
        events = wait_events(venue, lambda e: len(e) >= 3, events)
        assert kinds(events) == ["OrderAccepted", "OrderFilled", "OrderFilled"]
        # 0.004 * 50000 = 200 USDT, maker 0.1 % = 0.2; 0.006 * 50000 = 300, fee 0.3
        assert fills(events) == [
            ("1", D("50000"), D("0.004"), D("0.2"), "USDT", Liquidity.MAKER),
            ("2", D("50000"), D("0.006"), D("0.3"), "USDT", Liquidity.MAKER),
        ]
        first = events[1]
        assert isinstance(first, OrderFilled)
        assert (first.fill.side, first.fill.symbol, first.fill.ts_event) == (
            OrderSide.BUY,
            "BTC/USDT",
            NOW_NS,
        )
        assert logs == []


def test_spot_limit_canceled(fake: FakeBinance) -> None:
    fake.set_balance("USDT", "1000")
    with venue_on(fake, "spot") as (venue, _, _):
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        events = wait_events(venue, lambda e: len(e) >= 1)
        venue.cancel("qx-1")
        events = wait_events(venue, lambda e: len(e) >= 2, events)
        assert events[1:] == [OrderCanceled(client_order_id="qx-1", ts_event=NOW_NS, reason="")]
        assert fake.spot.orders[only_order_id(fake)].status == "CANCELED"
        assert fake.balances["spot"]["USDT"] == (D("1000"), D(0))  # nothing locked any more


def only_order_id(fake: FakeBinance) -> int:
    (order_id,) = fake.orders
    return int(order_id)


def test_spot_market_order_walks_two_levels(fake: FakeBinance) -> None:
    fake.set_book("BTCUSDT", [("59990", "1")], [("60000", "0.01"), ("60001", "0.02")])
    fake.set_balance("USDT", "10000")
    with venue_on(fake, "spot", touch=fixed_touch("59990", "60000")) as (venue, _, _):
        venue.submit(terms("qx-1", "buy", "0.02"))
        # the fills come twice (the create answer and the stream): each is reported once
        events = wait_events(venue, lambda e: len(e) >= 3)
        assert kinds(events) == ["OrderAccepted", "OrderFilled", "OrderFilled"]
        # 0.01 @ 60000: fee 0.1 % of 600 = 0.6; 0.01 @ 60001: fee 0.60001
        assert fills(events) == [
            ("1", D("60000"), D("0.01"), D("0.6"), "USDT", Liquidity.TAKER),
            ("2", D("60001"), D("0.01"), D("0.60001"), "USDT", Liquidity.TAKER),
        ]
        (post,) = posts(fake)
        # sent as a limit IOC at the default 1 % cap: 60000 * 1.01 = 60600
        assert "quoteOrderQty" not in post["params"]
        assert (post["params"]["type"], post["params"]["timeInForce"]) == ("LIMIT", "IOC")
        assert D(post["params"]["price"]) == D("60600")
        assert venue.stats["duplicates"] >= 2


def test_spot_ioc_fills_part_then_expires(fake: FakeBinance) -> None:
    fake.set_book("BTCUSDT", [("59990", "1")], [("60000", "0.01"), ("60010", "0.01")])
    fake.set_balance("USDT", "10000")
    with venue_on(fake, "spot") as (venue, _, _):
        venue.submit(terms("qx-1", "buy", "0.03", "60005", tif=TimeInForce.IOC))
        events = wait_events(venue, lambda e: len(e) >= 3)
        # the expiry is reported after the fill, whichever answer came first
        assert kinds(events) == ["OrderAccepted", "OrderFilled", "OrderExpired"]
        assert fills(events) == [("1", D("60000"), D("0.01"), D("0.6"), "USDT", Liquidity.TAKER)]
        assert events[2] == OrderExpired(client_order_id="qx-1", ts_event=NOW_NS)
        assert posts(fake)[0]["params"]["timeInForce"] == "IOC"


def test_usdm_limit_partial_fill_amend_cancel(fake: FakeBinance) -> None:
    fake.set_balance("USDT", "10000", market="futures")
    with venue_on(fake, "futures") as (venue, _, _):
        assert venue.capabilities.amend is True
        assert venue.capabilities.order_types == frozenset({OrderType.LIMIT, OrderType.MARKET})
        venue.submit(terms("qx-1", "buy", "0.002", "59000", symbol=USDM))
        events = wait_events(venue, lambda e: len(e) >= 1)
        order_id = only_order(fake)
        fake.fill(order_id, "0.001")
        events = wait_events(venue, lambda e: len(e) >= 2, events)
        venue.modify("qx-1", quantity=D("0.003"), price=D("59100"))
        events = wait_events(venue, lambda e: len(e) >= 3, events)
        assert events[2] == OrderUpdated(
            client_order_id="qx-1", ts_event=NOW_NS, price=D("59100.0"), quantity=D("0.003")
        )
        (put,) = [r for r in fake.requests if r["method"] == "PUT"]
        assert (put["params"]["orderId"], put["params"]["quantity"], put["params"]["price"]) == (
            str(order_id),
            "0.003",
            "59100",
        )
        fake.fill(order_id, "0.001")  # at the amended price
        venue.cancel("qx-1")
        events = wait_events(venue, lambda e: len(e) >= 5, events)
        assert kinds(events) == [
            "OrderAccepted",
            "OrderFilled",
            "OrderUpdated",
            "OrderFilled",
            "OrderCanceled",
        ]
        # maker 0.02 %: 0.001 * 59000 = 59 -> 0.0118; 0.001 * 59100 = 59.1 -> 0.01182
        assert fills(events) == [
            ("500000001", D("59000.0"), D("0.001"), D("0.0118"), "USDT", Liquidity.MAKER),
            ("500000002", D("59100.0"), D("0.001"), D("0.01182"), "USDT", Liquidity.MAKER),
        ]
        assert fake.orders[order_id].status == "CANCELED"


def test_usdm_amend_refused_by_the_exchange(fake: FakeBinance) -> None:
    fake.set_balance("USDT", "10000", market="futures")
    fake.set_book("BTCUSDT", [("59990.0", "1")], [("60000.0", "1")], market="futures")
    with venue_on(fake, "futures") as (venue, _, _):
        venue.submit(terms("qx-1", "buy", "0.002", "59000", symbol=USDM))
        events = wait_events(venue, lambda e: len(e) >= 1)
        venue.modify("qx-1", price=D("60000"))  # would cross: the fake keeps amends passive
        events = wait_events(venue, lambda e: len(e) >= 2, events)
        refused = events[1]
        assert isinstance(refused, OrderUpdateRejected)
        # ccxt 4.5.90 maps Binance's -5027 to OperationRejected
        assert refused.reason == (
            'OPERATION_REJECTED: binanceusdm {"code": -5027, "msg": "No need to modify the order."}'
        )
        assert len([r for r in fake.requests if r["method"] == "PUT"]) == 1  # never retried


def test_spot_refuses_amends_as_not_supported(fake: FakeBinance) -> None:
    fake.set_balance("USDT", "1000")
    with venue_on(fake, "spot") as (venue, _, _):
        assert venue.capabilities.amend is False
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        events = wait_events(venue, lambda e: len(e) >= 1)
        venue.modify("qx-1", price=D("50001"))
        events = wait_events(venue, lambda e: len(e) >= 2, events)
        assert isinstance(events[1], OrderUpdateRejected)
        assert events[1].reason.startswith("NOT_SUPPORTED: ")
        assert not [r for r in fake.requests if r["path"].endswith("cancelReplace")]


def test_usdm_market_orders_and_reduce_only(fake: FakeBinance) -> None:
    fake.set_book(
        "BTCUSDT", [("59990.0", "1")], [("60000.0", "0.005"), ("60000.5", "1")], market="futures"
    )
    fake.set_balance("USDT", "10000", market="futures")
    touch = fixed_touch("59990.0", "60000.0")
    with venue_on(fake, "futures", touch=touch) as (venue, _, _):
        venue.submit(terms("qx-1", "buy", "0.01", symbol=USDM))
        events = wait_events(venue, lambda e: len(e) >= 3)
        assert kinds(events) == ["OrderAccepted", "OrderFilled", "OrderFilled"]
        # taker 0.05 %: 0.005 * 60000 = 300 -> 0.15; 0.005 * 60000.5 = 300.0025 -> 0.15000125
        assert fills(events) == [
            ("500000001", D("60000.0"), D("0.005"), D("0.15"), "USDT", Liquidity.TAKER),
            ("500000002", D("60000.5"), D("0.005"), D("0.15000125"), "USDT", Liquidity.TAKER),
        ]
        assert venue.position(USDM) == D("0.01")
        venue.submit(terms("qx-2", "sell", "0.01", symbol=USDM, reduce_only=True))
        events = wait_events(venue, lambda e: len(e) >= 5, events)
        assert kinds(events)[3:] == ["OrderAccepted", "OrderFilled"]
        assert posts(fake)[1]["params"]["reduceOnly"] == "true"
        # a limit IOC at the cap: 59990 * 0.99 = 59390.1
        assert (posts(fake)[1]["params"]["type"], D(posts(fake)[1]["params"]["price"])) == (
            "LIMIT",
            D("59390.1"),
        )
        assert venue.position(USDM) == D(0)
        assert venue.positions() == {USDM: D(0)}
