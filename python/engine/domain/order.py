"""Order: validated terms plus the state machine, driven only by `Order.apply(event)`.

The state machine is `TRANSITIONS`, a plain dict `(status, event kind) -> status`; a pair
missing from it raises InvalidStateTransition and leaves the order unchanged. Choices
where venues differ (each has a test):
- A partial fill while a cancel or an amendment is in flight keeps the order PENDING_*:
  the request is still outstanding and its answer decides what comes next. A fill that
  completes the order makes it FILLED whatever was pending.
- RESUME as a target means "the state the order would be in without the request": an
  amendment's answer returns to the working state (PARTIALLY_FILLED if fills arrived
  meanwhile); a rejected cancel returns to PENDING_UPDATE if an amendment is still in
  flight, else to the working state.
- Three guards, named in the error when they refuse: TRIGGERED only for trigger types;
  an amendment's answer only while one is in flight; an ACCEPTED, TRIGGERED or partial
  fill arriving during a request must also be allowed from the working state (so a
  second TRIGGERED is refused even while PENDING_CANCEL).
- Terminal states accept nothing: late or duplicate venue reports for a closed order
  are the OrderManager's to drop (check `is_closed`). A locally held order (an emulated
  stop, a bracket child) can be CANCELED or EXPIRED from INITIALIZED.
Amounts are Decimals: the order speaks the caller's and the venue's units; conversion to
ticks/lots happens at the Rust boundary through its Instrument, which checks the grid.
`leaves_qty` is always quantity - filled_qty (it does not drop to 0 on cancel; use
`is_open`), so filled + leaves = quantity holds in every state.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from enum import Enum
from operator import attrgetter
from types import MappingProxyType
from typing import TYPE_CHECKING, Final

from engine.domain import _checks, _exact
from engine.domain._frozen import fast_init
from engine.domain.enums import (
    OrderEventKind,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
    TriggerSource,
)
from engine.domain.errors import (
    DuplicateFillError,
    InvalidStateTransition,
    OverfillError,
    ValidationError,
)
from engine.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
    OrderUpdateRejected,
)
from engine.domain.fill import Fill

__all__ = [
    "EVENT_KINDS",
    "MAX_SLIPPAGE_BPS",
    "MAX_TRAILING_OFFSET_BPS",
    "RESUME",
    "TRANSITIONS",
    "WORKING_STATES",
    "Order",
    "OrderTerms",
    "PreparedEvent",
    "Resume",
]


class Resume(Enum):
    """The one non-status target in the table; see the module docstring."""

    RESUME = "RESUME"


RESUME: Final = Resume.RESUME

S = OrderStatus
K = OrderEventKind

_TABLE: dict[tuple[OrderStatus, OrderEventKind], OrderStatus | Resume] = {
    # Not yet sent: the risk gate decides; a locally held order can end here.
    (S.INITIALIZED, K.DENIED): S.DENIED,
    (S.INITIALIZED, K.SUBMITTED): S.SUBMITTED,
    (S.INITIALIZED, K.CANCELED): S.CANCELED,
    (S.INITIALIZED, K.EXPIRED): S.EXPIRED,
    # Sent, not acknowledged: fills and IOC/FOK outcomes can beat the ack.
    (S.SUBMITTED, K.ACCEPTED): S.ACCEPTED,
    (S.SUBMITTED, K.REJECTED): S.REJECTED,
    (S.SUBMITTED, K.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.SUBMITTED, K.FULL_FILL): S.FILLED,
    (S.SUBMITTED, K.PENDING_CANCEL): S.PENDING_CANCEL,
    (S.SUBMITTED, K.CANCELED): S.CANCELED,
    (S.SUBMITTED, K.EXPIRED): S.EXPIRED,
    # Working at the venue.
    (S.ACCEPTED, K.TRIGGERED): S.TRIGGERED,
    (S.ACCEPTED, K.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.ACCEPTED, K.FULL_FILL): S.FILLED,
    (S.ACCEPTED, K.PENDING_UPDATE): S.PENDING_UPDATE,
    (S.ACCEPTED, K.PENDING_CANCEL): S.PENDING_CANCEL,
    (S.ACCEPTED, K.CANCELED): S.CANCELED,
    (S.ACCEPTED, K.EXPIRED): S.EXPIRED,
    # A triggered stop works like a market or limit order; the venue may still refuse it.
    (S.TRIGGERED, K.REJECTED): S.REJECTED,
    (S.TRIGGERED, K.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.TRIGGERED, K.FULL_FILL): S.FILLED,
    (S.TRIGGERED, K.PENDING_UPDATE): S.PENDING_UPDATE,
    (S.TRIGGERED, K.PENDING_CANCEL): S.PENDING_CANCEL,
    (S.TRIGGERED, K.CANCELED): S.CANCELED,
    (S.TRIGGERED, K.EXPIRED): S.EXPIRED,
    (S.PARTIALLY_FILLED, K.ACCEPTED): S.PARTIALLY_FILLED,  # the ack arrived after a fill
    (S.PARTIALLY_FILLED, K.PARTIAL_FILL): S.PARTIALLY_FILLED,
    (S.PARTIALLY_FILLED, K.FULL_FILL): S.FILLED,
    (S.PARTIALLY_FILLED, K.PENDING_UPDATE): S.PENDING_UPDATE,
    (S.PARTIALLY_FILLED, K.PENDING_CANCEL): S.PENDING_CANCEL,
    (S.PARTIALLY_FILLED, K.CANCELED): S.CANCELED,  # IOC rest, slippage cap, venue cancel
    (S.PARTIALLY_FILLED, K.EXPIRED): S.EXPIRED,
    # An amendment in flight.
    (S.PENDING_UPDATE, K.UPDATED): RESUME,
    (S.PENDING_UPDATE, K.UPDATE_REJECTED): RESUME,
    (S.PENDING_UPDATE, K.TRIGGERED): S.PENDING_UPDATE,
    (S.PENDING_UPDATE, K.PARTIAL_FILL): S.PENDING_UPDATE,
    (S.PENDING_UPDATE, K.FULL_FILL): S.FILLED,
    (S.PENDING_UPDATE, K.PENDING_CANCEL): S.PENDING_CANCEL,  # cancel without waiting
    (S.PENDING_UPDATE, K.CANCELED): S.CANCELED,
    (S.PENDING_UPDATE, K.EXPIRED): S.EXPIRED,
    # A cancel in flight: it can lose the race to fills, or be refused.
    (S.PENDING_CANCEL, K.CANCELED): S.CANCELED,
    (S.PENDING_CANCEL, K.CANCEL_REJECTED): RESUME,
    (S.PENDING_CANCEL, K.ACCEPTED): S.PENDING_CANCEL,  # cancel sent before the ack came
    (S.PENDING_CANCEL, K.REJECTED): S.REJECTED,  # ... or before the venue refused it
    (S.PENDING_CANCEL, K.TRIGGERED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, K.PARTIAL_FILL): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, K.FULL_FILL): S.FILLED,
    (S.PENDING_CANCEL, K.UPDATED): S.PENDING_CANCEL,  # answer to an amendment sent before
    (S.PENDING_CANCEL, K.UPDATE_REJECTED): S.PENDING_CANCEL,
    (S.PENDING_CANCEL, K.EXPIRED): S.EXPIRED,
}
del S, K

TRANSITIONS: Final[Mapping[tuple[OrderStatus, OrderEventKind], OrderStatus | Resume]] = (
    MappingProxyType(_TABLE)
)
"""The whole state machine as data; read-only."""

WORKING_STATES: Final = frozenset(
    {
        OrderStatus.SUBMITTED,
        OrderStatus.ACCEPTED,
        OrderStatus.TRIGGERED,
        OrderStatus.PARTIALLY_FILLED,
    }
)
"""Where an order is when no request of ours is in flight and it is not closed."""

EVENT_KINDS: Final[Mapping[type[OrderEvent], OrderEventKind]] = MappingProxyType(
    {
        OrderDenied: OrderEventKind.DENIED,
        OrderSubmitted: OrderEventKind.SUBMITTED,
        OrderAccepted: OrderEventKind.ACCEPTED,
        OrderRejected: OrderEventKind.REJECTED,
        OrderTriggered: OrderEventKind.TRIGGERED,
        OrderPendingUpdate: OrderEventKind.PENDING_UPDATE,
        OrderUpdated: OrderEventKind.UPDATED,
        OrderUpdateRejected: OrderEventKind.UPDATE_REJECTED,
        OrderPendingCancel: OrderEventKind.PENDING_CANCEL,
        OrderCanceled: OrderEventKind.CANCELED,
        OrderCancelRejected: OrderEventKind.CANCEL_REJECTED,
        OrderExpired: OrderEventKind.EXPIRED,
    }
)
"""Event class -> table column; OrderFilled is PARTIAL_FILL or FULL_FILL by its size."""

_TRANSITIONS_DICT: Final = _TABLE  # the same table; a plain dict reads faster on the hot path
_KINDS_DICT: Final[dict[type[OrderEvent], OrderEventKind]] = dict(EVENT_KINDS)

_PLAIN_KINDS = frozenset(
    {
        OrderEventKind.DENIED,
        OrderEventKind.SUBMITTED,
        OrderEventKind.ACCEPTED,
        OrderEventKind.REJECTED,
        OrderEventKind.PENDING_UPDATE,
        OrderEventKind.PENDING_CANCEL,
        OrderEventKind.CANCELED,
        OrderEventKind.EXPIRED,
    }
)
"""Event kinds with no guard, no fill and no amendment: the table alone decides where
the target is a status (not RESUME), except for a pass-through kind (ACCEPTED) while a
request is in flight, which the working state must also accept."""

_PASS_THROUGH = frozenset(
    {OrderEventKind.ACCEPTED, OrderEventKind.TRIGGERED, OrderEventKind.PARTIAL_FILL}
)
_PENDING = frozenset({OrderStatus.PENDING_UPDATE, OrderStatus.PENDING_CANCEL})
_CLOSED = frozenset(status for status in OrderStatus if status.is_terminal)

_PLAIN_TRANSITIONS: Final[dict[tuple[OrderStatus, OrderEventKind | None], OrderStatus]] = {
    (status, kind): target
    for (status, kind), target in _TABLE.items()
    if kind in _PLAIN_KINDS
    and isinstance(target, OrderStatus)
    and not (status in _PENDING and kind in _PASS_THROUGH)
}
"""The part of the table `Order.apply`, `apply_after` and `_effect` read directly (the
rest goes through the guards); it is the table itself, filtered, so the state machine
stays written once."""

MAX_SLIPPAGE_BPS = 10_000
"""100%: a wider cap is no cap."""

MAX_TRAILING_OFFSET_BPS = Decimal(10_000)
"""100%: a trailing offset at or beyond it could never trigger a sell stop sensibly."""

_ZERO: Final = Decimal(0)
_LIMIT_PRICED: Final = frozenset(kind for kind in OrderType if kind.has_limit_price)
_TRIGGERED: Final = frozenset(kind for kind in OrderType if kind.is_triggered)

# Enum members the hot paths read, bound once: on Python 3.11 reading a member off its
# class goes through the metaclass's __getattr__ slot (about 0.3 us a time).
_FULL_FILL: Final = OrderEventKind.FULL_FILL
_PARTIAL_FILL: Final = OrderEventKind.PARTIAL_FILL
_KIND_ACCEPTED: Final = OrderEventKind.ACCEPTED
_KIND_TRIGGERED: Final = OrderEventKind.TRIGGERED
_KIND_PENDING_UPDATE: Final = OrderEventKind.PENDING_UPDATE
_KIND_UPDATED: Final = OrderEventKind.UPDATED
_KIND_UPDATE_REJECTED: Final = OrderEventKind.UPDATE_REJECTED
_KIND_CANCEL_REJECTED: Final = OrderEventKind.CANCEL_REJECTED
_INITIALIZED: Final = OrderStatus.INITIALIZED
_PENDING_UPDATE: Final = OrderStatus.PENDING_UPDATE
_MARKET: Final = OrderType.MARKET
_LIMIT: Final = OrderType.LIMIT
_TRAILING_STOP_MARKET: Final = OrderType.TRAILING_STOP_MARKET
_GTC: Final = TimeInForce.GTC
_GTD: Final = TimeInForce.GTD
_LAST_TRADE: Final = TriggerSource.LAST_TRADE

_MARKET_TYPES = frozenset(
    {
        OrderType.MARKET,
        OrderType.STOP_MARKET,
        OrderType.TAKE_PROFIT_MARKET,
        OrderType.TRAILING_STOP_MARKET,
    }
)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTerms:
    """What was asked for, validated as a whole. Immutable; an amendment makes new terms.

    `price` is the limit price (LIMIT and *_LIMIT only); `trigger_price` is the stop or
    take-profit level, its own field, never folded into `price`. A trailing stop takes
    exactly one of `trailing_offset` (price units) or `trailing_offset_bps`, and an
    optional `trigger_price` as its initial stop. `trigger_source` defaults to
    LAST_TRADE for trigger types and must be None otherwise. `expire_time_ns` is for GTD
    only and must be after `ts_init`. `max_slippage_bps` caps how far from the reference
    price (the touch when it starts working) a market-type order may fill; None means
    the venue's default cap, never "no cap"."""

    client_order_id: str
    symbol: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None = None
    trigger_price: Decimal | None = None
    trigger_source: TriggerSource | None = None
    trailing_offset: Decimal | None = None
    trailing_offset_bps: Decimal | None = None
    time_in_force: TimeInForce = TimeInForce.GTC
    expire_time_ns: int | None = None
    post_only: bool = False
    reduce_only: bool = False
    max_slippage_bps: int | None = None
    ts_init: int = 0

    def __post_init__(self) -> None:
        # Each check inline for the plain valid value, the _checks function otherwise (it
        # refuses with the message, or accepts what the inline test is too narrow for).
        cid = _checks.client_order_id(self.client_order_id)
        subject = f"order {cid}"
        _checks.text("symbol", self.symbol, subject)
        if not isinstance(self.side, OrderSide):
            _checks.member("side", self.side, OrderSide, subject)
        kind = self.order_type
        if not isinstance(kind, OrderType):
            _checks.member("order_type", kind, OrderType, subject)
        tif = self.time_in_force
        if not isinstance(tif, TimeInForce):
            _checks.member("time_in_force", tif, TimeInForce, subject)
        q = self.quantity
        if not (type(q) is Decimal and q.is_finite() and q > 0):
            _checks.positive("quantity", q, subject)
        ts = self.ts_init
        if type(ts) is not int or ts < 0:
            _checks.timestamp_ns("ts_init", ts, subject)
        if type(self.post_only) is not bool:
            _checks.flag("post_only", self.post_only, subject)
        if type(self.reduce_only) is not bool:
            _checks.flag("reduce_only", self.reduce_only, subject)

        # Limit price: exactly for the limit-priced types.
        if kind in _LIMIT_PRICED:
            price = self.price
            if price is None:
                raise ValidationError(
                    "price", None, f"missing (rule: required for {kind})", subject
                )
            if not (type(price) is Decimal and price.is_finite() and price > 0):
                _checks.positive("price", price, subject)
        elif self.price is not None:
            rule = f"given (rule: {kind} has no limit price)"
            raise ValidationError("price", self.price, rule, subject)

        # Trigger price and source: their own fields, only on trigger types.
        if kind in _TRIGGERED:
            if self.trigger_price is None and kind is not _TRAILING_STOP_MARKET:
                rule = f"missing (rule: required for {kind})"
                raise ValidationError("trigger_price", None, rule, subject)
            if self.trigger_price is not None:
                _checks.positive("trigger_price", self.trigger_price, subject)
            if self.trigger_source is None:
                object.__setattr__(self, "trigger_source", _LAST_TRADE)
            _checks.member("trigger_source", self.trigger_source, TriggerSource, subject)
        elif self.trigger_price is not None or self.trigger_source is not None:
            for name in ("trigger_price", "trigger_source"):
                if getattr(self, name) is not None:
                    rule = f"given (rule: {kind} has no trigger)"
                    raise ValidationError(name, getattr(self, name), rule, subject)

        # Trailing offset: exactly one form, trailing stops only.
        if kind is _TRAILING_STOP_MARKET:
            offsets = self._offsets()
            if len(offsets) != 1:
                rule = "(rule: exactly one of trailing_offset, trailing_offset_bps)"
                raise ValidationError("trailing offset", sorted(offsets), f"given {rule}", subject)
            for name, value in offsets.items():
                _checks.positive(name, value, subject)
            bps = self.trailing_offset_bps
            if bps is not None and bps >= MAX_TRAILING_OFFSET_BPS:
                rule = f"not below {MAX_TRAILING_OFFSET_BPS} (rule: < 100%)"
                raise ValidationError("trailing_offset_bps", bps, rule, subject)
        elif self.trailing_offset is not None or self.trailing_offset_bps is not None:
            for name, value in self._offsets().items():
                rule = f"given (rule: only for {_TRAILING_STOP_MARKET})"
                raise ValidationError(name, value, rule, subject)

        # Time in force.
        if tif is _GTD:
            if self.expire_time_ns is None:
                raise ValidationError(
                    "expire_time_ns", None, "missing (rule: required for GTD)", subject
                )
            expiry = _checks.timestamp_ns("expire_time_ns", self.expire_time_ns, subject)
            if expiry <= self.ts_init:
                rule = f"not after ts_init {self.ts_init} (rule: GTD expires in the future)"
                raise ValidationError("expire_time_ns", expiry, rule, subject)
            if kind is _MARKET:
                raise ValidationError("time_in_force", tif, "with MARKET (rule: no GTD)", subject)
        elif self.expire_time_ns is not None:
            rule = f"given with {tif} (rule: GTD only)"
            raise ValidationError("expire_time_ns", self.expire_time_ns, rule, subject)

        if self.max_slippage_bps is not None:
            if kind not in _MARKET_TYPES:
                rule = f"given with {kind} (rule: market types only; a limit price caps itself)"
                raise ValidationError("max_slippage_bps", self.max_slippage_bps, rule, subject)
            if (
                isinstance(self.max_slippage_bps, bool)
                or not isinstance(self.max_slippage_bps, int)
                or not 0 < self.max_slippage_bps <= MAX_SLIPPAGE_BPS
            ):
                rule = f"is not an int in 1..{MAX_SLIPPAGE_BPS} (rule: bps of the reference)"
                raise ValidationError("max_slippage_bps", self.max_slippage_bps, rule, subject)

        if self.post_only and not (kind is _LIMIT and tif in (_GTC, _GTD)):
            rule = "(rule: post_only only with LIMIT and GTC or GTD)"
            raise ValidationError("post_only", True, f"with {kind} {tif} {rule}", subject)

    def _offsets(self) -> dict[str, Decimal]:
        return {
            name: getattr(self, name)
            for name in ("trailing_offset", "trailing_offset_bps")
            if getattr(self, name) is not None
        }

    @property
    def is_market(self) -> bool:
        """Takes liquidity at whatever price when it works (slippage caps apply)."""
        return self.order_type in _MARKET_TYPES


@dataclass(frozen=True, slots=True, eq=False)
class PreparedEvent:
    """An event checked against an order, with the state it leads to (see `prepare`)."""

    order: Order
    event: OrderEvent
    kind: OrderEventKind
    terms: OrderTerms
    working: OrderStatus
    status: OrderStatus
    seen: int = -1
    """Events the order had applied when this was prepared (-1: count them now)."""

    def __post_init__(self) -> None:
        if self.seen < 0:
            object.__setattr__(self, "seen", len(self.order.events))


class Order:
    """One order: its terms, status, fills and history. Change it only with `apply`.

    `apply` is atomic: an event it refuses raises and leaves the order as it was."""

    __slots__ = (
        "_closed",
        "_events",
        "_filled_notional",
        "_filled_qty",
        "_fills",
        "_pending",
        "_status",
        "_terms",
        "_trade_ids",
        "_update_in_flight",
        "_venue_order_id",
        "_working",
    )

    def __init__(self, terms: OrderTerms) -> None:
        if not isinstance(terms, OrderTerms):
            raise ValidationError("terms", terms, "is not OrderTerms")
        self._terms = terms
        self._status = _INITIALIZED
        self._closed = False  # status in _CLOSED, kept with it (read far more than set)
        self._pending = False  # status in _PENDING, likewise
        self._working = _INITIALIZED
        self._update_in_flight = False
        self._filled_qty = _ZERO
        self._filled_notional = _ZERO
        self._fills: tuple[Fill, ...] = ()
        self._trade_ids: frozenset[str] = frozenset()
        self._events: tuple[OrderEvent, ...] = ()
        self._venue_order_id = ""

    # --- read-only view -----------------------------------------------------------------
    @property
    def terms(self) -> OrderTerms:
        return self._terms

    @property
    def client_order_id(self) -> str:
        return self._terms.client_order_id

    @property
    def symbol(self) -> str:
        return self._terms.symbol

    @property
    def side(self) -> OrderSide:
        return self._terms.side

    @property
    def order_type(self) -> OrderType:
        return self._terms.order_type

    @property
    def quantity(self) -> Decimal:
        return self._terms.quantity

    if TYPE_CHECKING:

        @property
        def price(self) -> Decimal | None: ...

        @property
        def is_closed(self) -> bool: ...

        @property
        def is_pending(self) -> bool:
            """A cancel or an amendment of ours awaits the answer."""

    else:  # read-only, and read on every book update: C getters, no Python frame
        price = property(attrgetter("_terms.price"))
        is_closed = property(attrgetter("_closed"))
        is_pending = property(
            attrgetter("_pending"), doc="A cancel or an amendment of ours awaits the answer."
        )

    @property
    def trigger_price(self) -> Decimal | None:
        return self._terms.trigger_price

    @property
    def status(self) -> OrderStatus:
        return self._status

    @property
    def venue_order_id(self) -> str:
        return self._venue_order_id

    @property
    def filled_qty(self) -> Decimal:
        return self._filled_qty

    @property
    def leaves_qty(self) -> Decimal:
        """quantity - filled_qty, in every state (see the module docstring)."""
        return _exact.difference(self._terms.quantity, self._filled_qty)

    @property
    def filled_notional(self) -> Decimal:
        """Sum of price * quantity over the fills, exact."""
        return self._filled_notional

    @property
    def avg_fill_price(self) -> Decimal | None:
        """filled_notional / filled_qty (see `_exact.average`); None before any fill."""
        if not self._filled_qty:
            return None
        return _exact.average(self._filled_notional, self._filled_qty)

    @property
    def fills(self) -> tuple[Fill, ...]:
        return self._fills

    @property
    def events(self) -> tuple[OrderEvent, ...]:
        """Every applied event, oldest first."""
        return self._events

    @property
    def is_open(self) -> bool:
        """Sent and not closed: it may still fill."""
        return not self.is_closed and self._status is not _INITIALIZED

    @property
    def update_in_flight(self) -> bool:
        """An amendment of ours awaits the venue's answer."""
        return self._update_in_flight

    def __repr__(self) -> str:
        t = self._terms
        return (
            f"Order({t.client_order_id} {t.side} {t.order_type} {t.quantity} {t.symbol}"
            f" status={self._status} filled={self._filled_qty})"
        )

    # --- the state machine --------------------------------------------------------------
    def event_kind(self, event: OrderEvent) -> OrderEventKind:
        """The table column `event` falls in for this order (fills: by their size)."""
        if isinstance(event, OrderFilled):
            quantity = event.fill.quantity
            return _FULL_FILL if quantity == self.leaves_qty else (_PARTIAL_FILL)
        try:
            return EVENT_KINDS[type(event)]
        except KeyError:
            raise ValidationError("event", event, "is not an applicable order event") from None

    def apply(self, event: OrderEvent) -> OrderStatus:
        """Applies one event and returns the new status; refused events change nothing."""
        kind = _KINDS_DICT.get(type(event))
        target = _PLAIN_TRANSITIONS.get((self._status, kind))
        if (
            target is not None
            and kind is not None
            and event.client_order_id == self._terms.client_order_id
        ):
            return self._plain_change(event, kind, target)
        return self._change(event, *self._effect(event))

    def apply_after(
        self, event: OrderEvent, write_ahead: Callable[[OrderEvent], object]
    ) -> OrderStatus:
        """`apply` with `write_ahead(event)` (the journal write) called between the check
        and the change: if the check or `write_ahead` raises, the order is unchanged.
        The same as `prepare`, write, `commit`, without the PreparedEvent."""
        kind = _KINDS_DICT.get(type(event))
        target = _PLAIN_TRANSITIONS.get((self._status, kind))
        if (
            target is not None
            and kind is not None
            and event.client_order_id == self._terms.client_order_id
        ):
            events = self._events
            write_ahead(event)
            if self._events is not events:  # commit's rule: nothing applied meanwhile
                raise ValidationError("prepared", event, "is stale or not this order's")
            return self._plain_change(event, kind, target)
        effect = self._effect(event)
        events = self._events
        write_ahead(event)
        if self._events is not events:
            raise ValidationError("prepared", event, "is stale or not this order's")
        return self._change(event, *effect)

    def _plain_change(
        self, event: OrderEvent, kind: OrderEventKind, target: OrderStatus
    ) -> OrderStatus:
        """`_change` for a plain transition (see _PLAIN_TRANSITIONS): the terms stay, the
        working state follows the target when it is one, nothing fills."""
        if kind is _KIND_ACCEPTED:
            assert isinstance(event, OrderAccepted)
            if event.venue_order_id:
                self._venue_order_id = event.venue_order_id
        elif kind is _KIND_PENDING_UPDATE:
            self._update_in_flight = True
        if target in WORKING_STATES:
            self._working = target
        self._status = target
        self._closed = target in _CLOSED
        self._pending = target in _PENDING
        self._events += (event,)
        return target

    def prepare(self, event: OrderEvent) -> PreparedEvent:
        """Checks `event` against the order and works out its effect, changing nothing;
        raises as `apply` would. `commit` then applies it (write-ahead: journal between)."""
        kind, terms, working, status = self._effect(event)
        return PreparedEvent(self, event, kind, terms, working, status, len(self._events))

    def commit(self, prepared: PreparedEvent) -> OrderStatus:
        """Applies a prepared event (it cannot fail). It must be the order's own and the
        next one: nothing else may have been applied since `prepare`."""
        if prepared.order is not self or prepared.seen != len(self._events):
            raise ValidationError("prepared", prepared.event, "is stale or not this order's")
        return self._change(
            prepared.event, prepared.kind, prepared.terms, prepared.working, prepared.status
        )

    def _effect(
        self, event: OrderEvent
    ) -> tuple[OrderEventKind, OrderTerms, OrderStatus, OrderStatus]:
        """(kind, terms, working state, status) the event leads to; raises on refusal."""
        terms = self._terms
        if event.client_order_id != terms.client_order_id:
            rule = f"does not match order {self.client_order_id}"
            raise ValidationError("client_order_id", event.client_order_id, rule)
        kind = _KINDS_DICT.get(type(event))
        target = _PLAIN_TRANSITIONS.get((self._status, kind))
        if target is not None and kind is not None:  # no guard, fill, amendment or request
            working = target if target in WORKING_STATES else self._working
            return kind, terms, working, target
        return self._checked_effect(event, kind)

    def _checked_effect(
        self, event: OrderEvent, kind: OrderEventKind | None
    ) -> tuple[OrderEventKind, OrderTerms, OrderStatus, OrderStatus]:
        """`_effect` for everything the plain table leaves out (and every refusal)."""
        leaves = None
        if kind is None:  # a fill (by its size), or not an order event at all
            if isinstance(event, OrderFilled):  # event_kind's rule, leaves_qty kept
                leaves = _exact.difference(self._terms.quantity, self._filled_qty)
                kind = _FULL_FILL if event.fill.quantity == leaves else _PARTIAL_FILL
            else:
                kind = self.event_kind(event)
        status = self._status
        target = _TRANSITIONS_DICT.get((status, kind))
        if target is None:
            raise self._refusal(event, kind)
        if leaves is not None:
            assert isinstance(event, OrderFilled)
            self._check_fill(event.fill, leaves)
        working = self._working
        if kind is _KIND_TRIGGERED and not self._terms.order_type.is_triggered:
            raise self._refusal(event, kind, f"guard: {self.order_type} has no trigger")
        if (kind is _KIND_UPDATED or kind is _KIND_UPDATE_REJECTED) and not self._update_in_flight:
            raise self._refusal(event, kind, "guard: no amendment in flight")
        if status in _PENDING and kind in _PASS_THROUGH:
            moved = _TRANSITIONS_DICT.get((working, kind))
            if not isinstance(moved, OrderStatus) or moved not in WORKING_STATES:
                why = f"guard: the working state {working} does not accept it"
                raise self._refusal(event, kind, why)
            working = moved
        terms = self._amended(event) if isinstance(event, OrderUpdated) else self._terms

        if target is RESUME:
            resumed_to_update = kind is _KIND_CANCEL_REJECTED and self._update_in_flight
            status = _PENDING_UPDATE if resumed_to_update else working
        else:
            assert isinstance(target, OrderStatus)
            status = target
        if status in WORKING_STATES:
            working = status
        return kind, terms, working, status

    def _change(
        self,
        event: OrderEvent,
        kind: OrderEventKind,
        terms: OrderTerms,
        working: OrderStatus,
        status: OrderStatus,
    ) -> OrderStatus:
        """Applies a checked effect (it cannot fail)."""
        if kind is _FULL_FILL or kind is _PARTIAL_FILL:
            assert isinstance(event, OrderFilled)
            fill = event.fill
            self._filled_qty = _exact.total(self._filled_qty, fill.quantity)
            self._filled_notional = _exact.total(self._filled_notional, fill.notional)
            self._fills += (fill,)
            self._trade_ids |= {fill.trade_id}
        elif kind is _KIND_ACCEPTED:
            assert isinstance(event, OrderAccepted)
            if event.venue_order_id:
                self._venue_order_id = event.venue_order_id
        elif kind is _KIND_PENDING_UPDATE:
            self._update_in_flight = True
        elif kind is _KIND_UPDATED or kind is _KIND_UPDATE_REJECTED:
            self._update_in_flight = False
        self._terms = terms
        self._working = working
        self._status = status
        self._closed = status in _CLOSED
        self._pending = status in _PENDING
        self._events += (event,)
        return status

    def _check_fill(self, fill: Fill, leaves: Decimal) -> None:
        terms = self._terms
        if fill.symbol != terms.symbol:
            rule = f"is not {self.symbol}"
            raise ValidationError("fill.symbol", fill.symbol, rule, f"order {self.client_order_id}")
        if fill.side is not terms.side:
            rule = f"is not {self.side}"
            raise ValidationError("fill.side", fill.side, rule, f"order {self.client_order_id}")
        if fill.trade_id in self._trade_ids:
            subject = f"order {self.client_order_id}"
            raise DuplicateFillError("trade_id", fill.trade_id, "already applied", subject)
        if fill.quantity > leaves:
            rule = (
                f"would overfill: filled_qty {self.filled_qty} + fill > quantity"
                f" {self.quantity} (leaves_qty {self.leaves_qty})"
            )
            subject = f"order {self.client_order_id}"
            raise OverfillError("fill.quantity", fill.quantity, rule, subject)

    def _amended(self, event: OrderUpdated) -> OrderTerms:
        """New terms, validated like new ones; never below what has already filled."""
        if event.price is not None and not self.order_type.has_limit_price:
            raise ValidationError(
                "price", event.price, f"amended on {self.order_type} (rule: no limit price)"
            )
        if event.trigger_price is not None and not self.order_type.is_triggered:
            raise ValidationError(
                "trigger_price",
                event.trigger_price,
                f"amended on {self.order_type} (rule: no trigger)",
            )
        quantity = self.quantity if event.quantity is None else event.quantity
        if quantity <= self._filled_qty:
            rule = f"not above filled_qty {self._filled_qty} (rule: amend above what filled)"
            raise ValidationError("quantity", quantity, rule, f"order {self.client_order_id}")
        return replace(
            self._terms,
            quantity=quantity,
            price=self.price if event.price is None else event.price,
            trigger_price=self.trigger_price
            if event.trigger_price is None
            else (event.trigger_price),
        )

    def _refusal(
        self, event: OrderEvent, kind: OrderEventKind, why: str = ""
    ) -> InvalidStateTransition:
        name = f"{type(event).__name__} ({kind})"
        return InvalidStateTransition(self.client_order_id, str(self._status), name, why)
