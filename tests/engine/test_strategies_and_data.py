"""The moving-average crossover against an independent SMA over the same bars, and
backtests on OHLCV CSV and JSONL data (the formats other tools write)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pytest

import adapters.backtest as bt
from adapters.data import BUNDLED_BINANCE_DIR, BUNDLED_OHLCV
from adapters.data.jsonl_events import JsonlEventWriter
from engine import _core
from engine.marketdata.instruments import binance_instrument

CAPTURE = BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808.gz"
MA = "engine.strategies.ma_crossover:MovingAverageCrossover"
INTERVAL = 5_000_000_000


def expected_signals(closes: list[int], fast: int, slow: int) -> list[tuple[int, str]]:
    """Crossovers computed with numpy on the closes (ticks), independently of the strategy."""
    c = np.array(closes, dtype=np.float64)
    out: list[tuple[int, str]] = []
    above = None
    for i in range(slow - 1, len(c)):
        f = c[i - fast + 1 : i + 1].mean()
        s = c[i - slow + 1 : i + 1].mean()
        now = bool(f > s)
        if above is not None and now != above:
            out.append((i, "long" if now else "short"))
        above = now
    return out


def test_crossover_signals_match_an_independent_sma_over_the_same_bars() -> None:
    result = bt.run_backtest([CAPTURE], MA, {"bar_interval_ns": INTERVAL, "fast": 3, "slow": 8})
    streams, _ = bt.load_streams([CAPTURE])
    bars = _core.bars_from_events(streams[0].events, INTERVAL)
    want = expected_signals(bars["close"].tolist(), 3, 8)
    got = result.strategy.signals  # type: ignore[attr-defined]
    assert len(got) == len(want) > 3
    assert [s for _, s in got] == [s for _, s in want]
    assert [t for t, _ in got] == [int(bars["ts_close"][i]) for i, _ in want]
    assert result.stats.bar_callbacks == len(bars)
    # Each signal after the first trades to the target: the position ends at +-0.010.
    assert abs(result.portfolio.position("BTC/USDT:USDT").quantity) == Decimal("0.010")


def test_parameters_are_checked_together() -> None:
    from engine.strategy import StrategyLoadError

    with pytest.raises(StrategyLoadError, match="fast 8 must be below slow 8"):
        bt.run_backtest([CAPTURE], MA, {"fast": 8, "slow": 8})


def test_a_backtest_on_the_bundled_ohlcv_csv() -> None:
    result = bt.run_backtest(
        [BUNDLED_OHLCV], MA, {"bar_interval_ns": INTERVAL, "fast": 3, "slow": 8}
    )
    assert result.stats.bar_callbacks > 30
    assert result.stats.fills >= 1 and result.order_manager.anomalies == []


def test_a_backtest_on_jsonl_events_equals_the_capture_it_was_recorded_from(tmp_path: Path) -> None:
    streams, _ = bt.load_streams([CAPTURE])
    path = tmp_path / "usdm-btcusdt-recorded.jsonl"
    with JsonlEventWriter(path, binance_instrument("usdm", "BTCUSDT")) as writer:
        writer.write(streams[0].events)
    a = bt.run_backtest([CAPTURE], "engine.strategies.market_maker:MarketMaker")
    b = bt.run_backtest([path], "engine.strategies.market_maker:MarketMaker")
    ra = [r for _, r in a.store.records()]
    rb = [r for _, r in b.store.records()]
    assert ra == rb and len(ra) > 100


def test_a_data_file_without_an_instrument_in_its_name_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "prices.csv"
    bad.write_text("timestamp,open,high,low,close,volume\n")
    with pytest.raises(bt.DataError, match="name the file"):
        bt.load_streams([bad])
