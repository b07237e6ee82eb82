"""Property: whatever a real OrderManager does, the SQLite orders read model shows the
orders as the manager holds them at the last commit, and a crash (close without commit)
then recovery from the same file gives back exactly that state."""

from __future__ import annotations

import tempfile
from decimal import Decimal
from pathlib import Path
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from store_fakes import BTC, BUY, SELL, FakeVenue, ManualClock, make_fill, run_started

from adapters.store.sqlite import RunReader, SqliteStore
from engine.domain import (
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderStatus,
    OrderType,
    OrderUpdated,
)
from engine.domain.order import Order
from engine.services.order_manager import OrderManager

LOT = Decimal("0.001")
TICK = Decimal("0.1")


_WORKING = (OrderStatus.SUBMITTED, OrderStatus.ACCEPTED, OrderStatus.PARTIALLY_FILLED)
_OPEN = (*_WORKING, OrderStatus.PENDING_CANCEL, OrderStatus.PENDING_UPDATE)
ACTIONS: dict[str, frozenset[OrderStatus] | None] = {
    "submit": None,
    "accept": frozenset({OrderStatus.SUBMITTED}),
    "fill": frozenset(_OPEN),
    "cancel": frozenset(_WORKING),
    "canceled": frozenset({OrderStatus.PENDING_CANCEL}),
    "modify": frozenset({OrderStatus.ACCEPTED}),
    "updated": frozenset({OrderStatus.PENDING_UPDATE}),
    "commit": None,
}
"""Each step draws one action among those some order's status allows."""


def _state(order: Order) -> tuple[Any, ...]:
    return (
        order.status.value,
        order.quantity,
        order.price,
        order.filled_qty,
        order.avg_fill_price,
        order.venue_order_id,
    )


def _row_state(row: dict[str, Any]) -> tuple[Any, ...]:
    return (
        row["status"],
        row["quantity"],
        row["price"],
        row["filled_qty"],
        row["avg_fill_price"],
        row["venue_order_id"],
    )


@settings(max_examples=60)
@given(data=st.data(), steps=st.integers(1, 60))
def test_the_read_model_is_the_managers_state_at_the_last_commit(
    data: st.DataObject, steps: int
) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "run.db"
        store = SqliteStore.open(path, run=run_started())
        clock = ManualClock(1_000)
        om = OrderManager(
            venue=FakeVenue(store), store=store, clock=clock, instruments={"BTCUSDT": BTC}
        )
        committed: dict[str, tuple[Any, ...]] = {}
        trades = 0
        for _ in range(steps):
            clock.now += 10
            orders = om.orders()
            present = {o.status for o in orders}
            possible = [a for a, needs in ACTIONS.items() if needs is None or present & needs]
            action = data.draw(st.sampled_from(possible))

            def pick(*states: OrderStatus, orders: tuple[Order, ...] = orders) -> Order | None:
                found = [o for o in orders if o.status in states]
                return data.draw(st.sampled_from(found)) if found else None

            if action == "submit":
                om.submit(
                    symbol="BTCUSDT",
                    side=data.draw(st.sampled_from([BUY, SELL])),
                    order_type=OrderType.LIMIT,
                    quantity=data.draw(st.integers(1, 20)) * LOT,
                    price=data.draw(st.integers(599_000, 601_000)) * TICK,
                )
            elif action == "accept" and (o := pick(OrderStatus.SUBMITTED)):
                event: Any = OrderAccepted(
                    client_order_id=o.client_order_id, ts_event=clock.now, venue_order_id="v"
                )
                om.on_venue_event(event)
            elif action == "fill" and (o := pick(*_OPEN)):
                lots = data.draw(st.integers(1, int(o.leaves_qty / LOT)))
                trades += 1
                fill = make_fill(
                    o.client_order_id, o.side, str(o.price), str(lots * LOT), f"t{trades}",
                    clock.now,
                )  # fmt: skip
                om.on_venue_event(
                    OrderFilled(client_order_id=o.client_order_id, ts_event=clock.now, fill=fill)
                )
            elif action == "cancel" and (o := pick(*_WORKING)):
                om.cancel(o.client_order_id)
            elif action == "canceled" and (o := pick(OrderStatus.PENDING_CANCEL)):
                cid = o.client_order_id
                om.on_venue_event(OrderCanceled(client_order_id=cid, ts_event=clock.now))
            elif action == "modify" and (o := pick(OrderStatus.ACCEPTED)):
                assert o.price is not None
                om.modify(o.client_order_id, price=o.price + TICK)
            elif action == "updated" and (o := pick(OrderStatus.PENDING_UPDATE)):
                assert o.price is not None
                update = OrderUpdated(
                    client_order_id=o.client_order_id, ts_event=clock.now, price=o.price + TICK
                )
                om.on_venue_event(update)
            elif action == "commit":
                store.commit()
                committed = {o.client_order_id: _state(o) for o in om.orders()}
            assert not om.anomalies

        with RunReader(path) as reader:
            rows = {r["client_order_id"]: _row_state(r) for r in reader.orders("run-1")}
        assert rows == committed
        store.close()  # the crash: whatever was not committed is gone

        with SqliteStore.open(path, resume="run-1") as again:
            recovered = OrderManager.recover(
                venue=FakeVenue(again), store=again, clock=clock, instruments={"BTCUSDT": BTC}
            )
            assert {o.client_order_id: _state(o) for o in recovered.orders()} == committed
            again.commit()
