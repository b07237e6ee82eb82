"""Prices and quantities go onto the instrument's grid before the journal, the risk gate
and the venue see them: never more aggressive, never more than asked, a stop never
looser (the rounding rules in the order manager's docstring)."""

from __future__ import annotations

from decimal import Decimal

from om_fakes import BTC, FULL, AllowAll, CheckedStore, FakeVenue, ManualClock, fill

from engine.domain import OrderAccepted, OrderFilled, OrderSide, OrderType
from engine.domain.journal import OrderInitialized
from engine.domain.order import OrderTerms
from engine.services.order_manager import OrderManager

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def make() -> tuple[OrderManager, FakeVenue, AllowAll, CheckedStore]:
    store = CheckedStore()
    venue = FakeVenue(store, FULL)
    risk = AllowAll()
    om = OrderManager(
        venue=venue, store=store, clock=ManualClock(), instruments={"BTCUSDT": BTC}, risk=risk
    )
    return om, venue, risk, store


def limit(om: OrderManager, side: OrderSide, price: str, quantity: str = "0.010") -> None:
    om.submit(
        symbol="BTCUSDT",
        side=side,
        order_type=OrderType.LIMIT,
        quantity=D(quantity),
        price=D(price),
    )


def test_limit_prices_round_away_from_the_touch_and_quantities_down() -> None:
    om, venue, risk, store = make()
    limit(om, BUY, "60000.09", "0.0109")
    limit(om, SELL, "60000.01", "0.0101")
    sent = [t for t in venue.commands("submit") if isinstance(t, OrderTerms)]
    assert [(t.price, t.quantity) for t in sent] == [
        (D("60000.0"), D("0.010")),
        (D("60000.1"), D("0.010")),
    ]
    # The gate judged the rounded terms, and the journal holds them.
    assert [(t.price, t.quantity) for t in risk.checked] == [(t.price, t.quantity) for t in sent]
    journaled = [r.terms for _, r in store.records() if isinstance(r, OrderInitialized)]
    assert journaled == sent


def test_values_on_the_grid_are_kept_as_given() -> None:
    om, venue, _, _ = make()
    limit(om, BUY, "60000.0", "0.010")
    (terms,) = venue.commands("submit")
    assert isinstance(terms, OrderTerms)
    assert (terms.price, terms.quantity) == (D("60000.0"), D("0.010"))


def test_an_amendment_is_rounded_the_same_way() -> None:
    om, venue, _, _ = make()
    limit(om, SELL, "60000.0", "0.010")
    om.on_venue_event(OrderAccepted(client_order_id="qx-1", ts_event=2_000))
    om.modify("qx-1", price=D("60100.04"), quantity=D("0.0209"))
    assert venue.commands("modify") == [("qx-1", D("0.020"), D("60100.1"), None)]


def test_bracket_exits_round_to_the_safe_side() -> None:
    om, _, _, _ = make()
    bracket = om.submit_bracket(
        symbol="BTCUSDT",
        side=BUY,
        quantity=D("0.0105"),
        entry_price=D("60000.07"),
        stop_loss=D("59000.01"),
        take_profit=D("61000.01"),
    )
    entry = om.order(bracket.entry)
    assert (entry.price, entry.quantity) == (D("60000.0"), D("0.010"))
    # The exits SELL: the stop rounds up (fires no later), the take-profit up (no worse).
    om.on_venue_event(OrderAccepted(client_order_id=bracket.entry, ts_event=2_000))
    om.on_venue_event(
        OrderFilled(
            client_order_id=bracket.entry,
            ts_event=2_000,
            fill=fill(bracket.entry, BUY, "60000.0", "0.010"),
        )
    )
    assert om.order(bracket.stop_loss).trigger_price == D("59000.1")
    assert om.order(bracket.take_profit).price == D("61000.1")
