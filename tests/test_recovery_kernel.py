"""Crash recovery under the real kernel: the market maker on a slice of the bundled USD-M
capture, journaled to SQLite with its starting funds, killed at several journal appends;
`recover_run` must give back exactly the state (orders, positions, balances, trade P&L,
traded notional) the kernel had at its last commit and the read models hold, and a new
kernel on the recovered parts goes on trading from a fresh venue."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import adapters.backtest as bt
from adapters.clocks import SimulatedClock
from adapters.data import BUNDLED_BINANCE_DIR
from adapters.store.sqlite import SqliteStore
from adapters.venues.simulated import SimulatedVenue
from engine import _core
from engine.domain.instrument import Instrument
from engine.domain.journal import OrderInitialized, RunStarted
from engine.kernel import Kernel, MarketStream
from engine.services.order_manager import OrderManager
from engine.services.portfolio import DEFAULT_ACCOUNT, Portfolio
from engine.services.recovery import (
    Recovered,
    fund_account,
    recover_run,
    resend_in_flight,
    restore_venue,
)
from engine.services.risk import RiskService
from engine.strategy import load_strategy
from recovery_harness import Crash, CrashingStore, committed_state

CAPTURE = BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808.gz"
ROWS = 60_000
MORE = 40_000  # rows the new process trades on after the restart point
RUN_ID = "mm-1"
MM = "engine.strategies.market_maker:MarketMaker"
CASH = Decimal("100000")
TICK = "0.1"  # BTCUSDT on USD-M


@pytest.fixture(scope="module")
def market() -> tuple[MarketStream, dict[str, Instrument]]:
    streams, instruments = bt.load_streams([CAPTURE])
    return streams[0], instruments


class Parts:
    """What a process holds: the kernel and the pieces it was built from."""

    def __init__(
        self,
        store: Any,
        instruments: dict[str, Instrument],
        recover: bool = False,
    ) -> None:
        self.clock = SimulatedClock()
        self.venue = SimulatedVenue(instruments, self.clock)
        self.portfolio = Portfolio(instruments.values())
        self.risk = RiskService(
            instruments,
            dict.fromkeys(instruments, bt.DEFAULT_LIMITS),
            account=bt.PortfolioAccount(self.portfolio, list(instruments)),
            market=bt.VenueMids(self.venue),
        )
        self.recovered: Recovered | None = None
        if recover:
            self.recovered = recover_run(
                store,
                instruments=instruments,
                venue=self.venue,
                clock=self.clock,
                risk=self.risk,
                portfolio=self.portfolio,
            )
            om = self.recovered.order_manager
        else:
            om = OrderManager(
                venue=self.venue,
                store=store,
                clock=self.clock,
                instruments=instruments,
                risk=self.risk,
            )
        self.kernel = Kernel(
            instruments=instruments,
            strategy=load_strategy(MM, {}),
            venue=self.venue,
            order_manager=om,
            portfolio=self.portfolio,
            store=store,
            clock=self.clock,
        )
        if self.recovered is not None:  # the kernel hook: its counters go on
            self.kernel.trade_pnl = self.recovered.trade_pnl
            self.kernel.traded_notional = self.recovered.traded_notional

    def state(self) -> dict[str, Any]:
        om = self.kernel.om
        traded = sorted({f.symbol for o in om.orders() for f in o.fills})
        positions = {}
        for symbol in traded:
            p = self.portfolio.position(symbol)
            positions[f"{DEFAULT_ACCOUNT}/{symbol}"] = {
                "quantity": p.quantity,
                "avg_entry_price": p.avg_entry_price,
                "realized_pnl": p.realized_pnl,
                "fees": p.fees,
            }
        return {
            "orders": {
                o.client_order_id: {
                    "status": o.status.value,
                    "filled": o.filled_qty,
                    "leaves": o.leaves_qty,
                }
                for o in om.orders()
            },
            "positions": positions,
            "balances": {
                f"{DEFAULT_ACCOUNT}/{a}": t for a, t in self.portfolio.balances().items() if t != 0
            },
        }


def _first_run(
    path: Path, stream: MarketStream, instruments: dict[str, Instrument], crash_at: int
) -> tuple[CrashingStore, list[tuple[dict[str, Any], list[Decimal], Decimal]]]:
    run = RunStarted(run_id=RUN_ID, ts_event=0, mode="paper", strategy=MM)
    store = CrashingStore(SqliteStore.open(path, run=run), crash_at)
    parts = Parts(store, instruments)
    k = parts.kernel
    live: list[tuple[dict[str, Any], list[Decimal], Decimal]] = [(parts.state(), [], Decimal(0))]
    store.on_commit = lambda: live.append((parts.state(), list(k.trade_pnl), k.traded_notional))

    def run() -> None:
        # The lead's hook: the starting funds are journaled, committed with the start.
        fund_account(parts.portfolio, store, asset="USDT", amount=CASH, ts_event=0)
        k.run_backtest([stream])

    if crash_at:
        with pytest.raises(Crash):
            run()
    else:
        run()
    store.inner.close()
    return store, live


def _snapshot_at(stream: MarketStream, row: int) -> npt.NDArray[np.void]:
    """The book after `stream`'s rows before `row`, as one snapshot message whose id lets
    the diff at `row` follow it (its first id), at that diff's time."""
    ev = stream.events
    book = _core.L2Book(stream.rule)
    book.apply_events(ev[:row])
    nxt = ev[row]
    grid = _core.Grid(TICK, stream.data_lot_size)

    def levels(side: int) -> list[list[str]]:
        return [[grid.ticks_to_price(p), grid.lots_to_qty(q)] for p, q in book.levels(side)]

    b = _core.EventBuilder(grid)
    ts = int(nxt["ts_event"])
    b.push_snapshot(int(nxt["ts_recv"]), ts, int(nxt["seq_first"]), levels(0), levels(1))
    return b.finish()


def crash_and_recover(
    tmp_path: Path, full: MarketStream, instruments: dict[str, Instrument], crash_at: int
) -> None:
    path = tmp_path / f"run-{crash_at}.sqlite"
    _, live = _first_run(path, _sliced(full), instruments, crash_at)

    store = SqliteStore.open(path, resume=RUN_ID)
    parts = Parts(store, instruments, recover=True)
    rec = parts.recovered
    assert rec is not None
    state_then, pnl_then, notional_then = live[-1]
    assert rec.state() == state_then == committed_state(path, RUN_ID)
    assert rec.trade_pnl == pnl_then and rec.traded_notional == notional_then
    if not rec.funding:  # died before its first commit: funded as a new run would be
        fund_account(parts.portfolio, store, asset="USDT", amount=CASH, ts_event=rec.last_ts)

    # A new process goes on: the market from the first diff after the last commit,
    # behind a snapshot of the book there (what a reconnecting feed gets), for MORE rows
    # past the end of the first run's data.
    ev = full.events[: ROWS + MORE]
    diffs = np.flatnonzero((ev["kind"] == _core.KIND_DIFF) & (ev["ts_event"] > rec.last_ts))
    row = int(diffs[0])
    snapshot = _snapshot_at(full, row)
    parts.clock.advance_to(rec.last_ts)
    restore_venue(rec, parts.venue)
    parts.venue.apply_events(full.symbol, snapshot)
    resend_in_flight(rec, parts.venue, now_ns=rec.last_ts)
    old_ids = {o.client_order_id for o in parts.kernel.om.orders()}
    fills_before = rec.fills
    rest = np.concatenate([snapshot, ev[row:]])
    parts.kernel.run_backtest([MarketStream(full.symbol, full.rule, rest, full.data_lot_size)])
    om = parts.kernel.om
    assert not om.anomalies
    assert parts.venue.position(full.symbol) == parts.portfolio.quantity(full.symbol)
    cids = [r.client_order_id for _, r in store.records() if isinstance(r, OrderInitialized)]
    assert len(cids) == len(set(cids))
    new_ids = [c for c in cids if c not in old_ids]
    assert new_ids, "the strategy quoted again"
    first = len(old_ids) + 1
    assert new_ids == [f"qx-{n}" for n in range(first, first + len(new_ids))]
    fills_after = sum(len(o.fills) for o in om.orders())
    assert fills_after > fills_before, "fills keep coming"
    final = parts.state()
    assert final == committed_state(path, RUN_ID)
    store.close()
    again = Parts(SqliteStore.open(path, resume=RUN_ID), instruments, recover=True)
    assert again.recovered is not None and again.recovered.state() == final
    assert again.recovered.trade_pnl == parts.kernel.trade_pnl


def _sliced(full: MarketStream) -> MarketStream:
    return MarketStream(full.symbol, full.rule, full.events[:ROWS], full.data_lot_size)


def test_the_market_maker_recovers_at_several_crash_points(
    tmp_path: Path, market: tuple[MarketStream, dict[str, Instrument]]
) -> None:
    full, instruments = market
    store, _ = _first_run(tmp_path / "whole.sqlite", _sliced(full), instruments, 0)
    total = store.appends
    assert total > 500  # a run with something to cut into
    # The first appends (funding, the first quotes), then spread over the run.
    for crash_at in (1, 3, 7, total // 5, total // 2, total - 50, total - 1):
        crash_and_recover(tmp_path, full, instruments, crash_at)


@settings(max_examples=3, deadline=None)
@given(data=st.data())
def test_the_market_maker_recovers_at_any_crash_point(
    tmp_path_factory: pytest.TempPathFactory,
    market: tuple[MarketStream, dict[str, Instrument]],
    data: st.DataObject,
) -> None:
    full, instruments = market
    where = tmp_path_factory.mktemp("mm")
    store, _ = _first_run(where / "whole.sqlite", _sliced(full), instruments, 0)
    crash_at = data.draw(st.integers(1, store.appends - 1), label="crash_at")
    crash_and_recover(where, full, instruments, crash_at)
