"""Reconciliation against a hand-written venue: each kind of difference between the
journal and the venue, what is journaled for it, and when trading must not start."""

from __future__ import annotations

from decimal import Decimal

import pytest

from adapters.store.memory import MemoryStore
from engine.domain import (
    Fill,
    InstrumentKind,
    Liquidity,
    OrderAccepted,
    OrderFilled,
    OrderSide,
    OrderStatus,
    OrderType,
)
from engine.domain.instrument import Instrument
from engine.domain.journal import AccountFunded, Handling, OrderInitialized, Reconciled
from engine.domain.order import OrderTerms
from engine.ports import VenueCapabilities, VenueOrderState, VenueUnavailable
from engine.services.order_manager import OrderManager
from engine.services.portfolio import Portfolio
from engine.services.reconcile import NOT_AT_VENUE, Reconciler

D = Decimal
PERP = Instrument(
    symbol="BTC/USDT:USDT",
    base="BTC",
    quote="USDT",
    kind=InstrumentKind.LINEAR_PERPETUAL,
    tick_size=D("0.1"),
    lot_size=D("0.001"),
    min_quantity=D("0.001"),
    max_quantity=D("1000"),
    min_notional=D("5"),
    maker_fee_rate=D("0.0002"),
    taker_fee_rate=D("0.0005"),
    price_precision=1,
    quantity_precision=3,
)
S = PERP.symbol


class Clock:
    def __init__(self) -> None:
        self.now = 1_000

    def now_ns(self) -> int:
        self.now += 1
        return self.now


class Commands:
    """The venue side the order manager sends to: records, sends nowhere."""

    capabilities = VenueCapabilities(
        order_types=frozenset({OrderType.LIMIT, OrderType.MARKET}),
        time_in_force=frozenset(),
        trigger_sources=frozenset(),
        amend=False,
    )

    def __init__(self) -> None:
        self.sent: list[object] = []

    def submit(self, terms: OrderTerms) -> None:
        self.sent.append(("submit", terms.client_order_id))

    def cancel(self, client_order_id: str) -> None:
        self.sent.append(("cancel", client_order_id))

    def modify(self, client_order_id: str, **_: object) -> None:
        self.sent.append(("modify", client_order_id))


class Account:
    """What the venue holds, as the reconciler asks for it."""

    def __init__(self) -> None:
        self.open: list[VenueOrderState] = []
        self.orders: dict[str, VenueOrderState] = {}
        self.trades: list[Fill] = []
        self.held: dict[str, Decimal] = {"USDT": D("10000")}
        self.pos: dict[str, Decimal] = {}
        self.down = False
        self.asked: list[str] = []

    def _ask(self, what: str) -> None:
        self.asked.append(what)
        if self.down:
            raise VenueUnavailable(f"{what}: connection refused")

    def open_orders(self) -> list[VenueOrderState]:
        self._ask("open_orders")
        return list(self.open)

    def order(self, symbol: str, client_order_id: str) -> VenueOrderState | None:
        self._ask(f"order {client_order_id}")
        return self.orders.get(client_order_id)

    def fills(self, symbol: str, since_ns: int) -> list[Fill]:
        self._ask("fills")
        return [f for f in self.trades if f.symbol == symbol and f.ts_event >= since_ns]

    def order_fills(self, symbol: str, client_order_id: str) -> list[Fill]:
        self._ask(f"order_fills {client_order_id}")
        return [f for f in self.trades if f.client_order_id == client_order_id]

    def balances(self) -> dict[str, Decimal]:
        self._ask("balances")
        return dict(self.held)

    def positions(self) -> dict[str, Decimal]:
        self._ask("positions")
        return dict(self.pos)


def state(cid: str, status: str, filled: str = "0", **kw: object) -> VenueOrderState:
    fields: dict[str, object] = {
        "client_order_id": cid,
        "venue_order_id": f"v-{cid}",
        "symbol": S,
        "side": OrderSide.BUY,
        "order_type": OrderType.LIMIT,
        "quantity": D("0.010"),
        "price": D("60000.0"),
        "trigger_price": None,
        "filled": D(filled),
        "status": status,
        "reduce_only": False,
        "ts_event": 5,
    }
    fields.update(kw)
    return VenueOrderState(**fields)  # type: ignore[arg-type]


def trade(cid: str, trade_id: str, qty: str, ts: int = 10) -> Fill:
    return Fill(
        trade_id=trade_id,
        client_order_id=cid,
        symbol=S,
        side=OrderSide.BUY,
        price=D("60000.0"),
        quantity=D(qty),
        fee=D("0.12"),
        fee_currency="USDT",
        liquidity=Liquidity.MAKER,
        ts_event=ts,
    )


class Rig:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.clock = Clock()
        self.commands = Commands()
        self.om = OrderManager(
            venue=self.commands,
            store=self.store,
            clock=self.clock,
            instruments={S: PERP},
        )
        self.portfolio = Portfolio([PERP])
        self.portfolio.credit("USDT", D("10000"))
        self.om.subscribe(self._book)
        self.venue = Account()

    def _book(self, order: object, event: object) -> None:
        if isinstance(event, OrderFilled):
            self.portfolio.apply_fill(event.fill)

    def buy(self) -> str:
        order = self.om.submit(
            symbol=S, side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=D("0.010"),
            price=D("60000.0"),
        )  # fmt: skip
        return order.client_order_id

    def reconcile(self, known: tuple[str, ...] = ()) -> tuple[object, list[Reconciled]]:
        before = len(list(self.store.records()))
        report = Reconciler(
            order_manager=self.om,
            portfolio=self.portfolio,
            venue=self.venue,
            store=self.store,
            clock=self.clock,
            instruments={S: PERP},
        ).run(since_ns=0, known_trades=known)
        notes = [r for _, r in list(self.store.records())[before:] if isinstance(r, Reconciled)]
        return report, notes


def actions(notes: list[Reconciled]) -> list[tuple[str, str]]:
    return [(n.action, n.subject) for n in notes]


def test_nothing_to_do_journals_start_and_done_only() -> None:
    rig = Rig()
    report, notes = rig.reconcile()
    assert report.ok and report.findings == 0  # type: ignore[attr-defined]
    assert actions(notes) == [("started", "-"), ("done", "-")]


def test_a_submit_journaled_but_never_sent_is_rejected_not_resent() -> None:
    # The crash came between journaling the order and sending it.
    rig = Rig()
    cid = rig.buy()
    rig.commands.sent.clear()
    report, notes = rig.reconcile()
    order = rig.om.order(cid)
    assert order.status is OrderStatus.REJECTED and order.events[-1].reason == NOT_AT_VENUE
    assert rig.commands.sent == []  # nothing sent again
    assert ("resolved", cid) in actions(notes) and report.ok  # type: ignore[attr-defined]


def test_an_order_sent_but_unacknowledged_is_accepted_with_its_fills() -> None:
    # The crash came between sending it and its acknowledgement; it part-filled since.
    rig = Rig()
    cid = rig.buy()
    rig.venue.open = [state(cid, "open", "0.004")]
    rig.venue.trades = [trade(cid, "T1", "0.004")]
    rig.venue.pos = {S: D("0.004")}
    rig.venue.held = {"USDT": D("10000") - D("0.12")}
    report, notes = rig.reconcile()
    order = rig.om.order(cid)
    assert order.status is OrderStatus.PARTIALLY_FILLED and order.filled_qty == D("0.004")
    assert order.venue_order_id == f"v-{cid}"
    assert rig.portfolio.quantity(S) == D("0.004")
    assert report.ok and report.fills_added == ["T1"]  # type: ignore[attr-defined]
    assert ("fill_added", "T1") in actions(notes)


def test_known_trades_are_not_added_twice() -> None:
    rig = Rig()
    cid = rig.buy()
    rig.venue.open = [state(cid, "open", "0.004")]
    rig.venue.trades = [trade(cid, "T1", "0.004")]
    rig.venue.pos = {S: D("0.004")}
    rig.venue.held = {"USDT": D("10000") - D("0.12")}
    rig.reconcile()
    report, notes = rig.reconcile(known=("T1",))
    assert rig.om.order(cid).filled_qty == D("0.004")
    assert report.fills_added == []  # type: ignore[attr-defined]
    assert actions(notes) == [("started", "-"), ("done", "-")]


def test_an_order_filled_while_we_were_away_gets_its_fills() -> None:
    rig = Rig()
    cid = rig.buy()
    rig.om.on_venue_event(
        OrderAccepted(client_order_id=cid, ts_event=1_100, venue_order_id=f"v-{cid}")
    )
    rig.venue.orders[cid] = state(cid, "filled", "0.010")
    rig.venue.trades = [trade(cid, "T1", "0.006"), trade(cid, "T2", "0.004")]
    rig.venue.pos = {S: D("0.010")}
    rig.venue.held = {"USDT": D("10000") - D("0.24")}
    report, _ = rig.reconcile()
    assert rig.om.order(cid).status is OrderStatus.FILLED
    assert report.ok and report.fills_added == ["T1", "T2"]  # type: ignore[attr-defined]
    assert rig.portfolio.quantity(S) == D("0.010")


def test_orders_closed_at_the_venue_are_closed_here_the_same_way() -> None:
    rig = Rig()
    canceled, unknown = rig.buy(), rig.buy()
    for cid in (canceled, unknown):
        rig.om.on_venue_event(OrderAccepted(client_order_id=cid, ts_event=1_100))
    rig.venue.orders[canceled] = state(canceled, "canceled")
    report, _ = rig.reconcile()
    assert rig.om.order(canceled).status is OrderStatus.CANCELED
    assert rig.om.order(unknown).status is OrderStatus.CANCELED
    assert rig.om.order(unknown).events[-1].reason == NOT_AT_VENUE
    assert report.resolved == [canceled, unknown]  # type: ignore[attr-defined]


def test_an_order_placed_elsewhere_is_adopted_as_external() -> None:
    rig = Rig()
    rig.venue.open = [state("web_7", "open", side=OrderSide.SELL, price=D("61000.0"))]
    report, notes = rig.reconcile()
    order = rig.om.order("web_7")
    assert order.status is OrderStatus.ACCEPTED and order.side is OrderSide.SELL
    assert order.price == D("61000.0") and order.venue_order_id == "v-web_7"
    init = [r for _, r in rig.store.records() if isinstance(r, OrderInitialized)]
    assert init[-1].handling is Handling.EXTERNAL
    assert report.adopted == ["web_7"] and ("adopted", "web_7") in actions(notes)  # type: ignore[attr-defined]
    # It is never amended; it can be canceled (an emergency stop cancels everything).
    with pytest.raises(ValueError, match="EXTERNAL"):
        rig.om.modify("web_7", price=D("61100.0"))
    assert rig.om.cancel("web_7") and rig.commands.sent[-1] == ("cancel", "web_7")


def test_a_fill_of_a_closed_external_order_adopts_it_then_closes_it() -> None:
    rig = Rig()
    rig.venue.orders["web_8"] = state("web_8", "filled", "0.010")
    rig.venue.trades = [trade("web_8", "T9", "0.010")]
    rig.venue.pos = {S: D("0.010")}
    rig.venue.held = {"USDT": D("10000") - D("0.12")}
    report, _ = rig.reconcile()
    assert rig.om.order("web_8").status is OrderStatus.FILLED
    assert report.ok and report.adopted == ["web_8"] and report.fills_added == ["T9"]  # type: ignore[attr-defined]


def test_a_balance_moved_outside_the_run_is_journaled_and_squared() -> None:
    rig = Rig()
    rig.venue.held = {"USDT": D("10500")}  # a deposit
    report, notes = rig.reconcile()
    assert rig.portfolio.balances()["USDT"] == D("10500")
    funded = [r for _, r in rig.store.records() if isinstance(r, AccountFunded)]
    assert [(f.asset, f.amount) for f in funded] == [("USDT", D("500"))]
    assert report.ok and report.balances_adjusted == ["USDT"]  # type: ignore[attr-defined]
    assert ("balance", "USDT") in actions(notes)


def test_an_unexplained_position_blocks_trading() -> None:
    rig = Rig()
    rig.venue.pos = {S: D("0.5")}
    report, notes = rig.reconcile()
    assert not report.ok and report.error.startswith("POSITION_MISMATCH")  # type: ignore[attr-defined]
    assert rig.portfolio.quantity(S) == 0  # not papered over
    assert actions(notes)[-1] == ("failed", "-")


def test_a_venue_that_cannot_answer_fails_and_changes_nothing() -> None:
    rig = Rig()
    cid = rig.buy()
    rig.venue.down = True
    report, notes = rig.reconcile()
    assert not report.ok and report.error.startswith("VENUE_UNAVAILABLE")  # type: ignore[attr-defined]
    assert rig.om.order(cid).status is OrderStatus.SUBMITTED
    assert actions(notes) == [("started", "-"), ("failed", "-")]


def test_fills_of_our_orders_are_found_by_order_whatever_the_clocks_say() -> None:
    rig = Rig()
    cid = rig.buy()
    rig.om.on_venue_event(OrderAccepted(client_order_id=cid, ts_event=1_100))
    rig.venue.open = [state(cid, "open", "0.004")]
    rig.venue.trades = [trade(cid, "T1", "0.004", ts=0)]  # the exchange's clock is behind
    rig.venue.pos = {S: D("0.004")}
    rig.venue.held = {"USDT": D("10000") - D("0.12")}
    report = Reconciler(
        order_manager=rig.om,
        portfolio=rig.portfolio,
        venue=rig.venue,
        store=rig.store,
        clock=rig.clock,
        instruments={S: PERP},
    ).run(since_ns=10**18, known_trades=())
    assert report.ok and report.fills_added == ["T1"]
    assert rig.om.order(cid).filled_qty == D("0.004")
