"""Reconciliation: the journal squared with what a live venue holds, at start-up and
after every reconnect, before any trading.

The venue is the truth about what happened there; the journal is the truth about what
this engine asked for. `Reconciler.run` asks the venue (open orders, the fills of every
order the manager holds open, order by order, and each symbol's fills since a point in
time, for orders placed elsewhere; balances, positions) and then, in this order:
1. fills it has not seen (by trade id) are added as venue answers, so the portfolio and
   the order books take them the usual way. A fill of an order the manager never had
   adopts that order first (from the venue's lookup);
2. open orders at the venue the manager does not know are adopted, tagged EXTERNAL;
   an order of ours the venue holds open but the manager still thinks in flight is
   accepted;
3. orders the manager holds open that the venue does not list are looked up one by
   one: closed there -> closed here the same way (canceled, expired, rejected; a filled
   one is done by step 1); unknown there -> a submit that never arrived is rejected
   (`RECONCILE_NOT_AT_VENUE`) and anything else canceled with that reason;
4. balances: a difference left after the fills is money moved outside the run
   (deposits, withdrawals, funding payments) and is journaled as an `AccountFunded`
   of the difference, so the portfolio equals the venue again;
5. positions (derivatives): a difference left after the fills cannot be explained and
   is not papered over: reconciliation fails.

Every finding is journaled as a `Reconciled` record and listed in the report; the
caller commits. A venue that cannot answer (`VenueUnavailable`) fails the run of the
reconciler: nothing is changed on a partial picture, and the caller does not trade
until a later reconciliation succeeds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal

from engine.domain.enums import InstrumentKind, OrderStatus
from engine.domain.errors import DomainError
from engine.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderExpired,
    OrderFilled,
    OrderRejected,
)
from engine.domain.fill import Fill
from engine.domain.instrument import Instrument
from engine.domain.journal import Reconciled
from engine.domain.order import Order
from engine.ports.clock import Clock
from engine.ports.store import Store
from engine.ports.venue import VenueAccount, VenueOrderState, VenueUnavailable
from engine.services.order_manager import OrderManager
from engine.services.portfolio import DEFAULT_ACCOUNT, Portfolio
from engine.services.recovery import fund_account

__all__ = ["ReconcileReport", "Reconciler"]

NOT_AT_VENUE = "RECONCILE_NOT_AT_VENUE"


@dataclass(slots=True)
class ReconcileReport:
    """What one reconciliation found and did; `ok` False means do not trade."""

    ok: bool = True
    error: str = ""
    adopted: list[str] = field(default_factory=list)
    fills_added: list[str] = field(default_factory=list)
    resolved: list[str] = field(default_factory=list)
    balances_adjusted: list[str] = field(default_factory=list)
    position_mismatches: list[str] = field(default_factory=list)

    @property
    def findings(self) -> int:
        return (
            len(self.adopted)
            + len(self.fills_added)
            + len(self.resolved)
            + len(self.balances_adjusted)
            + len(self.position_mismatches)
        )

    def summary(self) -> str:
        if not self.ok:
            return f"FAILED: {self.error}"
        return (
            f"adopted={len(self.adopted)} fills_added={len(self.fills_added)} "
            f"resolved={len(self.resolved)} balances_adjusted={len(self.balances_adjusted)}"
        )


class Reconciler:
    def __init__(
        self,
        *,
        order_manager: OrderManager,
        portfolio: Portfolio,
        venue: VenueAccount,
        store: Store,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        account: str = DEFAULT_ACCOUNT,
        pump: Callable[[], None] = lambda: None,
    ) -> None:
        """`pump` runs after venue answers are applied (the kernel's: it books fills
        and runs what they queued)."""
        self._om = order_manager
        self._portfolio = portfolio
        self._venue = venue
        self._store = store
        self._clock = clock
        self._instruments = dict(instruments)
        self._account = account
        self._pump = pump

    def run(self, *, since_ns: int, known_trades: Iterable[str]) -> ReconcileReport:
        """One reconciliation: fills at or after `since_ns` whose trade id is not in
        `known_trades` are the missing ones. Journals its findings; the caller commits."""
        report = ReconcileReport()
        self._note("started", "-", f"since_ns={since_ns}")
        try:
            open_orders = self._venue.open_orders()
            fills = self._our_orders_fills()
            for symbol in sorted(self._instruments):
                fills.setdefault(symbol, []).extend(self._venue.fills(symbol, since_ns))
            ids = {o.client_order_id: o.venue_order_id for o in open_orders}
            self._add_fills(fills, set(known_trades), ids, report)
            self._adopt_open(open_orders, report)
            listed = {o.client_order_id for o in open_orders}
            self._resolve_missing(listed, report)
            self._pump()
            self._square_balances(self._venue.balances(), report)
            self._check_positions(self._venue.positions(), report)
        except VenueUnavailable as err:
            report.ok, report.error = False, f"VENUE_UNAVAILABLE: {err}"
        except DomainError as err:
            report.ok, report.error = False, f"DOES_NOT_APPLY: {err}"
        self._pump()
        self._note("done" if report.ok else "failed", "-", report.summary())
        return report

    # --- the steps ------------------------------------------------------------------------
    def _add_fills(
        self,
        fills: Mapping[str, list[Fill]],
        known: set[str],
        venue_ids: dict[str, str],
        report: ReconcileReport,
    ) -> None:
        for symbol in sorted(fills):
            for fill in fills[symbol]:
                if fill.trade_id in known:
                    continue
                known.add(fill.trade_id)
                order = self._known_or_adopted(symbol, fill.client_order_id, report)
                if order is None:
                    continue
                if order.status is OrderStatus.SUBMITTED and order.client_order_id not in venue_ids:
                    found = self._venue.order(symbol, order.client_order_id)
                    venue_ids[order.client_order_id] = "" if found is None else found.venue_order_id
                self._accept_if_in_flight(order, venue_ids.get(order.client_order_id, ""))
                if order.is_closed:
                    self._note(
                        "fill_ignored",
                        fill.trade_id,
                        f"order {order.client_order_id} is {order.status.value} here",
                    )
                    continue
                event = OrderFilled(
                    client_order_id=order.client_order_id,
                    ts_event=self._clock.now_ns(),
                    fill=fill,
                )
                self._om.on_venue_event(event)
                self._pump()
                report.fills_added.append(fill.trade_id)
                self._note(
                    "fill_added",
                    fill.trade_id,
                    f"{fill.client_order_id} {fill.side.value} {fill.quantity} @ {fill.price}",
                )

    def _our_orders_fills(self) -> dict[str, list[Fill]]:
        """The executions of every order the manager holds open at the venue, asked
        order by order (a fill while we were away is found whatever the clocks say)."""
        out: dict[str, list[Fill]] = {}
        for order in self._om.open_orders():
            cid = order.client_order_id
            if order.status is OrderStatus.INITIALIZED or self._om.is_emulated(cid):
                continue
            out.setdefault(order.symbol, []).extend(self._venue.order_fills(order.symbol, cid))
        return out

    def _adopt_open(self, open_orders: list[VenueOrderState], report: ReconcileReport) -> None:
        for state in open_orders:
            if state.symbol not in self._instruments:
                continue
            order = self._find(state.client_order_id)
            if order is None:
                self._adopt(state, report)
            else:
                self._accept_if_in_flight(order, state.venue_order_id)

    def _resolve_missing(self, listed: set[str], report: ReconcileReport) -> None:
        for order in self._om.open_orders():
            cid = order.client_order_id
            if cid in listed or order.status is OrderStatus.INITIALIZED:
                continue
            if self._om.is_emulated(cid):
                continue  # held here until its trigger fires: the venue never had it
            state = self._venue.order(order.symbol, cid)
            now = self._clock.now_ns()
            if state is None:
                if order.status is OrderStatus.SUBMITTED:
                    event: OrderRejected | OrderCanceled = OrderRejected(
                        client_order_id=cid, ts_event=now, reason=NOT_AT_VENUE
                    )
                else:
                    event = OrderCanceled(client_order_id=cid, ts_event=now, reason=NOT_AT_VENUE)
                self._close(order, event, "not at the venue", report)
                continue
            self._accept_if_in_flight(order, state.venue_order_id)
            if state.status == "open":
                continue  # listed late (it came in between the two queries)
            if state.status == "filled":
                if order.is_open:
                    why = f"filled {state.filled} there, {order.filled_qty} here"
                    self._note("unexplained", cid, why)
                    report.ok, report.error = False, f"FILLS_MISSING: {cid} {why}"
                continue
            if state.status == "canceled":
                closing: OrderCanceled | OrderExpired | OrderRejected = OrderCanceled(
                    client_order_id=cid, ts_event=now, reason="VENUE_CANCELED"
                )
            elif state.status == "expired":
                closing = OrderExpired(client_order_id=cid, ts_event=now)
            else:
                closing = OrderRejected(client_order_id=cid, ts_event=now, reason="VENUE_REJECTED")
            self._close(order, closing, f"{state.status} at the venue", report)

    def _square_balances(self, venue: Mapping[str, Decimal], report: ReconcileReport) -> None:
        ours = self._portfolio.balances(self._account)
        assets = {a for i in self._instruments.values() for a in (i.base, i.quote)}
        for asset in sorted(assets & (set(venue) | set(ours))):
            difference = venue.get(asset, Decimal(0)) - ours.get(asset, Decimal(0))
            if difference == 0:
                continue
            fund_account(
                self._portfolio,
                self._store,
                asset=asset,
                amount=difference,
                ts_event=self._clock.now_ns(),
                account=self._account,
            )
            report.balances_adjusted.append(asset)
            detail = f"ours {ours.get(asset, Decimal(0))} venue {venue.get(asset, Decimal(0))}"
            self._note("balance", asset, f"{detail}: adjusted by {difference}")

    def _check_positions(self, venue: Mapping[str, Decimal], report: ReconcileReport) -> None:
        for symbol, inst in sorted(self._instruments.items()):
            if inst.kind is InstrumentKind.SPOT:
                continue
            theirs = venue.get(symbol, Decimal(0))
            mine = self._portfolio.quantity(symbol)
            if theirs != mine:
                why = f"ours {mine} venue {theirs}"
                report.position_mismatches.append(symbol)
                self._note("position", symbol, f"{why}: unexplained, trading blocked")
                report.ok, report.error = False, f"POSITION_MISMATCH: {symbol} {why}"

    # --- helpers --------------------------------------------------------------------------
    def _find(self, cid: str) -> Order | None:
        try:
            return self._om.order(cid)
        except (KeyError, DomainError):
            return None

    def _known_or_adopted(self, symbol: str, cid: str, report: ReconcileReport) -> Order | None:
        order = self._find(cid)
        if order is not None:
            return order
        state = self._venue.order(symbol, cid)
        if state is None:
            self._note("unexplained", cid, "a fill of an order the venue cannot find")
            report.ok, report.error = False, f"ORPHAN_FILL: {cid}"
            return None
        return self._adopt(state, report)

    def _adopt(self, state: VenueOrderState, report: ReconcileReport) -> Order:
        order = self._om.adopt(state)
        report.adopted.append(state.client_order_id)
        self._note(
            "adopted",
            state.client_order_id,
            f"EXTERNAL {state.side.value} {state.quantity} {state.symbol} "
            f"{state.order_type.value} price={state.price} status={state.status} "
            f"venue_order_id={state.venue_order_id}",
        )
        return order  # closed already (found through a fill): step 3 closes it here too

    def _accept_if_in_flight(self, order: Order, venue_order_id: str = "") -> None:
        if order.status is OrderStatus.SUBMITTED:
            cid = order.client_order_id
            self._om.on_venue_event(
                OrderAccepted(
                    client_order_id=cid,
                    ts_event=self._clock.now_ns(),
                    venue_order_id=venue_order_id,
                )
            )

    def _close(
        self,
        order: Order,
        event: OrderCanceled | OrderExpired | OrderRejected,
        why: str,
        report: ReconcileReport,
    ) -> None:
        self._om.on_venue_event(event)
        report.resolved.append(order.client_order_id)
        self._note("resolved", order.client_order_id, f"{why}: {type(event).__name__}")

    def _note(self, action: str, subject: str, detail: str) -> None:
        self._store.append(
            Reconciled(ts_event=self._clock.now_ns(), action=action, subject=subject, detail=detail)
        )
