"""Live trading: the same kernel, order manager, risk gate and strategy as backtest and
paper, on a real exchange through ccxt.

`build_live` assembles a run: one ccxt.pro exchange (keys from
`adapters.exchanges.credentials`) on an asyncio thread, its markets as instruments (tick,
lot, limits and fees from the exchange), the `CcxtVenue` for orders and the account,
the `CcxtFeed` for market data, the journal, and the `LiveGuard`. `LiveRun.start`
connects and reconciles; trading does not start until a reconciliation succeeds (a new
run: the account's balances become its starting funds, and a position the run did
not open refuses the start; a resumed run: the journal is replayed, then squared with
the venue). `LiveRun.run` is the kernel's live loop; between batches the guard acts on
feed alerts and reconciles again after every reconnect of the private stream.

Client order ids are `<prefix>-<n>` with a prefix drawn from the run id (`q` and 8 hex
digits of its SHA-256), so two runs never share an id at the exchange, and the venue
tells this run's orders from others by it.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from adapters import failpoints
from adapters.backtest import PortfolioAccount
from adapters.clocks import LiveClock
from adapters.exchanges.aioloop import AsyncioThread
from adapters.exchanges.backoff import BackoffPolicy
from adapters.exchanges.credentials import Credentials, Redactor
from adapters.exchanges.markets import exchange_instrument, needs_reference_price
from adapters.exchanges.ratelimit import TokenBucket
from engine.domain.enums import InstrumentKind
from engine.domain.errors import ValidationError
from engine.domain.events import OrderFilled
from engine.domain.instrument import Instrument
from engine.kernel import Kernel, KernelStats
from engine.ports import Notifier, Store, VenueUnavailable
from engine.ports.clock import SettableClock
from engine.services.breakers import BreakerLimits, CircuitBreakers
from engine.services.emergency import EmergencySettings
from engine.services.health import HealthMonitor
from engine.services.live_guard import LiveGuard
from engine.services.order_manager import OrderManager
from engine.services.portfolio import Portfolio
from engine.services.reconcile import Reconciler, ReconcileReport
from engine.services.recovery import fund_account, recover_run
from engine.services.risk import RiskLimits, RiskService
from engine.strategy import Strategy

__all__ = ["LiveError", "LiveRun", "LiveSetup", "build_live", "id_prefix", "make_exchange"]

SKEW_NS = 60_000_000_000
"""How far back of the journal's last fill reconciliation asks for fills (clock skew
between this host and the exchange, and fills that were in flight)."""

# Requests a minute per API key (the exchanges' published REST limits, by weight).
REQUESTS_PER_MINUTE: Mapping[str, float] = {"binance": 6000, "binanceusdm": 2400, "upbit": 600}


class LiveError(ValueError):
    """A live set-up that cannot run, said on one line (never with a key in it)."""


@dataclass(frozen=True, slots=True)
class LiveSetup:
    """What `build_live` needs beyond the strategy and the store."""

    exchange: str
    symbols: tuple[str, ...]
    credentials: Credentials
    run_id: str
    exchange_setup: str | None = None
    limits: RiskLimits | None = None
    breakers: BreakerLimits | None = None
    emergency: EmergencySettings | None = None
    backoff: BackoffPolicy = field(default_factory=BackoffPolicy)
    stale_after_s: float = 5.0
    reconcile_retry_s: float = 5.0
    call_timeout_s: float = 10.0
    max_attempts: int = 5
    depth: int = 20
    equity_interval_ns: int = 1_000_000_000
    seed: int = 0


def id_prefix(run_id: str) -> str:
    return "q" + hashlib.sha256(run_id.encode()).hexdigest()[:8]


def make_exchange(
    exchange_id: str, credentials: Credentials, setup: str | None, timeout_s: float
) -> Any:
    """A ccxt.pro exchange with the keys; `setup` (`module:function`) may adjust it."""
    import ccxt.pro

    cls = getattr(ccxt.pro, exchange_id, None)
    if cls is None:
        raise LiveError(f"exchange {exchange_id!r}: not a ccxt.pro exchange")
    exchange = cls({"timeout": int(timeout_s * 1000), **credentials.ccxt_config()})
    if setup is not None:
        module_name, _, function = setup.partition(":")
        try:
            hook = getattr(importlib.import_module(module_name), function)
        except (ImportError, AttributeError) as err:
            raise LiveError(f"exchange_setup {setup!r}: cannot be loaded ({err})") from None
        hook(exchange)
    return exchange


def live_instruments(
    exchange: Any, symbols: Sequence[str], loop: AsyncioThread, timeout_s: float
) -> dict[str, Instrument]:
    """The exchange's rules for `symbols` (its markets, loaded once), corrected where
    ccxt's are wrong (`exchange_instrument`; Upbit's tick needs the current price: the
    best bid, else the best ask, of a one-level book)."""
    try:
        loop.call(exchange.load_markets(), timeout_s)
    except Exception as err:  # ccxt's errors and timeouts: said on one line
        raise LiveError(f"exchange {exchange.id}: markets could not be loaded: {err}") from None
    out: dict[str, Instrument] = {}
    for symbol in symbols:
        market = exchange.markets.get(symbol)
        if market is None:
            raise LiveError(f"symbols: {symbol!r} is not a market of {exchange.id}")
        reference = None
        if needs_reference_price(str(exchange.id)):
            reference = _reference_price(exchange, symbol, loop, timeout_s)
        try:
            out[symbol] = exchange_instrument(
                str(exchange.id), market, exchange.precisionMode, reference_price=reference
            )
        except ValidationError as err:
            raise LiveError(f"symbols: {symbol!r}: {err}") from None
    return out


class _HeldVenue:
    """The venue as the order manager and the kernel see it in live mode: commands are
    held until the journal that records them is committed (`release`), so an order is
    never at the exchange without a durable record of it (write-ahead across a crash).
    Everything else passes through."""

    def __init__(self, venue: Any) -> None:
        self._venue = venue
        self._held: list[tuple[str, tuple[Any, ...], dict[str, Any]]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._venue, name)

    def submit(self, terms: Any) -> None:
        self._held.append(("submit", (terms,), {}))

    def cancel(self, client_order_id: str) -> None:
        self._held.append(("cancel", (client_order_id,), {}))

    def modify(self, client_order_id: str, **changes: Any) -> None:
        self._held.append(("modify", (client_order_id,), changes))

    @property
    def holding(self) -> int:
        return len(self._held)

    def release(self) -> int:
        """Sends what was held, in order; returns how many commands went."""
        held, self._held = self._held, []
        for name, args, kwargs in held:
            getattr(self._venue, name)(*args, **kwargs)
        return len(held)


class _CommitThenSend:
    """The store in live mode: after each commit, once it is in the file (`sync`, for a
    store that pipelines its commits), the venue's held commands go out.
    Failpoints `live.before_send` (committed, not sent) and `live.after_send` (sent and
    answered by the exchange, the answer not yet handled) serve the crash tests."""

    def __init__(self, store: Store, venue: _HeldVenue, settle: Callable[[], bool]) -> None:
        self._store = store
        self._venue = venue
        self._settle = settle

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def append(self, record: Any) -> int:
        return self._store.append(record)

    def records(self, after: int = 0) -> Any:
        return self._store.records(after)

    def commit(self) -> None:
        self._store.commit()
        if not self._venue.holding:
            return
        sync = getattr(self._store, "sync", None)
        if sync is not None:  # a pipelined store's commit only handed the batch over
            sync()
        failpoints.hit("live.before_send")
        self._venue.release()
        if failpoints.armed("live.after_send"):
            deadline = time.monotonic() + 5
            while not self._settle() and time.monotonic() < deadline:
                time.sleep(0.01)
            failpoints.hit("live.after_send")


def _reference_price(
    exchange: Any, symbol: str, loop: AsyncioThread, timeout_s: float
) -> Decimal | None:
    try:
        book = loop.call(exchange.fetch_order_book(symbol, 1), timeout_s)
    except Exception as err:  # ccxt's errors and timeouts: said on one line
        raise LiveError(f"symbols: {symbol!r}: the book could not be read: {err}") from None
    for side in ("bids", "asks"):
        levels = book.get(side) or []
        if levels:
            return Decimal(repr(levels[0][0]))  # the exchange's text (see markets.py)
    return None


class _KernelMids:
    """The risk gate's market view: the mid of the kernel's own book (bound late: the
    kernel is built after the gate)."""

    def __init__(self) -> None:
        self.kernel: Kernel | None = None

    def mid(self, symbol: str) -> Decimal | None:
        if self.kernel is None:
            return None
        top = self.kernel.top(symbol)
        return None if top is None else top.mid


class _KernelTouch:
    """The venue's reference for market orders (the slippage cap): the best bid and ask
    of the kernel's own book, read on the kernel's thread when an order is submitted
    (bound late: the kernel is built after the venue)."""

    def __init__(self) -> None:
        self.kernel: Kernel | None = None

    def __call__(self, symbol: str) -> tuple[Decimal | None, Decimal | None]:
        top = None if self.kernel is None else self.kernel.top(symbol)
        return (None, None) if top is None else (top.bid, top.ask)


@dataclass(slots=True)
class LiveRun:
    run_id: str
    kernel: Kernel
    venue: Any  # CcxtVenue
    feed: Any  # CcxtFeed
    market_data: Any  # the feed's ccxt exchange (the venue closes its own)
    guard: LiveGuard
    store: Store
    clock: SettableClock
    portfolio: Portfolio
    order_manager: OrderManager
    instruments: dict[str, Instrument]
    health: HealthMonitor
    loop: AsyncioThread
    account: str
    resumed: bool
    start_ns: int
    stats: KernelStats | None = None
    started: bool = False
    _errors_seen: int = 0

    def start(
        self, timeout_s: float = 60.0, sleep: Callable[[float], None] = time.sleep
    ) -> ReconcileReport:
        """Connects the private stream and the feed, then reconciles until it succeeds
        (retrying every `reconcile_retry_s`); LiveError after `timeout_s` without one."""
        self.venue.start()
        self.feed.start()
        self._report_health()
        deadline = time.monotonic() + timeout_s
        while True:
            report = self.guard.reconcile_now("start-up")
            self.store.commit()
            if report.ok:
                self.started = True
                return report
            if time.monotonic() >= deadline:
                raise LiveError(f"reconciliation at start-up failed: {report.error}")
            sleep(min(5.0, max(0.1, deadline - time.monotonic())))

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> KernelStats:
        if not self.started:
            raise LiveError("the run was not started (rule: start() reconciles first)")
        self.stats = self.kernel.run_live(self.feed, should_stop=should_stop, between=self._between)
        return self.stats

    def _between(self) -> None:
        for alert in self.feed.take_alerts():
            self.guard.on_feed(alert)
        self.guard.check()
        self._report_health()

    def _report_health(self) -> None:
        """Connection states and rate-limit headroom into the health snapshot (what
        `/health`, `/metrics` and `quantx status` show); errors the venue counted since
        the last look become health errors."""
        venue = self.venue.health()
        self.guard.on_venue_stream(str(venue.get("stream")))
        self.health.set_connection("venue", venue.get("stream") in ("up", "polling"))
        self.health.set_status("venue_stream", str(venue.get("stream")))
        headroom = venue.get("headroom")
        if headroom is not None:
            self.health.set_rate_limit_headroom(self.account, float(headroom))
        errors = int(venue.get("malformed", 0)) + int(venue.get("internal_errors", 0))
        for _ in range(max(0, errors - self._errors_seen)):
            self.health.on_error()
        self._errors_seen = max(self._errors_seen, errors)
        statuses = self.feed.status()
        self.health.set_connection(
            "feed", bool(statuses) and all(s.connected for s in statuses.values())
        )
        for symbol, status in statuses.items():
            self.health.set_status(
                f"feed {symbol}",
                "gave up" if status.gave_up else "stale" if status.stale else "fresh",
            )

    def close(self) -> None:
        for part in (self.feed, self.venue):
            with contextlib.suppress(Exception):  # best effort: the loop stops regardless
                part.close()
        with contextlib.suppress(Exception):
            self.loop.call(self.market_data.close(), 10.0)
        self.loop.stop()


def build_live(
    setup: LiveSetup,
    strategy: Strategy[Any],
    *,
    store: Store,
    resume: bool = False,
    notifier: Notifier | None = None,
    redactor: Redactor | None = None,
    exchange: Any = None,
    loop: AsyncioThread | None = None,
    log: Callable[[str], None] | None = None,
) -> LiveRun:
    """Assembles a live run (nothing is sent until `LiveRun.start`). `exchange` and
    `loop` replace the ones made here (tests)."""
    from adapters.feeds.ccxt_ws import CcxtFeed
    from adapters.venues.ccxt_venue import CcxtVenue

    redact = redactor or Redactor([setup.credentials.api_key, setup.credentials.secret])
    loop = loop or AsyncioThread(f"quantx-live-{setup.exchange}")
    try:
        # Two connections to the exchange: the venue counts its own (re)connections to
        # know when to reconcile, so market data must not share its client.
        exchange = exchange or make_exchange(
            setup.exchange, setup.credentials, setup.exchange_setup, setup.call_timeout_s
        )
        market_data = make_exchange(
            setup.exchange, setup.credentials, setup.exchange_setup, setup.call_timeout_s
        )
        instruments = live_instruments(exchange, setup.symbols, loop, setup.call_timeout_s * 3)
    except LiveError as err:
        loop.stop()
        raise LiveError(redact(str(err))) from None
    clock = LiveClock()
    account = setup.exchange
    prefix = id_prefix(setup.run_id)
    limits = setup.limits or RiskLimits(
        max_notional=Decimal("1000000"),
        max_position=Decimal("100"),
        max_gross_exposure=Decimal("10000000"),
    )
    portfolio = Portfolio()
    for inst in instruments.values():
        portfolio.add_instrument(inst, account=account, leverage=limits.leverage)
    mids = _KernelMids()
    touch = _KernelTouch()
    risk = RiskService(
        instruments,
        dict.fromkeys(instruments, limits),
        account=PortfolioAccount(portfolio, list(instruments), account),
        market=mids,
    )
    per_minute = REQUESTS_PER_MINUTE.get(setup.exchange, 600)
    raw = CcxtVenue(
        exchange,
        instruments,
        clock=clock,
        loop=loop,
        backoff=setup.backoff,
        bucket=TokenBucket.per_minute(per_minute, time.monotonic),
        is_ours=lambda cid: cid.startswith(prefix + "-"),
        reports="poll" if setup.exchange == "upbit" else "ws",
        call_timeout_s=setup.call_timeout_s,
        max_attempts=setup.max_attempts,
        log=log,
        seed=setup.seed,
        touch=touch,
    )
    venue = _HeldVenue(raw)
    # Answers waiting in the venue's queue: the exchange answered, the kernel has not
    # handled it yet (the `live.after_send` failpoint's moment).
    store = _CommitThenSend(store, venue, settle=lambda: not raw._events.empty())
    feed = CcxtFeed(
        market_data,
        instruments,
        clock=clock,
        loop=loop,
        depth=setup.depth,
        backoff=setup.backoff,
        max_retries=setup.backoff.max_retries,
        stale_after_s=setup.stale_after_s,
        seed=setup.seed,
    )
    known_trades: set[tuple[str, str]] = set()
    last_fill_ns = 0
    if resume:
        recovered = recover_run(
            store,
            instruments=instruments,
            venue=venue,
            clock=clock,
            risk=risk,
            id_prefix=prefix,
            portfolio=portfolio,
        )
        om = recovered.order_manager
        for _, record in store.records():
            if isinstance(record, OrderFilled):
                known_trades.add((record.fill.symbol, record.fill.trade_id))
                last_fill_ns = max(last_fill_ns, record.fill.ts_event)
        start_ns = recovered.run.ts_event if recovered.run is not None else clock.now_ns()
    else:
        om = OrderManager(
            venue=venue,
            store=store,
            clock=clock,
            instruments=instruments,
            risk=risk,
            id_prefix=prefix,
        )
        start_ns = clock.now_ns()
    health = HealthMonitor(clock)
    kernel = Kernel(
        instruments=instruments,
        strategy=strategy,
        venue=venue,
        order_manager=om,
        portfolio=portfolio,
        store=store,
        clock=clock,
        account=account,
        equity_interval_ns=setup.equity_interval_ns,
        breakers=CircuitBreakers(setup.breakers or BreakerLimits()),
        notifier=notifier,
        health=health,
        emergency=setup.emergency,
        log=log,
    )
    mids.kernel = kernel
    touch.kernel = kernel
    if resume:
        kernel.restore_safety(store.records())
    raw.seen_trades(known_trades)
    funded = {"done": resume}

    def reconcile() -> ReconcileReport:
        if not funded["done"]:
            report = _fund_new_run(venue, portfolio, store, clock, instruments, account)
            if not report.ok:
                return report
            funded["done"] = True
        since = max(0, (last_fill_ns or start_ns) - SKEW_NS)
        trades = {t for _, t in known_trades} | {
            r.fill.trade_id for _, r in store.records() if isinstance(r, OrderFilled)
        }
        return Reconciler(
            order_manager=om,
            portfolio=portfolio,
            venue=venue,
            store=store,
            clock=clock,
            instruments=instruments,
            account=account,
            pump=kernel.settle,
        ).run(since_ns=since, known_trades=trades)

    guard = LiveGuard(
        control=kernel.trading,
        notifier=kernel.notifier,
        clock=clock,
        reconcile=reconcile,
        connections=lambda: int(raw.connections),
        health=health,
        retry_s=setup.reconcile_retry_s,
    )
    return LiveRun(
        run_id=setup.run_id,
        kernel=kernel,
        venue=raw,
        feed=feed,
        market_data=market_data,
        guard=guard,
        store=store,
        clock=clock,
        portfolio=portfolio,
        order_manager=om,
        instruments=instruments,
        health=health,
        loop=loop,
        account=account,
        resumed=resume,
        start_ns=start_ns,
    )


def _fund_new_run(
    venue: Any,
    portfolio: Portfolio,
    store: Store,
    clock: SettableClock,
    instruments: Mapping[str, Instrument],
    account: str,
) -> ReconcileReport:
    """A new run starts from what the account holds: its balances (the instruments'
    assets) are journaled as starting funds; a derivative position it did not open
    refuses the start (its cost basis is not this run's to guess)."""
    report = ReconcileReport()
    try:
        balances = venue.balances()
        positions = venue.positions()
    except VenueUnavailable as err:
        report.ok, report.error = False, f"VENUE_UNAVAILABLE: {err}"
        return report
    for symbol, inst in sorted(instruments.items()):
        held = positions.get(symbol, Decimal(0))
        if inst.kind is not InstrumentKind.SPOT and held != 0:
            raise LiveError(
                f"symbols: {symbol} has a position of {held} at the venue that this run did "
                "not open (rule: start flat, or --resume the run that opened it)"
            )
    assets = sorted({a for i in instruments.values() for a in (i.base, i.quote)})
    now = clock.now_ns()
    for asset in assets:
        amount = balances.get(asset, Decimal(0))
        if amount:
            fund_account(
                portfolio, store, asset=asset, amount=amount, ts_event=now, account=account
            )
    return report
