"""Order.apply_after: the write-ahead form of apply (check, write, change) that the order
manager uses. The write sees the event before the order changes; a refused event is
never written; a failed write leaves the order as it was; an event applied during the
write makes the first one stale. Plain transitions and the general path (a fill, a
pending request) behave the same."""

from __future__ import annotations

from decimal import Decimal

import pytest

from engine.domain import (
    Fill,
    InvalidStateTransition,
    Liquidity,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderEvent,
    OrderFilled,
    OrderPendingCancel,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderTerms,
    OrderType,
    ValidationError,
)

D = Decimal


def limit_terms() -> OrderTerms:
    return OrderTerms(
        client_order_id="o-1",
        symbol="BTCUSDT",
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=D("1.000"),
        price=D("60000.0"),
    )


def filled(quantity: str, trade_id: str) -> OrderFilled:
    fill = Fill(
        trade_id=trade_id,
        client_order_id="o-1",
        symbol="BTCUSDT",
        side=OrderSide.BUY,
        price=D("60000.0"),
        quantity=D(quantity),
        fee=D("0.1"),
        fee_currency="USDT",
        liquidity=Liquidity.MAKER,
        ts_event=5,
    )
    return OrderFilled(client_order_id="o-1", ts_event=5, fill=fill)


def test_the_write_sees_the_event_before_the_order_changes() -> None:
    order = Order(limit_terms())
    seen: list[tuple[str, OrderStatus]] = []

    def write(event: OrderEvent) -> None:
        seen.append((type(event).__name__, order.status))

    events = [
        OrderSubmitted(client_order_id="o-1", ts_event=1),
        OrderAccepted(client_order_id="o-1", ts_event=2, venue_order_id="v-9"),
        filled("0.400", "t-1"),  # a fill takes the general path
        OrderPendingCancel(client_order_id="o-1", ts_event=6),
        OrderCanceled(client_order_id="o-1", ts_event=7),
    ]
    statuses = [order.apply_after(event, write) for event in events]
    assert seen == [
        ("OrderSubmitted", OrderStatus.INITIALIZED),
        ("OrderAccepted", OrderStatus.SUBMITTED),
        ("OrderFilled", OrderStatus.ACCEPTED),
        ("OrderPendingCancel", OrderStatus.PARTIALLY_FILLED),
        ("OrderCanceled", OrderStatus.PENDING_CANCEL),
    ]
    assert statuses == [
        OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED,
        OrderStatus.PENDING_CANCEL, OrderStatus.CANCELED,
    ]  # fmt: skip
    assert (order.venue_order_id, order.filled_qty) == ("v-9", D("0.400"))
    assert order.events == tuple(events)

    # The same events through apply give the same order.
    again = Order(limit_terms())
    for event in events:
        again.apply(event)
    assert (again.status, again.filled_qty, again.venue_order_id) == (
        order.status, order.filled_qty, order.venue_order_id,
    )  # fmt: skip


@pytest.mark.parametrize(
    "event",
    [
        OrderAccepted(client_order_id="o-1", ts_event=2),  # plain, but not from INITIALIZED
        OrderSubmitted(client_order_id="o-2", ts_event=2),  # another order's
        filled("0.400", "t-1"),  # a fill before the order was sent
    ],
)
def test_a_refused_event_is_not_written(event: OrderEvent) -> None:
    order = Order(limit_terms())
    written: list[OrderEvent] = []
    with pytest.raises((InvalidStateTransition, ValidationError)):
        order.apply_after(event, written.append)
    assert written == [] and order.status is OrderStatus.INITIALIZED and order.events == ()


@pytest.mark.parametrize(
    "event", [OrderSubmitted(client_order_id="o-1", ts_event=1), filled("1.000", "t-1")]
)
def test_a_failed_write_leaves_the_order_as_it_was(event: OrderEvent) -> None:
    order = Order(limit_terms())
    if isinstance(event, OrderFilled):  # a fill needs an order that was sent
        order.apply(OrderSubmitted(client_order_id="o-1", ts_event=1))
    before = (order.status, order.filled_qty, order.events)

    def failing(_: OrderEvent) -> None:
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        order.apply_after(event, failing)
    assert (order.status, order.filled_qty, order.events) == before


def test_an_event_applied_during_the_write_makes_the_first_stale() -> None:
    order = Order(limit_terms())

    def meddling(_: OrderEvent) -> None:
        order.apply(OrderSubmitted(client_order_id="o-1", ts_event=1))

    with pytest.raises(ValidationError, match="is stale or not this order's"):
        order.apply_after(OrderSubmitted(client_order_id="o-1", ts_event=1), meddling)
    assert order.status is OrderStatus.SUBMITTED and len(order.events) == 1
