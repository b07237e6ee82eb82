"""Paper trading: live market data into the simulated venue, virtual balances per account.

A paper run is the live loop of the kernel (`Kernel.run_live`) on a `MarketDataFeed`,
with the same order manager, risk gate, portfolio and simulated venue as a backtest.
Each account lists the market data of the instruments it trades and its starting
balances; several accounts (and exchanges) share one run, one clock and one journal,
and each instrument's orders are checked against its own account.

The feed here is a recording played at `speed` times real time (`ReplayFeed` on an
`AcceleratedClock`): what tests and the demo use; a websocket feed plugs into the same
port. A run journals to the store; `resume=True` continues an unended run after a crash:
the order manager, portfolio and venue are rebuilt from what was committed, the books
are rebuilt from the recording up to the last committed moment, and the run goes on
from there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any, cast

from dependency_injector import providers

from adapters.backtest import DEFAULT_LIMITS, load_streams
from adapters.clocks import AcceleratedClock
from adapters.feeds.replay import ReplayFeed
from adapters.venues.simulated import SimSettings, SimulatedVenue
from engine.domain.instrument import Instrument
from engine.kernel import Kernel, KernelStats, MarketStream
from engine.ports import Notifier, Store
from engine.services.breakers import BreakerLimits
from engine.services.emergency import EmergencySettings
from engine.services.health import HealthMonitor
from engine.services.live_guard import LiveGuard
from engine.services.order_manager import OrderManager
from engine.services.portfolio import Portfolio
from engine.services.reconcile import ReconcileReport
from engine.services.recovery import Recovered, fund_account, resend_in_flight, restore_venue
from engine.services.risk import RiskLimits
from engine.strategy import Strategy

__all__ = ["PaperAccount", "PaperError", "PaperRun", "build_paper"]


class PaperError(ValueError):
    """A paper set-up that cannot run, said on one line."""


@dataclass(frozen=True, slots=True)
class PaperAccount:
    """One virtual account: its name, the data files of the instruments it trades (or,
    on live data, the exchange and its ccxt symbols), and its starting balances (asset
    -> amount)."""

    name: str
    data: tuple[Path, ...]
    balances: Mapping[str, Decimal]
    exchange: str | None = None  # a live feed: the ccxt exchange id, and its symbols
    symbols: tuple[str, ...] = ()


@dataclass(slots=True)
class PaperRun:
    kernel: Kernel
    feed: ReplayFeed | Any  # a recording, or the ccxt websocket feed (live data)
    clock: AcceleratedClock | Any
    portfolio: Portfolio
    order_manager: OrderManager
    venue: SimulatedVenue
    store: Store
    accounts: dict[str, list[str]]  # account -> its symbols
    instruments: dict[str, Instrument]
    health: HealthMonitor
    primed: int = 0  # messages replayed into the books only (a resumed run)
    recovered: Recovered | None = None  # what a resumed run rebuilt from its journal
    recovered_state: dict[str, dict[str, Any]] | None = None  # its state, before going on
    stats: KernelStats | None = field(default=None)
    guard: LiveGuard | None = None  # live data: feed alerts move the trading state
    closers: list[Callable[[], None]] = field(default_factory=list)

    def run(self, should_stop: Callable[[], bool] = lambda: False) -> KernelStats:
        between = None
        if self.guard is not None:
            guard, feed = self.guard, cast(Any, self.feed)  # the ccxt feed (live data)
            feed.start()

            def between() -> None:
                for alert in feed.take_alerts():
                    guard.on_feed(alert)

        try:
            self.stats = self.kernel.run_live(self.feed, should_stop=should_stop, between=between)
        finally:
            for close in self.closers:
                with contextlib.suppress(Exception):  # best effort, each one
                    close()
        return self.stats


def load_accounts(
    accounts: Sequence[PaperAccount],
) -> tuple[list[MarketStream], dict[str, Instrument], dict[str, list[str]]]:
    """Every account's streams and instruments; an instrument belongs to one account."""
    if not accounts:
        raise PaperError("accounts: none given (rule: at least one account)")
    streams: list[MarketStream] = []
    instruments: dict[str, Instrument] = {}
    owner: dict[str, str] = {}
    by_account: dict[str, list[str]] = {}
    for account in accounts:
        if account.name in by_account:
            raise PaperError(f"account {account.name!r} is listed twice (rule: unique names)")
        got, insts = load_streams(list(account.data))
        for symbol in insts:
            if symbol in owner:
                raise PaperError(
                    f"instrument {symbol} is traded by accounts {owner[symbol]!r} and "
                    f"{account.name!r} (rule: one account per instrument)"
                )
            owner[symbol] = account.name
        streams += got
        instruments.update(insts)
        by_account[account.name] = list(insts)
    return streams, instruments, by_account


def build_paper(
    accounts: Sequence[PaperAccount],
    strategy: Strategy[Any],
    *,
    store: Store,
    speed: float = 1.0,
    settings: SimSettings | None = None,
    limits: RiskLimits | None = None,
    equity_interval_ns: int = 1_000_000_000,
    resume_from_ns: int | None = None,
    sleep: Callable[[float], None] | None = None,
    monotonic_ns: Callable[[], int] | None = None,
    breakers: BreakerLimits | None = None,
    emergency: EmergencySettings | None = None,
    notifier: Notifier | None = None,
    exchange_setup: str | None = None,
) -> PaperRun:
    """Assembles a paper run over recorded data. `resume_from_ns`: start the recording
    part-way (books rebuilt from the messages up to it; the caller recovers orders and
    balances from the store, and the trading state from its last change). `sleep` and
    `monotonic_ns` replace the real ones (tests run a recording instantly and
    deterministically with a fake pair). `breakers`: circuit breaker limits (None: the
    defaults of `BreakerLimits`); `notifier`: where alerts go (None: the log)."""
    from adapters.container import PaperContainer, use_live_feed

    live_data = any(a.exchange for a in accounts)
    if live_data and resume_from_ns is not None:
        raise PaperError("--resume: a paper run on live data cannot be resumed (no recording)")
    container = PaperContainer(
        accounts=list(accounts),
        strategy=strategy,
        store=store,
        settings=settings or SimSettings(),
        limits=limits or DEFAULT_LIMITS,
        speed=providers.Object(speed),
        equity_interval_ns=equity_interval_ns,
        resume_from_ns=providers.Object(resume_from_ns),
    )
    if sleep is not None:
        container.sleep.override(providers.Object(sleep))
    if monotonic_ns is not None:
        container.monotonic_ns.override(providers.Object(monotonic_ns))
    if breakers is not None:
        container.breaker_limits.override(providers.Object(breakers))
    if emergency is not None:
        container.emergency.override(providers.Object(emergency))
    if notifier is not None:
        container.notifier.override(providers.Object(notifier))
    if live_data:
        loop, market_data = use_live_feed(container, accounts, exchange_setup)
    kernel = container.kernel()
    feed, clock, venue = container.feed(), container.clock(), container.venue()
    portfolio, om, start = container.portfolio(), container.order_manager(), container.start_ns()
    instruments, by_account = container.instruments(), container.loaded()[2]
    recovered: Recovered | None = container.recovered()
    recovered_state = None if recovered is None else recovered.state()
    for market in feed.markets:
        kernel.add_market(market.symbol, market.rule, market.data_lot_size)
    primed = 0
    if recovered is not None:
        # Books first (the recording up to the last committed moment, no orders at the
        # venue yet, so nothing fills twice), then the venue's orders put back, then the
        # requests that were in flight sent again; their answers are one batch.
        for message in feed.skip_until(start):
            kernel.prime(message)
            primed += 1
        kernel.restore_safety(store.records())  # a halted run stays halted
        kernel.trade_pnl = list(recovered.trade_pnl)
        kernel.traded_notional = recovered.traded_notional
        restore_venue(recovered, venue)
        resend_in_flight(recovered, venue, now_ns=clock.now_ns())
        kernel.settle()
    if recovered is None or not recovered.funding:
        for account in accounts:
            for asset, amount in sorted(account.balances.items()):
                if amount:
                    fund_account(
                        portfolio,
                        store,
                        asset=asset,
                        amount=amount,
                        ts_event=start,
                        account=account.name,
                    )
    guard: LiveGuard | None = None
    closers: list[Callable[[], None]] = []
    if live_data:
        guard = LiveGuard(
            control=kernel.trading,
            notifier=kernel.notifier,
            clock=clock,
            reconcile=ReconcileReport,  # a simulated venue: nothing to reconcile
            connections=lambda: 0,
            health=container.health(),
        )
        closers = [feed.close, lambda: loop.call(market_data.close(), 10.0), loop.stop]
    return PaperRun(
        guard=guard,
        closers=closers,
        kernel=kernel,
        feed=feed,
        clock=clock,
        portfolio=portfolio,
        order_manager=om,
        venue=venue,
        store=store,
        accounts=by_account,
        instruments=instruments,
        health=container.health(),
        primed=primed,
        recovered=recovered,
        recovered_state=recovered_state,
    )
