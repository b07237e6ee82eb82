"""Crash recovery: a run's committed state rebuilt from its journal, checked, and the
simulated venue that died with the old process set up again.

What a restart does, in order (the kernel wires it; see `recover_run`, `restore_venue`,
`resend_in_flight`, or `restart_venue` for both):
1. `recover_run` replays the committed journal: the order manager (`OrderManager.recover`:
   orders, brackets, replacements, emulated stops armed again), a fresh portfolio (the
   `AccountFunded` records and every `OrderFilled` in journal order), the kernel's
   strategy-visible counters (trade P&L list, traded notional; `TradeCounters`), the
   last sequence number and timestamp, and the requests still in flight. It sends
   nothing and writes nothing. It checks itself: every position and balance must equal
   the last `PositionSnapshot` / `BalanceSnapshot` the journal holds for it, every traded
   symbol and every non-zero balance must have one; anything else is a RecoveryError (a
   journal that does not add up is not traded on).
2. `restore_venue` gives a fresh simulated venue what the journal says the old one held
   (before any market data: it sends and journals nothing), then `resend_in_flight`
   deals with the requests in flight (once the venue has a book: a submit on a stale
   book is rejected):
   - positions: the venue's own position (reduce-only) = the recovered position;
   - ids: each instrument's counter moves past every venue order id in the journal (a
     released emulated order's venue id is not journaled: a new order may get the id
     the old venue gave it; trade ids stay unique, being per order);
   - open orders: an order whose submit was answered and that is not closed is put back
     under the same client and venue order id, with what it filled, without a second
     acknowledgement (`SimulatedVenue.restore`). Its queue place restarts at the back of
     its level: the old venue's place is not journaled, and the back is the conservative
     guess. A venue-side trailing stop trails again from the next price (the old ratchet
     was the venue's and is not journaled);
   - requests in flight (journaled, write-ahead, but unanswered when the process died:
     the old venue lost them or never answered) are sent again, in journal order, as if
     they arrived late: submits (with the same terms and client order id; not checked
     by the risk gate again, they passed it when journaled) and cancels. A released
     emulated order without a fill counts as an unanswered submit (the venue's ack of a
     released order is not journaled), so it is sent again. An amendment in flight
     cannot be sent again: the journal holds the request but not its new values, so it
     is answered with OrderUpdateRejected (reason `RESTART`), journaled like any answer,
     and the order keeps its old terms; a strategy that still wants it asks again.
   The caller then pumps the venue's answers and commits.

What is not recovered here: the strategy object's own fields (it starts again from
`on_start`), the kernel's timers, and the order manager's local GTD expiry and
cancel-replace plans (not journaled; unused with the simulated venue, which has GTD and
amends).

Starting funds must be journaled for any of this to work: `fund_account` credits the
portfolio and journals an `AccountFunded` with the `BalanceSnapshot` after it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any, Literal, Protocol

from engine.domain.enums import OrderStatus, TimeInForce
from engine.domain.errors import DomainError, ValidationError
from engine.domain.events import (
    OrderAccepted,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdateRejected,
)
from engine.domain.fill import Fill
from engine.domain.instrument import Instrument
from engine.domain.journal import (
    AccountFunded,
    BalanceSnapshot,
    PositionSnapshot,
    RunStarted,
)
from engine.domain.order import Order, OrderTerms
from engine.ports.clock import Clock
from engine.ports.store import Store
from engine.ports.venue import ExecutionVenue
from engine.services.order_manager import OrderManager, PreTradeCheck, _released_terms
from engine.services.portfolio import DEFAULT_ACCOUNT, FeePrice, Portfolio

__all__ = [
    "RESTART_REASON",
    "InFlight",
    "Recovered",
    "RecoveryError",
    "Resent",
    "Restarted",
    "RestorableVenue",
    "TradeCounters",
    "VenueOrder",
    "fund_account",
    "recover_run",
    "resend_in_flight",
    "restart_venue",
    "restore_venue",
]

RESTART_REASON = "RESTART: amendment lost in a restart, its new values are not journaled"
"""The reason of the OrderUpdateRejected that answers an amendment in flight at a crash."""


class RecoveryError(DomainError):
    """The journal does not rebuild a consistent state (a snapshot disagrees, a record
    does not apply, an order cannot be put back): the run must not go on from it."""


# --- funding -----------------------------------------------------------------------------
def fund_account(
    portfolio: Portfolio,
    store: Store,
    *,
    asset: str,
    amount: Decimal,
    ts_event: int,
    account: str = DEFAULT_ACCOUNT,
) -> Decimal:
    """Credits `amount` of `asset` to `account` (negative: a withdrawal) and journals it:
    an AccountFunded, then the BalanceSnapshot of the new total. Returns the new total.
    A refused credit journals nothing; a refused append undoes the credit (the asset
    stays listed at its old total) and the caller must stop: the batch may hold the
    first record and must not be committed."""
    record = AccountFunded(ts_event=ts_event, account=account, asset=asset, amount=amount)
    total = portfolio.credit(asset, amount, account)
    try:
        store.append(record)
        store.append(BalanceSnapshot(ts_event=ts_event, account=account, asset=asset, total=total))
    except BaseException:
        portfolio.credit(asset, -amount, account)
        raise
    return total


# --- the kernel's counters ------------------------------------------------------------------
@dataclass(slots=True)
class TradeCounters:
    """What the kernel counts per fill for the strategy and the statistics, by the
    kernel's rule: a trade is a fill that reduces or closes (or flips) a position, its
    P&L what that fill realized net of its fee; every fill adds its notional."""

    trade_pnl: list[Decimal] = field(default_factory=list)
    traded_notional: Decimal = Decimal(0)

    def book(self, portfolio: Portfolio, fill: Fill) -> Decimal:
        """Books `fill` into `portfolio` and counts it; returns its realized P&L."""
        before = portfolio.quantity(fill.symbol)
        realized = portfolio.apply_fill(fill)
        after = portfolio.quantity(fill.symbol)
        self.traded_notional += fill.notional
        if before != 0 and (abs(after) < abs(before) or after * before < 0):
            self.trade_pnl.append(realized)
        return realized


# --- what the journal says about the venue -----------------------------------------------------
@dataclass(frozen=True, slots=True)
class InFlight:
    """A request journaled before it was sent and never answered: `seq` is its record."""

    client_order_id: str
    kind: Literal["submit", "cancel", "update"]
    seq: int


@dataclass(frozen=True, slots=True)
class VenueOrder:
    """An order the journal says the venue held: its submit was answered and it is not
    closed. `terms` are what the venue works (a released emulated order: the market or
    limit order it became); `venue_order_id` is "" when never known; `triggered`: a
    venue-side conditional order that fired (it now works as the order it released)."""

    order: Order
    terms: OrderTerms
    venue_order_id: str
    triggered: bool


# --- the result ------------------------------------------------------------------------------
@dataclass(slots=True)
class Recovered:
    """A run's committed state, rebuilt and checked (see the module docstring)."""

    run: RunStarted | None
    order_manager: OrderManager
    portfolio: Portfolio
    counters: TradeCounters
    fills: int
    last_seq: int
    last_ts: int
    in_flight: tuple[InFlight, ...]
    at_venue: tuple[VenueOrder, ...]
    position_accounts: dict[str, str]
    """symbol -> the account its last PositionSnapshot names (traded symbols only)."""
    accounts: tuple[str, ...]
    """Accounts the journal funded or snapshotted, sorted."""
    funding: tuple[AccountFunded, ...]
    """The funding records, in journal order; empty when the process died before its
    starting funds were committed (fund the run again then, as a new one would be)."""
    checked: int
    """Snapshots compared with the rebuilt state (the last one per position and balance)."""

    @property
    def trade_pnl(self) -> list[Decimal]:
        return self.counters.trade_pnl

    @property
    def traded_notional(self) -> Decimal:
        return self.counters.traded_notional

    def state(self) -> dict[str, dict[str, Any]]:
        """The committed state in the shape the read models have, to compare with them:
        orders by client id (status value, filled, leaves), positions by
        "account/symbol" for traded symbols (quantity, average entry, realized P&L,
        fees), non-zero balances by "account/asset"."""
        orders = {
            o.client_order_id: {
                "status": o.status.value,
                "filled": o.filled_qty,
                "leaves": o.leaves_qty,
            }
            for o in self.order_manager.orders()
        }
        positions = {}
        for symbol, account in self.position_accounts.items():
            p = self.portfolio.position(symbol)
            positions[f"{account}/{symbol}"] = {
                "quantity": p.quantity,
                "avg_entry_price": p.avg_entry_price,
                "realized_pnl": p.realized_pnl,
                "fees": p.fees,
            }
        balances: dict[str, Any] = {}
        for account in self.accounts:
            for asset, total in self.portfolio.balances(account).items():
                if total != 0:
                    balances[f"{account}/{asset}"] = total
        return {"orders": orders, "positions": positions, "balances": balances}


# --- rebuilding --------------------------------------------------------------------------------
def recover_run(
    store: Store,
    *,
    instruments: Mapping[str, Instrument],
    venue: ExecutionVenue,
    clock: Clock,
    risk: PreTradeCheck | None = None,
    id_prefix: str = "qx",
    portfolio: Portfolio | None = None,
    accounts: Mapping[str, str] | None = None,
    fee_price: FeePrice | None = None,
) -> Recovered:
    """Rebuilds a run from `store`'s records (after `SqliteStore.open(path, resume=id)`,
    the committed ones) and checks it; sends and writes nothing.

    `portfolio`: an empty one holding `instruments`, for a caller whose risk gate reads
    it (wire the gate first, then recover into it); without it one is built here with
    each instrument in `accounts[symbol]` (default "main") and `fee_price`. `venue`,
    `clock`, `risk` and `id_prefix` go to the recovered order manager (`venue` is where
    it sends from now on). RecoveryError when the journal does not add up."""
    portfolio = _empty_portfolio(portfolio, instruments, accounts or {}, fee_price)
    try:
        om = OrderManager.recover(
            venue=venue,
            store=store,
            clock=clock,
            instruments=instruments,
            risk=risk,
            id_prefix=id_prefix,
        )
    except (DomainError, KeyError) as err:
        raise RecoveryError("journal", type(err).__name__, f"does not replay: {err}") from err
    counters = TradeCounters()
    run: RunStarted | None = None
    fills = last_seq = last_ts = 0
    traded: set[str] = set()
    positions: dict[str, PositionSnapshot] = {}
    balances: dict[tuple[str, str], BalanceSnapshot] = {}
    funding: list[AccountFunded] = []
    requests: dict[tuple[str, str], int] = {}  # (client id, record type) -> its last seq
    for seq, record in store.records():
        last_seq = seq
        last_ts = max(last_ts, record.ts_event)
        if isinstance(record, OrderFilled):
            fill = record.fill
            try:
                counters.book(portfolio, fill)
            except DomainError as err:
                rule = f"does not book: {err}"
                raise RecoveryError(f"record {seq} OrderFilled", fill.trade_id, rule) from err
            fills += 1
            traded.add(fill.symbol)
        elif isinstance(record, OrderSubmitted | OrderPendingCancel | OrderPendingUpdate):
            requests[(record.client_order_id, type(record).__name__)] = seq
        elif isinstance(record, OrderTriggered):
            requests[(record.client_order_id, "OrderTriggered")] = seq
        elif isinstance(record, PositionSnapshot):
            positions[record.symbol] = record
        elif isinstance(record, BalanceSnapshot):
            balances[(record.account, record.asset)] = record
        elif isinstance(record, AccountFunded):
            try:
                portfolio.credit(record.asset, record.amount, record.account)
            except DomainError as err:
                rule = f"does not book: {err}"
                raise RecoveryError(f"record {seq} AccountFunded", record.asset, rule) from err
            funding.append(record)
        elif isinstance(record, RunStarted):
            run = record
    checked = _check(portfolio, traded, positions, balances)
    in_flight, at_venue = _venue_view(om, requests)
    return Recovered(
        run=run,
        order_manager=om,
        portfolio=portfolio,
        counters=counters,
        fills=fills,
        last_seq=last_seq,
        last_ts=last_ts,
        in_flight=in_flight,
        at_venue=at_venue,
        position_accounts={s: positions[s].account for s in sorted(traded)},
        accounts=tuple(sorted({f.account for f in funding} | {a for a, _ in balances})),
        funding=tuple(funding),
        checked=checked,
    )


def _empty_portfolio(
    portfolio: Portfolio | None,
    instruments: Mapping[str, Instrument],
    accounts: Mapping[str, str],
    fee_price: FeePrice | None,
) -> Portfolio:
    if portfolio is None:
        portfolio = Portfolio(fee_price=fee_price)
        for symbol, instrument in instruments.items():
            portfolio.add_instrument(instrument, account=accounts.get(symbol, DEFAULT_ACCOUNT))
        return portfolio
    missing = sorted(set(instruments) - set(portfolio.symbols()))
    if missing:
        raise RecoveryError("portfolio", missing, "lacks these instruments (rule: all of them)")
    for symbol in portfolio.symbols():
        p = portfolio.position(symbol)
        if p.quantity or p.realized_pnl or p.fees:
            rule = "has booked fills (rule: recover into an empty portfolio)"
            raise RecoveryError("portfolio", symbol, rule)
    for account in {DEFAULT_ACCOUNT, *accounts.values()}:
        if any(portfolio.balances(account).values()):
            rule = (
                "has balances (rule: recover into an empty portfolio; funds come from the journal)"
            )
            raise RecoveryError("portfolio", account, rule)
    return portfolio


def _check(
    portfolio: Portfolio,
    traded: set[str],
    positions: Mapping[str, PositionSnapshot],
    balances: Mapping[tuple[str, str], BalanceSnapshot],
) -> int:
    """Compares the rebuilt portfolio with the last snapshots; returns how many."""
    missing = sorted(traded - set(positions))
    if missing:
        raise RecoveryError("PositionSnapshot", missing[0], "is missing for a traded symbol")
    for symbol, snap in sorted(positions.items()):
        try:
            have = portfolio.position(symbol)
        except ValidationError as err:
            raise RecoveryError("PositionSnapshot.symbol", symbol, f"is unknown: {err}") from err
        for name in ("quantity", "avg_entry_price", "realized_pnl", "fees", "currency"):
            rebuilt, journaled = getattr(have, name), getattr(snap, name)
            if rebuilt != journaled:
                rule = f"rebuilt from the journal, but its last PositionSnapshot says {journaled}"
                raise RecoveryError(f"{symbol} {name}", rebuilt, rule)
    for (account, asset), balance in sorted(balances.items()):
        rebuilt = portfolio.balances(account).get(asset, Decimal(0))
        if rebuilt != balance.total:
            rule = f"rebuilt from the journal, but its last BalanceSnapshot says {balance.total}"
            raise RecoveryError(f"{account} {asset} balance", rebuilt, rule)
    for account in sorted({a for a, _ in balances} | {DEFAULT_ACCOUNT}):
        for asset, total in portfolio.balances(account).items():
            if total != 0 and (account, asset) not in balances:
                rule = "has no BalanceSnapshot in the journal (rule: every balance is journaled)"
                raise RecoveryError(f"{account} {asset} balance", total, rule)
    return len(positions) + len(balances)


def _venue_view(
    om: OrderManager, requests: Mapping[tuple[str, str], int]
) -> tuple[tuple[InFlight, ...], tuple[VenueOrder, ...]]:
    """Which orders the venue held, and which requests it never answered."""
    in_flight: list[InFlight] = []
    at_venue: list[VenueOrder] = []
    for order in om.orders():
        if order.is_closed or order.status is OrderStatus.INITIALIZED:
            continue
        cid = order.client_order_id
        events = order.events
        released = om.is_emulated(cid)
        if released:
            fired = [i for i, e in enumerate(events) if isinstance(e, OrderTriggered)]
            if not fired:
                continue  # held by the local emulator, armed again by the manager
            # Sent when it fired; the venue's ack of it is not journaled, only its fills.
            terms = _released_terms(order.terms)
            answered = any(isinstance(e, OrderFilled) for e in events[fired[-1] :])
            request = "OrderTriggered"
        else:
            terms = order.terms
            answers = OrderAccepted | OrderFilled | OrderTriggered
            answered = any(isinstance(e, answers) for e in events)
            request = "OrderSubmitted"
        if answered:
            triggered = not released and any(isinstance(e, OrderTriggered) for e in events)
            venue_id = "" if released else order.venue_order_id
            at_venue.append(VenueOrder(order, terms, venue_id, triggered))
        else:
            in_flight.append(InFlight(cid, "submit", requests[(cid, request)]))
        if order.status is OrderStatus.PENDING_CANCEL:
            in_flight.append(InFlight(cid, "cancel", requests[(cid, "OrderPendingCancel")]))
        if order.update_in_flight:
            in_flight.append(InFlight(cid, "update", requests[(cid, "OrderPendingUpdate")]))
    in_flight.sort(key=lambda r: r.seq)
    return tuple(in_flight), tuple(at_venue)


# --- the fresh venue -----------------------------------------------------------------------------
class RestorableVenue(ExecutionVenue, Protocol):
    """A venue that lives in the process (the simulated one) and can be given back what
    it held before a restart."""

    def restore(
        self,
        terms: OrderTerms,
        *,
        venue_order_id: str,
        filled: Decimal,
        fills: int,
        triggered: bool = False,
    ) -> str:
        """Puts the order back without an acknowledgement; returns its venue order id."""
        ...

    def reserve_order_ids(self, symbol: str, next_id: int) -> None: ...

    def set_position(self, symbol: str, quantity: Decimal) -> None: ...


@dataclass(frozen=True, slots=True)
class Resent:
    """What `resend_in_flight` did, by client order id, each in the order it was done."""

    resubmitted: tuple[str, ...]
    recanceled: tuple[str, ...]
    updates_rejected: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Restarted:
    """What `restart_venue` did: the orders put back, then what was resent."""

    restored: tuple[str, ...]
    resubmitted: tuple[str, ...]
    recanceled: tuple[str, ...]
    updates_rejected: tuple[str, ...]


def restore_venue(recovered: Recovered, venue: RestorableVenue) -> tuple[str, ...]:
    """The first half of a restart, safe before any market data (it journals and sends
    nothing): positions, id counters, and the open orders put back, known venue ids
    first in id order (their time priority among our own orders), then the released
    emulated orders, whose venue ids were never journaled. Returns their client ids.
    `venue` must be fresh and the recovered order manager's. RecoveryError when it
    refuses an order (the ones before it stay put back)."""
    om = recovered.order_manager
    portfolio = recovered.portfolio
    for symbol in portfolio.symbols():
        venue.set_position(symbol, portfolio.quantity(symbol))
    last_id: dict[str, int] = {}
    for order in om.orders():
        vid = order.venue_order_id
        if vid.isdigit():
            last_id[order.symbol] = max(last_id.get(order.symbol, 0), int(vid))
    for symbol, n in sorted(last_id.items()):
        venue.reserve_order_ids(symbol, n + 1)
    known = sorted(
        (v for v in recovered.at_venue if v.venue_order_id.isdigit()),
        key=lambda v: (v.terms.symbol, int(v.venue_order_id)),
    )
    unknown = [v for v in recovered.at_venue if not v.venue_order_id.isdigit()]
    restored: list[str] = []
    for v in (*known, *unknown):
        o = v.order
        try:
            venue.restore(
                v.terms,
                venue_order_id=v.venue_order_id,
                filled=o.filled_qty,
                fills=len(o.fills),
                triggered=v.triggered,
            )
        except ValueError as err:  # the venue's refusal, or a domain error
            rule = f"cannot be put back at the venue: {err}"
            raise RecoveryError("order", o.client_order_id, rule) from err
        restored.append(o.client_order_id)
    return tuple(restored)


def resend_in_flight(recovered: Recovered, venue: ExecutionVenue, *, now_ns: int) -> Resent:
    """The second half, once the venue has its market data (a submit on a stale book
    would be rejected): amendments in flight answered with OrderUpdateRejected
    (journaled at `now_ns`), then submits and cancels in flight sent again, in journal
    order. The caller then hands the venue's answers to the manager and commits.
    RecoveryError when the manager does not take an answer."""
    om = recovered.order_manager
    rejected: list[str] = []
    for request in recovered.in_flight:
        if request.kind == "update":
            cid = request.client_order_id
            answer = OrderUpdateRejected(
                client_order_id=cid, ts_event=now_ns, reason=RESTART_REASON
            )
            om.on_venue_event(answer)
            if om.order(cid).update_in_flight:  # the manager kept it as an anomaly
                why = om.anomalies[-1].why if om.anomalies else "not applied"
                raise RecoveryError("order", cid, f"takes no restart answer: {why}")
            rejected.append(cid)
    resubmitted: list[str] = []
    recanceled: list[str] = []
    for request in recovered.in_flight:
        cid = request.client_order_id
        if request.kind == "submit":
            order = om.order(cid)
            terms = (
                _released_terms(order.terms) if om.is_emulated(cid) else _venue_terms(order, venue)
            )
            venue.submit(terms)
            resubmitted.append(cid)
        elif request.kind == "cancel":
            venue.cancel(cid)
            recanceled.append(cid)
    return Resent(tuple(resubmitted), tuple(recanceled), tuple(rejected))


def restart_venue(recovered: Recovered, venue: RestorableVenue, *, now_ns: int) -> Restarted:
    """`restore_venue` then `resend_in_flight`, for a venue that already has its market
    data (or whose submits have latency)."""
    restored = restore_venue(recovered, venue)
    resent = resend_in_flight(recovered, venue, now_ns=now_ns)
    return Restarted(restored, resent.resubmitted, resent.recanceled, resent.updates_rejected)


def _venue_terms(order: Order, venue: ExecutionVenue) -> OrderTerms:
    """The terms the manager sent: GTD goes as GTC where the venue lacks GTD (the
    manager expires it locally)."""
    terms = order.terms
    if (
        terms.time_in_force is TimeInForce.GTD
        and TimeInForce.GTD not in venue.capabilities.time_in_force
    ):
        return replace(terms, time_in_force=TimeInForce.GTC, expire_time_ns=None)
    return terms
