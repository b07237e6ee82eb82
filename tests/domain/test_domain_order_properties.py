"""Hypothesis: random event sequences keep the order's invariants, whatever is refused.

Each step draws mostly from the kinds the table allows in the current state that do
not close the order (so sequences go deep: fills, amendments, races), sometimes any
allowed kind, sometimes any kind at all (so refusals are exercised too); fill sizes and
trade ids are drawn so that overfills and duplicate trade ids happen."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from engine.domain import (
    TRANSITIONS,
    DomainError,
    Fill,
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
)

D = Decimal
K = OrderEventKind
CID = "p-1"
LOT = D("0.001")


def _fill(trade: int, lots: int, ticks: int) -> OrderFilled:
    return OrderFilled(
        client_order_id=CID,
        ts_event=trade,
        fill=Fill(
            trade_id=f"T{trade}",
            client_order_id=CID,
            symbol="BTCUSDT",
            side=OrderSide.SELL,
            price=D(ticks) * D("0.1"),
            quantity=D(lots) * LOT,
            fee=D("0"),
            fee_currency="USDT",
            liquidity=Liquidity.TAKER,
            ts_event=trade,
        ),
    )


def _draw_event(data: st.DataObject, order: Order) -> OrderEvent:
    allowed = sorted(k for (s, k) in TRANSITIONS if s is order.status)
    staying = [
        k
        for k in allowed
        if not (isinstance(t := TRANSITIONS[order.status, k], OrderStatus) and t.is_terminal)
    ]
    roll = data.draw(st.integers(0, 9))  # 1 in 10 anything, 2 in 10 any allowed kind
    pool = sorted(OrderEventKind) if roll == 0 or not allowed else allowed
    kind = data.draw(st.sampled_from(staying if roll > 2 and staying else pool))
    ts = data.draw(st.integers(0, 10**18))
    base: dict[str, Any] = {"client_order_id": CID, "ts_event": ts}
    leaves = int(order.leaves_qty / LOT)
    trade = data.draw(st.integers(1, 40))  # a small range: duplicates happen
    ticks = data.draw(st.integers(1, 700_000))
    match kind:
        case K.PARTIAL_FILL | K.FULL_FILL:
            # Mostly within what is left (exactly all of it sometimes), sometimes over.
            lots = data.draw(st.integers(1, max(1, leaves)) | st.just(leaves + 1))
            return _fill(trade, max(lots, 1), ticks)
        case K.UPDATED:
            new_lots = data.draw(st.none() | st.integers(1, 30))
            return OrderUpdated(
                **base,
                quantity=None if new_lots is None else D(new_lots) * LOT,
                trigger_price=D(ticks) * D("0.1"),
            )
        case K.DENIED:
            return OrderDenied(**base, reason="RISK: max_position")
        case K.SUBMITTED:
            return OrderSubmitted(**base)
        case K.ACCEPTED:
            return OrderAccepted(**base)
        case K.REJECTED:
            return OrderRejected(**base, reason="venue")
        case K.TRIGGERED:
            return OrderTriggered(**base)
        case K.PENDING_UPDATE:
            return OrderPendingUpdate(**base)
        case K.UPDATE_REJECTED:
            return OrderUpdateRejected(**base, reason="venue")
        case K.PENDING_CANCEL:
            return OrderPendingCancel(**base)
        case K.CANCELED:
            return OrderCanceled(**base)
        case K.CANCEL_REJECTED:
            return OrderCancelRejected(**base, reason="venue")
        case K.EXPIRED:
            return OrderExpired(**base)
    raise AssertionError(kind)


def _state(order: Order) -> tuple[object, ...]:
    return (order.status, order.filled_qty, order.filled_notional, order.events, order.terms)


@given(lots=st.integers(1, 20), steps=st.integers(0, 40), data=st.data())
def test_random_event_sequences_keep_the_invariants(
    lots: int, steps: int, data: st.DataObject
) -> None:
    order = Order(
        OrderTerms(
            client_order_id=CID,
            symbol="BTCUSDT",
            side=OrderSide.SELL,
            order_type=OrderType.STOP_MARKET,
            quantity=D(lots) * LOT,
            trigger_price=D("59000"),
        )
    )
    terminal: OrderStatus | None = None
    for _ in range(steps):
        event = _draw_event(data, order)
        before = _state(order)
        try:
            order.apply(event)
        except DomainError:
            assert _state(order) == before  # a refused event changes nothing
        else:
            assert terminal is None, f"{event} left terminal state {terminal}"
            assert order.events[-1] is event
        if order.status.is_terminal:
            terminal = order.status
        assert order.filled_qty + order.leaves_qty == order.quantity
        assert D(0) <= order.filled_qty <= order.quantity
        assert order.filled_qty == sum((f.quantity for f in order.fills), D(0))
        assert len({f.trade_id for f in order.fills}) == len(order.fills)
        assert (order.status is OrderStatus.FILLED) == (order.leaves_qty == 0)
