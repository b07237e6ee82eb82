"""Stops emulated by the order manager for a venue without them (the Rust TriggerBook
decides when they fire): held locally, released as market or limit orders with the
same client order id, trailing ratchets journaled so a restart never loosens them."""

from __future__ import annotations

from decimal import Decimal

from om_fakes import BARE, BTC, AllowAll, CheckedStore, FakeVenue, ManualClock, fill

from engine.domain import (
    OrderAccepted,
    OrderFilled,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TriggerSource,
)
from engine.domain.order import OrderTerms
from engine.services.order_manager import OrderManager

D = Decimal
SELL, BUY = OrderSide.SELL, OrderSide.BUY


def make() -> tuple[OrderManager, FakeVenue, CheckedStore, ManualClock]:
    store = CheckedStore()
    venue = FakeVenue(store, BARE)
    clock = ManualClock()
    om = OrderManager(
        venue=venue, store=store, clock=clock, instruments={"BTCUSDT": BTC}, risk=AllowAll()
    )
    return om, venue, store, clock


def stop(om: OrderManager, **kw: object):
    fields: dict[str, object] = {
        "symbol": "BTCUSDT",
        "side": SELL,
        "order_type": OrderType.STOP_MARKET,
        "quantity": D("0.010"),
        "trigger_price": D("59000.0"),
        "reduce_only": True,
    }
    fields.update(kw)
    return om.submit(**fields)


def test_an_emulated_stop_waits_then_goes_out_as_a_market_order() -> None:
    om, venue, store, _ = make()
    o = stop(om)
    cid = o.client_order_id
    assert om.is_emulated(cid) and o.status is OrderStatus.ACCEPTED
    assert store.of(cid) == ["OrderInitialized", "OrderSubmitted", "OrderAccepted"]
    assert venue.sent == []
    om.on_trade("BTCUSDT", D("59000.1"))
    assert venue.sent == [] and o.status is OrderStatus.ACCEPTED
    om.on_trade("BTCUSDT", D("59000.0"))  # last <= trigger: fires
    assert o.status is OrderStatus.TRIGGERED
    (sent,) = venue.commands("submit")
    assert isinstance(sent, OrderTerms)
    assert (sent.client_order_id, sent.order_type, sent.time_in_force, sent.trigger_price) == (
        cid,
        OrderType.MARKET,
        TimeInForce.IOC,
        None,
    )
    assert sent.reduce_only and sent.quantity == D("0.010")
    om.on_venue_event(OrderAccepted(client_order_id=cid, ts_event=5))  # the venue's ack
    assert om.venue_acks_of_released == 1 and om.anomalies == []
    om.on_venue_event(
        OrderFilled(client_order_id=cid, ts_event=6, fill=fill(cid, SELL, "58990.0", "0.010"))
    )
    assert o.status is OrderStatus.FILLED


def test_stop_limit_goes_out_as_a_limit_at_its_own_price() -> None:
    om, venue, _, _ = make()
    o = stop(
        om,
        order_type=OrderType.STOP_LIMIT,
        price=D("58900.0"),
        trigger_source=TriggerSource.BID_ASK,
    )
    om.on_quote("BTCUSDT", D("59000.0"), D("59000.2"))  # a sell watches the bid
    (sent,) = venue.commands("submit")
    assert isinstance(sent, OrderTerms)
    assert (sent.order_type, sent.price, sent.time_in_force) == (
        OrderType.LIMIT,
        D("58900.0"),
        TimeInForce.GTC,
    )
    assert o.status is OrderStatus.TRIGGERED


def test_cancel_and_amend_before_the_trigger_are_local() -> None:
    om, venue, store, _ = make()
    o = stop(om)
    cid = o.client_order_id
    om.modify(cid, trigger_price=D("58000.0"))
    assert o.trigger_price == D("58000.0") and o.status is OrderStatus.ACCEPTED
    om.on_trade("BTCUSDT", D("58500.0"))  # would have fired at the old level
    assert venue.sent == []
    assert om.cancel(cid)
    assert o.status is OrderStatus.CANCELED and venue.sent == []
    om.on_trade("BTCUSDT", D("57000.0"))
    assert venue.sent == []
    assert store.of(cid)[-2:] == ["OrderPendingCancel", "OrderCanceled"]


def test_emulated_gtd_expires_locally() -> None:
    om, venue, _, _ = make()
    o = stop(om, time_in_force=TimeInForce.GTD, expire_time_ns=5_000)
    om.on_time(5_000)
    assert o.status is OrderStatus.EXPIRED and venue.sent == []
    om.on_trade("BTCUSDT", D("50000.0"))
    assert venue.sent == []


def test_an_off_grid_trigger_is_put_on_the_grid_never_looser() -> None:
    om, venue, _, _ = make()
    # A SELL stop rounds up (fires no later than asked), a BUY stop down.
    o = stop(om, trigger_price=D("59000.05"))
    assert o.status is OrderStatus.ACCEPTED and o.trigger_price == D("59000.1")
    o = stop(om, side=OrderSide.BUY, trigger_price=D("61000.09"))
    assert o.status is OrderStatus.ACCEPTED and o.trigger_price == D("61000.0")
    assert venue.sent == []  # emulated: held here


def test_trailing_ratchets_are_journaled_and_survive_a_restart() -> None:
    om, venue, store, clock = make()
    o = stop(
        om,
        order_type=OrderType.TRAILING_STOP_MARKET,
        trigger_price=None,
        trailing_offset=D("100.0"),
    )
    cid = o.client_order_id
    for price in ("60000.0", "60250.0", "60200.0"):
        om.on_trade("BTCUSDT", D(price))
    # Highest 60250.0 - 100.0 = 60150.0; the pullback to 60200.0 changes nothing...
    assert om.effective_stop(cid) == D("60150.0") and o.trigger_price == D("60150.0")
    assert store.of(cid).count("OrderUpdated") == 2  # 59900.0, then 60150.0
    again = OrderManager.recover(
        venue=venue, store=store, clock=clock, instruments={"BTCUSDT": BTC}
    )
    assert again.effective_stop(cid) == D("60150.0")  # ...and a restart keeps it
    again.on_trade("BTCUSDT", D("60160.0"))
    assert again.order(cid).status is OrderStatus.ACCEPTED
    again.on_trade("BTCUSDT", D("60150.0"))
    assert again.order(cid).status is OrderStatus.TRIGGERED


def test_a_trailing_stop_is_never_looser_than_the_users_stop() -> None:
    om, _, _, _ = make()
    stop(om, trigger_price=D("59800.0"))  # the user's own stop
    t = stop(
        om,
        order_type=OrderType.TRAILING_STOP_MARKET,
        trigger_price=None,
        trailing_offset=D("500.0"),
    )
    om.on_trade("BTCUSDT", D("60000.0"))  # trail 59500.0 is looser than 59800.0
    assert om.effective_stop(t.client_order_id) == D("59800.0")
    om.on_trade("BTCUSDT", D("60400.0"))  # trail 59900.0 is tighter
    assert om.effective_stop(t.client_order_id) == D("59900.0")


def test_buy_side_emulated_take_profit() -> None:
    om, venue, _, _ = make()
    o = om.submit(
        symbol="BTCUSDT",
        side=BUY,
        order_type=OrderType.TAKE_PROFIT_MARKET,
        quantity=D("0.010"),
        trigger_price=D("58000.0"),
        trigger_source=TriggerSource.MARK,
    )
    om.on_trade("BTCUSDT", D("57000.0"))  # not its source
    assert venue.sent == []
    om.on_mark("BTCUSDT", D("58000.0"))  # a buy take-profit fires at or below
    assert o.status is OrderStatus.TRIGGERED and len(venue.commands("submit")) == 1
