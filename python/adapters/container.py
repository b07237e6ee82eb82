"""The composition root: which adapter plays which port, wired once (dependency-injector).

Tests and the CLI build a fresh container per run and pass what differs (the store, the
instruments, the strategy); `container.<provider>.override(...)` swaps any adapter."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from dependency_injector import containers, providers

from adapters.backtest import PortfolioAccount, VenueMids
from adapters.clocks import SimulatedClock
from adapters.venues.simulated import SimSettings, SimulatedVenue
from engine.domain.instrument import Instrument
from engine.kernel import Kernel
from engine.services.order_manager import OrderManager
from engine.services.portfolio import Portfolio
from engine.services.risk import RiskLimits, RiskService
from engine.strategy import Strategy

__all__ = ["BacktestContainer"]


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
    kernel = providers.Singleton(
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
    )
