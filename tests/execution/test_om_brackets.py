"""Brackets through the OrderManager with a fake venue: exits appear with the first
entry fill, follow later fills, shrink with each other's fills, and one cancels the
other once the position is closed."""

from __future__ import annotations

from decimal import Decimal

import pytest
from om_fakes import BARE, BTC, FULL, AllowAll, CheckedStore, FakeVenue, ManualClock, fill

from engine.domain import (
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderSide,
    OrderStatus,
    OrderType,
    OrderUpdated,
    ValidationError,
)
from engine.domain.order import OrderTerms
from engine.ports import VenueCapabilities
from engine.services.brackets import BracketState
from engine.services.order_manager import OrderManager

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def make(caps: VenueCapabilities = FULL) -> tuple[OrderManager, FakeVenue, CheckedStore]:
    store = CheckedStore()
    venue = FakeVenue(store, caps)
    om = OrderManager(
        venue=venue, store=store, clock=ManualClock(), instruments={"BTCUSDT": BTC}, risk=AllowAll()
    )
    return om, venue, store


def filled(om: OrderManager, cid: str, side: OrderSide, price: str, qty: str) -> None:
    om.on_venue_event(
        OrderFilled(client_order_id=cid, ts_event=2, fill=fill(cid, side, price, qty))
    )


def accepted(om: OrderManager, *cids: str) -> None:
    for cid in cids:
        om.on_venue_event(OrderAccepted(client_order_id=cid, ts_event=1))


def bracket(om: OrderManager) -> tuple[str, str, str, str]:
    b = om.submit_bracket(
        symbol="BTCUSDT",
        side=BUY,
        quantity=D("0.010"),
        entry_price=D("60000.0"),
        stop_loss=D("59000.0"),
        take_profit=D("61000.0"),
    )
    return b.bracket_id, b.entry, b.stop_loss, b.take_profit


def test_take_profit_fills_partially_then_the_stop_closes_the_rest() -> None:
    om, venue, _ = make()
    bid, entry, sl, tp = bracket(om)
    assert (bid, entry, sl, tp) == ("qx-1", "qx-2", "qx-3", "qx-4")
    accepted(om, entry)
    assert [t.client_order_id for t in venue.commands("submit")] == [entry]

    filled(om, entry, BUY, "60000.0", "0.004")  # exits appear at the filled size
    exits = [t for t in venue.commands("submit") if isinstance(t, OrderTerms)][1:]
    assert [
        (t.client_order_id, t.side, t.order_type, t.quantity, t.reduce_only) for t in exits
    ] == [
        (sl, SELL, OrderType.STOP_MARKET, D("0.004"), True),
        (tp, SELL, OrderType.LIMIT, D("0.004"), True),
    ]
    assert (exits[0].trigger_price, exits[0].price, exits[1].price) == (
        D("59000.0"),
        None,
        D("61000.0"),
    )
    accepted(om, sl, tp)

    filled(om, entry, BUY, "60000.0", "0.006")  # the rest of the entry: exits grow to 0.010
    assert venue.commands("modify") == [(sl, D("0.010"), None, None), (tp, D("0.010"), None, None)]
    for cid in (sl, tp):
        om.on_venue_event(OrderUpdated(client_order_id=cid, ts_event=3, quantity=D("0.010")))

    filled(om, tp, SELL, "61000.0", "0.003")  # partial take-profit: stop shrinks to 0.007
    assert venue.commands("modify")[-1] == (sl, D("0.007"), None, None)
    om.on_venue_event(OrderUpdated(client_order_id=sl, ts_event=4, quantity=D("0.007")))

    filled(om, sl, SELL, "58990.0", "0.007")  # the stop closes the rest: the TP is canceled
    assert venue.commands("cancel") == [tp]
    om.on_venue_event(OrderCanceled(client_order_id=tp, ts_event=5))
    statuses = [om.order(c).status for c in (entry, sl, tp)]
    assert statuses == [OrderStatus.FILLED, OrderStatus.FILLED, OrderStatus.CANCELED]
    assert om.bracket(bid).state is BracketState.DONE
    assert om.order(tp).filled_qty + om.order(sl).filled_qty == om.order(entry).filled_qty


def test_entry_canceled_unfilled_creates_no_exits() -> None:
    om, venue, store = make()
    bid, entry, sl, tp = bracket(om)
    accepted(om, entry)
    om.cancel(entry)
    om.on_venue_event(OrderCanceled(client_order_id=entry, ts_event=3))
    assert om.bracket(bid).state is BracketState.DONE
    assert len(venue.commands("submit")) == 1
    assert store.of(sl) == [] and store.of(tp) == []


def test_take_profit_while_the_entry_still_works_ends_the_bracket() -> None:
    om, venue, _ = make()
    bid, entry, sl, tp = bracket(om)
    accepted(om, entry)
    filled(om, entry, BUY, "60000.0", "0.002")
    accepted(om, sl, tp)
    filled(om, tp, SELL, "61000.0", "0.002")
    assert sorted(venue.commands("cancel")) == sorted([entry, sl])
    assert om.bracket(bid).state is BracketState.DONE


def test_exits_follow_fills_by_cancel_replace_without_amend() -> None:
    caps = VenueCapabilities(
        order_types=FULL.order_types,
        time_in_force=FULL.time_in_force,
        trigger_sources=FULL.trigger_sources,
        amend=False,
    )
    om, venue, _ = make(caps)
    bid, entry, sl, tp = bracket(om)
    accepted(om, entry)
    filled(om, entry, BUY, "60000.0", "0.004")
    accepted(om, sl, tp)
    filled(om, entry, BUY, "60000.0", "0.006")
    assert venue.commands("cancel") == [sl, tp]
    om.on_venue_event(OrderCanceled(client_order_id=sl, ts_event=3))
    om.on_venue_event(OrderCanceled(client_order_id=tp, ts_event=3))
    b = om.bracket(bid)
    assert (b.stop_loss, b.take_profit) == ("qx-5", "qx-6")
    new = [t for t in venue.commands("submit") if isinstance(t, OrderTerms)][-2:]
    assert [(t.client_order_id, t.quantity, t.reduce_only) for t in new] == [
        ("qx-5", D("0.010"), True),
        ("qx-6", D("0.010"), True),
    ]
    accepted(om, "qx-5", "qx-6")
    filled(om, "qx-6", SELL, "61000.0", "0.010")
    assert venue.commands("cancel")[-1] == "qx-5"


def test_bracket_prices_on_the_wrong_side_are_refused() -> None:
    om, venue, store = make()
    with pytest.raises(ValidationError, match=r"stop_loss 61000\.0 is not on the losing side"):
        om.submit_bracket(
            symbol="BTCUSDT",
            side=BUY,
            quantity=D("1"),
            stop_loss=D("61000.0"),
            take_profit=D("60000.0"),
        )
    with pytest.raises(ValidationError, match=r"entry_price 62000\.0 is not between"):
        om.submit_bracket(
            symbol="BTCUSDT",
            side=BUY,
            quantity=D("1"),
            entry_price=D("62000.0"),
            stop_loss=D("59000.0"),
            take_profit=D("61000.0"),
        )
    assert len(store) == 0 and venue.sent == []


def test_bare_venue_brackets_are_recovered_from_the_journal() -> None:
    om, venue, store = make(BARE)
    bid, entry, sl, tp = bracket(om)
    accepted(om, entry)
    again = OrderManager.recover(
        venue=venue, store=store, clock=ManualClock(), instruments={"BTCUSDT": BTC}
    )
    b = again.bracket(bid)
    assert (b.entry, b.stop_loss, b.take_profit, b.stop_price) == (entry, sl, tp, D("59000.0"))
    assert again.order(entry).status is OrderStatus.ACCEPTED
