"""A kernel over hand-made books for the safety tests: two linear perpetuals (tick 0.1,
lot 0.001, taker fee 0.0005, min notional 1), the real simulated venue, order manager,
risk gate and portfolio, a memory store and a simulated clock."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from adapters.backtest import DEFAULT_LIMITS, PortfolioAccount, VenueMids
from adapters.clocks import SimulatedClock
from adapters.store.memory import MemoryStore
from adapters.venues.simulated import SimSettings, SimulatedVenue
from engine import _core
from engine.domain import InstrumentKind
from engine.domain.instrument import Instrument
from engine.domain.journal import EmergencyStop, TradingStateChanged
from engine.kernel import Kernel, MarketStream
from engine.ports import AlertLevel
from engine.services.health import HealthMonitor
from engine.services.order_manager import OrderManager
from engine.services.portfolio import Portfolio
from engine.services.risk import RiskLimits, RiskService
from engine.strategy import Strategy

D = Decimal
SEC = 1_000_000_000
CASH = D("100000")
Levels = Sequence[tuple[str, str]]


def perp(symbol: str, base: str) -> Instrument:
    return Instrument(
        symbol=symbol,
        base=base,
        quote="USDT",
        kind=InstrumentKind.LINEAR_PERPETUAL,
        tick_size=D("0.1"),
        lot_size=D("0.001"),
        min_quantity=D("0.001"),
        max_quantity=D("100"),
        min_notional=D("1"),
        maker_fee_rate=D("0.0002"),
        taker_fee_rate=D("0.0005"),
        price_precision=1,
        quantity_precision=3,
    )


class Tape:
    """One instrument's futures depth messages (update ids that chain), built in order."""

    def __init__(self, inst: Instrument) -> None:
        self.inst = inst
        self._b = _core.EventBuilder(_core.Grid(str(inst.tick_size), str(inst.lot_size)))
        self._id = 100
        self._straddle = False

    def snapshot(self, ts: int, bids: Levels, asks: Levels) -> Tape:
        self._b.push_snapshot(ts, ts, self._id, [list(x) for x in bids], [list(x) for x in asks])
        self._straddle = True
        return self

    def diff(self, ts: int, bids: Levels, asks: Levels) -> Tape:
        first = self._id if self._straddle else self._id + 1
        prev = first - 1 if self._straddle else self._id
        self._straddle = False
        self._id += 1
        self._b.push_diff(
            ts, ts, first, self._id, prev, [list(x) for x in bids], [list(x) for x in asks]
        )
        return self

    def trade(self, ts: int, price: str, qty: str, seller_aggressor: bool) -> Tape:
        self._id += 1
        self._b.push_trade(ts, ts, self._id, price, qty, seller_aggressor)
        return self

    def stream(self) -> MarketStream:
        return MarketStream(self.inst.symbol, "futures", self._b.finish(), str(self.inst.lot_size))


class Alerts:
    """A Notifier that keeps what it was told."""

    def __init__(self) -> None:
        self.seen: list[tuple[AlertLevel, str, str]] = []

    def alert(self, level: AlertLevel, title: str, detail: str) -> None:
        self.seen.append((level, title, detail))


@dataclass
class Rig:
    kernel: Kernel
    store: MemoryStore
    venue: SimulatedVenue
    portfolio: Portfolio
    om: OrderManager
    clock: SimulatedClock

    def records(self) -> list[Any]:
        return [r for _, r in self.store.records()]

    def safety(self) -> list[tuple[str, str, str]]:
        """(kind, state or phase, reason or detail) of the safety records, in order."""
        out = []
        for r in self.records():
            if isinstance(r, TradingStateChanged):
                out.append(("state", r.state.value, r.reason))
            elif isinstance(r, EmergencyStop):
                out.append(("stop", r.phase, r.detail))
        return out


def rig(
    instruments: Sequence[Instrument],
    strategy: Strategy[Any],
    *,
    cash: Decimal = CASH,
    limits: RiskLimits = DEFAULT_LIMITS,
    settings: SimSettings | None = None,
    with_health: bool = False,
    **kernel_kwargs: Any,
) -> Rig:
    insts = {i.symbol: i for i in instruments}
    clock = SimulatedClock()
    store = MemoryStore()
    venue = SimulatedVenue(insts, clock, settings or SimSettings())
    portfolio = Portfolio(insts.values())
    portfolio.credit("USDT", cash)
    risk = RiskService(
        insts,
        dict.fromkeys(insts, limits),
        account=PortfolioAccount(portfolio, list(insts)),
        market=VenueMids(venue),
    )
    om = OrderManager(venue=venue, store=store, clock=clock, instruments=insts, risk=risk)
    if with_health:
        kernel_kwargs["health"] = HealthMonitor(clock)
    kernel = Kernel(
        instruments=insts,
        strategy=strategy,
        venue=venue,
        order_manager=om,
        portfolio=portfolio,
        store=store,
        clock=clock,
        **kernel_kwargs,
    )
    return Rig(kernel, store, venue, portfolio, om, clock)
