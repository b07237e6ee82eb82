"""A run driven step by step the way the kernel drives one (venue answers to the order
manager, fills to the portfolio with their snapshots, one commit per step), journaled
to SQLite, that can crash at any journal append; and the committed state read straight
from the SQLite read-model tables, for the crash-recovery tests."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.backtest import DEFAULT_LIMITS, PortfolioAccount, VenueMids
from adapters.store.sqlite import SqliteStore
from adapters.venues.simulated import SimSettings, SimulatedVenue
from engine import _core
from engine.domain import InstrumentKind, Order, OrderEvent, OrderFilled, OrderType, TimeInForce
from engine.domain.instrument import Instrument
from engine.domain.journal import BalanceSnapshot, JournalRecord, PositionSnapshot, RunStarted
from engine.ports import Store, VenueCapabilities
from engine.services.order_manager import OrderManager
from engine.services.portfolio import DEFAULT_ACCOUNT, Portfolio
from engine.services.recovery import Recovered, TradeCounters, fund_account
from engine.services.risk import RiskService

D = Decimal
SYMBOL = "BTCUSDT"
RUN_ID = "paper-1"
CASH = D("100000")


def instrument() -> Instrument:
    return Instrument(
        symbol=SYMBOL,
        base="BTC",
        quote="USDT",
        kind=InstrumentKind.LINEAR_PERPETUAL,
        tick_size=D("0.1"),
        lot_size=D("0.001"),
        min_quantity=D("0.001"),
        max_quantity=D("100"),
        min_notional=D("5"),
        maker_fee_rate=D("0.0002"),
        taker_fee_rate=D("0.0005"),
        price_precision=1,
        quantity_precision=3,
    )


INSTRUMENTS = {SYMBOL: instrument()}


class NoStopsVenue(SimulatedVenue):
    """The simulated venue claiming to lack conditional orders: the manager emulates them."""

    capabilities = VenueCapabilities(
        order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}),
        time_in_force=frozenset(TimeInForce),
        trigger_sources=frozenset(),
        amend=True,
    )


class Crash(BaseException):
    """The process dies here (BaseException: nothing on the way catches it)."""


class CrashingStore:
    """A store that dies at its `crash_at`-th append (1-based; 0: never), before the
    record reaches the store. Counts every append and commit."""

    def __init__(self, inner: SqliteStore, crash_at: int = 0) -> None:
        self.inner = inner
        self.crash_at = crash_at
        self.appends = 0
        self.on_commit: Callable[[], None] = lambda: None

    def append(self, record: JournalRecord) -> int:
        self.appends += 1
        if self.appends == self.crash_at:
            raise Crash(f"killed at append {self.appends}")
        return self.inner.append(record)

    def commit(self) -> None:
        self.inner.commit()
        self.on_commit()

    def records(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        return self.inner.records(after)


class ManualClock:
    def __init__(self, now: int = 0) -> None:
        self.now = now

    def now_ns(self) -> int:
        return self.now


class Desk:
    """The order manager, simulated venue, risk gate and portfolio of one run, wired as
    the kernel wires them; market data built with the core's EventBuilder."""

    def __init__(
        self,
        store: Store,
        settings: SimSettings,
        *,
        clock: ManualClock | None = None,
        recovered: Callable[[Desk], Recovered] | None = None,
        venue: type[SimulatedVenue] = SimulatedVenue,
    ) -> None:
        self.store = store
        self.inst = INSTRUMENTS[SYMBOL]
        self.clock = clock or ManualClock()
        self.venue = venue(INSTRUMENTS, self.clock, settings)
        self.portfolio = Portfolio([self.inst])
        self.risk = RiskService(
            INSTRUMENTS,
            {SYMBOL: DEFAULT_LIMITS},
            account=PortfolioAccount(self.portfolio, [SYMBOL]),
            market=VenueMids(self.venue),
        )
        self.counters = TradeCounters()
        if recovered is None:
            self.om = OrderManager(
                venue=self.venue,
                store=store,
                clock=self.clock,
                instruments=INSTRUMENTS,
                risk=self.risk,
            )
            self.recovered: Recovered | None = None
        else:
            self.recovered = recovered(self)
            self.om = self.recovered.order_manager
            self.counters = self.recovered.counters
        self.om.subscribe(self._on_event)
        self._grid = _core.Grid(str(self.inst.tick_size), str(self.inst.lot_size))
        self._update_id = 1_000
        self._straddle = False
        self._trade_id = 0

    # --- what the kernel does with each event --------------------------------------------
    def _on_event(self, order: Order, event: OrderEvent) -> None:
        if not isinstance(event, OrderFilled):
            return
        fill = event.fill
        self.counters.book(self.portfolio, fill)
        pos = self.portfolio.position(fill.symbol)
        self.store.append(
            PositionSnapshot(
                ts_event=fill.ts_event,
                account=DEFAULT_ACCOUNT,
                symbol=fill.symbol,
                currency=pos.currency,
                quantity=pos.quantity,
                avg_entry_price=pos.avg_entry_price,
                realized_pnl=pos.realized_pnl,
                fees=pos.fees,
            )
        )
        balances = self.portfolio.balances()
        for asset in sorted({self.inst.base, self.inst.quote, fill.fee_currency}):
            if asset in balances:
                self.store.append(
                    BalanceSnapshot(
                        ts_event=fill.ts_event,
                        account=DEFAULT_ACCOUNT,
                        asset=asset,
                        total=balances[asset],
                    )
                )

    def pump(self) -> None:
        while events := self.venue.drain():
            for event in events:
                self.om.on_venue_event(event)

    def commit(self) -> None:
        self.store.commit()

    # --- market data ----------------------------------------------------------------------
    def at(self, ts: int) -> None:
        self.clock.now = ts
        self.venue.advance_to(ts)
        self.om.on_time(ts)
        self.pump()

    def snapshot(self, ts: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        b = _core.EventBuilder(self._grid)
        self._update_id += 10
        b.push_snapshot(ts, ts, self._update_id, [list(x) for x in bids], [list(x) for x in asks])
        self._straddle = True
        self._feed(ts, b)

    def diff(self, ts: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> None:
        b = _core.EventBuilder(self._grid)
        first = self._update_id if self._straddle else self._update_id + 1
        prev = first - 1 if self._straddle else self._update_id
        self._straddle = False
        self._update_id += 1
        b.push_diff(
            ts, ts, first, self._update_id, prev, [list(x) for x in bids], [list(x) for x in asks]
        )
        self._feed(ts, b)

    def trade(self, ts: int, price: str, qty: str, aggressor: str) -> None:
        """A print: "buy" lifted the ask, "sell" hit the bid."""
        b = _core.EventBuilder(self._grid)
        self._trade_id += 1
        b.push_trade(ts, ts, self._trade_id, price, qty, aggressor == "sell")
        self._feed(ts, b)
        self.om.on_trade(SYMBOL, D(price))
        self.pump()

    def _feed(self, ts: int, builder: _core.EventBuilder) -> None:
        self.clock.now = ts
        self.venue.apply_events(SYMBOL, builder.finish())
        self.pump()

    # --- the live state, in the shape of `Recovered.state()` ---------------------------------
    def state(self) -> dict[str, dict[str, Any]]:
        orders = {
            o.client_order_id: {
                "status": o.status.value,
                "filled": o.filled_qty,
                "leaves": o.leaves_qty,
            }
            for o in self.om.orders()
        }
        traded = {f.symbol for o in self.om.orders() for f in o.fills}
        positions = {}
        for symbol in sorted(traded):
            p = self.portfolio.position(symbol)
            positions[f"{DEFAULT_ACCOUNT}/{symbol}"] = {
                "quantity": p.quantity,
                "avg_entry_price": p.avg_entry_price,
                "realized_pnl": p.realized_pnl,
                "fees": p.fees,
            }
        balances = {
            f"{DEFAULT_ACCOUNT}/{asset}": total
            for asset, total in self.portfolio.balances().items()
            if total != 0
        }
        return {"orders": orders, "positions": positions, "balances": balances}


def open_run(path: Path) -> SqliteStore:
    run = RunStarted(run_id=RUN_ID, ts_event=0, mode="paper", strategy="tests:Script")
    return SqliteStore.open(path, run=run)


def fund(desk: Desk, ts: int) -> None:
    fund_account(desk.portfolio, desk.store, asset="USDT", amount=CASH, ts_event=ts)


def committed_state(path: Path, run_id: str) -> dict[str, dict[str, Any]]:
    """The committed state of `run_id` read with sqlite3 from the read-model tables
    (orders, positions, balances), in the shape of `Recovered.state()`: non-zero
    balances only, amounts as Decimal."""
    conn = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
    try:
        orders = {
            cid: {"status": status, "filled": D(filled), "leaves": D(quantity) - D(filled)}
            for cid, status, quantity, filled in conn.execute(
                "SELECT client_order_id, status, quantity, filled_qty FROM orders WHERE run_id = ?",
                (run_id,),
            )
        }
        positions = {
            f"{account}/{symbol}": {
                "quantity": D(qty),
                "avg_entry_price": D(entry),
                "realized_pnl": D(realized),
                "fees": D(fees),
            }
            for account, symbol, qty, entry, realized, fees in conn.execute(
                "SELECT account, symbol, quantity, avg_entry_price, realized_pnl, fees"
                " FROM positions WHERE run_id = ?",
                (run_id,),
            )
        }
        balances = {
            f"{account}/{asset}": D(total)
            for account, asset, total in conn.execute(
                "SELECT account, asset, total FROM balances WHERE run_id = ?", (run_id,)
            )
            if D(total) != 0
        }
    finally:
        conn.close()
    return {"orders": orders, "positions": positions, "balances": balances}
