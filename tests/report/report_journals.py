"""Journals for the report tests: a short real backtest (a slice of the bundled futures
capture, market maker) and a hand-written journal whose figures are worked out by hand."""

from __future__ import annotations

import functools
from collections.abc import Iterable
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import adapters.backtest as bt
from adapters.data import BUNDLED_BINANCE_DIR
from adapters.store.sqlite import SqliteStore
from engine.domain.journal import (
    BalanceSnapshot,
    EquitySample,
    JournalRecord,
    PositionSnapshot,
    RunEnded,
    RunStarted,
)
from engine.kernel import MarketStream

CAPTURE = BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808.gz"
ROWS = 150_000
"""About a minute of the capture: 86 fills, 42 of them trades (4 winners) at 30 ticks."""
MM = "engine.strategies.market_maker:MarketMaker"
MM_PARAMS = {"half_spread_ticks": 30}
S = 1_000_000_000
T0 = 1_723_161_000 * S
"""The hand journal's clock: 2024-08-08 23:50:00 UTC."""
HAND_CONFIG = '{"statistics": {"interval_s": 1.0, "periods_per_year": 31536000.0}}'


def D(text: str) -> Decimal:
    return Decimal(text)


@functools.cache
def capture_slice() -> tuple[list[MarketStream], dict[str, Any]]:
    streams, instruments = bt.load_streams([CAPTURE])
    s = streams[0]
    return [MarketStream(s.symbol, s.rule, s.events[:ROWS], s.data_lot_size)], instruments


def run_slice(db: Path, run_id: str) -> bt.BacktestResult:
    """The market maker over the capture slice, journaled in the SQLite store `db`."""
    store = SqliteStore.open(
        db, run=RunStarted(run_id=run_id, ts_event=0, mode="backtest", strategy=MM)
    )
    data = capture_slice()  # before the patch: it reads the capture with load_streams
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bt, "load_streams", lambda paths: data)
        result = bt.run_backtest([], MM, MM_PARAMS, store=store, run_id=run_id)
    store.append(RunEnded(run_id=run_id, ts_event=result.ts_end, status="completed"))
    store.commit()
    return result


def position(
    ts: int, symbol: str, qty: str, avg: str, realized: str, fees: str
) -> PositionSnapshot:
    return PositionSnapshot(
        ts_event=T0 + ts,
        account="main",
        symbol=symbol,
        currency="USDT",
        quantity=D(qty),
        avg_entry_price=D(avg),
        realized_pnl=D(realized),
        fees=D(fees),
    )


def equity(ts: int, value: str, account: str = "main") -> EquitySample:
    return EquitySample(ts_event=T0 + ts, account=account, currency="USDT", equity=D(value))


def balance(ts: int, asset: str, total: str) -> BalanceSnapshot:
    return BalanceSnapshot(ts_event=T0 + ts, account="main", asset=asset, total=D(total))


HAND_RECORDS: tuple[JournalRecord, ...] = (
    equity(1 * S, "100"),
    position(1_100_000_000, "BTCUSDT", "2", "100", "-0.2", "0.2"),  # opens: no trade
    position(1_200_000_000, "ETHUSDT", "5", "10", "-1", "1"),  # opens: no trade
    equity(2 * S, "110"),
    position(2_100_000_000, "BTCUSDT", "3", "100.5", "-0.3", "0.3"),  # adds: no trade
    position(2_200_000_000, "BTCUSDT", "1", "100.5", "9.5", "0.4"),  # reduces: +9.8
    position(2_300_000_000, "ETHUSDT", "2", "10", "3", "1.5"),  # reduces: +4
    equity(3 * S, "99"),
    position(3_100_000_000, "BTCUSDT", "-1", "104", "5.0", "0.5"),  # flips: -4.5
    position(3_200_000_000, "BTCUSDT", "0", "0", "6.25", "0.6"),  # closes: +1.25
    position(3_300_000_000, "BTCUSDT", "1", "100.5", "6.15", "0.7"),  # opens: no trade
    balance(3_300_000_000, "USDT", "115"),
    equity(4 * S, "121"),
)
HAND_TRADE_PNL = [D("9.8"), D("4"), D("-4.5"), D("1.25")]


def write_journal(
    db: Path,
    run_id: str,
    records: Iterable[JournalRecord] = HAND_RECORDS,
    *,
    config_json: str = HAND_CONFIG,
    end_ts: int = 5 * S,
) -> None:
    store = SqliteStore.open(
        db,
        run=RunStarted(
            run_id=run_id,
            ts_event=T0,
            mode="backtest",
            strategy="hand:Made",
            config_json=config_json,
        ),
    )
    for record in records:
        store.append(record)
    store.append(RunEnded(run_id=run_id, ts_event=T0 + end_ts, status="completed"))
    store.commit()
    store.close()
