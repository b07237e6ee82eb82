"""The order state machine: the whole table both ways, the real-world oddities, fills."""

from __future__ import annotations

import itertools
from decimal import Decimal
from typing import Any

import pytest

from engine.domain import (
    RESUME,
    TRANSITIONS,
    DomainError,
    DuplicateFillError,
    Fill,
    InvalidStateTransition,
    Liquidity,
    Order,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderEventKind,
    OrderExpired,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderTerms,
    OrderTriggered,
    OrderType,
    OrderUpdated,
    OrderUpdateRejected,
    OverfillError,
    ValidationError,
)

D = Decimal
S = OrderStatus
K = OrderEventKind
CID = "o-1"


def stop_limit() -> Order:
    """A STOP_LIMIT for 10: every event kind, TRIGGERED included, can apply to it."""
    return Order(
        OrderTerms(
            client_order_id=CID,
            symbol="BTCUSDT",
            side=OrderSide.BUY,
            order_type=OrderType.STOP_LIMIT,
            quantity=D("10"),
            price=D("100"),
            trigger_price=D("99"),
        )
    )


def limit_order(quantity: str = "10") -> Order:
    return Order(
        OrderTerms(
            client_order_id=CID,
            symbol="BTCUSDT",
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=D(quantity),
            price=D("100"),
        )
    )


_trade_ids = itertools.count(1)


def fill(quantity: str | Decimal, price: str = "100", trade_id: str | None = None) -> OrderFilled:
    tid = trade_id or f"t{next(_trade_ids)}"
    return OrderFilled(
        client_order_id=CID,
        ts_event=5,
        fill=Fill(
            trade_id=tid,
            client_order_id=CID,
            symbol="BTCUSDT",
            side=OrderSide.BUY,
            price=D(price),
            quantity=D(quantity),
            fee=D("0.01"),
            fee_currency="USDT",
            liquidity=Liquidity.MAKER,
            ts_event=5,
        ),
    )


def event_of(kind: OrderEventKind, order: Order) -> OrderEvent:
    """One event of `kind`, sized for `order` where the kind depends on size."""
    base: dict[str, Any] = {"client_order_id": CID, "ts_event": 7}
    match kind:
        case K.DENIED:
            return OrderDenied(**base, reason="RISK: max_position")
        case K.SUBMITTED:
            return OrderSubmitted(**base)
        case K.ACCEPTED:
            return OrderAccepted(**base, venue_order_id="v-1")
        case K.REJECTED:
            return OrderRejected(**base, reason="-2010 insufficient balance")
        case K.TRIGGERED:
            return OrderTriggered(**base)
        case K.PARTIAL_FILL:
            return fill("1")
        case K.FULL_FILL:
            return fill(max(order.leaves_qty, D("1")))  # FILLED has none left
        case K.PENDING_UPDATE:
            return OrderPendingUpdate(**base)
        case K.UPDATED:
            return OrderUpdated(**base, price=D("101"))
        case K.UPDATE_REJECTED:
            return OrderUpdateRejected(**base, reason="-5027 no change")
        case K.PENDING_CANCEL:
            return OrderPendingCancel(**base)
        case K.CANCELED:
            return OrderCanceled(**base)
        case K.CANCEL_REJECTED:
            return OrderCancelRejected(**base, reason="-2011 unknown order")
        case K.EXPIRED:
            return OrderExpired(**base)
    raise AssertionError(kind)


# How each state is reached by default; the pending cancel has an amendment in flight
# too, so the amendment's answers are legal there.
PATHS: dict[OrderStatus, list[OrderEventKind]] = {
    S.INITIALIZED: [],
    S.DENIED: [K.DENIED],
    S.SUBMITTED: [K.SUBMITTED],
    S.ACCEPTED: [K.SUBMITTED, K.ACCEPTED],
    S.REJECTED: [K.SUBMITTED, K.REJECTED],
    S.TRIGGERED: [K.SUBMITTED, K.ACCEPTED, K.TRIGGERED],
    S.PARTIALLY_FILLED: [K.SUBMITTED, K.ACCEPTED, K.PARTIAL_FILL],
    S.FILLED: [K.SUBMITTED, K.ACCEPTED, K.FULL_FILL],
    S.PENDING_UPDATE: [K.SUBMITTED, K.ACCEPTED, K.PENDING_UPDATE],
    S.PENDING_CANCEL: [K.SUBMITTED, K.ACCEPTED, K.PENDING_UPDATE, K.PENDING_CANCEL],
    S.CANCELED: [K.SUBMITTED, K.CANCELED],
    S.EXPIRED: [K.SUBMITTED, K.EXPIRED],
}
# Pairs whose realistic history differs from the default path.
PATH_FOR_PAIR: dict[tuple[OrderStatus, OrderEventKind], list[OrderEventKind]] = {
    (S.PENDING_CANCEL, K.ACCEPTED): [K.SUBMITTED, K.PENDING_CANCEL],
    (S.PENDING_CANCEL, K.REJECTED): [K.SUBMITTED, K.PENDING_CANCEL],
    (S.PARTIALLY_FILLED, K.ACCEPTED): [K.SUBMITTED, K.PARTIAL_FILL],
}
# Where RESUME leads with those paths.
RESUMED: dict[tuple[OrderStatus, OrderEventKind], OrderStatus] = {
    (S.PENDING_UPDATE, K.UPDATED): S.ACCEPTED,
    (S.PENDING_UPDATE, K.UPDATE_REJECTED): S.ACCEPTED,
    (S.PENDING_CANCEL, K.CANCEL_REJECTED): S.PENDING_UPDATE,
}


def reach(state: OrderStatus, path: list[OrderEventKind] | None = None) -> Order:
    order = stop_limit()
    for kind in PATHS[state] if path is None else path:
        order.apply(event_of(kind, order))
    assert order.status is state
    return order


def snapshot(order: Order) -> tuple[object, ...]:
    return (
        order.status,
        order.filled_qty,
        order.leaves_qty,
        order.filled_notional,
        order.events,
        order.fills,
        order.terms,
    )


ALLOWED = sorted(TRANSITIONS.items())
DISALLOWED = sorted(
    (state, kind)
    for state, kind in itertools.product(OrderStatus, OrderEventKind)
    if (state, kind) not in TRANSITIONS
)


def test_the_table_covers_what_the_issue_names() -> None:
    assert len(ALLOWED) + len(DISALLOWED) == len(OrderStatus) * len(OrderEventKind)
    for state in OrderStatus:
        if state.is_terminal:
            assert not [k for (s, k) in TRANSITIONS if s is state], state
        else:
            assert [k for (s, k) in TRANSITIONS if s is state], state
    assert {s for s in OrderStatus if s.is_terminal} == {
        S.DENIED,
        S.REJECTED,
        S.FILLED,
        S.CANCELED,
        S.EXPIRED,
    }


@pytest.mark.parametrize(("pair", "target"), ALLOWED, ids=lambda v: str(v))
def test_every_allowed_transition_reaches_its_target(
    pair: tuple[OrderStatus, OrderEventKind], target: object
) -> None:
    state, kind = pair
    order = reach(state, PATH_FOR_PAIR.get(pair))
    event = event_of(kind, order)
    assert order.event_kind(event) is kind
    expected = RESUMED[pair] if target is RESUME else target
    assert order.apply(event) is expected
    assert order.status is expected
    assert order.events[-1] is event


@pytest.mark.parametrize("pair", DISALLOWED, ids=lambda v: str(v))
def test_every_other_pair_raises_and_changes_nothing(
    pair: tuple[OrderStatus, OrderEventKind],
) -> None:
    state, kind = pair
    order = reach(state)
    event = event_of(kind, order)
    before = snapshot(order)
    with pytest.raises(InvalidStateTransition) as err:
        order.apply(event)
    message = str(err.value)
    assert CID in message and str(state) in message and type(event).__name__ in message
    assert err.value.state == str(state)
    assert snapshot(order) == before


# --- the real-world oddities, on purpose ------------------------------------------------


def test_cancel_loses_the_race_to_a_partial_fill_then_cancels() -> None:
    order = reach(S.ACCEPTED, [K.SUBMITTED, K.ACCEPTED])
    order.apply(event_of(K.PENDING_CANCEL, order))
    assert order.apply(fill("4")) is S.PENDING_CANCEL  # the cancel is still in flight
    assert (order.filled_qty, order.leaves_qty) == (D("4"), D("6"))
    assert order.apply(event_of(K.CANCELED, order)) is S.CANCELED
    assert (order.filled_qty, order.leaves_qty, order.is_open) == (D("4"), D("6"), False)


def test_cancel_loses_the_race_to_a_full_fill() -> None:
    order = reach(S.PARTIALLY_FILLED)
    order.apply(event_of(K.PENDING_CANCEL, order))
    assert order.apply(fill("9")) is S.FILLED
    with pytest.raises(InvalidStateTransition, match="FILLED"):
        order.apply(event_of(K.CANCEL_REJECTED, order))  # the venue's late answer


def test_rejected_cancel_returns_to_the_state_before() -> None:
    order = reach(S.ACCEPTED, [K.SUBMITTED, K.ACCEPTED])
    order.apply(event_of(K.PENDING_CANCEL, order))
    assert order.apply(event_of(K.CANCEL_REJECTED, order)) is S.ACCEPTED


def test_rejected_cancel_after_a_fill_returns_to_partially_filled() -> None:
    order = reach(S.TRIGGERED)
    order.apply(event_of(K.PENDING_CANCEL, order))
    order.apply(fill("2"))
    assert order.apply(event_of(K.CANCEL_REJECTED, order)) is S.PARTIALLY_FILLED


def test_cancel_sent_before_the_ack() -> None:
    order = reach(S.SUBMITTED)
    order.apply(event_of(K.PENDING_CANCEL, order))
    assert order.apply(event_of(K.ACCEPTED, order)) is S.PENDING_CANCEL
    assert order.venue_order_id == "v-1"
    with pytest.raises(InvalidStateTransition, match="working state ACCEPTED"):
        order.apply(event_of(K.ACCEPTED, order))  # a duplicate ack is still refused
    assert order.apply(event_of(K.CANCEL_REJECTED, order)) is S.ACCEPTED


def test_fill_during_an_amendment_then_the_amendment_lands() -> None:
    order = reach(S.ACCEPTED, [K.SUBMITTED, K.ACCEPTED])
    order.apply(event_of(K.PENDING_UPDATE, order))
    assert order.apply(fill("3")) is S.PENDING_UPDATE
    updated = OrderUpdated(client_order_id=CID, ts_event=9, price=D("101"), quantity=D("12"))
    assert order.apply(updated) is S.PARTIALLY_FILLED
    assert (order.price, order.quantity, order.leaves_qty) == (D("101"), D("12"), D("9"))
    assert order.trigger_price == D("99")  # untouched: its own field


def test_rejected_amendment_keeps_the_terms() -> None:
    order = reach(S.PENDING_UPDATE)
    terms = order.terms
    assert order.apply(event_of(K.UPDATE_REJECTED, order)) is S.ACCEPTED
    assert order.terms is terms


def test_cancel_during_an_amendment_then_rejected_waits_for_the_amendment() -> None:
    order = reach(S.PENDING_CANCEL)  # amendment and cancel both in flight
    assert order.apply(event_of(K.CANCEL_REJECTED, order)) is S.PENDING_UPDATE
    assert order.apply(event_of(K.UPDATED, order)) is S.ACCEPTED
    assert order.price == D("101")


def test_amendment_answer_without_an_amendment_is_refused() -> None:
    order = reach(S.SUBMITTED)
    order.apply(event_of(K.PENDING_CANCEL, order))
    with pytest.raises(InvalidStateTransition, match="no amendment in flight"):
        order.apply(event_of(K.UPDATED, order))


def test_trigger_only_for_trigger_types_and_only_once() -> None:
    order = limit_order()
    order.apply(event_of(K.SUBMITTED, order))
    order.apply(event_of(K.ACCEPTED, order))
    with pytest.raises(InvalidStateTransition, match="LIMIT has no trigger"):
        order.apply(event_of(K.TRIGGERED, order))
    stop = reach(S.TRIGGERED)
    stop.apply(event_of(K.PENDING_CANCEL, stop))
    with pytest.raises(InvalidStateTransition, match="working state TRIGGERED"):
        stop.apply(event_of(K.TRIGGERED, stop))


def test_locally_held_order_can_be_canceled_before_it_is_sent() -> None:
    order = stop_limit()
    assert order.apply(event_of(K.CANCELED, order)) is S.CANCELED
    assert not order.is_open and order.is_closed


# --- fills --------------------------------------------------------------------------------


def test_overfill_is_refused_and_changes_nothing() -> None:
    order = reach(S.PARTIALLY_FILLED)
    before = snapshot(order)
    with pytest.raises(OverfillError) as err:
        order.apply(fill("9.5"))
    assert "fill.quantity 9.5" in str(err.value)
    assert "filled_qty 1 + fill > quantity 10" in str(err.value)
    assert snapshot(order) == before


def test_duplicate_trade_id_is_refused() -> None:
    order = reach(S.ACCEPTED)
    order.apply(fill("1", trade_id="T-42"))
    with pytest.raises(DuplicateFillError, match="trade_id T-42 already applied"):
        order.apply(fill("1", trade_id="T-42"))
    assert order.filled_qty == D("1")


@pytest.mark.parametrize(
    ("change", "field"),
    [({"symbol": "ETHUSDT"}, "fill.symbol"), ({"side": OrderSide.SELL}, "fill.side")],
)
def test_fill_for_another_instrument_or_side_is_refused(
    change: dict[str, object], field: str
) -> None:
    order = reach(S.ACCEPTED)
    good = fill("1").fill
    bad = Fill(**{**{f: getattr(good, f) for f in good.__dataclass_fields__}, **change})
    with pytest.raises(ValidationError) as err:
        order.apply(OrderFilled(client_order_id=CID, ts_event=1, fill=bad))
    assert err.value.field == field


def test_event_for_another_order_is_refused() -> None:
    order = reach(S.ACCEPTED)
    with pytest.raises(ValidationError, match="client_order_id o-2 does not match order o-1"):
        order.apply(OrderCanceled(client_order_id="o-2", ts_event=1))


def test_average_price_is_exact_over_partial_fills() -> None:
    order = limit_order("1")
    order.apply(event_of(K.SUBMITTED, order))
    order.apply(fill("0.5", "100.1"))
    order.apply(fill("0.3", "101.3"))
    assert order.avg_fill_price == D("100.55")  # (50.05 + 30.39) / 0.8
    order.apply(fill("0.2", "102.7"))
    assert order.filled_notional == D("50.05") + D("30.39") + D("20.54")
    assert order.avg_fill_price == D("100.98")
    assert order.status is S.FILLED


def test_average_price_that_does_not_terminate_is_correctly_rounded() -> None:
    order = limit_order("3")
    order.apply(event_of(K.SUBMITTED, order))
    for price in ("100", "100", "101"):
        order.apply(fill("1", price))
    assert order.filled_notional == D("301")
    assert order.avg_fill_price == D("100." + "3" * 37)  # 40 significant digits
    assert limit_order().avg_fill_price is None


def test_amendment_never_below_what_filled() -> None:
    order = reach(S.PARTIALLY_FILLED)
    order.apply(event_of(K.PENDING_UPDATE, order))
    for quantity in ("1", "0.5"):
        with pytest.raises(ValidationError, match="not above filled_qty 1"):
            order.apply(OrderUpdated(client_order_id=CID, ts_event=1, quantity=D(quantity)))
    assert order.status is S.PENDING_UPDATE


def test_amendment_cannot_add_a_price_the_type_does_not_have() -> None:
    order = Order(
        OrderTerms(
            client_order_id=CID,
            symbol="BTCUSDT",
            side=OrderSide.SELL,
            order_type=OrderType.STOP_MARKET,
            quantity=D("1"),
            trigger_price=D("90"),
        )
    )
    for kind in (K.SUBMITTED, K.ACCEPTED, K.PENDING_UPDATE):
        order.apply(event_of(kind, order))
    with pytest.raises(ValidationError, match="STOP_MARKET"):
        order.apply(OrderUpdated(client_order_id=CID, ts_event=1, price=D("95")))
    order.apply(OrderUpdated(client_order_id=CID, ts_event=1, trigger_price=D("95")))
    assert (order.trigger_price, order.price) == (D("95"), None)


def test_state_changes_only_through_apply() -> None:
    order = reach(S.ACCEPTED)
    for name, value in (("status", S.FILLED), ("filled_qty", D("10")), ("quantity", D("1"))):
        with pytest.raises(AttributeError):
            setattr(order, name, value)
    with pytest.raises(AttributeError):
        order.note = "x"  # type: ignore[attr-defined]
    assert isinstance(order.events, tuple) and isinstance(order.fills, tuple)
    assert isinstance(InvalidStateTransition("a", "b", "c"), DomainError)
    assert "o-1" in repr(order) and "ACCEPTED" in repr(order)
