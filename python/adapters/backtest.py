"""Backtest assembly: data files -> market streams -> kernel with the simulated venue,
the order manager, the risk gate and the portfolio. The composition root (and the CLI)
call `run_backtest`; tests call it with their own store.

Instruments: the bundled Binance instruments with their exchange limits and default fee
tiers (`INSTRUMENT_DEFAULTS`), built from the capture's tick and lot sizes, traded under
their ccxt unified symbols (`BTC/USDT:USDT`, `BTC/USDT`).

Several instruments (one data file or more each) run in one kernel and one account:
each instrument's venue book follows its own market's sequence rule, and the kernel
merges the streams' steps by the time of their first row. A step runs whole before the
next starts, so a fill on one instrument may carry an exchange time a few milliseconds
before a fill journaled just earlier on another (each instrument's own times never go
back); figures that need one time order sort by time first (`exposure_curve`). Equity
is one number in one currency, so every instrument of a run must share its quote
currency; a run that mixes them is refused before it starts (`DataError`)."""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from adapters.data.binance_capture import open_captures
from adapters.data.jsonl_events import JsonlEventReader
from adapters.data.ohlcv_csv import bars_to_events, read_ohlcv_csv
from adapters.data.upbit_capture import is_upbit_capture, open_upbit_capture
from adapters.store.codec import encode
from adapters.store.memory import MemoryStore
from adapters.venues.simulated import SimSettings, SimulatedVenue
from engine import _core
from engine.domain import InstrumentKind
from engine.domain.instrument import Instrument
from engine.domain.journal import EquitySample, PositionSnapshot, RunEnded, RunStarted
from engine.kernel import KernelStats, MarketStream
from engine.marketdata.instruments import InstrumentSpec, UnknownInstrumentError, binance_instrument
from engine.marketdata.upbit import upbit_trading_instrument
from engine.ports import Store
from engine.services.order_manager import OrderManager
from engine.services.portfolio import DEFAULT_ACCOUNT, Portfolio
from engine.services.risk import RiskLimits
from engine.services.statistics import (
    DEFAULT_PARAMS,
    Statistics,
    StatisticsParams,
    compute,
    exposure_curve,
)
from engine.strategy import Strategy, load_strategy

__all__ = [
    "INSTRUMENT_DEFAULTS",
    "BacktestResult",
    "DataError",
    "input_digest",
    "instrument_for",
    "journal_digest",
    "load_streams",
    "run_backtest",
]

# Binance exchange filters (minQty, maxQty, MIN_NOTIONAL) and base-tier fees per market.
INSTRUMENT_DEFAULTS: dict[str, dict[str, Any]] = {
    "usdm": {
        "kind": InstrumentKind.LINEAR_PERPETUAL,
        "min_quantity": Decimal("0.001"),
        "max_quantity": Decimal("1000"),
        "min_notional": Decimal("100"),
        "maker_fee_rate": Decimal("0.0002"),
        "taker_fee_rate": Decimal("0.0005"),
    },
    "spot": {
        "kind": InstrumentKind.SPOT,
        "min_quantity": Decimal("0.00001"),
        "max_quantity": Decimal("9000"),
        "min_notional": Decimal("5"),
        "maker_fee_rate": Decimal("0.001"),
        "taker_fee_rate": Decimal("0.001"),
    },
}


def instrument_for(spec: InstrumentSpec) -> Instrument:
    """The tradable instrument behind a market-data spec, under its unified symbol
    (`BTC/USDT:USDT`), base and quote read from that symbol."""
    d = INSTRUMENT_DEFAULTS[spec.market]
    tick, lot = Decimal(spec.tick_size), Decimal(spec.lot_size)
    return Instrument(
        symbol=spec.unified,
        base=spec.base,
        quote=spec.quote,
        tick_size=tick,
        lot_size=lot,
        price_precision=max(0, -tick.normalize().as_tuple().exponent),  # type: ignore[operator]
        quantity_precision=max(0, -lot.normalize().as_tuple().exponent),  # type: ignore[operator]
        **d,
    )


@dataclass(slots=True)
class BacktestResult:
    run_id: str
    stats: KernelStats
    elapsed_s: float
    level_updates: int
    instruments: dict[str, Instrument]
    portfolio: Portfolio
    order_manager: OrderManager
    store: Store
    strategy: Strategy[Any]
    trade_pnl: list[Decimal]
    traded_notional: Decimal
    equity_end: Decimal | None = None
    ts_end: int = 0

    def statistics(self, params: StatisticsParams = DEFAULT_PARAMS) -> Statistics | None:
        """The run's figures from its journaled equity samples and positions; None when
        fewer than two equity samples exist (nothing to measure)."""
        records = [r for _, r in self.store.records()]
        equity = [(r.ts_event, r.equity) for r in records if isinstance(r, EquitySample)]
        if len(equity) < 2:
            return None
        positions = exposure_curve(
            (r.ts_event, (r.account, r.symbol), r.quantity)
            for r in records
            if isinstance(r, PositionSnapshot)
        )
        fees = sum((self.portfolio.position(s).fees for s in self.instruments), Decimal(0))
        return compute(
            equity,
            self.trade_pnl,
            positions=positions,
            fees_paid=fees,
            traded_notional=self.traded_notional,
            params=params,
        )

    @property
    def level_updates_per_s(self) -> float:
        return self.level_updates / self.elapsed_s if self.elapsed_s > 0 else 0.0


OHLCV_HALF_SPREAD_TICKS = 1
OHLCV_DEPTH_LOTS = 1_000_000
"""The synthetic market around each OHLCV point: a one-tick half spread and depth deep
enough that sizes a strategy trades never run out (see `bars_to_events`)."""


def load_streams(paths: Sequence[Path]) -> tuple[list[MarketStream], dict[str, Instrument]]:
    """Data files -> one stream per instrument (files of one instrument in order), keyed
    by unified symbol, each with its instrument's sequence rule; instruments in the
    order their first file was given.

    Binance captures (`.gz` JSON lines) are read as they are; OHLCV CSV files
    (`.csv`, `.csv.gz`) become the synthetic market of `bars_to_events`; JSONL event
    files (`.jsonl`, `.jsonl.gz`) are read by the JSONL reader. A CSV or JSONL file names
    its instrument the way captures do: `{market}-{symbol}-...` with the exchange's own
    symbol (e.g. usdm-btcusdt-...)."""
    by_symbol: dict[str, list[Any]] = {}
    specs: dict[str, InstrumentSpec] = {}
    captures = [p for p in paths if _kind(p) == "capture"]
    capture_readers = iter(open_captures(captures) if captures else [])
    for path in paths:
        kind = _kind(path)
        if kind in ("capture", "upbit"):
            reader = open_upbit_capture(path) if kind == "upbit" else next(capture_readers)
            spec = reader.instrument
            chunks = [c.events for c in reader.chunks()]
        else:
            spec = _spec_from_name(path)
            if kind == "ohlcv":
                bars = read_ohlcv_csv(path, spec)
                chunks = [
                    bars_to_events(
                        bars, half_spread_ticks=OHLCV_HALF_SPREAD_TICKS, depth_lots=OHLCV_DEPTH_LOTS
                    )
                ]
            else:
                chunks = [c.events for c in JsonlEventReader(path, spec).chunks()]
        by_symbol.setdefault(spec.unified, []).extend(chunks)
        specs[spec.unified] = spec
    streams = []
    instruments = {}
    for symbol, chunks in by_symbol.items():
        spec = specs[symbol]
        events = np.concatenate(chunks) if chunks else np.zeros(0, dtype=_core.EVENT_DTYPE)
        streams.append(MarketStream(symbol, spec.sequence_rule, events, spec.book_lot_size))
        instruments[symbol] = (
            upbit_trading_instrument(spec) if spec.venue == "upbit" else instrument_for(spec)
        )
    return streams, instruments


def _kind(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz")):
        return "ohlcv"
    if name.endswith((".jsonl", ".jsonl.gz")):
        return "jsonl"
    return "upbit" if is_upbit_capture(path) else "capture"


def _spec_from_name(path: Path) -> InstrumentSpec:
    parts = path.name.split("-")
    if len(parts) < 2:
        raise DataError(
            f"{path}: name the file {{market}}-{{symbol}}-... (e.g. usdm-btcusdt-1s.csv)"
        )
    try:
        return binance_instrument(parts[0], parts[1])
    except UnknownInstrumentError as err:
        raise DataError(f"{path}: {err}") from None


class DataError(ValueError):
    """A data file the backtest cannot use, said on one line."""


def run_backtest(
    paths: Sequence[Path],
    strategy: str | type[Strategy[Any]],
    params: Mapping[str, object] | None = None,
    *,
    store: Store | None = None,
    run_id: str = "backtest",
    cash: Decimal = Decimal("100000"),
    settings: SimSettings | None = None,
    limits: RiskLimits | None = None,
    equity_interval_ns: int = 1_000_000_000,
    should_stop: Callable[[], bool] = lambda: False,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestResult:
    """Builds the whole stack through the composition root and runs it. `strategy` is
    `module:Class`, `path/file.py:Class` or a Strategy subclass."""
    from adapters.container import BacktestContainer

    chosen = load_strategy(strategy, params)  # before the data: a bad parameter fails fast
    streams, instruments = load_streams(paths)
    _check_one_quote(instruments)
    c = BacktestContainer(
        instruments=instruments,
        rules={s.symbol: s.rule for s in streams},
        strategy=chosen,
        store=store if store is not None else MemoryStore(),
        settings=settings or SimSettings(),
        limits=limits or DEFAULT_LIMITS,
        cash=cash,
        equity_interval_ns=equity_interval_ns,
    )
    kernel = c.kernel()
    t0 = time.perf_counter()
    stats = kernel.run_backtest(streams, should_stop=should_stop, progress=progress)
    elapsed = time.perf_counter() - t0
    return BacktestResult(
        run_id=run_id,
        stats=stats,
        elapsed_s=elapsed,
        level_updates=stats.level_updates,
        instruments=instruments,
        portfolio=c.portfolio(),
        order_manager=c.order_manager(),
        store=c.store(),
        strategy=kernel.strategy,
        trade_pnl=kernel.trade_pnl,
        traded_notional=kernel.traded_notional,
        equity_end=kernel.equity(),
        ts_end=c.clock().now_ns(),
    )


def _check_one_quote(instruments: Mapping[str, Instrument]) -> None:
    """Refuses a run whose instruments do not share one quote currency: the kernel
    marks the account's equity in one currency and never adds, say, KRW to USDT."""
    quotes = sorted({i.quote for i in instruments.values()})
    if len(quotes) > 1:
        each = ", ".join(f"{s} in {i.quote}" for s, i in instruments.items())
        raise DataError(
            f"instruments are quoted in {' and '.join(quotes)} ({each}); a backtest values"
            " one account in one currency (rule: every instrument of a run shares its quote)"
        )


def journal_digest(store: Store) -> str:
    """SHA-256 of the run's journal in order (canonical encoding), without its RunStarted
    and RunEnded frame (which carry the run's id): equal inputs give equal digests."""
    h = hashlib.sha256()
    for _, record in store.records():
        if isinstance(record, RunStarted | RunEnded):
            continue
        h.update(encode(record))
        h.update(b"\n")
    return h.hexdigest()


def input_digest(
    paths: Sequence[Path], strategy: str, params: Mapping[str, object], config: str
) -> str:
    """SHA-256 over the data files' bytes, the strategy, its parameters and the config."""
    h = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as fh:
            for block in iter(lambda: fh.read(1 << 20), b""):
                h.update(block)
    h.update(strategy.encode())
    h.update(json.dumps(dict(params), sort_keys=True, default=str).encode())
    h.update(config.encode())
    return h.hexdigest()


DEFAULT_LIMITS = RiskLimits(
    max_notional=Decimal("1000000"),
    max_position=Decimal("100"),
    max_gross_exposure=Decimal("10000000"),
    rate_capacity=1_000_000,
    rate_refill_per_s=1_000_000,
)


class PortfolioAccount:
    """One account of the portfolio (its `symbols`) as the risk gate sees it."""

    def __init__(
        self, portfolio: Portfolio, symbols: Sequence[str], account: str = DEFAULT_ACCOUNT
    ) -> None:
        self._p = portfolio
        self._symbols = list(symbols)
        self._account = account

    def position(self, symbol: str) -> Decimal:
        return self._p.quantity(symbol)

    def available(self, asset: str) -> Decimal:
        return self._p.balances(self._account).get(asset, Decimal(0))

    def gross_exposure(self) -> Decimal:
        total = Decimal(0)
        for symbol in self._symbols:
            pos = self._p.position(symbol)
            total += abs(pos.quantity) * pos.avg_entry_price
        return total


class VenueMids:
    def __init__(self, venue: SimulatedVenue) -> None:
        self._venue = venue

    def mid(self, symbol: str) -> Decimal | None:
        bid, ask = self._venue.best_bid_ask(symbol)
        if bid is None or ask is None:
            return None
        return (bid + ask) / 2
