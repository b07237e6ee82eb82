"""Read models of one run, folded record by record from its journal: storage-neutral rows.

`RunProjection.fold` takes each record as it is appended; `drain` hands over what
changed since the last drain as plain tuples in the column orders below, for the store
to write in the same transaction as the journal rows: the latest state of the run, of
each order, of each position and of each balance. An order, position or balance row
leaves out the leading run_id (the projection's own run, which the store writes); the
run's row has it. (The models with one row per record,
fills, position history and equity, need no second copy: a store serves them straight
from its journal.) Amounts are Decimal strings (exact: as recorded, and the computed
average fill price in plain notation); enums are their values; None stays None.

Order state is the domain `Order` itself, replayed event by event (the state machine is
not written twice). Open orders stay cached while the store is open; a closed order is
dropped from the cache once drained (nothing applies to it any more), keeping only its
status for error messages.

The projection also refuses what would make the journal unreplayable: a record before
the run's RunStarted or after its RunEnded, another run's start or end, an order
created twice, and an order event for an unknown or closed order or one its order
refuses (`OrderManager.recover` would fail on it). A refused record changes nothing."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final

from adapters.store.codec import RECORD_TYPES
from engine.domain.enums import OrderStatus
from engine.domain.errors import DomainError
from engine.domain.events import OrderEvent
from engine.domain.journal import (
    AccountFunded,
    BalanceSnapshot,
    BracketCreated,
    EmergencyStop,
    EquitySample,
    JournalRecord,
    OrderInitialized,
    PositionSnapshot,
    Reconciled,
    RunEnded,
    RunStarted,
    TradingStateChanged,
)
from engine.domain.order import Order, OrderTerms
from engine.ports.store import StoreError

__all__ = [
    "BALANCE_COLUMNS",
    "ORDER_COLUMNS",
    "POSITION_COLUMNS",
    "RUNNING",
    "RUN_COLUMNS",
    "Changes",
    "RunProjection",
]

RUN_COLUMNS: Final = (
    "run_id", "mode", "strategy", "params_json", "config_json",
    "ts_started", "ts_ended", "status", "reason",
)  # fmt: skip
"""`status` is RUNNING until the RunEnded record says otherwise."""
ORDER_COLUMNS: Final = (
    "run_id", "client_order_id", "seq", "symbol", "side", "order_type", "time_in_force",
    "quantity", "price", "trigger_price", "status", "filled_qty", "avg_fill_price",
    "venue_order_id", "ts_created", "ts_updated",
)  # fmt: skip
"""Latest state per order; `seq` is its OrderInitialized's (creation order)."""
POSITION_COLUMNS: Final = (
    "run_id", "seq", "account", "symbol", "currency", "quantity", "avg_entry_price",
    "realized_pnl", "fees", "ts_event",
)  # fmt: skip
"""Latest per account and symbol; `seq` is the snapshot's."""
BALANCE_COLUMNS: Final = ("run_id", "seq", "account", "asset", "total", "ts_event")
"""Latest per account and asset."""

RUNNING: Final = "RUNNING"

_TERMINAL: Final = frozenset(status for status in OrderStatus if status.is_terminal)

Row = tuple[Any, ...]


@dataclass(slots=True)
class Changes:
    """Rows changed since the last drain, one per key (the latest). `run_started` has
    RUN_COLUMNS; `orders`, `positions` and `balances` rows have ORDER_COLUMNS[1:],
    POSITION_COLUMNS[1:] and BALANCE_COLUMNS[1:] (all but run_id). `run_ended` is
    (ts_ended, status, reason)."""

    run_started: Row | None = None
    run_ended: tuple[int, str, str] | None = None
    orders: list[Row] = field(default_factory=list)
    positions: list[Row] = field(default_factory=list)
    balances: list[Row] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        """Nothing to write but the journal rows."""
        return not (
            self.orders
            or self.positions
            or self.balances
            or self.run_started is not None
            or self.run_ended is not None
        )


class _Tracked:
    """An order in the cache with what its row needs beyond the Order itself; `terms`
    and `written` are its terms' columns as last put into a row (terms change only by an
    amendment, so most rows reuse them)."""

    __slots__ = ("order", "seq", "terms", "ts_created", "ts_updated", "written")

    def __init__(self, order: Order, seq: int, ts: int) -> None:
        self.order = order
        self.seq = seq
        self.ts_created = ts
        self.ts_updated = ts
        self.terms: OrderTerms | None = None
        self.written: Row = ()


def _plain(value: Decimal | None) -> str | None:
    """A computed amount (the average fill price) in plain notation: 60000, not 6E+4."""
    return None if value is None else format(value, "f")


class RunProjection:
    """The read models of one run, kept up to date one record at a time."""

    def __init__(self, run_id: str) -> None:
        self.run_id = run_id
        self.started = False
        self.ended = False
        self._open = False  # started and not ended: the one check on the hot path
        self._orders: dict[str, _Tracked] = {}
        self._closed: dict[str, OrderStatus] = {}
        self._dirty: dict[str, _Tracked] = {}
        self._changes = Changes()
        # The batch's latest snapshot per key, made a row only when drained.
        self._positions: dict[tuple[str, str], tuple[int, PositionSnapshot]] = {}
        self._balances: dict[tuple[str, str], tuple[int, BalanceSnapshot]] = {}
        self._handlers: dict[type[Any], Callable[[int, Any], None]] = {
            RunStarted: self._run_started,
            RunEnded: self._run_ended,
            OrderInitialized: self._initialized,
            BracketCreated: self._nothing,  # the exits' OrderInitialized name the bracket
            PositionSnapshot: self._position,
            BalanceSnapshot: self._balance,
            EquitySample: self._nothing,  # one row per record: served from the journal
            AccountFunded: self._nothing,  # its BalanceSnapshot carries the new total
            TradingStateChanged: self._nothing,  # safety audit: read from the journal
            EmergencyStop: self._nothing,
            Reconciled: self._nothing,  # audit: read from the journal
        }
        for kind in RECORD_TYPES:  # every other record is an order event
            self._handlers.setdefault(kind, self._order_event)

    def fold(self, seq: int, record: JournalRecord) -> None:
        """Folds one record in; StoreError (and nothing changed) when the run cannot
        take it here."""
        if not self._open and (self.ended or type(record) is not RunStarted):
            tag = type(record).__name__
            if self.ended:
                rule = f"comes after the RunEnded of {self.run_id} (rule: nothing follows it)"
            else:
                rule = f"comes before the RunStarted of {self.run_id} (rule: a run begins with it)"
            raise StoreError("record", tag, rule)
        handler = self._handlers.get(type(record))
        if handler is None:
            raise StoreError("record", type(record).__name__, "is not a journal record type")
        handler(seq, record)

    def drain(self) -> Changes:
        """Rows changed since the last drain; closed orders then leave the cache."""
        changes = self._changes
        if self._dirty:
            orders = changes.orders
            for cid, tracked in self._dirty.items():
                orders.append(self._order_row(cid, tracked))
                status = tracked.order.status
                if status in _TERMINAL:
                    del self._orders[cid]
                    self._closed[cid] = status
            self._dirty = {}
        if self._positions:
            changes.positions = [_position_row(*latest) for latest in self._positions.values()]
            self._positions = {}
        if self._balances:
            changes.balances = [_balance_row(*latest) for latest in self._balances.values()]
            self._balances = {}
        self._changes = Changes()
        return changes

    # --- one handler per kind of record ---------------------------------------------------
    def _run_started(self, seq: int, record: RunStarted) -> None:
        if self.started or record.run_id != self.run_id:
            rule = f"is a second start (rule: {self.run_id} has one RunStarted, its first record)"
            raise StoreError("RunStarted.run_id", record.run_id, rule)
        self.started = self._open = True
        self._changes.run_started = (
            record.run_id,
            record.mode,
            record.strategy,
            record.params_json,
            record.config_json,
            record.ts_event,
            None,
            RUNNING,
            "",
        )

    def _run_ended(self, seq: int, record: RunEnded) -> None:
        if record.run_id != self.run_id:
            rule = f"is another run (rule: this store writes {self.run_id})"
            raise StoreError("RunEnded.run_id", record.run_id, rule)
        self.ended = True
        self._open = False
        self._changes.run_ended = (record.ts_event, record.status, record.reason)

    def _nothing(self, seq: int, record: JournalRecord) -> None:
        pass

    def _initialized(self, seq: int, record: OrderInitialized) -> None:
        cid = record.client_order_id
        if cid in self._orders or cid in self._closed:
            rule = "already exists in this run (rule: an id is initialized once)"
            raise StoreError("OrderInitialized.client_order_id", cid, rule)
        tracked = _Tracked(Order(record.terms), seq, record.ts_event)
        self._orders[cid] = tracked
        self._dirty[cid] = tracked

    def _order_event(self, seq: int, record: OrderEvent) -> None:
        cid = record.client_order_id
        tracked = self._orders.get(cid)
        if tracked is None:
            tag = type(record).__name__
            closed = self._closed.get(cid)
            if closed is not None:
                rule = f"is {closed} (rule: a closed order takes no {tag})"
            else:
                rule = f"is not an order of {self.run_id} (rule: OrderInitialized first)"
            raise StoreError(f"{tag}.client_order_id", cid, rule)
        try:
            tracked.order.apply(record)  # atomic: a refused event leaves the order as it was
        except DomainError as err:
            raise StoreError(type(record).__name__, cid, f"does not apply: {err}") from err
        tracked.ts_updated = record.ts_event
        self._dirty[cid] = tracked

    def _position(self, seq: int, r: PositionSnapshot) -> None:
        self._positions[(r.account, r.symbol)] = (seq, r)

    def _balance(self, seq: int, r: BalanceSnapshot) -> None:
        self._balances[(r.account, r.asset)] = (seq, r)

    def _order_row(self, cid: str, tracked: _Tracked) -> Row:
        o = tracked.order
        terms = o.terms
        if terms is not tracked.terms:
            price, trigger = terms.price, terms.trigger_price
            # str() of a StrEnum member is its value as a plain str (what `.value`
            # gives, without the enum descriptor); a plain str binds without adapting.
            tracked.written = (
                cid,
                tracked.seq,
                terms.symbol,
                str(terms.side),
                str(terms.order_type),
                str(terms.time_in_force),
                str(terms.quantity),
                None if price is None else str(price),
                None if trigger is None else str(trigger),
            )
            tracked.terms = terms
        filled = o.filled_qty
        return (
            *tracked.written,
            str(o.status),
            str(filled),
            _plain(o.avg_fill_price) if filled else None,
            o.venue_order_id,
            tracked.ts_created,
            tracked.ts_updated,
        )


def _position_row(seq: int, r: PositionSnapshot) -> Row:
    return (
        seq,
        r.account,
        r.symbol,
        r.currency,
        str(r.quantity),
        str(r.avg_entry_price),
        str(r.realized_pnl),
        str(r.fees),
        r.ts_event,
    )


def _balance_row(seq: int, r: BalanceSnapshot) -> Row:
    return (seq, r.account, r.asset, str(r.total), r.ts_event)
