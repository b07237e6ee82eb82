"""OrderManager: the only owner of order state.

Every change is a journal record appended to the `Store` before it takes effect
(write-ahead): a request is journaled before it is sent, and a venue answer is checked
against the order, journaled, then applied. If the store refuses, nothing changes and
nothing is sent. Replaying the journal (`OrderManager.recover`) rebuilds every order.

What it does beyond bookkeeping:
- prices and quantities are put on the instrument's grid before anything else sees
  them (the journal, the risk gate, the venue), in every mode alike: a limit or trigger
  price of a BUY rounds down and of a SELL up (`Instrument.passive_price`: never more
  aggressive, a stop never looser, a take-profit never worse), a quantity rounds down
  (never more than asked). A value that would round to zero is left as given, and the
  risk gate refuses it by name;
- client order ids are `{prefix}-{n}` with n = 1, 2, ... in creation order, so the same
  run gives the same ids, and a recovered manager continues after the last one;
- every new order and every amendment goes through the pre-trade check; a refusal is
  an OrderDenied with the check's reason (for an amendment: `RiskDenied` is raised and
  the order keeps its terms);
- amendments are sent as amends where the venue can, else as cancel-replace: the old
  order is canceled and, once the venue confirms, a new order (new id, `replaces` the
  old) is sent for the new total minus what the old one filled; never below filled;
- stops, take-profits and trailing stops the venue cannot work are emulated: held here
  (SUBMITTED and ACCEPTED are journaled at once: the local emulator took them), fired
  by `StopEmulator` on market data, then sent as a market (or limit) order with the same
  client order id; the venue's acknowledgement of that order is not an order event (the
  order is already TRIGGERED) and is only counted;
- GTD orders on a venue without GTD are sent as GTC and canceled here when the clock
  reaches their expiry (`on_time`); emulated orders expire here too;
- brackets follow `engine.services.brackets`.
An amendment the venue makes on its own (an update with none of ours in flight) is
journaled as a pending update answered at once. Venue answers for unknown or closed
orders, and answers the state machine refuses, are not applied; they are kept in
`anomalies` (with why) for the reconciler to look at.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Protocol

from engine.domain import _checks
from engine.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce, TriggerSource
from engine.domain.errors import DomainError, ValidationError
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
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
    OrderUpdateRejected,
)
from engine.domain.instrument import Instrument
from engine.domain.journal import BracketCreated, Handling, JournalRecord, OrderInitialized
from engine.domain.order import Order, OrderTerms
from engine.ports.clock import Clock
from engine.ports.store import Store
from engine.ports.venue import ExecutionVenue, VenueOrderState
from engine.services.brackets import Bracket, BracketState, exit_targets
from engine.services.emulator import StopEmulator

__all__ = ["Anomaly", "OrderManager", "PreTradeCheck", "RiskDenied"]

MAX_PREFIX = 20
"""Leaves 16 characters for the counter within the 36 a client order id may have."""

# Enum members read on every order, bound once: on Python 3.11 reading a member off its
# class goes through the metaclass's __getattr__ slot (about 0.3 us a time).
_EMULATED = Handling.EMULATED
_VENUE = Handling.VENUE
_GTD = TimeInForce.GTD
_INITIALIZED = OrderStatus.INITIALIZED
_PENDING_CANCEL = OrderStatus.PENDING_CANCEL
_BRACKET_SYNC_EVENTS = (OrderFilled, OrderUpdated, OrderUpdateRejected)
"""Venue answers after which an open order's bracket exits are resized."""


class PreTradeCheck(Protocol):
    def check(self, terms: OrderTerms, now_ns: int) -> str | None:
        """None when the order may go, else the reason (`CATEGORY: key=value ...`)."""
        ...


class RiskDenied(DomainError):
    """An amendment the pre-trade check refused; the order keeps its terms."""


@dataclass(frozen=True, slots=True)
class Anomaly:
    """A venue answer that was not applied, and why."""

    event: OrderEvent
    why: str


@dataclass(slots=True)
class _Replace:
    """A cancel-replace in progress: the new total and fields to use once canceled."""

    quantity: Decimal
    price: Decimal | None
    trigger_price: Decimal | None


Listener = Callable[[Order, OrderEvent], None]


class OrderManager:
    def __init__(
        self,
        *,
        venue: ExecutionVenue,
        store: Store,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        risk: PreTradeCheck | None = None,
        id_prefix: str = "qx",
    ) -> None:
        if not isinstance(id_prefix, str) or not 0 < len(id_prefix) <= MAX_PREFIX:
            rule = f"is not 1..{MAX_PREFIX} characters (rule: room for the counter)"
            raise ValidationError("id_prefix", id_prefix, rule)
        self._venue = venue
        self._store = store
        self._clock = clock
        self._instruments = dict(instruments)
        self._risk = risk
        self._prefix = id_prefix
        self._counter = 0
        self._orders: dict[str, Order] = {}
        self._handling: dict[str, Handling] = {}
        self._released: set[str] = set()
        self._local_expiry: dict[str, int] = {}
        self._replacing: dict[str, _Replace] = {}
        self._successor: dict[str, str] = {}
        self._brackets: dict[str, Bracket] = {}
        self._bracket_of: dict[str, str] = {}
        self._emulator = StopEmulator(self._instruments)
        self._listeners: list[Listener] = []
        self.anomalies: list[Anomaly] = []
        self.venue_acks_of_released = 0

    # --- reading --------------------------------------------------------------------------
    def order(self, client_order_id: str) -> Order:
        try:
            return self._orders[client_order_id]
        except KeyError:
            raise ValidationError(
                "client_order_id", client_order_id, "is not a known order"
            ) from None

    def orders(self) -> tuple[Order, ...]:
        return tuple(self._orders.values())

    def open_orders(self, symbol: str | None = None) -> tuple[Order, ...]:
        return tuple(
            o
            for o in self._orders.values()
            if not o.is_closed
            and (symbol is None or o.symbol == symbol)
            and o.status is not _INITIALIZED
        )

    def bracket(self, bracket_id: str) -> Bracket:
        try:
            return self._brackets[bracket_id]
        except KeyError:
            raise ValidationError("bracket_id", bracket_id, "is not a known bracket") from None

    def successor(self, client_order_id: str) -> str:
        """The id now carrying an order that was cancel-replaced (itself if never)."""
        cid = client_order_id
        while cid in self._successor:
            cid = self._successor[cid]
        return cid

    def is_emulated(self, client_order_id: str) -> bool:
        return self._handling.get(client_order_id) is _EMULATED

    @property
    def emulating(self) -> bool:
        """True while some order is held by the local emulator (it needs market data)."""
        return self._emulator.armed > 0

    def effective_stop(self, client_order_id: str) -> Decimal | None:
        """The trigger level an emulated stop works at now (trailing: after ratchets)."""
        return self._emulator.effective_stop(client_order_id)

    @property
    def pre_trade_check(self) -> PreTradeCheck | None:
        """The check every new order and amendment passes (None: instruments only)."""
        return self._risk

    @pre_trade_check.setter
    def pre_trade_check(self, check: PreTradeCheck | None) -> None:
        # The kernel puts its trading-state control in front of the risk gate here.
        self._risk = check

    def subscribe(self, listener: Listener) -> None:
        """`listener(order, event)` runs after each applied event (portfolio, strategy)."""
        self._listeners.append(listener)

    # --- requests -------------------------------------------------------------------------
    def submit(self, **fields: object) -> Order:
        """Creates an order from OrderTerms fields (without client_order_id and ts_init),
        checks it and sends it. Returns the order: DENIED if the check refused it."""
        return self._create_and_send(fields)

    def submit_bracket(
        self,
        *,
        symbol: str,
        side: OrderSide,
        quantity: Decimal,
        stop_loss: Decimal,
        take_profit: Decimal,
        entry_price: Decimal | None = None,
        trigger_source: TriggerSource = TriggerSource.LAST_TRADE,
    ) -> Bracket:
        """Entry (limit at `entry_price`, or market) with a stop-loss trigger and a
        take-profit limit price; see `engine.services.brackets` for the sizing rule."""
        subject = f"bracket on {symbol}"
        for name, value in (("stop_loss", stop_loss), ("take_profit", take_profit)):
            _checks.positive(name, value, subject)
        exit_side = OrderSide.SELL if side is OrderSide.BUY else OrderSide.BUY
        entry = self._on_grid(
            {"symbol": symbol, "side": side, "quantity": quantity, "price": entry_price}
        )
        exits = self._on_grid(
            {"symbol": symbol, "side": exit_side, "price": stop_loss, "trigger_price": take_profit}
        )
        quantity, entry_price = entry["quantity"], entry["price"]  # type: ignore[assignment]
        stop_loss, take_profit = exits["price"], exits["trigger_price"]  # type: ignore[assignment]
        sign = Decimal(1) if side is OrderSide.BUY else Decimal(-1)
        if (stop_loss - take_profit) * sign >= 0:
            rule = (
                "is not on the losing side of take_profit (rule: buy: stop < tp; sell: stop > tp)"
            )
            raise ValidationError("stop_loss", stop_loss, rule, subject)
        if entry_price is not None and not (
            (stop_loss - entry_price) * sign < 0 < (take_profit - entry_price) * sign
        ):
            rule = "is not between stop_loss and take_profit (rule: stop < entry < tp for a buy)"
            raise ValidationError("entry_price", entry_price, rule, subject)
        now = self._clock.now_ns()
        bracket_id, entry_id, sl_id, tp_id = (self._peek_id(i) for i in range(4))
        entry_fields: dict[str, object] = {"symbol": symbol, "side": side, "quantity": quantity}
        if entry_price is None:
            entry_fields["order_type"] = OrderType.MARKET
        else:
            entry_fields.update(order_type=OrderType.LIMIT, price=entry_price)
        entry_terms = OrderTerms(client_order_id=entry_id, ts_init=now, **entry_fields)  # type: ignore[arg-type]
        record = BracketCreated(
            client_order_id=bracket_id,
            ts_event=now,
            symbol=symbol,
            side=side,
            entry=entry_id,
            stop_loss=sl_id,
            take_profit=tp_id,
            stop_price=stop_loss,
            take_profit_price=take_profit,
            trigger_source=trigger_source,
        )
        bracket = _bracket_from(record)
        # Validate the exits' terms now, so a bad bracket fails before anything is journaled.
        for role, cid in (("stop_loss", sl_id), ("take_profit", tp_id)):
            OrderTerms(
                client_order_id=cid,
                symbol=symbol,
                side=bracket.exit_side,
                quantity=quantity,
                reduce_only=True,
                ts_init=now,
                **bracket.exit_terms(role),  # type: ignore[arg-type]
            )
        self._journal(record)
        self._replay_bracket(record)
        self._initialize(entry_terms, bracket=bracket_id)
        self._check_and_send(entry_terms)
        return self._brackets[bracket_id]

    def adopt(self, state: VenueOrderState) -> Order:
        """Takes in an order the venue holds that this manager never sent (found by
        reconciliation): journaled as EXTERNAL, submitted and accepted under the venue's
        client and order ids, with the venue's terms. Its fills and its end come as venue
        answers like any order's; it can be canceled, never amended or sent."""
        cid = state.client_order_id
        if cid in self._orders:
            rule = "is already known (rule: adopt only orders this manager never had)"
            raise ValidationError("client_order_id", cid, rule, f"order {cid}")
        now = self._clock.now_ns()
        limit = state.order_type in (OrderType.LIMIT, OrderType.STOP_LIMIT)
        terms = OrderTerms(
            client_order_id=cid,
            symbol=state.symbol,
            side=state.side,
            order_type=state.order_type,
            quantity=state.quantity,
            price=state.price if limit else None,
            trigger_price=state.trigger_price if state.order_type.is_triggered else None,
            reduce_only=state.reduce_only,
            ts_init=now,
        )
        record = OrderInitialized(
            client_order_id=cid, ts_event=now, terms=terms, handling=Handling.EXTERNAL
        )
        self._journal(record)
        self._replay_initialized(record)
        order = self._orders[cid]
        self._apply(order, OrderSubmitted(client_order_id=cid, ts_event=now))
        accepted = OrderAccepted(
            client_order_id=cid, ts_event=now, venue_order_id=state.venue_order_id
        )
        self._apply(order, accepted)
        return order

    def cancel(self, client_order_id: str) -> bool:
        """Asks for the order to be canceled; False when it is already closed or a cancel
        is already in flight (nothing to do)."""
        order = self.order(self.successor(client_order_id))
        if order.is_closed or order.status is _PENDING_CANCEL:
            return False
        self._cancel(order, reason="USER_CANCEL")
        return True

    def modify(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None:
        """Amends an open order; `quantity` is the new total and must exceed what
        filled. With cancel-replace the change is carried by a new order once the venue
        confirms the cancel: follow it with `successor(client_order_id)`."""
        order = self.order(self.successor(client_order_id))
        subject = f"order {order.client_order_id}"
        gridded = self._on_grid(
            {
                "symbol": order.symbol,
                "side": order.side,
                "quantity": quantity,
                "price": price,
                "trigger_price": trigger_price,
            }
        )
        quantity, price, trigger_price = (
            gridded["quantity"],  # type: ignore[assignment]
            gridded["price"],  # type: ignore[assignment]
            gridded["trigger_price"],  # type: ignore[assignment]
        )
        if order.is_closed or order.status is OrderStatus.INITIALIZED:
            raise ValidationError(
                "status", order.status, "is not open (rule: amend open orders)", subject
            )
        if self._handling.get(order.client_order_id) is Handling.EXTERNAL:
            rule = "is EXTERNAL (rule: amend only orders this run placed)"
            raise ValidationError("handling", Handling.EXTERNAL, rule, subject)
        if order.is_pending:
            rule = "has a request in flight (rule: one at a time)"
            raise ValidationError("status", order.status, rule, subject)
        if quantity is not None and quantity <= order.filled_qty:
            rule = f"not above filled_qty {order.filled_qty} (rule: amend above what filled)"
            raise ValidationError("quantity", quantity, rule, subject)
        new = replace(
            order.terms,
            quantity=order.quantity if quantity is None else quantity,
            price=order.price if price is None else price,
            trigger_price=order.trigger_price if trigger_price is None else trigger_price,
        )  # replace() re-runs OrderTerms validation: a bad field raises here
        if new == order.terms:
            raise ValidationError("update", None, "changes nothing (rule: a new value)", subject)
        reason = self._risk_reason(new)
        if reason is not None:
            raise RiskDenied("update", order.client_order_id, f"denied: {reason}")
        cid = order.client_order_id
        now = self._clock.now_ns()
        handling = self._handling[cid]
        if handling is Handling.EMULATED and cid not in self._released:
            self._apply(order, OrderPendingUpdate(client_order_id=cid, ts_event=now))
            update = OrderUpdated(
                client_order_id=cid,
                ts_event=now,
                quantity=quantity,
                price=price,
                trigger_price=trigger_price,
            )
            self._apply(order, update)
            self._emulator.rearm(order, self._user_stop_for(order.terms))
            return
        if self._venue.capabilities.amend:
            self._apply(order, OrderPendingUpdate(client_order_id=cid, ts_event=now))
            self._venue.modify(cid, quantity=quantity, price=price, trigger_price=trigger_price)
            return
        self._replacing[cid] = _Replace(new.quantity, new.price, new.trigger_price)
        self._cancel(order, reason="REPLACE")

    # --- market data and time (emulation, local expiry) -----------------------------------
    def on_trade(self, symbol: str, price: Decimal) -> None:
        self._observed(self._emulator.on_trade(symbol, price))

    def on_quote(self, symbol: str, bid: Decimal | None, ask: Decimal | None) -> None:
        self._observed(self._emulator.on_quote(symbol, bid, ask))

    def on_mark(self, symbol: str, price: Decimal) -> None:
        self._observed(self._emulator.on_mark(symbol, price))

    def _observed(self, fired: list[str]) -> None:
        """Journals trailing ratchets (so a restart never loosens them), then fires."""
        now = self._clock.now_ns()
        for cid, level in self._emulator.moved():
            order = self._orders[cid]
            self._apply(order, OrderPendingUpdate(client_order_id=cid, ts_event=now))
            self._apply(order, OrderUpdated(client_order_id=cid, ts_event=now, trigger_price=level))
        self._fire(fired)

    def on_time(self, now_ns: int) -> None:
        """Expires what this manager expires itself (see the module docstring)."""
        due = sorted((t, cid) for cid, t in self._local_expiry.items() if t <= now_ns)
        for _, cid in due:
            del self._local_expiry[cid]
            order = self._orders[cid]
            if order.is_closed:
                continue
            if self.is_emulated(cid) and cid not in self._released:
                self._emulator.disarm(cid)
                self._apply(order, OrderExpired(client_order_id=cid, ts_event=now_ns))
                self._after_close(order)
            elif order.status is not OrderStatus.PENDING_CANCEL:
                self._cancel(order, reason="GTD_EXPIRED")

    # --- venue answers ----------------------------------------------------------------------
    def on_venue_event(self, event: OrderEvent) -> None:
        """Applies one answer from the venue (see the module docstring for what is not)."""
        cid = event.client_order_id
        order = self._orders.get(cid)
        if order is None:
            self.anomalies.append(Anomaly(event, "unknown client order id"))
            return
        if isinstance(event, OrderAccepted) and cid in self._released:
            self.venue_acks_of_released += 1
            return
        if order.is_closed:
            self.anomalies.append(Anomaly(event, f"order already {order.status}"))
            return
        try:
            if isinstance(event, OrderUpdated) and not order.update_in_flight:
                # The venue changed the order on its own (a reduce-only order cut to the
                # position): journaled as a request answered at once, so replay agrees.
                self._apply(order, OrderPendingUpdate(client_order_id=cid, ts_event=event.ts_event))
            self._apply(order, event)
        except DomainError as err:
            self.anomalies.append(Anomaly(event, str(err)))
            return
        self._after_venue_event(order, event)

    # --- recovery -------------------------------------------------------------------------
    @classmethod
    def recover(
        cls,
        *,
        venue: ExecutionVenue,
        store: Store,
        clock: Clock,
        instruments: Mapping[str, Instrument],
        risk: PreTradeCheck | None = None,
        id_prefix: str = "qx",
    ) -> OrderManager:
        """Rebuilds the manager from its journal; sends nothing. Emulated stops are armed
        again from their terms (a trailing stop restarts its ratchet from its last
        journaled trigger price)."""
        om = cls(
            venue=venue,
            store=store,
            clock=clock,
            instruments=instruments,
            risk=risk,
            id_prefix=id_prefix,
        )
        for _, record in store.records():
            om._replay(record)
        for cid, order in om._orders.items():
            if om.is_emulated(cid) and cid not in om._released and order.is_open:
                om._emulator.arm(order, om._user_stop_for(order.terms))
        return om

    # --- internals ------------------------------------------------------------------------
    def _peek_id(self, offset: int) -> str:
        return f"{self._prefix}-{self._counter + offset + 1}"

    def _journal(self, record: OrderEvent) -> None:
        self._store.append(record)

    def _apply(self, order: Order, event: OrderEvent) -> None:
        """Write-ahead: check, journal, then apply (cannot fail after the check)."""
        order.apply_after(event, self._store.append)
        for listener in self._listeners:
            listener(order, event)

    def _initialize(
        self, terms: OrderTerms, *, bracket: str | None = None, replaces: str | None = None
    ) -> Order:
        handling = self._handling_for(terms)
        record = OrderInitialized(
            client_order_id=terms.client_order_id,
            ts_event=terms.ts_init,
            terms=terms,
            handling=handling,
            bracket=bracket,
            replaces=replaces,
        )
        self._journal(record)
        self._replay_initialized(record)
        return self._orders[terms.client_order_id]

    def _handling_for(self, terms: OrderTerms) -> Handling:
        caps = self._venue.capabilities
        if terms.order_type.is_triggered and (
            terms.order_type not in caps.order_types
            or terms.trigger_source not in caps.trigger_sources
        ):
            return _EMULATED
        return _VENUE

    def _create_and_send(self, fields: Mapping[str, object], **links: str | None) -> Order:
        for name in ("client_order_id", "ts_init"):
            if name in fields:
                raise ValidationError(name, fields[name], "given (rule: the manager sets it)")
        terms = OrderTerms(
            client_order_id=self._peek_id(0),
            ts_init=self._clock.now_ns(),
            **self._on_grid(fields),  # type: ignore[arg-type]
        )
        self._counter += 1
        order = self._initialize(terms, **links)
        self._check_and_send(terms)
        return order

    def _on_grid(self, fields: Mapping[str, object]) -> dict[str, object]:
        """`fields` with price, trigger price and quantity rounded to the instrument's
        grid (see the module docstring); anything unusable is left for OrderTerms to
        refuse by name."""
        out = dict(fields)
        symbol, side = out.get("symbol"), out.get("side")
        inst = self._instruments.get(symbol) if isinstance(symbol, str) else None
        if inst is None or not isinstance(side, OrderSide):
            return out
        for name in ("price", "trigger_price"):
            value = out.get(name)
            if type(value) is Decimal and value.is_finite() and value > 0:
                rounded = inst.passive_price(value, side)
                if rounded > 0:
                    out[name] = rounded
        quantity = out.get("quantity")
        if type(quantity) is Decimal and quantity.is_finite() and quantity > 0:
            rounded = inst.round_qty(quantity)
            if rounded > 0:
                out["quantity"] = rounded
        return out

    def _risk_reason(self, terms: OrderTerms) -> str | None:
        if terms.symbol not in self._instruments:
            return f"UNKNOWN_INSTRUMENT: symbol={terms.symbol}"
        if self._risk is None:
            return None
        return self._risk.check(terms, self._clock.now_ns())

    def _check_and_send(self, terms: OrderTerms) -> None:
        cid = terms.client_order_id
        order = self._orders[cid]
        now = self._clock.now_ns()
        reason = self._risk_reason(terms)
        if reason is not None:
            self._apply(order, OrderDenied(client_order_id=cid, ts_event=now, reason=reason))
            self._after_close(order)
            return
        if (
            terms.time_in_force is _GTD
            and terms.expire_time_ns is not None
            and (
                self._handling[cid] is _EMULATED
                or _GTD not in self._venue.capabilities.time_in_force
            )
        ):
            self._local_expiry[cid] = terms.expire_time_ns
        if self._handling[cid] is _EMULATED:
            try:
                self._emulator.arm(order, self._user_stop_for(terms))
            except DomainError as err:
                self._local_expiry.pop(cid, None)
                denial = OrderDenied(client_order_id=cid, ts_event=now, reason=f"EMULATION: {err}")
                self._apply(order, denial)
                self._after_close(order)
                return
            try:
                self._apply(order, OrderSubmitted(client_order_id=cid, ts_event=now))
                self._apply(order, OrderAccepted(client_order_id=cid, ts_event=now))
            except BaseException:
                self._emulator.disarm(cid)
                raise
            return
        self._apply(order, OrderSubmitted(client_order_id=cid, ts_event=now))
        self._venue.submit(self._venue_terms(terms))

    def _user_stop_for(self, terms: OrderTerms) -> Decimal | None:
        """For a trailing stop: the tightest plain stop the user holds on the same side
        (the trailing stop's effective level is never looser than it)."""
        if terms.order_type is not OrderType.TRAILING_STOP_MARKET:
            return None
        levels = [
            o.trigger_price
            for o in self._orders.values()
            if o.symbol == terms.symbol
            and o.side is terms.side
            and o.order_type in (OrderType.STOP_MARKET, OrderType.STOP_LIMIT)
            and o.is_open
            and o.trigger_price is not None
        ]
        if not levels:
            return None
        return max(levels) if terms.side is OrderSide.SELL else min(levels)

    def _venue_terms(self, terms: OrderTerms) -> OrderTerms:
        if (
            terms.time_in_force is TimeInForce.GTD
            and TimeInForce.GTD not in self._venue.capabilities.time_in_force
        ):
            return replace(terms, time_in_force=TimeInForce.GTC, expire_time_ns=None)
        return terms

    def _cancel(self, order: Order, *, reason: str) -> None:
        cid = order.client_order_id
        now = self._clock.now_ns()
        if order.status is _INITIALIZED:  # held locally (a bracket exit)
            self._apply(order, OrderCanceled(client_order_id=cid, ts_event=now, reason=reason))
            self._after_close(order)
            return
        self._apply(order, OrderPendingCancel(client_order_id=cid, ts_event=now))
        if self.is_emulated(cid) and cid not in self._released:
            self._emulator.disarm(cid)
            self._apply(order, OrderCanceled(client_order_id=cid, ts_event=now, reason=reason))
            self._after_close(order)
            return
        self._venue.cancel(cid)

    def _fire(self, fired: Iterable[str]) -> None:
        now = self._clock.now_ns()
        for cid in fired:
            order = self._orders[cid]
            if order.is_closed:
                continue
            self._apply(order, OrderTriggered(client_order_id=cid, ts_event=now))
            self._released.add(cid)
            self._local_expiry.pop(cid, None)
            self._venue.submit(_released_terms(order.terms))

    def _after_venue_event(self, order: Order, event: OrderEvent) -> None:
        cid = order.client_order_id
        if order.is_closed:
            self._local_expiry.pop(cid, None)
            plan = self._replacing.pop(cid, None)
            if plan is not None and isinstance(event, OrderCanceled):
                self._send_replacement(order, plan)
            if self._bracket_of:  # no bracket, nothing to sync
                self._after_close(order)
        elif isinstance(event, OrderCancelRejected):
            self._replacing.pop(cid, None)
        if self._bracket_of and isinstance(event, _BRACKET_SYNC_EVENTS) and not order.is_closed:
            self._sync_bracket_of(cid)

    def _send_replacement(self, old: Order, plan: _Replace) -> None:
        remaining = plan.quantity - old.filled_qty
        if remaining <= 0:
            return
        terms = replace(
            old.terms,
            client_order_id=self._peek_id(0),
            ts_init=self._clock.now_ns(),
            quantity=remaining,
            price=plan.price,
            trigger_price=plan.trigger_price,
        )
        self._counter += 1
        bracket_id = self._bracket_of.get(old.client_order_id)
        self._initialize(terms, replaces=old.client_order_id, bracket=bracket_id)
        self._check_and_send(terms)

    def _after_close(self, order: Order) -> None:
        self._sync_bracket_of(order.client_order_id)

    # --- brackets -------------------------------------------------------------------------
    def _sync_bracket_of(self, cid: str) -> None:
        bracket_id = self._bracket_of.get(cid)
        if bracket_id is None:
            return
        bracket = self._brackets[bracket_id]
        if bracket.state is BracketState.DONE:
            return
        entry = self._orders[bracket.entry]
        sl = self._orders.get(bracket.stop_loss)
        tp = self._orders.get(bracket.take_profit)
        targets = exit_targets(entry, sl, tp, sum(bracket.retired.values(), Decimal(0)))
        if targets.done:
            bracket.state = BracketState.DONE
            for o in (entry, sl, tp):
                if o is not None and not o.is_closed and o.status is not OrderStatus.PENDING_CANCEL:
                    self._cancel(o, reason="BRACKET_DONE")
            return
        for role, order, target in (
            ("stop_loss", sl, targets.stop_loss),
            ("take_profit", tp, targets.take_profit),
        ):
            if target is None:
                continue
            if order is None:
                self._create_exit(bracket, role, target)
            elif order.is_closed:
                continue  # a closed exit stays closed (rejected: nothing to resize)
            elif order.quantity != target and not order.is_pending:
                self.modify(order.client_order_id, quantity=target)

    def _create_exit(self, bracket: Bracket, role: str, quantity: Decimal) -> None:
        cid = bracket.stop_loss if role == "stop_loss" else bracket.take_profit
        terms = OrderTerms(
            client_order_id=cid,
            symbol=bracket.symbol,
            side=bracket.exit_side,
            quantity=quantity,
            reduce_only=True,
            ts_init=self._clock.now_ns(),
            **bracket.exit_terms(role),  # type: ignore[arg-type]
        )
        self._initialize(terms, bracket=bracket.bracket_id)
        self._check_and_send(terms)

    # --- replay ---------------------------------------------------------------------------
    def _replay_initialized(self, record: OrderInitialized) -> None:
        cid = record.client_order_id
        self._orders[cid] = Order(record.terms)
        self._handling[cid] = record.handling
        if record.replaces is not None:
            self._successor[record.replaces] = cid
        if record.bracket is not None:
            self._bracket_of[cid] = record.bracket
            bracket = self._brackets[record.bracket]
            old = record.replaces
            if old is not None:  # a cancel-replaced exit: the new order takes its role
                bracket.retired[old] = self._orders[old].filled_qty
                if bracket.stop_loss == old:
                    bracket.stop_loss = cid
                elif bracket.take_profit == old:
                    bracket.take_profit = cid

    def _replay_bracket(self, record: BracketCreated) -> None:
        bracket = _bracket_from(record)
        self._brackets[bracket.bracket_id] = bracket
        for cid in (record.entry, record.stop_loss, record.take_profit):
            self._bracket_of[cid] = bracket.bracket_id
        self._counter = max(self._counter, _counter_of(record.take_profit, self._prefix))

    def _replay(self, record: JournalRecord) -> None:
        if isinstance(record, OrderInitialized):
            self._replay_initialized(record)
            self._counter = max(self._counter, _counter_of(record.client_order_id, self._prefix))
            return
        if isinstance(record, BracketCreated):
            self._replay_bracket(record)
            return
        if not isinstance(record, OrderEvent):
            return  # run and portfolio records are not the manager's
        order = self._orders[record.client_order_id]
        order.apply(record)
        if isinstance(record, OrderTriggered) and self.is_emulated(order.client_order_id):
            self._released.add(order.client_order_id)


def _bracket_from(record: BracketCreated) -> Bracket:
    return Bracket(
        bracket_id=record.client_order_id,
        symbol=record.symbol,
        side=record.side,
        entry=record.entry,
        stop_loss=record.stop_loss,
        take_profit=record.take_profit,
        stop_price=record.stop_price,
        take_profit_price=record.take_profit_price,
        trigger_source=record.trigger_source,
    )


def _counter_of(cid: str, prefix: str) -> int:
    head, _, n = cid.rpartition("-")
    return int(n) if head == prefix and n.isdigit() else 0


def _released_terms(terms: OrderTerms) -> OrderTerms:
    """What a fired emulated order becomes at the venue: market, or limit for *_LIMIT."""
    order_type = OrderType.LIMIT if terms.order_type.has_limit_price else OrderType.MARKET
    return replace(
        terms,
        order_type=order_type,
        trigger_price=None,
        trigger_source=None,
        trailing_offset=None,
        trailing_offset_bps=None,
        time_in_force=TimeInForce.GTC if order_type is OrderType.LIMIT else TimeInForce.IOC,
        expire_time_ns=None,
    )
