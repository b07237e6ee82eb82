"""The kernel: one loop that owns all state and applies every event in sequence.

Nothing else mutates an order, a position or a balance: market data, venue answers,
timers and strategy requests all pass through here, one at a time, so order history has
no races by construction. The same kernel, order manager and risk gate serve backtest,
paper and live; only the clock, the venue and the feed differ.

Order of work for one batch (one kernel step):
1. market rows up to the next point a strategy cares about go to the venue and to the
   kernel's own book (the strategy's view), in one call each; a simulated venue's book
   of the same rows is read instead of a copy kept here (`SharesMarketBook`);
2. the venue's answers go to the order manager; fills go to the portfolio, whose new
   position and balances are journaled; strategy callbacks are queued, never run inside
   the order manager, and run once it is done (a callback may submit: its answers are
   handled in the same batch);
3. then the step's own callback (`on_book`, `on_trade`, `on_bar`, `on_timer`);
4. the store commits the batch.

Backtest steps are cut where a strategy needs to look: after a book message that
changed an instrument's best bid or ask, and at each trade print when the strategy
watches prints or bars; a stale book (before its snapshot, after a gap) calls nothing.
Timers due at or before a step's first row fire before it, in
time order, ties in the order they were set (so a timer fires at the first market
event at or after its time, with the clock at the timer's own time). Equity is sampled
at the start, on a kernel timer every `equity_interval_ns` and after the last event.

Safety: the kernel owns the `TradingControl` (the one place the trading state
changes; it sits in front of the order manager's risk gate), the circuit breakers (fed
each equity sample, the equity after each fill, and each reject or denial) and the
`EmergencyStop` (`kill`). After a kill the strategy gets no more market callbacks
(its orders would be denied anyway); the emergency stop is stepped after every batch
and told of every book change, and the loops end once it is finished.
`request_kill` may be called from another thread: the loop picks it up between
batches.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import numpy.typing as npt

from engine import _core
from engine.domain import (
    Fill,
    Order,
    OrderAccepted,
    OrderDenied,
    OrderEvent,
    OrderFilled,
    OrderRejected,
    OrderSide,
    OrderSubmitted,
    Position,
    Rounding,
    TradingState,
)
from engine.domain.instrument import Instrument
from engine.domain.journal import BalanceSnapshot, EquitySample, PositionSnapshot
from engine.ports import MarketBookView, SettableClock, SharesMarketBook, Store, VenueSession
from engine.ports.feed import FeedMessage, MarketDataFeed
from engine.ports.notifier import AlertLevel, Notifier, SilentNotifier
from engine.services.breakers import CircuitBreakers, Trip
from engine.services.emergency import EmergencySettings, EmergencyStop
from engine.services.health import HealthMonitor
from engine.services.order_manager import OrderManager
from engine.services.portfolio import DEFAULT_ACCOUNT, Portfolio
from engine.services.trading_state import TradingControl
from engine.strategy.base import Bar, BookTop, Strategy, Trade

__all__ = ["Kernel", "KernelStats", "MarketStream"]

_EQUITY_TIMER = "__equity__"
_KIND_TRADE = 3


@dataclass(frozen=True, slots=True)
class MarketStream:
    """One instrument's market data for a backtest: EVENT_DTYPE rows in time order,
    under `rule` ("spot" or "futures"), sizes in `data_lot_size` units."""

    symbol: str
    rule: Literal["spot", "futures"]
    events: npt.NDArray[np.void]
    data_lot_size: str


@dataclass(slots=True)
class KernelStats:
    rows: int = 0
    level_updates: int = 0
    steps: int = 0
    book_callbacks: int = 0
    trade_callbacks: int = 0
    bar_callbacks: int = 0
    timer_callbacks: int = 0
    fills: int = 0
    orders: int = 0


@dataclass(order=True, slots=True)
class _Timer:
    at: int
    seq: int
    name: str = field(compare=False)
    interval: int | None = field(compare=False)


class _Market:
    """The kernel's view of one instrument: its own L2 book and the data grid."""

    def __init__(
        self,
        instrument: Instrument,
        rule: Literal["spot", "futures"],
        data_lot_size: str,
        shared: MarketBookView | None = None,
    ) -> None:
        self.instrument = instrument
        # The venue's book of the same rows when it shares it (`SharesMarketBook`): read,
        # never fed here. Otherwise the kernel's own, fed every row (`own`).
        self.own: _core.L2Book | None = None
        self.book: MarketBookView
        if shared is None:
            self.book = self.own = _core.L2Book(rule)
        else:
            self.book = shared
        self._tick = instrument.tick_size
        self._lot = Decimal(data_lot_size)
        self.top: BookTop | None = None
        self.raw_top: tuple[object, object] | None = None
        # The last price converted on each side (top_of), by its ticks.
        self._bid_ticks: int | None = None
        self._bid_px = Decimal(0)
        self._ask_ticks: int | None = None
        self._ask_px = Decimal(0)
        self.bars: Any = None

    def price(self, ticks: int) -> Decimal:
        return self._tick * ticks  # exact: a few digits times an i64

    def size(self, lots: int) -> Decimal:
        return self._lot * lots

    def read_top(self, ts: int) -> BookTop:
        return self.top_of(self.book.top(), ts)

    def top_of(self, raw: tuple[Any, Any], ts: int) -> BookTop:
        """The top from the book's (best bid, best ask) levels in ticks and lots. Most
        changes move sizes only: each side's price is converted once per price in ticks
        (the last conversion is kept), not at every change."""
        self.raw_top = raw
        bid, ask = raw
        bid_px = ask_px = None
        if bid is not None:
            if bid[0] != self._bid_ticks:
                self._bid_ticks, self._bid_px = bid[0], self._tick * bid[0]
            bid_px = self._bid_px
        if ask is not None:
            if ask[0] != self._ask_ticks:
                self._ask_ticks, self._ask_px = ask[0], self._tick * ask[0]
            ask_px = self._ask_px
        return BookTop(
            self.instrument.symbol,
            ts,
            bid_px,
            None if bid is None else self._lot * bid[1],
            ask_px,
            None if ask is None else self._lot * ask[1],
        )


def _canonical(events: npt.NDArray[np.void]) -> npt.NDArray[np.void]:
    """`events` under the `_core.EVENT_DTYPE` object itself. The core checks the dtype of
    every array it is handed, by identity first: an equal dtype that is another object
    (what np.concatenate or unpickling gives) costs a field-by-field comparison, about
    a microsecond at each of a backtest's thousands of calls. Any other dtype is left
    as it is, for the core to refuse by name."""
    dtype = events.dtype
    if dtype is _core.EVENT_DTYPE or dtype != _core.EVENT_DTYPE:
        return events
    return events.view(_core.EVENT_DTYPE)


class Kernel:
    def __init__(
        self,
        *,
        instruments: Mapping[str, Instrument],
        strategy: Strategy[Any],
        venue: VenueSession,
        order_manager: OrderManager,
        portfolio: Portfolio,
        store: Store,
        clock: SettableClock,
        account: str = DEFAULT_ACCOUNT,
        equity_interval_ns: int = 1_000_000_000,
        bar_interval_ns: int | None = None,
        log: Callable[[str], None] | None = None,
        breakers: CircuitBreakers | None = None,
        notifier: Notifier | None = None,
        health: HealthMonitor | None = None,
        emergency: EmergencySettings | None = None,
    ) -> None:
        self.instruments = dict(instruments)
        self.strategy = strategy
        self.venue = venue
        self.om = order_manager
        self.portfolio = portfolio
        self.store = store
        self.clock = clock
        self.account = account
        self.stats = KernelStats()
        self._equity_interval = equity_interval_ns
        self._bar_interval = bar_interval_ns
        self._log = log or (lambda message: None)
        self._markets: dict[str, _Market] = {}
        self._timers: list[_Timer] = []
        self._timer_seq = itertools.count()
        self._queue: list[Callable[[], None]] = []
        self._ctx = _KernelContext(self)
        cls = type(strategy)
        self._wants = {
            name: cls.overrides(name)
            for name in ("on_book", "on_trade", "on_bar", "on_order", "on_fill", "on_timer")
        }
        self.om.subscribe(self._on_order_event)
        self._stopped = False
        self.trade_pnl: list[Decimal] = []
        self.traded_notional = Decimal(0)
        # Safety: one trading-state control in front of the risk gate, the breakers,
        # the emergency stop, alerts and health.
        check = order_manager.pre_trade_check
        if isinstance(check, TradingControl):
            self.trading = check
        else:
            self.trading = TradingControl(store=store, clock=clock, gate=check)
            order_manager.pre_trade_check = self.trading
        self.breakers = breakers
        self.notifier: Notifier = notifier or SilentNotifier()
        self.health = health
        self.emergency = EmergencyStop(
            order_manager=order_manager,
            control=self.trading,
            venue=venue,
            store=store,
            clock=clock,
            notifier=self.notifier,
            symbols=list(self.instruments),
            settings=emergency,
        )
        self._kill_request: str | None = None
        self._killed = False
        if health is not None:
            health.set_status("trading_state", self.trading.state.value)
            health.set_status("emergency_stop", self.emergency.phase.value)
            self.trading.subscribe(
                lambda old, new, reason: health.set_status("trading_state", new.value)
            )

    # --- the backtest loop -------------------------------------------------------------
    def run_backtest(
        self,
        streams: Sequence[MarketStream],
        *,
        should_stop: Callable[[], bool] = lambda: False,
        progress: Callable[[int, int], None] | None = None,
    ) -> KernelStats:
        """Replays `streams` (merged by time) through the venue and the strategy."""
        steps = self._plan(streams)
        self._start(steps[0][0] if steps else 0)
        total = sum(len(s.events) for s in streams)
        rows = [(self._markets[s.symbol], _canonical(s.events)) for s in streams]
        for n, (ts_first, idx, a, b, kind, ts_last) in enumerate(steps):
            # _safety_done is False unless a kill was asked for or is running: test that
            # first (one call less on each of a run's thousands of steps).
            if (self._kill_request is not None or self._killed) and self._safety_done():
                break
            if should_stop() and not self.emergency.active:
                break
            market, events = rows[idx]
            self._step(market, events[a:b], kind, ts_first, ts_last)
            if progress is not None and n % 1024 == 0:
                progress(self.stats.rows, total)
        if progress is not None:
            progress(self.stats.rows, total)
        self._stop()
        return self.stats

    def _plan(self, streams: Sequence[MarketStream]) -> list[tuple[int, int, int, int, int, int]]:
        """Steps (first time, stream, first row, end row, kind, last time) for every
        stream (`engine._core.plan`: where each one's top changes, and its prints
        when the strategy watches prints or bars), merged by time then stream index
        (streams interleave step by step). The same pass counts the streams' level
        updates into `stats.level_updates`."""
        watch_trades = self._wants["on_trade"] or bool(self._bar_interval)
        out: list[tuple[int, int, int, int, int, int]] = []
        for idx, s in enumerate(streams):
            self.add_market(s.symbol, s.rule, s.data_lot_size)
            steps, updates = _core.plan(s.events, s.rule, watch_trades, idx)
            out += steps
            self.stats.level_updates += updates
        if len(streams) > 1:
            out.sort(key=lambda step: (step[0], step[1], step[2]))
        return out

    def _step(
        self, market: _Market, rows: npt.NDArray[np.void], kind: int, ts_first: int, ts_last: int
    ) -> None:
        if self._timers and self._timers[0].at <= ts_first:
            self._fire_timers(ts_first)
        self.clock.advance_to(ts_last)
        self._apply(market, rows, kind)
        self.store.commit()

    def _apply(self, market: _Market, rows: npt.NDArray[np.void], kind: int) -> None:
        """One batch of one instrument's rows: venue, the kernel's book, answers, then the
        strategy's look (kind 2: at the book if its top changed; kind 1: at the print)."""
        symbol = market.instrument.symbol
        self.venue.apply_events(symbol, rows)
        if market.own is not None:
            market.own.apply_events(rows)
        self.stats.rows += len(rows)
        self.stats.steps += 1
        self._pump()
        now = self.clock.now_ns()
        if self.health is not None:
            self.health.on_market(symbol, now)
        if self._killed:
            self._after_kill_market(market, kind, now)
            return
        if kind == 2 and not market.book.stale:
            raw = market.book.top()
            if raw != market.raw_top:
                top = market.top = market.top_of(raw, now)
                if self.om.emulating:
                    self.om.on_quote(symbol, top.bid, top.ask)
                    self._pump()
                if self._wants["on_book"]:
                    self.stats.book_callbacks += 1
                    self.strategy.on_book(self._ctx, top)
                    self._pump()
        elif kind == 1:
            row = rows[0]
            trade = Trade(
                symbol=symbol,
                ts_event=now,
                price=market.price(int(row["price"])),
                quantity=market.size(int(row["qty"])),
                side=OrderSide.BUY if int(row["side"]) == 0 else OrderSide.SELL,
            )
            if self.om.emulating:
                self.om.on_trade(symbol, trade.price)
                self._pump()
            if self._wants["on_trade"]:
                self.stats.trade_callbacks += 1
                self.strategy.on_trade(self._ctx, trade)
                self._pump()
            if market.bars is not None:
                closed = market.bars.on_trade(now, int(row["price"]), int(row["qty"]))
                if closed is not None:
                    self._on_bar(market, closed)

    # --- the live loop (paper and live) --------------------------------------------------
    def run_live(
        self,
        feed: MarketDataFeed,
        *,
        should_stop: Callable[[], bool] = lambda: False,
        poll_s: float = 0.05,
        between: Callable[[], None] | None = None,
    ) -> KernelStats:
        """Runs on `feed` until `should_stop()` or the feed is exhausted. Time is the
        clock's (live, or a recording's accelerated time); each message is one batch
        (one commit); between messages timers fire and commands in flight arrive.
        `between` runs in this thread before each wait for a message (a live run's
        guard: feed alerts, reconciliation after a reconnect); the loop commits after it."""
        for m in feed.markets:
            self.add_market(m.symbol, m.rule, m.data_lot_size)
        self._start(self.clock.now_ns())
        while True:
            if self._safety_done():
                break
            if should_stop() and not self.emergency.active:
                break
            if between is not None:
                between()
                self._pump()
                self.store.commit()
            due = self._timers[0].at if self._timers else None
            message = feed.next_message(poll_s, due)
            if message is None:
                if feed.exhausted:
                    break
                self._idle()
                continue
            self.on_message(message)
        self._stop()
        return self.stats

    def add_market(self, symbol: str, rule: Literal["spot", "futures"], data_lot_size: str) -> None:
        """Registers an instrument's data (its book) once; later calls change nothing."""
        if symbol in self._markets:
            return
        if symbol not in self.instruments:
            raise ValueError(f"symbol {symbol!r} has data but no instrument (rule: one each)")
        shared = (
            self.venue.market_book(symbol, rule)
            if isinstance(self.venue, SharesMarketBook)
            else None
        )
        market = _Market(self.instruments[symbol], rule, data_lot_size, shared)
        if self._bar_interval:
            market.bars = _core.BarBuilder(self._bar_interval)
        self._markets[symbol] = market

    def prime(self, message: FeedMessage) -> None:
        """Applies a message to the venue's and the kernel's books only: no strategy, no
        journal (rebuilding books before a resumed run goes on)."""
        market = self._markets[message.symbol]
        self.venue.apply_events(message.symbol, message.events)
        if market.own is not None:
            market.own.apply_events(message.events)

    def on_message(self, message: FeedMessage) -> None:
        """One feed message as one kernel batch: due timers first, then the rows (a
        message of trade prints is looked at print by print), then the commit."""
        now = self.clock.now_ns()
        if self._timers and self._timers[0].at <= now:
            self._fire_timers(now)
        self.clock.advance_to(message.ts)
        market = self._markets[message.symbol]
        rows = _canonical(message.events)
        kinds = rows["kind"]
        trades = kinds == _KIND_TRADE
        if not trades.any():
            self._apply(market, rows, 2)
        elif trades.all():
            for i in range(len(rows)):
                self._apply(market, rows[i : i + 1], 1)
        else:
            self._apply(market, rows[~trades], 2)
            for i in np.flatnonzero(trades).tolist():
                self._apply(market, rows[i : i + 1], 1)
        self.store.commit()

    def settle(self) -> None:
        """Hands the venue's pending answers to the order manager and commits (after a
        restart put orders back and sent the requests that were in flight)."""
        self._pump()
        self.store.commit()

    def _idle(self) -> None:
        """No message: timers due now fire and the venue's time moves on."""
        now = self.clock.now_ns()
        if self._timers and self._timers[0].at <= now:
            self._fire_timers(now)
        self.venue.advance_to(now)
        self._pump()
        self.store.commit()

    # --- start, stop, timers ------------------------------------------------------------
    def _start(self, ts: int) -> None:
        self.clock.advance_to(ts)
        if self._equity_interval > 0:
            self._set_timer(_EQUITY_TIMER, ts + self._equity_interval, self._equity_interval)
        self._sample_equity()  # the starting value: returns are measured from it
        self.strategy.on_start(self._ctx)
        self._pump()
        self.store.commit()

    def _stop(self) -> None:
        if self._stopped:
            return
        self._stopped = True
        self.venue.advance_to(self.clock.now_ns())
        self._pump()
        self.emergency.abandon("the run ended before every position was flat")
        for market in self._markets.values():
            if market.bars is not None:
                closed = market.bars.flush()
                if closed is not None:
                    self._on_bar(market, closed)
        self.strategy.on_stop(self._ctx)
        self._pump()
        self._sample_equity()
        self.store.commit()

    def _set_timer(self, name: str, at: int, interval: int | None) -> None:
        self._cancel_timer(name)
        heapq.heappush(self._timers, _Timer(at, next(self._timer_seq), name, interval))

    def _cancel_timer(self, name: str) -> None:
        kept = [t for t in self._timers if t.name != name]
        if len(kept) != len(self._timers):
            self._timers = kept
            heapq.heapify(self._timers)

    def _fire_timers(self, until: int) -> None:
        while self._timers and self._timers[0].at <= until:
            timer = heapq.heappop(self._timers)
            self.clock.advance_to(timer.at)
            self.venue.advance_to(timer.at)
            self.om.on_time(timer.at)
            self._pump()
            if timer.interval:
                heapq.heappush(
                    self._timers,
                    _Timer(
                        timer.at + timer.interval, next(self._timer_seq), timer.name, timer.interval
                    ),
                )
            if timer.name == _EQUITY_TIMER:
                self._sample_equity()
            elif self._wants["on_timer"] and not self._killed:
                self.stats.timer_callbacks += 1
                self.strategy.on_timer(self._ctx, timer.name)
                self._pump()

    def _on_bar(self, market: _Market, row: tuple[int, ...]) -> None:
        ts_open, ts_close, o, h, low, c, volume, trades = row
        bar = Bar(
            symbol=market.instrument.symbol,
            ts_open=ts_open,
            ts_close=ts_close,
            open=market.price(o),
            high=market.price(h),
            low=market.price(low),
            close=market.price(c),
            volume=market.size(volume),
            trades=trades,
        )
        if self._wants["on_bar"] and not self._killed:
            self.stats.bar_callbacks += 1
            self.strategy.on_bar(self._ctx, bar)
            self._pump()

    # --- venue answers, fills, strategy notifications -------------------------------------
    def _pump(self) -> None:
        """Venue answers to the order manager, then queued strategy callbacks, until
        neither produces anything more."""
        while True:
            events = self.venue.drain()
            if events:
                anomalies = len(self.om.anomalies)
                for event in events:
                    self.om.on_venue_event(event)
                if self.health is not None and len(self.om.anomalies) > anomalies:
                    for _ in range(len(self.om.anomalies) - anomalies):
                        self.health.on_error()  # venue answers the manager could not apply
            if not self._queue and not events:
                if self.emergency.active and self.emergency.step():
                    continue  # its slices' answers come in on the next turn
                return
            queue, self._queue = self._queue, []
            for callback in queue:
                callback()

    def _on_order_event(self, order: Order, event: OrderEvent) -> None:
        if self.health is not None or self.breakers is not None:
            self._watch(order, event)
        if isinstance(event, OrderFilled):
            self.stats.fills += 1
            self._book_fill(event.fill)
            if self._wants["on_fill"]:
                fill = event.fill
                self._queue.append(lambda: self.strategy.on_fill(self._ctx, fill))
        if self._wants["on_order"]:
            self._queue.append(lambda: self.strategy.on_order(self._ctx, order, event))

    # --- safety: breakers, kill, health ------------------------------------------------------
    def kill(self, reason: str) -> None:
        """Emergency stop now (in the kernel's thread; see `engine.services.emergency`):
        halts, cancels, flattens; the loop then goes on until the stop is finished."""
        self._killed = True
        self._kill_request = None
        if self.emergency.start(reason):
            self._publish_phase()
            self._pump()
            self._publish_phase()
            self.store.commit()

    def request_kill(self, reason: str) -> None:
        """Asks the running loop to `kill` between batches (safe from any thread: one
        attribute write)."""
        self._kill_request = reason or "unspecified"

    def resume(self, reason: str) -> bool:
        """A human's decision to trade again (the state back to ACTIVE)."""
        changed = self.trading.resume(reason)
        if changed:
            self.notifier.alert(AlertLevel.WARNING, "trading resumed", reason)
            self.store.commit()
        return changed

    def _safety_done(self) -> bool:
        """Between batches: a requested kill starts; a finished one ends the loop."""
        if self._kill_request is not None:
            self.kill(self._kill_request)
        if self._killed:
            self._publish_phase()
            return self.emergency.finished
        return False

    def restore_safety(self, records: Iterable[tuple[int, object]]) -> None:
        """A resumed run: the trading state from its last journaled change, and the
        breakers' equity peaks and day openings from its equity samples (so a restart
        neither forgets a halt nor resets a drawdown)."""
        items = list(records)
        self.trading.replay(items)
        if self.breakers is not None:
            for _, record in items:
                if isinstance(record, EquitySample):
                    self.breakers.on_equity(record.account, record.ts_event, record.equity)
        if self.health is not None:
            self.health.set_status("trading_state", self.trading.state.value)

    def _publish_phase(self) -> None:
        if self.health is not None:
            self.health.set_status("emergency_stop", self.emergency.phase.value)

    def _after_kill_market(self, market: _Market, kind: int, now: int) -> None:
        """Market data during an emergency stop: a changed top frees the next slice."""
        if kind != 2 or market.book.stale:
            return
        book = market.book
        raw = (book.best_bid(), book.best_ask())
        if raw != market.raw_top:
            market.top = market.top_of(raw, now)
            self.emergency.on_book(market.instrument.symbol)
            self._pump()

    def _watch(self, order: Order, event: OrderEvent) -> None:
        health = self.health
        if isinstance(event, OrderSubmitted):
            if health is not None:
                health.on_submitted(order.client_order_id, event.ts_event)
        elif isinstance(event, OrderAccepted):
            if health is not None:
                health.on_accepted(order.client_order_id, event.ts_event)
        elif isinstance(event, OrderDenied | OrderRejected):
            if health is not None:
                health.on_reject(event.ts_event)
                health.on_closed(order.client_order_id)
            if self.breakers is not None:
                self._trip(self.breakers.on_reject(event.ts_event))

    def _trip(self, trip: Trip | None) -> None:
        if trip is not None and self.trading.tighten(trip.state, trip.reason):
            level = AlertLevel.CRITICAL if trip.state is TradingState.HALTED else AlertLevel.WARNING
            self.notifier.alert(level, f"circuit breaker: trading {trip.state.value}", trip.reason)

    def _book_fill(self, fill: Fill) -> None:
        before = self.portfolio.quantity(fill.symbol)
        realized = self.portfolio.apply_fill(fill)
        self._ctx.positions.pop(fill.symbol, None)
        after = self.portfolio.quantity(fill.symbol)
        self.traded_notional += fill.notional
        # A trade (for statistics) is a fill that reduces or closes a position; its
        # P&L is what that fill realized, net of its fee.
        if before != 0 and (abs(after) < abs(before) or after * before < 0):
            self.trade_pnl.append(realized)
        pos = self.portfolio.position(fill.symbol)
        inst = self.instruments[fill.symbol]
        account = self.portfolio.account_of(fill.symbol)
        self.store.append(
            PositionSnapshot(
                ts_event=fill.ts_event,
                account=account,
                symbol=fill.symbol,
                currency=pos.currency,
                quantity=pos.quantity,
                avg_entry_price=pos.avg_entry_price,
                realized_pnl=pos.realized_pnl,
                fees=pos.fees,
            )
        )
        balances = self.portfolio.balances(account)
        for asset in sorted({inst.base, inst.quote, fill.fee_currency}):
            if asset in balances:
                self.store.append(
                    BalanceSnapshot(
                        ts_event=fill.ts_event,
                        account=account,
                        asset=asset,
                        total=balances[asset],
                    )
                )
        if self.breakers is not None:
            value = self.equity(account)
            if value is not None:
                self._trip(self.breakers.on_equity(account, fill.ts_event, value))

    def top(self, symbol: str) -> BookTop | None:
        """The instrument's last top of book (None before its book has one)."""
        market = self._markets.get(symbol)
        return None if market is None else market.top

    def marks(self) -> dict[str, Decimal]:
        """Mid of each instrument's book rounded half-even to its tick (equity marks)."""
        out: dict[str, Decimal] = {}
        for symbol, market in self._markets.items():
            top = market.top or market.read_top(self.clock.now_ns())
            if top.mid is not None:
                out[symbol] = market.instrument.round_price(top.mid, Rounding.HALF_EVEN)
        return out

    def equity(self, account: str | None = None) -> Decimal | None:
        """The account's value in the quote its instruments share (the kernel's account
        when None); None while a position has no mark yet."""
        marks = self.marks()
        try:
            return self.portfolio.equity(marks, account or self.account)
        except ValueError:
            return None  # a position without a mark yet: no sample

    def _sample_equity(self) -> None:
        """One EquitySample per account that has instruments, in its shared quote."""
        now = self.clock.now_ns()
        for account, currency in self._account_currencies():
            value = self.equity(account)
            if value is None:
                continue
            self.store.append(
                EquitySample(ts_event=now, account=account, currency=currency, equity=value)
            )
            if self.breakers is not None:
                self._trip(self.breakers.on_equity(account, now, value))

    def _account_currencies(self) -> list[tuple[str, str]]:
        quotes: dict[str, set[str]] = {}
        for symbol, inst in self.instruments.items():
            quotes.setdefault(self.portfolio.account_of(symbol), set()).add(inst.quote)
        return [(a, min(q)) for a, q in sorted(quotes.items()) if len(q) == 1]


class _KernelContext:
    """The strategy's `Context`, backed by the kernel (see `engine.strategy.base`)."""

    def __init__(self, kernel: Kernel) -> None:
        self._k = kernel
        self.positions: dict[str, Position] = {}  # cleared on each fill of the symbol

    def now_ns(self) -> int:
        return self._k.clock.now_ns()

    def instrument(self, symbol: str) -> Instrument:
        return self._k.instruments[symbol]

    def top(self, symbol: str) -> BookTop | None:
        market = self._k._markets.get(symbol)
        return None if market is None else market.top

    def depth(self, symbol: str, side: OrderSide, levels: int) -> list[tuple[Decimal, Decimal]]:
        market = self._k._markets[symbol]
        raw = market.book.depth(0 if side is OrderSide.BUY else 1, levels)
        return [(market.price(p), market.size(q)) for p, q in raw]

    def position(self, symbol: str) -> Position:
        pos = self.positions.get(symbol)
        if pos is None:
            pos = self.positions[symbol] = self._k.portfolio.position(symbol)
        return pos

    def balances(self, account: str | None = None) -> dict[str, Decimal]:
        return self._k.portfolio.balances(account or self._k.account)

    def account(self, symbol: str) -> str:
        return self._k.portfolio.account_of(symbol)

    def open_orders(self, symbol: str | None = None) -> tuple[Order, ...]:
        return self._k.om.open_orders(symbol)

    def submit(self, **fields: object) -> Order:
        self._k.stats.orders += 1
        return self._k.om.submit(**fields)

    def cancel(self, client_order_id: str) -> bool:
        return self._k.om.cancel(client_order_id)

    def modify(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None:
        self._k.om.modify(
            client_order_id, quantity=quantity, price=price, trigger_price=trigger_price
        )

    def set_timer(self, name: str, at_ns: int, interval_ns: int | None = None) -> None:
        if name == _EQUITY_TIMER:
            raise ValueError(f"timer name {name!r} is reserved by the kernel")
        self._k._set_timer(name, at_ns, interval_ns)

    def cancel_timer(self, name: str) -> None:
        self._k._cancel_timer(name)

    def log(self, message: str) -> None:
        self._k._log(message)
