"""CcxtVenue: the live `LiveVenue` over a ccxt.pro exchange (REST for commands and
queries, the private websocket or polling for reports).

The kernel thread never waits on the exchange for a command: `submit`, `cancel` and
`modify` schedule a coroutine on the `AsyncioThread` and return; every answer becomes a
domain `OrderEvent` in a thread-safe queue that `drain()` empties, stamped with the local
clock when it was received (exchange times never enter events). All state of the adapter
lives on the loop thread; commands for one order run one after another there.

Failures are classified (`adapters.exchanges.errors.classify`):
- REJECT: the exchange said no. OrderRejected / OrderCancelRejected /
  OrderUpdateRejected with the verdict's reason; never retried.
- RETRY (429, 418, DDoS protection; any transient error of a read): the same request
  again after the BackoffPolicy's delay, or the exchange's Retry-After when longer, at
  most `max_attempts` sends in all.
- AMBIGUOUS (a timeout, 5xx or dropped connection on a create or an amend): the order
  is looked up by client order id BEFORE anything is sent again. Found: it was placed
  (or amended); its state and fills are reported. Not found: the same request (same
  client id) is sent again. A lookup the venue cannot answer is retried in the
  background along the policy; when the policy gives up the order is left unresolved
  (listed in `health()`, for reconciliation): it is never reported rejected without the
  exchange saying so. A resent create answered "duplicate client order id" means an
  earlier send was placed after all: it is looked up too.
- A cancel or an amend of an order the venue no longer has (OrderNotFound) is looked
  up: what really happened is reported (missing fills, OrderCanceled),
  OrderCancelRejected / OrderUpdateRejected only when the order is still open or never
  existed. A cancel or an amend of an order already closed here sends nothing and is
  answered by the order's closing report alone (a refusal after it would reach the
  manager for a closed order).

Reports: each order's OrderAccepted comes before its fills and its closing event, and a
closing event (OrderCanceled, OrderExpired) waits until the fills the venue counts for
the order have been reported (fetched over REST when the stream does not bring them
within `poll_s`). Each (symbol, trade id) is reported once, whichever of the create
answer, the stream, a lookup or a catch-up brings it; `seen_trades` seeds the set from
the journal after a restart. An order first seen on the stream or in a query (placed by
an earlier run) is followed from then on without an OrderAccepted; its earlier fills are
reconciliation's (`fills()`). Orders and fills for which `is_ours(client id)` is False
produce no events.

Private stream ("ws" mode): ccxt.pro `watch_orders` and `watch_my_trades`, one loop
each (each re-arms its watch in the same step it handles the last answer, so no update
falls between two watches), restarted along the BackoffPolicy when the connection
fails. `connections` counts websocket connections made (ccxt's `on_connected` hook of
this exchange instance: give the venue its own instance). After every restart of the
stream the open orders are caught up over REST (their state and the fills they got
while the stream was down), at once and again `poll_s` later, which covers a fill
between the connection and the subscription taking effect. ccxt 4.5 stops reading a
connection after a frame it cannot decode (the error escapes its receive callback); the
adapter guards each private connection's frame handler instead: the frame is counted as
malformed and logged, the connection goes on, and a catch-up recovers what the frame
said. "poll" mode (an exchange without a private stream) asks for each open order's
state every `poll_s`.

Market orders never go out as exchange market orders: each is sent as a limit IOC (FOK
when it asked for FOK) at its slippage cap from the touch, so it cannot fill beyond the
cap. The touch is `touch(symbol)` (best bid, best ask from the caller's book, read on
the caller's thread at `submit`); the cap is the order's `max_slippage_bps`, or
`default_slippage_bps` (None means the default, never "no cap"). A buy's limit is
ask * (1 + bps/10000) rounded DOWN to the tick, a sell's bid * (1 - bps/10000) rounded UP
(`ccxt_orders.capped_price`). What the IOC does not fill is reported as OrderCanceled
with a `SLIPPAGE_CAP: ...` reason (whether the exchange calls it expired or canceled).
No touch (no `touch`, or no level on the side the order takes from): OrderRejected
`NO_REFERENCE_PRICE: ...`, and nothing is sent.

Exchange differences (look-up by client id, cancel, an order's fills, the account's
fills, amends, duplicate ids) live in `ccxt_exchanges` (Binance, Upbit, ccxt's unified
calls for the others); this module is the same for every exchange.

Rate limits: the token bucket (one token per REST call) is taken before every REST
call; ccxt's own throttle still applies. The Retry-After of a refused call is read from
`exchange.last_response_headers` (shared by concurrent calls: at worst a wait falls back
to the policy's delay).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import queue
import random
import re
import threading
from collections import OrderedDict, deque
from collections.abc import Awaitable, Callable, Coroutine, Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from functools import partial
from types import MappingProxyType
from typing import Any, Final, Literal, TypeVar

import ccxt

from adapters.exchanges.aioloop import AsyncioThread
from adapters.exchanges.backoff import BackoffPolicy
from adapters.exchanges.errors import Outcome, Verdict, classify, code_of
from adapters.exchanges.ratelimit import TokenBucket
from adapters.venues.ccxt_exchanges import rules_for
from adapters.venues.ccxt_orders import (
    ORDER_TYPES,
    TIME_IN_FORCE,
    Malformed,
    capped_price,
    client_id_of,
    fill_from_trade,
    is_client_id,
    is_derivative,
    number,
    on_grid,
    order_request,
    venue_state,
)
from engine.domain.enums import Liquidity, OrderSide, OrderType, TriggerSource
from engine.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderUpdated,
    OrderUpdateRejected,
)
from engine.domain.fill import Fill
from engine.domain.instrument import Instrument
from engine.domain.order import OrderTerms
from engine.ports.clock import Clock
from engine.ports.venue import VenueCapabilities, VenueOrderState, VenueUnavailable

__all__ = ["CcxtVenue"]

T = TypeVar("T")
Reports = Literal["ws", "poll"]
Touch = Callable[[str], tuple[Decimal | None, Decimal | None]]
"""(best bid, best ask) of a symbol as the caller's book shows it (None: no level)."""

_UNRESOLVED: Final = object()
"""A lookup the venue never answered (the policy gave up)."""
_MAX_ORPHANS: Final = 1000
"""Trades of orders not seen yet, kept until their order shows up (oldest dropped)."""
_MAX_FOREIGN: Final = 10_000
"""Orders known not to be ours, remembered so their trades are dropped at once."""
_KEEP_CLOSED: Final = 10_000
"""Closed orders kept in full (late duplicates meet their order); older ones are pruned
to their client id, and reports for a pruned order are dropped."""
_MAX_PRUNED: Final = 1_000_000
_REDACT: Final = re.compile(r"(signature)=[A-Za-z0-9%]+")
"""Request signatures in the URLs ccxt puts in its error messages."""


@dataclass(slots=True, eq=False)
class _Order:
    """What the adapter knows of one order of ours (loop thread only)."""

    cid: str
    symbol: str
    side: OrderSide
    quantity: Decimal
    price: Decimal | None
    venue_id: str = ""
    accepted: bool = False
    """OrderAccepted reported (or not to be: an order adopted from an earlier run)."""
    placed: bool = False
    """The venue has it (its create resolved as placed, or it was adopted)."""
    filled: Decimal = Decimal(0)
    """Sum of the fills reported."""
    venue_filled: Decimal = Decimal(0)
    """Cumulative filled quantity as the venue last said."""
    venue_done: bool = False
    closing: OrderEvent | None = None
    """The closing event, waiting for fills the venue counts but we have not reported."""
    closed: bool = False
    cancel_requested: bool = False
    fills_pending: bool = False
    trades: list[tuple[str, str]] = field(default_factory=list)
    """(symbol, trade id) of the fills reported."""
    cap_reason: str = ""
    """A market order sent as a capped limit IOC: why its unfilled rest was canceled."""
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)


class CcxtVenue:
    """A live venue over a ccxt.pro exchange; see the module docstring."""

    def __init__(
        self,
        exchange: Any,
        instruments: Mapping[str, Instrument],
        *,
        clock: Clock,
        loop: AsyncioThread,
        backoff: BackoffPolicy | None = None,
        bucket: TokenBucket | None = None,
        is_ours: Callable[[str], bool] = lambda cid: True,
        reports: Reports = "ws",
        poll_s: float = 1.0,
        call_timeout_s: float = 10.0,
        max_attempts: int = 5,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        log: Callable[[str], None] | None = None,
        seed: int = 0,
        touch: Touch | None = None,
        default_slippage_bps: int = 100,
    ) -> None:
        if reports not in ("ws", "poll"):
            raise ValueError(f"reports {reports!r} is not 'ws' or 'poll'")
        if type(default_slippage_bps) is not int or not 1 <= default_slippage_bps <= 10_000:
            rule = "is not an int in 1..10000 (rule: bps of the touch)"
            raise ValueError(f"default_slippage_bps {default_slippage_bps!r} {rule}")
        for name, value in (("poll_s", poll_s), ("call_timeout_s", call_timeout_s)):
            if not value > 0:
                raise ValueError(f"{name} {value!r} is not positive (rule: > 0)")
        if max_attempts < 1:
            raise ValueError(f"max_attempts {max_attempts!r} is below 1 (rule: >= 1)")
        self._exchange = exchange
        self._rules = rules_for(exchange)
        self._touch = touch
        self._default_slippage_bps = default_slippage_bps
        self._instruments = dict(instruments)
        self._clock = clock
        self._loop = loop
        self._policy = backoff or BackoffPolicy()
        self._bucket = bucket
        self._is_ours = is_ours
        self._reports: Reports = reports
        self._poll_s = poll_s
        self._call_timeout_s = call_timeout_s
        self._max_attempts = max_attempts
        self._sleep = sleep
        self._log_to = log
        self._rng = random.Random(seed)
        self._capabilities = VenueCapabilities(
            order_types=ORDER_TYPES,
            time_in_force=TIME_IN_FORCE,
            trigger_sources=frozenset[TriggerSource](),
            amend=self._rules.amend,
        )
        self._events: queue.SimpleQueue[OrderEvent] = queue.SimpleQueue()
        # Loop-thread state.
        self._orders: dict[str, _Order] = {}
        self._by_venue_id: dict[tuple[str, str], str] = {}
        self._orphans: OrderedDict[tuple[str, str], list[Mapping[str, Any]]] = OrderedDict()
        self._seen: set[tuple[str, str]] = set()
        self._foreign: OrderedDict[tuple[str, str], None] = OrderedDict()
        self._fill_cids: dict[tuple[str, str], str] = {}
        self._closed_ids: deque[str] = deque()
        self._pruned: OrderedDict[str, None] = OrderedDict()
        self._catching_up = False
        self._catch_up_again = False
        # Shared with the caller's thread (under _lock).
        self._lock = threading.Lock()
        self._stats: dict[str, Any] = {
            "requests": 0,
            "retries": {},
            "rejects": 0,
            "ambiguous": 0,
            "lookups": 0,
            "rate_limit_waits": 0,
            "connections": 0,
            "reconnects": 0,
            "stream_failures": {},
            "catch_ups": 0,
            "malformed": 0,
            "duplicates": 0,
            "foreign": 0,
            "internal_errors": 0,
        }
        self._unresolved: set[str] = set()
        self._stream_state = "stopped"
        self._last_error = ""
        self._baseline: dict[str, Decimal] = {}
        self._live: set[concurrent.futures.Future[Any]] = set()
        self._started = False
        self._closed = False
        self._hook_connections()

    # --- ExecutionVenue --------------------------------------------------------------------
    @property
    def capabilities(self) -> VenueCapabilities:
        return self._capabilities

    @property
    def instruments(self) -> Mapping[str, Instrument]:
        """The instruments this venue trades, by ccxt unified symbol."""
        return MappingProxyType(self._instruments)

    def submit(self, terms: OrderTerms) -> None:
        why = self._unsupported(terms)
        if why is not None:
            self._emit(
                OrderRejected(
                    client_order_id=terms.client_order_id, ts_event=self._now(), reason=why
                )
            )
            return
        cid = terms.client_order_id
        cap: tuple[Decimal, str] | None = None
        if terms.order_type is OrderType.MARKET:
            capped = self._market_cap(terms)
            if isinstance(capped, str):
                self._count("rejects")
                self._emit(OrderRejected(client_order_id=cid, ts_event=self._now(), reason=capped))
                return
            cap = capped
        self._command(
            self._create(terms, cap),
            lambda why: OrderRejected(client_order_id=cid, ts_event=self._now(), reason=why),
        )

    def cancel(self, client_order_id: str) -> None:
        self._command(
            self._cancel(client_order_id),
            lambda why: OrderCancelRejected(
                client_order_id=client_order_id, ts_event=self._now(), reason=why
            ),
        )

    def modify(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None:
        """Amends in place (binanceusdm's PUT order); `quantity` is the new total."""
        self._command(
            self._amend(client_order_id, quantity, price, trigger_price),
            lambda why: OrderUpdateRejected(
                client_order_id=client_order_id, ts_event=self._now(), reason=why
            ),
        )

    # --- VenueSession ----------------------------------------------------------------------
    def apply_events(self, symbol: str, events: Any) -> None:
        """Nothing: the exchange matches on its own market."""

    def advance_to(self, ts: int) -> None:
        """Nothing: commands travel and orders expire in real time."""

    def drain(self) -> list[OrderEvent]:
        out: list[OrderEvent] = []
        while True:
            try:
                out.append(self._events.get_nowait())
            except queue.Empty:
                return out

    def position(self, symbol: str) -> Decimal:
        """The venue's signed position: a derivative's position as the venue states it;
        on spot, the base asset's total balance now minus its total at `start()` (spot
        has no position: this is what this run bought and sold, fees in base included).
        Blocks for at most `call_timeout_s`; VenueUnavailable when it cannot be told."""
        instrument = self._instrument(symbol)
        if is_derivative(instrument):
            return self.positions().get(symbol, Decimal(0))
        if not self._started:
            raise VenueUnavailable(f"position of {symbol}: start() first (the spot baseline)")
        now = self.balances().get(instrument.base, Decimal(0))
        return now - self._baseline.get(instrument.base, Decimal(0))

    # --- VenueAccount ----------------------------------------------------------------------
    def open_orders(self) -> list[VenueOrderState]:
        async def run() -> list[VenueOrderState]:
            out: list[VenueOrderState] = []
            for symbol, instrument in self._instruments.items():
                orders = await self._read(partial(self._exchange.fetch_open_orders, symbol))
                for order in orders:
                    state = self._state_of(order, instrument)
                    if state is not None:
                        out.append(state)
            return out

        return self._blocking(run(), "open orders")

    def order(self, symbol: str, client_order_id: str) -> VenueOrderState | None:
        instrument = self._instrument(symbol)

        async def run() -> VenueOrderState | None:
            try:
                found = await self._read(lambda: self._fetch_by_cid(symbol, client_order_id))
            except ccxt.OrderNotFound:
                return None
            return self._state_of(found, instrument)

        return self._blocking(run(), f"order {client_order_id}")

    def fills(self, symbol: str, since_ns: int) -> list[Fill]:
        """Our executions on `symbol` from `since_ns`, oldest first. The exchange filters
        in its own milliseconds: `since_ns // 1_000_000` is sent as is (the local clock
        and the exchange's are taken to share the epoch); 0 or less asks for all the
        exchange keeps. `ts_event` is the local time of the answer. A fill's client id
        comes from the order (looked up once per unknown order), `ext-<venue id>` when
        it has none."""
        instrument = self._instrument(symbol)
        since_ms = since_ns // 1_000_000 if since_ns > 0 else None
        return self._blocking(self._all_fills(instrument, since_ms), f"fills of {symbol}")

    def order_fills(self, symbol: str, client_order_id: str) -> list[Fill]:
        """Every execution of the order with this client id, oldest first; [] when the
        venue never had it. Asks by order, not by time: no clock is trusted."""
        instrument = self._instrument(symbol)

        async def run() -> list[Fill]:
            try:
                found = await self._read(lambda: self._fetch_by_cid(symbol, client_order_id))
            except ccxt.OrderNotFound:
                return []
            venue_id = str(found.get("id") or "")
            if not venue_id:
                return []
            trades = await self._read(
                lambda: self._rules.order_trades(symbol, venue_id, client_order_id)
            )
            return await self._to_fills(instrument, trades, client_order_id)

        return self._blocking(run(), f"fills of order {client_order_id}")

    def balances(self) -> dict[str, Decimal]:
        """ccxt's `total` per asset, zero left out. For USD-M futures ccxt's total is the
        margin balance (wallet plus unrealized PnL), not the wallet alone."""

        async def run() -> dict[str, Decimal]:
            balance = await self._read(lambda: self._exchange.fetch_balance())
            out: dict[str, Decimal] = {}
            for asset, total in (balance.get("total") or {}).items():
                amount = self._number_or_none(total, f"balance of {asset}")
                if amount:
                    out[str(asset)] = amount
            return out

        return self._blocking(run(), "balances")

    def positions(self) -> dict[str, Decimal]:
        """Signed position per derivative instrument, 0 for a flat one ({} with none)."""
        symbols = [s for s, i in self._instruments.items() if is_derivative(i)]
        if not symbols:
            return {}

        async def run() -> dict[str, Decimal]:
            rows = await self._read(lambda: self._exchange.fetch_positions(symbols))
            out = dict.fromkeys(symbols, Decimal(0))
            for row in rows:
                symbol = row.get("symbol")
                if symbol not in out:
                    continue
                contracts = self._number_or_none(row.get("contracts"), f"position of {symbol}")
                size = self._number_or_none(row.get("contractSize"), "contractSize") or Decimal(1)
                if contracts is None:
                    continue
                sign = -1 if row.get("side") == "short" else 1
                out[symbol] += sign * abs(contracts) * size
            return out

        return self._blocking(run(), "positions")

    # --- LiveVenue -------------------------------------------------------------------------
    @property
    def connections(self) -> int:
        with self._lock:
            count: int = self._stats["connections"]
        return count

    def start(self) -> None:
        """Starts the private stream (or polling); idempotent. With spot instruments it
        first reads the balances `position()` counts from (VenueUnavailable when it
        cannot: call again)."""
        if self._closed:
            raise RuntimeError("the venue is closed (rule: start before close)")
        if self._started:
            return
        if any(not is_derivative(i) for i in self._instruments.values()):
            totals = self.balances()
            self._baseline = {
                i.base: totals.get(i.base, Decimal(0))
                for i in self._instruments.values()
                if not is_derivative(i)
            }
        self._started = True
        self._stream_state = "connecting" if self._reports == "ws" else "polling"
        self._spawn(self._stream() if self._reports == "ws" else self._poll())

    def close(self) -> None:
        """Stops the stream and commands in flight and closes the exchange's connections
        (idempotent). An order whose create was in flight is left to reconciliation."""
        if self._closed:
            return
        self._closed = True
        self._stream_state = "stopped"
        with self._lock:
            live = list(self._live)
        for task in live:
            task.cancel()
        if self._loop.running:
            try:
                self._loop.call(self._exchange.close(), self._call_timeout_s)
            except Exception as err:  # closing is best effort; say why it was not clean
                self._log(f"closing the exchange failed: {err!r}")

    def seen_trades(self, ids: Iterable[tuple[str, str]]) -> None:
        """(symbol, trade id) of fills already journaled: never reported again."""
        pairs = [(str(symbol), str(trade)) for symbol, trade in ids]

        async def run() -> None:
            self._seen.update(pairs)

        self._loop.call(run(), self._call_timeout_s)

    @property
    def stats(self) -> dict[str, Any]:
        """Counters: REST requests, retries by reason code, rejects, ambiguous outcomes,
        lookups, rate-limit waits, (re)connections, stream failures by code, catch-ups,
        malformed payloads, duplicates dropped, reports not ours, internal errors."""
        with self._lock:
            snapshot = dict(self._stats)
            snapshot["retries"] = dict(snapshot["retries"])
            snapshot["stream_failures"] = dict(snapshot["stream_failures"])
        return snapshot

    def health(self) -> dict[str, Any]:
        """`stats` plus the stream's state (connecting, up, down, gave_up, polling,
        stopped), the last error, the orders left unresolved and the bucket's headroom."""
        out = self.stats
        with self._lock:
            out["stream"] = self._stream_state
            out["last_error"] = self._last_error
            out["unresolved"] = sorted(self._unresolved)
        out["headroom"] = None if self._bucket is None else self._bucket.headroom
        return out

    # --- commands (loop thread) ------------------------------------------------------------
    def _command(
        self, coroutine: Coroutine[Any, Any, None], refused: Callable[[str], OrderEvent]
    ) -> None:
        if self._closed or not self._loop.running:
            coroutine.close()
            self._emit(refused("VENUE_CLOSED: the venue is closed; nothing was sent"))
            return
        self._spawn(coroutine)

    def _market_cap(self, terms: OrderTerms) -> tuple[Decimal, str] | str:
        """(limit price, cancel reason) of a market order sent as a capped limit IOC, or
        the reason it is refused (no reference price). Runs on the caller's thread: the
        touch is read where the caller's book lives."""
        instrument = self._instruments[terms.symbol]
        bid, ask = (None, None) if self._touch is None else self._touch(terms.symbol)
        buy = terms.side is OrderSide.BUY
        reference = ask if buy else bid
        what = "best ask" if buy else "best bid"
        if reference is None or reference <= 0:
            source = "no touch source was given" if self._touch is None else f"no {what}"
            return (
                f"NO_REFERENCE_PRICE: {source} for {terms.symbol} (rule: a market order is "
                "capped from the touch, never sent blind); nothing was sent"
            )
        bps = terms.max_slippage_bps or self._default_slippage_bps
        price = capped_price(terms.side, reference, bps, instrument.tick_size)
        reason = (
            f"SLIPPAGE_CAP: the rest was not fillable within {bps} bps of the {what} "
            f"{reference} (limit {price})"
        )
        return price, reason

    async def _create(self, terms: OrderTerms, cap: tuple[Decimal, str] | None = None) -> None:
        cid = terms.client_order_id
        if cid in self._orders:  # the order manager never does this: a bug, not an answer
            self._count("internal_errors")
            self._log(f"{cid} was submitted twice; the second submit was not sent")
            return
        order = _Order(cid, terms.symbol, terms.side, terms.quantity, terms.price)
        if cap is not None:
            order.cap_reason = cap[1]
        self._orders[cid] = order
        async with order.lock:
            await self._place(order, terms, None if cap is None else cap[0])

    async def _place(self, order: _Order, terms: OrderTerms, cap: Decimal | None) -> None:
        instrument = self._instruments[terms.symbol]
        kind, side, amount, price, params = order_request(terms, instrument, cap)
        attempts = 0
        while True:
            attempts += 1
            try:
                answer = await self._rest(
                    lambda: self._exchange.create_order(
                        order.symbol, kind, side, amount, price, dict(params)
                    )
                )
            except Exception as err:
                verdict = self._verdict(err, changes_state=True)
                resent_duplicate = attempts > 1 and self._rules.is_duplicate(err)
                if verdict.outcome is Outcome.REJECT and not resent_duplicate:
                    self._reject(order, verdict.reason)
                    return
                if verdict.outcome is Outcome.RETRY:
                    if attempts >= self._max_attempts:
                        self._reject(order, f"{verdict.reason} (not placed: {attempts} attempts)")
                        return
                    await self._wait(attempts - 1, verdict)
                    continue
                # It may have been placed: find out before sending anything again.
                self._count("ambiguous")
                found = await self._look_up(order)
                if found is _UNRESOLVED:
                    self._leave_unresolved(order, verdict.reason)
                    return
                if found is not None:
                    self._on_order(found, source="lookup")
                    return
                if attempts >= self._max_attempts:
                    why = f"{verdict.reason} (not placed: {attempts} attempts, lookup: not found)"
                    self._reject(order, why)
                    return
                await self._wait(attempts - 1, verdict)
                continue
            self._on_order(answer, source="create")
            return

    async def _cancel(self, cid: str) -> None:
        order = self._orders.get(cid) or await self._find_unknown(cid)
        if order is None:
            reason = "ORDER_NOT_FOUND: no order with this client id on this venue's instruments"
            self._emit(
                OrderCancelRejected(client_order_id=cid, ts_event=self._now(), reason=reason)
            )
            return
        async with order.lock:
            if order.closed:
                return  # its closing report answers the cancel
            order.cancel_requested = True
            attempts = 0
            while True:
                attempts += 1
                try:
                    answer = await self._rest(lambda: self._cancel_call(order))
                except Exception as err:
                    verdict = self._verdict(err, changes_state=True)
                    gave_up = attempts >= self._max_attempts
                    if isinstance(err, ccxt.OrderNotFound) or (
                        verdict.outcome is not Outcome.REJECT and gave_up
                    ):
                        await self._cancel_outcome(order, verdict.reason)
                        return
                    if verdict.outcome is Outcome.REJECT:
                        self._refuse_cancel(order, verdict.reason)
                        return
                    # A cancel sent twice is harmless: the second finds nothing to cancel.
                    await self._wait(attempts - 1, verdict)
                    continue
                self._on_order(answer, source="cancel")
                return

    async def _cancel_outcome(self, order: _Order, reason: str) -> None:
        """The cancel did not go through as asked: report what happened to the order."""
        found = await self._look_up(order)
        if found is _UNRESOLVED:
            self._log(f"cancel of {order.cid}: {reason}; the lookup was never answered")
            return
        if found is not None:
            self._on_order(found, source="lookup")
        if not order.closed and not order.venue_done:
            self._refuse_cancel(order, reason)

    async def _amend(
        self,
        cid: str,
        quantity: Decimal | None,
        price: Decimal | None,
        trigger_price: Decimal | None,
    ) -> None:
        order = self._orders.get(cid) or await self._find_unknown(cid)
        if order is None:
            reason = "ORDER_NOT_FOUND: no order with this client id on this venue's instruments"
            self._emit(
                OrderUpdateRejected(client_order_id=cid, ts_event=self._now(), reason=reason)
            )
            return
        if not self._capabilities.amend or trigger_price is not None:
            what = "a trigger price" if trigger_price is not None else "amends"
            reason = f"NOT_SUPPORTED: {what} on {self._exchange.id} (cancel-replace instead)"
            self._emit(
                OrderUpdateRejected(client_order_id=cid, ts_event=self._now(), reason=reason)
            )
            return
        async with order.lock:
            if order.closed:
                # Its closing report (fills, a cancel) is already queued, after which the
                # manager takes no answer for it: that report answers the amend too.
                return
            await self._edit(order, quantity or order.quantity, price or order.price)

    async def _edit(self, order: _Order, quantity: Decimal, price: Decimal | None) -> None:
        if price is None:
            reason = "NOT_SUPPORTED: only limit orders are amended"
            self._emit(
                OrderUpdateRejected(client_order_id=order.cid, ts_event=self._now(), reason=reason)
            )
            return
        attempts = 0
        while True:
            attempts += 1
            try:
                answer = await self._rest(
                    lambda: self._exchange.edit_order(
                        order.venue_id,
                        order.symbol,
                        "limit",
                        order.side.value.lower(),
                        format(quantity, "f"),
                        format(price, "f"),
                    )
                )
            except Exception as err:
                verdict = self._verdict(err, changes_state=True)
                if isinstance(err, ccxt.OrderNotFound):
                    await self._amend_outcome(order, verdict.reason)
                    return
                if verdict.outcome is Outcome.REJECT:
                    self._refuse_update(order, verdict.reason)
                    return
                if verdict.outcome is Outcome.AMBIGUOUS:
                    self._count("ambiguous")
                    found = await self._look_up(order)
                    if found is _UNRESOLVED:
                        self._leave_unresolved(order, verdict.reason)
                        return
                    if found is not None and self._has_terms(found, quantity, price):
                        self._updated(order, found, quantity, price)
                        return
                    if found is not None:
                        self._on_order(found, source="lookup")
                        if order.closed or order.venue_done:
                            self._refuse_update(order, f"{verdict.reason} (the order closed)")
                            return
                if attempts >= self._max_attempts:
                    self._refuse_update(
                        order, f"{verdict.reason} (not amended: {attempts} attempts)"
                    )
                    return
                await self._wait(attempts - 1, verdict)
                continue
            self._updated(order, answer, quantity, price)
            return

    async def _amend_outcome(self, order: _Order, reason: str) -> None:
        """The venue no longer has the order open (it filled or was canceled while the
        amend travelled): what happened is reported, and the amend is refused only while
        the order is still open (else its closing report answers it)."""
        found = await self._look_up(order)
        if found is not _UNRESOLVED and found is not None:
            self._on_order(found, source="lookup")
        if not order.closed and not order.venue_done:
            self._refuse_update(order, reason)

    def _updated(
        self, order: _Order, answer: Mapping[str, Any], quantity: Decimal, price: Decimal
    ) -> None:
        instrument = self._instruments[order.symbol]
        try:
            got_qty = self._number_or_none(answer.get("amount"), "amended amount")
            got_price = self._number_or_none(answer.get("price"), "amended price")
            new_qty = (
                quantity if got_qty is None else on_grid(got_qty, instrument.lot_size, "amount")
            )
            new_price = (
                price if got_price is None else on_grid(got_price, instrument.tick_size, "price")
            )
        except Malformed as err:
            self._malformed(f"amend answer of {order.cid}: {err}")
            new_qty, new_price = quantity, price
        order.quantity, order.price = new_qty, new_price
        self._emit(
            OrderUpdated(
                client_order_id=order.cid, ts_event=self._now(), price=new_price, quantity=new_qty
            )
        )
        self._on_order(answer, source="amend")

    # --- lookups and catch-up --------------------------------------------------------------
    async def _look_up(self, order: _Order) -> Any:
        """The venue's copy of `order` (None: it has none), retried along the policy while
        the venue cannot answer; `_UNRESOLVED` when the policy gives up."""
        failures = 0
        while not self._closed:
            self._count("lookups")
            try:
                return await self._rest(lambda: self._fetch_by_cid(order.symbol, order.cid))
            except ccxt.OrderNotFound:
                return None
            except Exception as err:
                verdict = self._verdict(err, changes_state=False)
                failures += 1
                self._log(f"lookup of {order.cid} failed ({failures}): {verdict.reason}")
                if self._policy.gives_up(failures):
                    return _UNRESOLVED
                await self._wait(failures - 1, verdict)
        return _UNRESOLVED

    async def _find_unknown(self, cid: str) -> _Order | None:
        """An order this run never sent (an earlier run's): found by client id on each
        instrument, then followed like our own."""
        for symbol in self._instruments:
            try:
                found = await self._read(partial(self._fetch_by_cid, symbol, cid))
            except ccxt.OrderNotFound:
                continue
            except Exception as err:
                self._log(f"lookup of {cid} on {symbol} failed: {err!r}")
                continue
            self._on_order(found, source="lookup", cid=cid)
            return self._orders.get(cid)
        return None

    async def _catch_up(self, reason: str, delay_s: float = 0.0) -> None:
        """Asks the venue for every open order's state and missing fills (one pass at a
        time; a request during a pass makes one more pass)."""
        if delay_s > 0:
            await self._sleep(delay_s)
        if self._catching_up:
            self._catch_up_again = True
            return
        self._catching_up = True
        try:
            while not self._closed:
                self._catch_up_again = False
                self._count("catch_ups")
                await self._catch_up_pass(reason)
                if not self._catch_up_again:
                    return
        finally:
            self._catching_up = False

    async def _catch_up_pass(self, reason: str) -> None:
        with self._lock:
            unresolved = set(self._unresolved)
        for order in [
            o for o in self._orders.values() if (o.placed or o.cid in unresolved) and not o.closed
        ]:
            if order.lock.locked():
                continue  # a command on it will report what it finds
            try:
                found = await self._read(partial(self._fetch_by_cid, order.symbol, order.cid))
            except ccxt.OrderNotFound:
                self._log(f"catch-up ({reason}): {order.cid} is unknown to the venue")
                continue
            except Exception as err:
                self._log(f"catch-up ({reason}) of {order.cid} failed: {err!r}")
                continue
            self._on_order(found, source="catch-up")
            if order.filled < order.venue_filled:
                await self._fetch_fills(order)

    async def _fills_later(self, order: _Order) -> None:
        """Fills the venue counts but nobody brought: the stream gets `poll_s` to bring
        them, then REST is asked, along the policy."""
        try:
            if self._reports == "ws":
                await self._sleep(self._poll_s)
            attempts = 0
            while order.filled < order.venue_filled and not self._closed:
                attempts += 1
                try:
                    await self._fetch_fills(order)
                except Exception as err:
                    self._log(f"fills of {order.cid} could not be fetched: {err!r}")
                if order.filled >= order.venue_filled or attempts >= self._max_attempts:
                    return
                await self._wait(attempts - 1, None)
        finally:
            order.fills_pending = False

    async def _fetch_fills(self, order: _Order) -> None:
        trades = await self._read(lambda: self._order_trades(order))
        for trade in trades:
            if str(trade.get("order") or order.venue_id) == order.venue_id:
                self._on_trade(trade, order, Liquidity.TAKER)
        self._settle(order)

    async def _order_trades(self, order: _Order) -> list[Mapping[str, Any]]:
        return await self._rules.order_trades(order.symbol, order.venue_id, order.cid)

    async def _all_fills(self, instrument: Instrument, since_ms: int | None) -> list[Fill]:
        symbol = instrument.symbol
        page_size = 500
        seen: set[str] = set()
        trades: list[Mapping[str, Any]] = []
        since = since_ms
        while True:
            page = await self._read(partial(self._rules.my_trades, symbol, since, page_size))
            new = [t for t in page if str(t.get("id")) not in seen]
            for trade in new:
                seen.add(str(trade.get("id")))
            trades.extend(new)
            if len(page) < page_size or not new:
                break
            since = max(int(t.get("timestamp") or 0) for t in new)
        return await self._to_fills(instrument, trades, None)

    async def _to_fills(
        self, instrument: Instrument, trades: list[Mapping[str, Any]], cid_of_all: str | None
    ) -> list[Fill]:
        """Domain fills of ccxt trades, oldest first; each one's client id is
        `cid_of_all` when given (one order's trades), else its order's."""
        symbol = instrument.symbol
        trades = sorted(trades, key=lambda t: (int(t.get("timestamp") or 0), str(t.get("id"))))
        now = self._clock.now_ns()
        out: list[Fill] = []
        for trade in trades:
            venue_id = str(trade.get("order") or "")
            cid = cid_of_all or await self._cid_of(symbol, venue_id)
            try:
                side = OrderSide.BUY if trade.get("side") == "buy" else OrderSide.SELL
                if trade.get("side") not in ("buy", "sell"):
                    raise Malformed(f"trade side {trade.get('side')!r} is not buy or sell")
                out.append(
                    fill_from_trade(
                        trade,
                        client_order_id=cid,
                        instrument=instrument,
                        side=side,
                        ts_event=now,
                        default_liquidity=Liquidity.TAKER,
                    )
                )
            except Malformed as err:
                self._malformed(f"fill on {symbol}: {err}")
        return out

    async def _cid_of(self, symbol: str, venue_id: str) -> str:
        known = self._by_venue_id.get((symbol, venue_id)) or self._fill_cids.get((symbol, venue_id))
        if known is not None:
            return known
        try:
            found = await self._read(lambda: self._exchange.fetch_order(venue_id, symbol))
        except Exception as err:
            self._log(f"order {venue_id} of a fill could not be read: {err!r}")
            return f"ext-{venue_id}"
        cid = client_id_of(found)
        self._fill_cids[(symbol, venue_id)] = cid
        return cid

    # --- the private stream and polling ----------------------------------------------------
    def _hook_connections(self) -> None:
        """Counts this exchange's websocket connections and guards each one's frame
        handler (see the module docstring)."""
        original = getattr(self._exchange, "on_connected", None)
        if original is None:
            return

        def on_connected(client: Any, message: Any = None) -> None:
            original(client, message)
            with self._lock:
                self._stats["connections"] += 1
                if self._stats["connections"] > 1:
                    self._stats["reconnects"] += 1
                self._stream_state = "up"
            self._guard(client)

        self._exchange.on_connected = on_connected

    def _guard(self, client: Any) -> None:
        handle = getattr(client, "handle_text_or_binary_message", None)
        if handle is None or getattr(handle, "_quantx_guarded", False):
            return

        def guarded(data: Any) -> None:
            try:
                handle(data)
            except Exception as err:
                text = data if isinstance(data, str) else repr(data)
                self._malformed(f"private stream frame dropped ({err!r}): {text[:120]}")
                self._spawn(self._catch_up("malformed frame"))

        guarded._quantx_guarded = True  # type: ignore[attr-defined]
        client.handle_text_or_binary_message = guarded

    async def _stream(self) -> None:
        failures = 0
        sessions = 0
        while not self._closed:
            sessions += 1
            before = self.connections
            if sessions > 1:
                # What happened while the stream was down: now, and once the new
                # subscription has surely taken effect.
                self._spawn(self._catch_up("reconnect"))
                self._spawn(self._catch_up("reconnect", self._poll_s))
            try:
                await self._session()
            except asyncio.CancelledError:
                raise
            except Exception as err:
                if self.connections > before:
                    failures = 0  # it was up: a new outage starts counting afresh
                failures += 1
                code = code_of(err)
                with self._lock:
                    counts = self._stats["stream_failures"]
                    counts[code] = counts.get(code, 0) + 1
                    gave_up = self._policy.gives_up(failures)
                    self._stream_state = "gave_up" if gave_up else "down"
                    self._last_error = self._redact(f"{code}: {err}")
                self._log(f"private stream failed ({failures} in a row): {code}: {err}")
                delay = self._policy.delay(failures - 1, self._rng)
                await self._sleep(delay)

    async def _session(self) -> None:
        exchange = self._exchange
        orders = asyncio.ensure_future(self._watch(exchange.watch_orders, self._on_stream_order))
        trades = asyncio.ensure_future(self._watch(exchange.watch_my_trades, self._on_stream_trade))
        try:
            done, _ = await asyncio.wait({orders, trades}, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                task.result()
        finally:
            for task in (orders, trades):
                task.cancel()
            await asyncio.gather(orders, trades, return_exceptions=True)

    async def _watch(
        self,
        watch: Callable[[], Awaitable[list[Mapping[str, Any]]]],
        handle: Callable[[Mapping[str, Any]], None],
    ) -> None:
        while True:
            for item in await watch():
                try:
                    handle(item)
                except Exception as err:  # one bad report must not stop the stream
                    self._malformed(f"stream report dropped ({err!r}): {str(item)[:160]}")

    async def _poll(self) -> None:
        while not self._closed:
            await self._sleep(self._poll_s)
            await self._catch_up("poll")

    def _on_stream_order(self, order: Mapping[str, Any]) -> None:
        self._on_order(order, source="stream")

    def _on_stream_trade(self, trade: Mapping[str, Any]) -> None:
        key = (str(trade.get("symbol")), str(trade.get("order")))
        if key in self._foreign:
            self._count("foreign")
            return
        cid = self._by_venue_id.get(key)
        if cid is None:  # its order is not known yet: kept until it shows up
            self._orphans.setdefault(key, []).append(trade)
            while len(self._orphans) > _MAX_ORPHANS:
                self._orphans.popitem(last=False)
            return
        order = self._orders[cid]
        self._on_trade(trade, order, Liquidity.TAKER)
        self._settle(order)

    # --- reports (loop thread) -------------------------------------------------------------
    def _on_order(
        self, snapshot: Mapping[str, Any], *, source: str, cid: str | None = None
    ) -> None:
        """One ccxt order (a create, cancel or amend answer, a lookup, a stream update)."""
        try:
            self._apply_order(snapshot, source, cid)
        except ValueError as err:  # Malformed, or a domain check on what it carried
            self._malformed(f"order ({source}): {err}")

    def _apply_order(self, snapshot: Mapping[str, Any], source: str, cid: str | None) -> None:
        cid = str(snapshot.get("clientOrderId") or cid or "")
        symbol = str(snapshot.get("symbol") or "")
        venue_id = str(snapshot.get("id") or "")
        if not venue_id:
            raise Malformed(f"order {cid!r}: the venue's id is missing")
        order = self._orders.get(cid)
        if order is None and cid in self._pruned:
            self._count("duplicates")  # long closed and reported
            return
        if order is None:
            ours = is_client_id(cid) and self._is_ours(cid)  # ours are always valid ids
            if not ours or symbol not in self._instruments:
                self._count("foreign")
                self._orphans.pop((symbol, venue_id), None)
                self._foreign[(symbol, venue_id)] = None
                while len(self._foreign) > _MAX_FOREIGN:
                    self._foreign.popitem(last=False)
                return
            order = self._adopt(snapshot, cid, history=source == "query")
        status = snapshot.get("status")
        self._learn_venue_id(order, venue_id)
        if status == "rejected":
            self._reject(order, "REJECTED: the venue reports the order rejected")
            return
        self._accept(order)
        default = Liquidity.TAKER
        for trade in snapshot.get("trades") or []:
            self._on_trade(trade, order, default)
        self._take_orphans(order)
        filled = number(snapshot.get("filled"), "order filled")
        if filled is not None:
            lot = self._instruments[order.symbol].lot_size
            order.venue_filled = max(order.venue_filled, on_grid(filled, lot, "order filled"))
        if status in ("canceled", "expired", "closed"):
            order.venue_done = True
            if status != "closed" and order.closing is None and not order.closed:
                order.closing = self._closing_event(order, str(status))
        elif status not in ("open", "canceling", None):
            self._malformed(f"order {cid} ({source}): status {status!r} is not known")
        self._settle(order)

    def _adopt(self, snapshot: Mapping[str, Any], cid: str, *, history: bool) -> _Order:
        """Follows an order of ours this run did not send (an earlier run's), without an
        OrderAccepted and with what it filled so far taken as reported (the journal and
        reconciliation have those). Seen in a query (`history`), an order already done
        is only remembered; seen live, its end is reported."""
        symbol = str(snapshot.get("symbol"))
        side = snapshot.get("side")
        if side not in ("buy", "sell"):
            raise Malformed(f"order {cid}: side {side!r} is not buy or sell")
        quantity = number(snapshot.get("amount"), "order amount") or Decimal(0)
        filled = number(snapshot.get("filled"), "order filled") or Decimal(0)
        order = _Order(
            cid,
            symbol,
            OrderSide.BUY if side == "buy" else OrderSide.SELL,
            quantity,
            number(snapshot.get("price"), "order price"),
            accepted=True,
            placed=True,
            filled=filled,
            venue_filled=filled,
        )
        self._orders[cid] = order
        if history and snapshot.get("status") in ("canceled", "expired", "closed", "rejected"):
            order.venue_done = True
            self._close(order)
        return order

    def _learn_venue_id(self, order: _Order, venue_id: str) -> None:
        if order.venue_id != venue_id:
            order.venue_id = venue_id
            self._by_venue_id[(order.symbol, venue_id)] = order.cid

    def _take_orphans(self, order: _Order) -> None:
        for trade in self._orphans.pop((order.symbol, order.venue_id), []):
            self._on_trade(trade, order, Liquidity.TAKER)

    def _on_trade(self, trade: Mapping[str, Any], order: _Order, default: Liquidity) -> None:
        key = (order.symbol, str(trade.get("id")))
        if key in self._seen:
            self._count("duplicates")
            return
        try:
            fill = fill_from_trade(
                trade,
                client_order_id=order.cid,
                instrument=self._instruments[order.symbol],
                side=order.side,
                ts_event=self._now(),
                default_liquidity=default,
            )
        except Malformed as err:
            self._malformed(f"fill of {order.cid}: {err}")
            return
        self._seen.add(key)
        order.trades.append(key)
        self._accept(order)
        order.filled += fill.quantity
        self._emit(OrderFilled(client_order_id=order.cid, ts_event=self._now(), fill=fill))

    def _accept(self, order: _Order) -> None:
        if not order.placed:
            order.placed = True
            with self._lock:
                self._unresolved.discard(order.cid)
        if not order.accepted and not order.closed:
            order.accepted = True
            self._emit(
                OrderAccepted(
                    client_order_id=order.cid, ts_event=self._now(), venue_order_id=order.venue_id
                )
            )

    def _settle(self, order: _Order) -> None:
        """Closes the order once every fill the venue counts has been reported."""
        if order.closed:
            return
        if order.filled < order.venue_filled:
            if not order.fills_pending:
                order.fills_pending = True
                self._spawn(self._fills_later(order))
            return
        if order.closing is not None:
            self._emit(order.closing)
            self._close(order)
        elif order.venue_done or (order.quantity > 0 and order.filled >= order.quantity):
            self._close(order)

    def _close(self, order: _Order) -> None:
        order.closed = True
        self._closed_ids.append(order.cid)
        while len(self._closed_ids) > _KEEP_CLOSED:
            old = self._orders.pop(self._closed_ids.popleft(), None)
            if old is None:
                continue
            self._by_venue_id.pop((old.symbol, old.venue_id), None)
            self._seen.difference_update(old.trades)
            self._pruned[old.cid] = None
            while len(self._pruned) > _MAX_PRUNED:
                self._pruned.popitem(last=False)

    def _closing_event(self, order: _Order, status: str) -> OrderEvent:
        if order.cap_reason and not order.cancel_requested:
            # a capped market order's rest: IOC, so Binance says expired, Upbit cancel
            return OrderCanceled(
                client_order_id=order.cid, ts_event=self._now(), reason=order.cap_reason
            )
        if status == "expired":
            return OrderExpired(client_order_id=order.cid, ts_event=self._now())
        reason = "" if order.cancel_requested else "VENUE_CANCELED: canceled by the venue"
        return OrderCanceled(client_order_id=order.cid, ts_event=self._now(), reason=reason)

    def _reject(self, order: _Order, reason: str) -> None:
        if order.closed:
            return
        if order.accepted:
            self._log(f"{order.cid}: not reported rejected ({reason}): the venue showed it")
            return
        self._count("rejects")
        self._close(order)
        self._emit(OrderRejected(client_order_id=order.cid, ts_event=self._now(), reason=reason))

    def _refuse_cancel(self, order: _Order, reason: str) -> None:
        self._count("rejects")
        self._emit(
            OrderCancelRejected(client_order_id=order.cid, ts_event=self._now(), reason=reason)
        )

    def _refuse_update(self, order: _Order, reason: str) -> None:
        self._count("rejects")
        self._emit(
            OrderUpdateRejected(client_order_id=order.cid, ts_event=self._now(), reason=reason)
        )

    def _leave_unresolved(self, order: _Order, reason: str) -> None:
        with self._lock:
            self._unresolved.add(order.cid)
        self._log(f"{order.cid} left unresolved after {reason}: the venue never answered")

    # --- plumbing --------------------------------------------------------------------------
    def _emit(self, event: OrderEvent) -> None:
        self._events.put(event)

    def _now(self) -> int:
        """Every report's `ts_event`: the local clock when it was received."""
        return self._clock.now_ns()

    async def _rest(self, call: Callable[[], Awaitable[T]]) -> T:
        """One REST call: the token bucket first, the Retry-After slot cleared."""
        if self._bucket is not None:
            wait = self._bucket.take(1.0)
            if wait > 0:
                self._count("rate_limit_waits")
                await self._sleep(wait)
        self._count("requests")
        self._exchange.last_response_headers = None
        return await call()

    async def _read(self, call: Callable[[], Awaitable[T]]) -> T:
        """A read, retried along the policy while the failure is transient."""
        attempts = 0
        while True:
            attempts += 1
            try:
                return await self._rest(call)
            except Exception as err:
                verdict = self._verdict(err, changes_state=False)
                if verdict.outcome is Outcome.REJECT or attempts >= self._max_attempts:
                    raise
                await self._wait(attempts - 1, verdict)

    def _verdict(self, err: Exception, *, changes_state: bool) -> Verdict:
        if not isinstance(err, ccxt.BaseError):
            # Not the exchange's answer but a fault in our code or ccxt's: logged loudly;
            # for a command it was maybe sent, so it is treated as ambiguous.
            self._count("internal_errors")
            self._log(f"unexpected {err!r} from ccxt")
            outcome = Outcome.AMBIGUOUS if changes_state else Outcome.RETRY
            return Verdict(outcome, f"INTERNAL: {type(err).__name__}: {err}"[:300])
        verdict = classify(err, changes_state=changes_state, retry_after_s=self._retry_after())
        if verdict.outcome is Outcome.REJECT:
            return Verdict(verdict.outcome, self._redact(verdict.reason))
        with self._lock:
            counts = self._stats["retries"]
            code = verdict.reason.split(":", 1)[0]
            counts[code] = counts.get(code, 0) + 1
        return verdict

    async def _wait(self, failures_before: int, verdict: Verdict | None) -> None:
        retry_after = None if verdict is None else verdict.retry_after_s
        await self._sleep(self._policy.delay(failures_before, self._rng, retry_after))

    def _retry_after(self) -> float | None:
        headers = getattr(self._exchange, "last_response_headers", None) or {}
        for name, value in dict(headers).items():
            if str(name).lower() == "retry-after":
                try:
                    return max(0.0, float(value))
                except (TypeError, ValueError):
                    return None
        return None

    async def _fetch_by_cid(self, symbol: str, cid: str) -> Any:
        return await self._rules.order_by_client_id(symbol, cid)

    async def _cancel_call(self, order: _Order) -> Any:
        return await self._rules.cancel(order.symbol, order.venue_id, order.cid)

    def _has_terms(self, snapshot: Mapping[str, Any], quantity: Decimal, price: Decimal) -> bool:
        try:
            return (
                number(snapshot.get("amount"), "amount") == quantity
                and number(snapshot.get("price"), "price") == price
            )
        except Malformed:
            return False

    def _state_of(
        self, snapshot: Mapping[str, Any], instrument: Instrument
    ) -> VenueOrderState | None:
        try:
            state = venue_state(snapshot, instrument, self._clock.now_ns())
        except Malformed as err:
            self._malformed(f"order on {instrument.symbol}: {err}")
            return None
        cid = state.client_order_id
        if cid == snapshot.get("clientOrderId") and cid not in self._orders:
            self._on_order(snapshot, source="query")  # ours: followed from now on
        return state

    def _number_or_none(self, value: object, what: str) -> Decimal | None:
        try:
            return number(value, what)
        except Malformed as err:
            self._malformed(str(err))
            return None

    def _unsupported(self, terms: OrderTerms) -> str | None:
        if terms.symbol not in self._instruments:
            return f"BAD_SYMBOL: {terms.symbol} is not traded on this venue; nothing was sent"
        if terms.order_type not in ORDER_TYPES:
            return f"NOT_SUPPORTED: {terms.order_type} is not sent to this venue (emulate it)"
        if terms.time_in_force not in TIME_IN_FORCE:
            return f"NOT_SUPPORTED: time in force {terms.time_in_force} on this venue"
        return None

    def _instrument(self, symbol: str) -> Instrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            raise ValueError(f"symbol {symbol!r} is not traded on this venue") from None

    def _blocking(self, coroutine: Coroutine[Any, Any, T], what: str) -> T:
        try:
            return self._loop.call(coroutine, self._call_timeout_s)
        except TimeoutError:
            raise VenueUnavailable(f"{what}: no answer within {self._call_timeout_s:g} s") from None
        except ccxt.BaseError as err:
            verdict = classify(err, changes_state=False)
            raise VenueUnavailable(f"{what}: {self._redact(verdict.reason)}") from None
        except RuntimeError as err:  # the loop is stopped
            raise VenueUnavailable(f"{what}: {err}") from None

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        """Runs `coroutine` on the loop; `close()` cancels it if it is still running."""
        future = self._loop.spawn(coroutine)
        with self._lock:
            self._live.add(future)
        future.add_done_callback(self._task_done)

    def _task_done(self, future: concurrent.futures.Future[Any]) -> None:
        with self._lock:
            self._live.discard(future)
        if future.cancelled():
            return
        err = future.exception()
        if err is not None:
            self._count("internal_errors")
            self._log(f"a venue task failed: {err!r}")

    def _count(self, name: str) -> None:
        with self._lock:
            self._stats[name] += 1

    def _malformed(self, what: str) -> None:
        self._count("malformed")
        self._log(f"malformed: {what}")

    def _log(self, message: str) -> None:
        text = self._redact(message)
        if self._log_to is not None:
            self._log_to(text)
        else:
            logging.getLogger(__name__).warning("%s", text)

    def _redact(self, text: str) -> str:
        for secret in (
            getattr(self._exchange, "apiKey", None),
            getattr(self._exchange, "secret", None),
        ):
            if secret:
                text = text.replace(str(secret), "<redacted>")
        return _REDACT.sub(lambda m: f"{m.group(1)}=<redacted>", text)
