"""OrderManager against hand-written fakes: write-ahead, ids, denials, venue answers,
amend and cancel-replace, local GTD expiry, recovery."""

from __future__ import annotations

from decimal import Decimal

import pytest
from om_fakes import (
    BARE,
    BTC,
    FULL,
    AllowAll,
    CheckedStore,
    DenyBelow,
    FakeVenue,
    ManualClock,
    fill,
)

from engine.domain import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderFilled,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdated,
    TimeInForce,
    ValidationError,
)
from engine.domain.order import OrderTerms
from engine.ports import VenueCapabilities
from engine.services.order_manager import OrderManager, RiskDenied

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def make(caps: VenueCapabilities = FULL, risk: object = None, fail_at: int | None = None):
    store = CheckedStore(fail_at)
    venue = FakeVenue(store, caps)
    clock = ManualClock()
    om = OrderManager(
        venue=venue,
        store=store,
        clock=clock,
        instruments={"BTCUSDT": BTC},
        risk=risk or AllowAll(),
    )
    return om, venue, store, clock


def limit(
    om: OrderManager,
    side: OrderSide = BUY,
    qty: str = "0.010",
    price: str = "60000.0",
    **kw: object,
):
    return om.submit(
        symbol="BTCUSDT",
        side=side,
        order_type=OrderType.LIMIT,
        quantity=D(qty),
        price=D(price),
        **kw,
    )


def test_submit_journals_before_sending_and_ids_are_sequential() -> None:
    om, venue, store, _ = make()
    a = limit(om)
    b = limit(om, side=SELL, price="61000.0")
    assert (a.client_order_id, b.client_order_id) == ("qx-1", "qx-2")
    assert store.of("qx-1") == ["OrderInitialized", "OrderSubmitted"]
    assert [t.client_order_id for t in venue.commands("submit")] == ["qx-1", "qx-2"]
    assert a.status is OrderStatus.SUBMITTED


def test_same_intents_give_the_same_ids_and_journal() -> None:
    runs = []
    for _ in range(2):
        om, _, store, _ = make()
        limit(om)
        om.cancel("qx-1")
        runs.append([(seq, r) for seq, r in store.records()])
    assert runs[0] == runs[1]


def test_store_failure_sends_nothing_and_changes_nothing() -> None:
    om, venue, store, _ = make(fail_at=2)  # the OrderSubmitted record
    with pytest.raises(OSError, match="disk full"):
        limit(om)
    assert venue.sent == []
    assert om.order("qx-1").status is OrderStatus.INITIALIZED
    assert store.of("qx-1") == ["OrderInitialized"]


def test_denial_is_journaled_with_its_reason_and_nothing_is_sent() -> None:
    om, venue, store, _ = make(risk=DenyBelow(D("100")))
    order = limit(om, qty="0.001", price="60000.0")  # 60 USDT notional
    assert order.status is OrderStatus.DENIED
    denied = [r for _, r in store.records() if type(r).__name__ == "OrderDenied"]
    assert denied[0].reason == "NOTIONAL_BELOW_MIN: notional=60.0000 min=100"
    assert venue.sent == []


def test_unknown_instrument_is_denied() -> None:
    om, venue, _, _ = make()
    order = om.submit(symbol="ETHUSDT", side=BUY, order_type=OrderType.MARKET, quantity=D("1"))
    assert order.status is OrderStatus.DENIED
    assert order.events[-1].reason == "UNKNOWN_INSTRUMENT: symbol=ETHUSDT"
    assert venue.sent == []


def test_bad_terms_raise_naming_the_field_and_journal_nothing() -> None:
    om, venue, store, _ = make()
    with pytest.raises(ValidationError, match="price"):
        om.submit(symbol="BTCUSDT", side=BUY, order_type=OrderType.LIMIT, quantity=D("1"))
    with pytest.raises(ValidationError, match="client_order_id"):
        om.submit(
            client_order_id="mine",
            symbol="BTCUSDT",
            side=BUY,
            order_type=OrderType.MARKET,
            quantity=D("1"),
        )
    assert len(store) == 0 and venue.sent == []
    assert limit(om).client_order_id == "qx-1"  # no id was used up


def test_venue_answers_drive_the_order_and_odd_ones_are_kept_aside() -> None:
    om, _, store, _ = make()
    o = limit(om, qty="0.010")
    om.on_venue_event(OrderAccepted(client_order_id="qx-1", ts_event=1, venue_order_id="v1"))
    f1 = fill("qx-1", BUY, "60000.0", "0.004")
    om.on_venue_event(OrderFilled(client_order_id="qx-1", ts_event=2, fill=f1))
    assert (o.status, o.filled_qty, o.leaves_qty) == (
        OrderStatus.PARTIALLY_FILLED,
        D("0.004"),
        D("0.006"),
    )
    om.on_venue_event(OrderFilled(client_order_id="qx-1", ts_event=3, fill=f1))  # duplicate
    om.on_venue_event(
        OrderFilled(client_order_id="qx-9", ts_event=3, fill=fill("qx-9", BUY, "1", "1"))
    )
    f2 = fill("qx-1", BUY, "59990.0", "0.006")
    om.on_venue_event(OrderFilled(client_order_id="qx-1", ts_event=4, fill=f2))
    om.on_venue_event(OrderCanceled(client_order_id="qx-1", ts_event=5))  # late, after FILLED
    assert o.status is OrderStatus.FILLED and o.filled_qty == D("0.010")
    assert [a.why.split(" ")[0] for a in om.anomalies] == ["trade_id", "unknown", "order"]
    # Only applied events are journaled.
    assert store.of("qx-1") == [
        "OrderInitialized",
        "OrderSubmitted",
        "OrderAccepted",
        "OrderFilled",
        "OrderFilled",
    ]


def test_cancel_then_fill_then_cancel_rejected() -> None:
    """The race from the order's side: a fill lands while our cancel is in flight."""
    om, venue, _, _ = make()
    o = limit(om)
    om.on_venue_event(OrderAccepted(client_order_id="qx-1", ts_event=1))
    assert om.cancel("qx-1") is True
    assert om.cancel("qx-1") is False  # already in flight
    assert venue.commands("cancel") == ["qx-1"]
    om.on_venue_event(
        OrderFilled(client_order_id="qx-1", ts_event=2, fill=fill("qx-1", BUY, "60000.0", "0.010"))
    )
    assert o.status is OrderStatus.FILLED
    om.on_venue_event(
        OrderCancelRejected(client_order_id="qx-1", ts_event=3, reason="UNKNOWN_ORDER")
    )
    assert o.status is OrderStatus.FILLED and len(om.anomalies) == 1


def test_amend_in_place_never_below_filled() -> None:
    om, venue, _, _ = make()
    o = limit(om, qty="0.010")
    om.on_venue_event(OrderAccepted(client_order_id="qx-1", ts_event=1))
    om.on_venue_event(
        OrderFilled(client_order_id="qx-1", ts_event=2, fill=fill("qx-1", BUY, "60000.0", "0.004"))
    )
    with pytest.raises(ValidationError, match=r"quantity 0.004 not above filled_qty 0.004"):
        om.modify("qx-1", quantity=D("0.004"))
    om.modify("qx-1", quantity=D("0.008"), price=D("60010.0"))
    assert venue.commands("modify") == [("qx-1", D("0.008"), D("60010.0"), None)]
    assert o.status is OrderStatus.PENDING_UPDATE
    with pytest.raises(ValidationError, match="in flight"):
        om.modify("qx-1", quantity=D("0.009"))
    om.on_venue_event(
        OrderUpdated(client_order_id="qx-1", ts_event=3, quantity=D("0.008"), price=D("60010.0"))
    )
    assert (o.status, o.quantity, o.price, o.leaves_qty) == (
        OrderStatus.PARTIALLY_FILLED,
        D("0.008"),
        D("60010.0"),
        D("0.004"),
    )


def test_amend_is_checked_by_risk() -> None:
    om, venue, _, _ = make(risk=DenyBelow(D("100")))
    o = limit(om, qty="0.010", price="60000.0")
    om.on_venue_event(OrderAccepted(client_order_id="qx-1", ts_event=1))
    with pytest.raises(RiskDenied, match="NOTIONAL_BELOW_MIN"):
        om.modify("qx-1", quantity=D("0.001"))
    assert o.status is OrderStatus.ACCEPTED and o.quantity == D("0.010")
    assert venue.commands("modify") == []


def test_cancel_replace_where_the_venue_cannot_amend() -> None:
    om, venue, store, _ = make(caps=BARE)
    o = limit(om, qty="0.010")
    om.on_venue_event(OrderAccepted(client_order_id="qx-1", ts_event=1))
    om.modify("qx-1", quantity=D("0.020"), price=D("60005.0"))
    assert venue.commands("cancel") == ["qx-1"] and venue.commands("modify") == []
    # A fill lands before the cancel: the replacement is for 0.020 - 0.003 = 0.017.
    om.on_venue_event(
        OrderFilled(client_order_id="qx-1", ts_event=2, fill=fill("qx-1", BUY, "60000.0", "0.003"))
    )
    om.on_venue_event(OrderCanceled(client_order_id="qx-1", ts_event=3))
    new_id = om.successor("qx-1")
    assert new_id == "qx-2" and o.status is OrderStatus.CANCELED
    new = om.order(new_id)
    assert (new.quantity, new.price, new.status) == (
        D("0.017"),
        D("60005.0"),
        OrderStatus.SUBMITTED,
    )
    init = next(r for _, r in store.records() if r.client_order_id == "qx-2")
    assert init.replaces == "qx-1"


def test_cancel_replace_abandoned_when_the_old_order_filled() -> None:
    om, venue, _, _ = make(caps=BARE)
    limit(om, qty="0.010")
    om.on_venue_event(OrderAccepted(client_order_id="qx-1", ts_event=1))
    om.modify("qx-1", price=D("60005.0"))
    om.on_venue_event(
        OrderFilled(client_order_id="qx-1", ts_event=2, fill=fill("qx-1", BUY, "60000.0", "0.010"))
    )
    om.on_venue_event(
        OrderCancelRejected(client_order_id="qx-1", ts_event=3, reason="UNKNOWN_ORDER")
    )
    assert om.successor("qx-1") == "qx-1"
    assert len(venue.commands("submit")) == 1


def test_gtd_is_expired_locally_when_the_venue_lacks_it() -> None:
    om, venue, _, clock = make(caps=BARE)
    o = limit(om, time_in_force=TimeInForce.GTD, expire_time_ns=5_000)
    sent = venue.commands("submit")[0]
    assert isinstance(sent, OrderTerms)
    assert (sent.time_in_force, sent.expire_time_ns) == (TimeInForce.GTC, None)
    om.on_venue_event(OrderAccepted(client_order_id="qx-1", ts_event=1))
    om.on_time(4_999)
    assert venue.commands("cancel") == []
    clock.now = 5_000
    om.on_time(5_000)
    assert venue.commands("cancel") == ["qx-1"] and o.status is OrderStatus.PENDING_CANCEL


def test_gtd_is_left_to_a_venue_that_has_it() -> None:
    om, venue, _, _ = make(caps=FULL)
    limit(om, time_in_force=TimeInForce.GTD, expire_time_ns=5_000)
    sent = venue.commands("submit")[0]
    assert isinstance(sent, OrderTerms) and sent.time_in_force is TimeInForce.GTD
    om.on_time(10_000)
    assert venue.commands("cancel") == []


def test_recover_rebuilds_the_same_orders_and_continues_ids() -> None:
    om, venue, store, clock = make(caps=BARE)
    limit(om, qty="0.010")
    om.on_venue_event(OrderAccepted(client_order_id="qx-1", ts_event=1))
    om.on_venue_event(
        OrderFilled(client_order_id="qx-1", ts_event=2, fill=fill("qx-1", BUY, "60000.0", "0.004"))
    )
    om.modify("qx-1", quantity=D("0.020"))
    om.on_venue_event(OrderCanceled(client_order_id="qx-1", ts_event=3))
    limit(om, side=SELL, price="61000.0")
    again = OrderManager.recover(
        venue=venue, store=store, clock=clock, instruments={"BTCUSDT": BTC}
    )

    def view(m: OrderManager) -> list[tuple[object, ...]]:
        return [
            (o.client_order_id, o.status, o.quantity, o.filled_qty, o.events) for o in m.orders()
        ]

    assert view(again) == view(om)
    assert again.successor("qx-1") == "qx-2"
    assert limit(again).client_order_id == "qx-4"
