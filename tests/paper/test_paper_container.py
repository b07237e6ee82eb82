"""Paper mode is wired by the composition root (`PaperContainer`), like backtests: one
portfolio, one venue and one clock shared by every service, and any adapter can be
swapped by overriding its provider (what live mode does with the venue and the feed)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from dependency_injector import providers

from adapters.backtest import DEFAULT_LIMITS
from adapters.container import PaperContainer
from adapters.data import BUNDLED_BINANCE_DIR
from adapters.paper import PaperAccount, PaperError
from adapters.store.memory import MemoryStore
from adapters.venues.simulated import SimSettings, SimulatedVenue
from engine.strategy import load_strategy

USDM = BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808.gz"
SPOT = BUNDLED_BINANCE_DIR / "spot-btcusdt-20240808.gz"


def _container(accounts: list[PaperAccount]) -> PaperContainer:
    return PaperContainer(
        accounts=accounts,
        strategy=load_strategy("engine.strategy.base:Strategy", {}),
        store=MemoryStore(),
        settings=SimSettings(),
        limits=DEFAULT_LIMITS,
        monotonic_ns=providers.Object(lambda: 0),
        sleep=providers.Object(lambda seconds: None),
    )


def test_every_service_shares_one_clock_venue_and_portfolio() -> None:
    container = _container(
        [
            PaperAccount("fut", (USDM,), {"USDT": Decimal("1000")}),
            PaperAccount("spot", (SPOT,), {"USDT": Decimal("1000")}),
        ]
    )
    kernel = container.kernel()
    assert kernel.venue is container.venue()
    assert kernel.om is container.order_manager()
    assert kernel.portfolio is container.portfolio()
    assert kernel.clock is container.clock() is container.venue()._clock
    # the clock starts at the recordings' first message, each account owns its market
    assert container.clock().now_ns() == container.feed().first_ts
    assert container.portfolio().account_of("BTC/USDT:USDT") == "fut"
    assert container.portfolio().account_of("BTC/USDT") == "spot"
    assert container.recovered() is None  # a new run: nothing rebuilt


def test_an_overridden_venue_is_the_one_the_order_manager_sends_to() -> None:
    container = _container([PaperAccount("fut", (USDM,), {"USDT": Decimal("1000")})])
    instruments, clock = container.instruments(), container.clock()
    other = SimulatedVenue(instruments, clock, SimSettings(submit_latency_ns=5_000_000))
    container.venue.override(providers.Object(other))
    assert container.kernel().venue is other
    assert container.order_manager()._venue is other


def test_a_run_without_accounts_is_refused_by_name() -> None:
    with pytest.raises(PaperError, match="accounts: none given"):
        _container([]).kernel()
