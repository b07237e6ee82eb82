"""The composition root: which adapter plays which port, wired once (dependency-injector).

Tests and the CLI build a fresh container per run and pass what differs (the store, the
instruments, the strategy); `container.<provider>.override(...)` swaps any adapter."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from dependency_injector import containers, providers

from adapters.backtest import PortfolioAccount, VenueMids
from adapters.clocks import AcceleratedClock, LiveClock, SimulatedClock
from adapters.exchanges.aioloop import AsyncioThread
from adapters.feeds.replay import ReplayFeed
from adapters.notify.log import LogNotifier
from adapters.paper import PaperAccount, PaperError, load_accounts
from adapters.venues.simulated import SimSettings, SimulatedVenue
from engine.domain.instrument import Instrument
from engine.kernel import Kernel
from engine.ports import Store
from engine.services.breakers import BreakerLimits, CircuitBreakers
from engine.services.emergency import EmergencySettings
from engine.services.health import HealthMonitor
from engine.services.order_manager import OrderManager
from engine.services.portfolio import Portfolio
from engine.services.recovery import Recovered, recover_run
from engine.services.risk import RiskByAccount, RiskLimits, RiskService
from engine.strategy import Strategy

__all__ = ["BacktestContainer", "PaperContainer", "use_live_feed"]


def _portfolio(instruments: dict[str, Instrument], cash: Decimal) -> Portfolio:
    portfolio = Portfolio(instruments.values())
    for quote in sorted({i.quote for i in instruments.values()}):
        portfolio.credit(quote, cash)
    return portfolio


def _risk(
    instruments: dict[str, Instrument],
    limits: RiskLimits,
    portfolio: Portfolio,
    venue: SimulatedVenue,
) -> RiskService:
    return RiskService(
        instruments,
        dict.fromkeys(instruments, limits),
        account=PortfolioAccount(portfolio, list(instruments)),
        market=VenueMids(venue),
    )


def _bar_interval(strategy: Strategy[Any]) -> int | None:
    value = getattr(strategy.params, "bar_interval_ns", None)
    return int(value) if value else None


def _kernel_provider(
    instruments: Any,
    strategy: Any,
    venue: Any,
    order_manager: Any,
    portfolio: Any,
    store: Any,
    clock: Any,
    equity_interval_ns: Any,
    **extra: Any,
) -> providers.Singleton[Kernel]:
    """The kernel over a container's providers (every mode wires it the same way)."""
    return providers.Singleton(
        Kernel,
        instruments=instruments,
        strategy=strategy,
        venue=venue,
        order_manager=order_manager,
        portfolio=portfolio,
        store=store,
        clock=clock,
        equity_interval_ns=equity_interval_ns,
        bar_interval_ns=providers.Callable(_bar_interval, strategy),
        **extra,
    )


class BacktestContainer(containers.DeclarativeContainer):
    instruments = providers.Dependency(instance_of=dict)
    strategy = providers.Dependency(instance_of=Strategy)
    store: providers.Dependency[Any] = providers.Dependency()
    settings = providers.Dependency(instance_of=SimSettings)
    limits = providers.Dependency(instance_of=RiskLimits)
    cash = providers.Dependency(instance_of=Decimal)
    equity_interval_ns = providers.Dependency(instance_of=int)
    # symbol -> sequence rule of its market data ("spot"/"futures"); unnamed: settings.rule.
    rules = providers.Dependency(instance_of=dict, default={})

    clock = providers.Singleton(SimulatedClock)
    venue = providers.Singleton(SimulatedVenue, instruments, clock, settings, rules=rules)
    portfolio = providers.Singleton(_portfolio, instruments, cash)
    risk = providers.Singleton(_risk, instruments, limits, portfolio, venue)
    order_manager = providers.Singleton(
        OrderManager,
        venue=venue,
        store=store,
        clock=clock,
        instruments=instruments,
        risk=risk,
    )
    kernel = _kernel_provider(
        instruments, strategy, venue, order_manager, portfolio, store, clock, equity_interval_ns
    )


# --- paper mode ------------------------------------------------------------------------
Loaded = tuple[list[Any], dict[str, Instrument], dict[str, list[str]]]
"""What `load_accounts` returns: the streams, the instruments, account -> its symbols."""


def _replay_feed(loaded: Loaded, sleep: Callable[[float], None]) -> ReplayFeed:
    return ReplayFeed(loaded[0], sleep=sleep)


def _start_ns(feed: ReplayFeed, resume_from_ns: int | None) -> int:
    first = feed.first_ts
    if first is None:
        raise PaperError("data: the recordings hold no messages")
    return first if resume_from_ns is None else max(first, resume_from_ns)


def _paced_clock(
    feed: ReplayFeed, start_ns: int, speed: float, monotonic_ns: Callable[[], int]
) -> AcceleratedClock:
    clock = AcceleratedClock(start_ns, speed, monotonic_ns=monotonic_ns)
    feed.start(clock)  # the feed paces its messages on this clock from now on
    return clock


def _paper_venue(
    loaded: Loaded, clock: AcceleratedClock, settings: SimSettings, feed: ReplayFeed
) -> SimulatedVenue:
    rules = {m.symbol: m.rule for m in feed.markets}
    return SimulatedVenue(loaded[1], clock, settings, rules=rules)


def _paper_portfolio(
    accounts: Sequence[PaperAccount], loaded: Loaded, limits: RiskLimits
) -> Portfolio:
    portfolio = Portfolio()
    for account in accounts:
        for symbol in loaded[2][account.name]:
            instrument = loaded[1][symbol]
            portfolio.add_instrument(instrument, account=account.name, leverage=limits.leverage)
    return portfolio


def _risk_by_account(
    loaded: Loaded, limits: RiskLimits, portfolio: Portfolio, venue: SimulatedVenue
) -> RiskByAccount:
    """Each account's instruments checked against that account only."""
    instruments, by_account = loaded[1], loaded[2]
    services: dict[str, RiskService] = {}
    for account, symbols in by_account.items():
        service = RiskService(
            {s: instruments[s] for s in symbols},
            dict.fromkeys(symbols, limits),
            account=PortfolioAccount(portfolio, symbols, account),
            market=VenueMids(venue),
        )
        services.update(dict.fromkeys(symbols, service))
    return RiskByAccount(services)


def _recovered(
    resume_from_ns: int | None,
    store: Store,
    loaded: Loaded,
    venue: SimulatedVenue,
    clock: AcceleratedClock,
    risk: RiskByAccount,
    portfolio: Portfolio,
) -> Recovered | None:
    """A resumed run's orders, portfolio and counters rebuilt from its journal; None
    for a new run."""
    if resume_from_ns is None:
        return None
    return recover_run(
        store, instruments=loaded[1], venue=venue, clock=clock, risk=risk, portfolio=portfolio
    )


def _paper_order_manager(
    recovered: Recovered | None,
    venue: SimulatedVenue,
    store: Store,
    clock: AcceleratedClock,
    loaded: Loaded,
    risk: RiskByAccount,
) -> OrderManager:
    if recovered is not None:
        return recovered.order_manager
    return OrderManager(venue=venue, store=store, clock=clock, instruments=loaded[1], risk=risk)


def _breakers(limits: BreakerLimits | None) -> CircuitBreakers | None:
    return None if limits is None else CircuitBreakers(limits)


def _first_account(accounts: Sequence[PaperAccount]) -> str:
    return accounts[0].name


def _instruments(loaded: Loaded) -> dict[str, Instrument]:
    return loaded[1]


class PaperContainer(containers.DeclarativeContainer):
    """Paper mode: a market-data feed paced on its clock, the simulated venue, one
    portfolio with an account per `PaperAccount`, each instrument risk-checked against
    its own account, and (`resume_from_ns` given) the order manager rebuilt from the
    store. The feed here is a recording (`ReplayFeed`); `sleep` and `monotonic_ns`
    replace the real ones so that tests play a recording instantly. Safety: circuit
    breakers (`breaker_limits`, None: off), the emergency stop's settings, alerts to the
    log (override `notifier`) and a health monitor on the run's clock."""

    accounts = providers.Dependency(instance_of=list)
    strategy = providers.Dependency(instance_of=Strategy)
    store: providers.Dependency[Any] = providers.Dependency()
    settings = providers.Dependency(instance_of=SimSettings)
    limits = providers.Dependency(instance_of=RiskLimits)
    speed = providers.Object(1.0)
    equity_interval_ns = providers.Dependency(instance_of=int, default=1_000_000_000)
    resume_from_ns: providers.Object[int | None] = providers.Object(None)
    sleep = providers.Object(time.sleep)
    monotonic_ns = providers.Object(time.monotonic_ns)
    breaker_limits: providers.Object[BreakerLimits | None] = providers.Object(BreakerLimits())
    emergency = providers.Object(EmergencySettings())
    notifier: providers.Provider[Any] = providers.Singleton(LogNotifier)

    loaded = providers.Singleton(load_accounts, accounts)
    instruments = providers.Callable(_instruments, loaded)
    feed = providers.Singleton(_replay_feed, loaded, sleep)
    start_ns = providers.Singleton(_start_ns, feed, resume_from_ns)
    clock = providers.Singleton(_paced_clock, feed, start_ns, speed, monotonic_ns)
    venue = providers.Singleton(_paper_venue, loaded, clock, settings, feed)
    portfolio = providers.Singleton(_paper_portfolio, accounts, loaded, limits)
    risk = providers.Singleton(_risk_by_account, loaded, limits, portfolio, venue)
    recovered = providers.Singleton(
        _recovered, resume_from_ns, store, loaded, venue, clock, risk, portfolio
    )
    order_manager = providers.Singleton(
        _paper_order_manager, recovered, venue, store, clock, loaded, risk
    )
    health = providers.Singleton(HealthMonitor, clock)
    breakers = providers.Singleton(_breakers, breaker_limits)
    kernel = _kernel_provider(
        instruments,
        strategy,
        venue,
        order_manager,
        portfolio,
        store,
        clock,
        equity_interval_ns,
        account=providers.Callable(_first_account, accounts),
        breakers=breakers,
        notifier=notifier,
        health=health,
        emergency=emergency,
    )


# --- paper mode on a live websocket feed ---------------------------------------------
def _public_exchange(accounts: Sequence[PaperAccount], setup: str | None) -> Any:
    """One ccxt.pro client without keys (market data is public) for the exchange every
    live account names."""
    from adapters.exchanges.credentials import Credentials
    from adapters.live import make_exchange

    names = sorted({a.exchange for a in accounts if a.exchange})
    if len(names) != 1 or any(not a.exchange for a in accounts):
        raise PaperError(
            f"accounts: exchanges {names or '-'} (rule: a live-feed paper run takes every "
            "account from one exchange, none from recordings)"
        )
    return make_exchange(names[0], Credentials(names[0], "", "", "none"), setup, 10.0)


def _live_loaded(accounts: Sequence[PaperAccount], exchange: Any, loop: Any) -> Loaded:
    """No recordings; each account's instruments from the exchange's markets."""
    from adapters.live import LiveError, live_instruments

    instruments: dict[str, Instrument] = {}
    by_account: dict[str, list[str]] = {}
    for account in accounts:
        try:
            got = live_instruments(exchange, account.symbols, loop, 30.0)
        except LiveError as err:
            raise PaperError(str(err)) from None
        for symbol in got:
            if symbol in instruments:
                rule = "(rule: one account per instrument)"
                raise PaperError(f"instrument {symbol} is traded by two accounts {rule}")
        instruments.update(got)
        by_account[account.name] = list(got)
    return [], instruments, by_account


def _ccxt_feed(exchange: Any, loaded: Loaded, clock: Any, loop: Any, stale_after_s: float) -> Any:
    from adapters.feeds.ccxt_ws import CcxtFeed

    return CcxtFeed(exchange, loaded[1], clock=clock, loop=loop, stale_after_s=stale_after_s)


def use_live_feed(
    container: PaperContainer, accounts: Sequence[PaperAccount], exchange_setup: str | None
) -> tuple[AsyncioThread, Any]:
    """Paper mode on live market data: overrides the container's recording, clock and
    feed with the ccxt.pro websocket feed live runs use (one exchange, public data, no
    keys) on the wall clock. Returns the asyncio thread and the exchange client (the
    caller closes both after the feed)."""
    loop = AsyncioThread("quantx-paper-feed")
    try:
        market_data = _public_exchange(accounts, exchange_setup)
        loaded = _live_loaded(accounts, market_data, loop)
    except BaseException:
        loop.stop()
        raise
    clock = LiveClock()
    feed = _ccxt_feed(market_data, loaded, clock, loop, 5.0)
    container.loaded.override(providers.Object(loaded))
    container.clock.override(providers.Object(clock))
    container.feed.override(providers.Object(feed))
    container.start_ns.override(providers.Object(clock.now_ns()))
    return loop, market_data
