"""The embedding API: run a backtest from Python and read what it did as plain values.

    import engine
    run = engine.backtest(params={"half_spread_ticks": 8})   # the bundled demo capture
    run.summary()["fills"], run.equity()["equity"], run.positions()

Why it lives here: the issue wants `import engine` to reach it, yet the hexagon imports
nothing from `adapters`. So this module is a driving adapter (like the CLI) that sits in
the `engine` package: the one engine module allowed to import adapters, and imported by
no engine module but the package `__init__`, lazily, on first use of `engine.backtest`.
Both rules are import-linter contracts (pyproject.toml).

It adds no second way to run a backtest: it checks its arguments, opens the journal (in
memory, or SQLite at `store_path`), calls `adapters.backtest.run_backtest` with the
same settings models and defaults as `quantx backtest` (so equal inputs give the CLI's
journal, digest for digest), and reads the results back.

Values: money, prices and quantities are exact decimal strings as the journal holds
them; times are integer nanoseconds (UTC); enums are their string values. Floats appear
only in the statistics and in `equity()`'s float64 array, which are for analysis; the
exact values stay in `journal()`. Bad arguments raise TypeError (wrong kind of value) or
ValueError (a value outside its rule), naming the argument, the value and the rule.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
import numpy.typing as npt
import orjson
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError

from adapters.backtest import BacktestResult, input_digest, journal_digest, run_backtest
from adapters.config import (
    DEMO_CAPTURE,
    DEMO_STRATEGY,
    RiskSettings,
    StatisticsSettings,
    VenueSettings,
)
from adapters.store.codec import encode
from adapters.store.memory import MemoryStore
from adapters.venues.simulated import SimSettings
from engine.domain import DomainError, Order, OrderFilled, Position
from engine.domain.journal import EquitySample, JournalRecord, RunEnded, RunStarted
from engine.ports import Store
from engine.services.risk import RiskLimits
from engine.strategy import Strategy
from engine.strategy.registry import strategy_name

__all__ = ["BacktestRun", "backtest"]

PathArg = str | os.PathLike[str]
_S = TypeVar("_S", bound=BaseModel)


def backtest(
    data: PathArg | Sequence[PathArg] | None = None,
    strategy: str | type[Strategy[Any]] = DEMO_STRATEGY,
    params: Mapping[str, object] | None = None,
    *,
    cash: Decimal | int | str = "100000",
    equity_interval_s: float = 1.0,
    venue: Mapping[str, object] | None = None,
    risk: Mapping[str, object] | None = None,
    statistics: Mapping[str, object] | None = None,
    store_path: PathArg | None = None,
    run_id: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> BacktestRun:
    """Runs one backtest to its end and returns it.

    - `data`: a data file or a list of them (Binance captures `.gz`, OHLCV `.csv`, JSONL
      events `.jsonl`; several instruments run together in one account); None: the
      bundled Binance USD-M capture, as `quantx backtest` with no arguments.
    - `strategy`: `module:Class`, `path/to/file.py:Class` or a `Strategy` subclass;
      `params`: its parameters, validated by its `Params` model.
    - `cash`: the starting balance in the instruments' quote currency (exact: a str, an
      int or a Decimal; a float is refused). `equity_interval_s`: equity sampling step.
    - `venue`, `risk`, `statistics`: settings by name, as the `[backtest.venue]`,
      `[backtest.risk]` and `[backtest.statistics]` tables of a config file.
    - `store_path`: journal into this SQLite file (created 0600; readable later by
      `quantx report`) instead of memory. `run_id`: defaults to `bt-` and 12 hex digits
      of the inputs' digest, with `-2`, `-3`... when the store already holds that id.
    - `progress(events_done, events_total)`: called now and then during the run.
    """
    paths = _paths(data)
    name = _strategy(strategy)
    params = _mapping("params", params)
    start_cash = _cash(cash)
    interval_ns = _interval(equity_interval_s)
    venue_settings = _settings("venue", VenueSettings, venue)
    risk_settings = _settings("risk", RiskSettings, risk)
    stats_settings = _settings("statistics", StatisticsSettings, statistics)
    if progress is not None and not callable(progress):
        raise TypeError(f"progress {progress!r} is not callable (rule: f(done, total) or None)")
    config_json = json.dumps(
        {
            "data": [str(p) for p in paths],
            "cash": str(start_cash),
            "equity_interval_s": equity_interval_s,
            "venue": venue_settings.model_dump(mode="json"),
            "risk": risk_settings.model_dump(mode="json"),
            "statistics": stats_settings.model_dump(mode="json"),
        },
        sort_keys=True,
    )
    params_json = json.dumps(params, sort_keys=True, default=str)
    if run_id is not None and not isinstance(run_id, str):
        raise TypeError(f"run_id {run_id!r} is not a str (rule: a run id or None)")
    base_id = run_id or "bt-" + input_digest(paths, name, params, config_json)[:12]
    try:
        started = RunStarted(
            run_id=base_id,
            ts_event=0,
            mode="backtest",
            strategy=name,
            params_json=params_json,
            config_json=config_json,
        )
    except DomainError as err:
        raise ValueError(f"run_id {base_id!r} {err.rule}") from None
    store, where, run_id = _open_store(store_path, started, explicit=run_id is not None)
    try:
        result = run_backtest(
            paths,
            strategy,
            params,
            store=store,
            run_id=run_id,
            cash=start_cash,
            settings=SimSettings(**venue_settings.model_dump()),
            limits=RiskLimits(**risk_settings.model_dump()),
            equity_interval_ns=interval_ns,
            progress=progress,
        )
    except BaseException as err:
        # The journal says the run failed and why; the error itself goes to the caller.
        store.append(RunEnded(run_id=run_id, ts_event=0, status="failed", reason=str(err)))
        store.commit()
        _close(store)
        raise
    store.append(RunEnded(run_id=run_id, ts_event=result.ts_end, status="completed"))
    store.commit()
    records = list(store.records())
    digest = journal_digest(store)
    figures = result.statistics(stats_settings.params())
    _close(store)  # everything read: the run's results live on in memory
    return BacktestRun(
        _Ran(
            run_id=run_id,
            strategy=name,
            data=tuple(str(p) for p in paths),
            store_path=where,
            start_cash=start_cash,
            result=result,
            records=records,
            journal_sha256=digest,
            statistics=figures,
        )
    )


@dataclass(frozen=True, slots=True)
class _Ran:
    run_id: str
    strategy: str
    data: tuple[str, ...]
    store_path: str | None
    start_cash: Decimal
    result: BacktestResult
    records: list[tuple[int, JournalRecord]]
    journal_sha256: str
    statistics: Any


class BacktestRun:
    """A finished backtest, read as plain values. Built by `backtest`; every method
    returns a new object, so callers may change what they get."""

    def __init__(self, ran: _Ran) -> None:
        self._ran = ran

    def __repr__(self) -> str:
        r = self._ran
        return f"BacktestRun({r.run_id} {r.strategy} fills={r.result.stats.fills})"

    @property
    def run_id(self) -> str:
        return self._ran.run_id

    @property
    def journal_sha256(self) -> str:
        """SHA-256 of the journal without its start and end records: equal inputs give
        equal digests (the digest `quantx backtest` prints)."""
        return self._ran.journal_sha256

    @property
    def store_path(self) -> str | None:
        """The SQLite file that holds the journal, or None (kept in memory)."""
        return self._ran.store_path

    def summary(self) -> dict[str, Any]:
        """The run at a glance, with the keys of `quantx backtest --json`: run id,
        journal digest, counters (events, level updates, orders, fills, callbacks),
        money as exact strings (start cash, final equity, balances, positions) and the
        statistics (floats; None with fewer than two equity samples)."""
        r, res = self._ran, self._ran.result
        stats = res.stats
        return {
            "run_id": r.run_id,
            "store": r.store_path,
            "journal_sha256": r.journal_sha256,
            "status": "completed",
            "strategy": r.strategy,
            "data": list(r.data),
            "instruments": list(res.instruments),
            "currency": _quote(res),
            "events": stats.rows,
            "level_updates": res.level_updates,
            "elapsed_s": round(res.elapsed_s, 3),
            "level_updates_per_s": round(res.level_updates_per_s),
            "orders": len(res.order_manager.orders()),
            "fills": stats.fills,
            "book_callbacks": stats.book_callbacks,
            "trade_callbacks": stats.trade_callbacks,
            "bar_callbacks": stats.bar_callbacks,
            "timer_callbacks": stats.timer_callbacks,
            "positions": self.positions(),
            "balances": self.balances(),
            "start_cash": str(r.start_cash),
            "equity_start": str(r.start_cash),  # sampled before any trade
            "equity": None if res.equity_end is None else str(res.equity_end),
            "statistics": None if r.statistics is None else r.statistics.as_dict(),
        }

    def orders(self) -> list[dict[str, Any]]:
        """Every order in creation order, in its final state."""
        return [_order(o) for o in self._ran.result.order_manager.orders()]

    def fills(self) -> list[dict[str, Any]]:
        """Every fill in journal order: trade_id, client_order_id, symbol, side, price,
        quantity, fee, fee_currency, liquidity, ts_event."""
        return [_document(r)["fill"] for _, r in self._ran.records if isinstance(r, OrderFilled)]

    def positions(self) -> dict[str, dict[str, str]]:
        """Final position of every instrument of the run (flat ones too), by symbol:
        quantity (signed), avg_entry_price, realized_pnl (net of fees), fees, currency."""
        portfolio = self._ran.result.portfolio
        return {s: _position(portfolio.position(s)) for s in self._ran.result.instruments}

    def balances(self) -> dict[str, str]:
        """Final balance of every asset the account touched."""
        return {a: str(v) for a, v in self._ran.result.portfolio.balances().items()}

    def equity(self) -> dict[str, npt.NDArray[Any]]:
        """The equity curve: `ts_ns` (int64) and `equity` (float64, in `currency` of the
        summary), one point per sample (start, every `equity_interval_s`, end)."""
        samples = [r for _, r in self._ran.records if isinstance(r, EquitySample)]
        return {
            "ts_ns": np.array([s.ts_event for s in samples], dtype=np.int64),
            "equity": np.array([float(s.equity) for s in samples], dtype=np.float64),
        }

    def journal(self) -> list[dict[str, Any]]:
        """Every journal record in order, as its canonical document (the bytes the store
        keeps, decoded): `seq`, `type` and the record's fields."""
        return [{"seq": seq, **_document(r)} for seq, r in self._ran.records]


# --- argument checks -------------------------------------------------------------------
def _paths(data: object) -> list[Path]:
    if data is None:
        return [DEMO_CAPTURE]
    items = [data] if isinstance(data, str | os.PathLike) else data
    if not isinstance(items, Sequence) or isinstance(items, bytes) or not items:
        rule = "a path, a non-empty list of paths, or None for the bundled capture"
        raise TypeError(f"data {data!r} is not a path or a list of paths (rule: {rule})")
    paths: list[Path] = []
    for i, item in enumerate(items):
        if not isinstance(item, str | os.PathLike):
            raise TypeError(f"data[{i}] {item!r} is not a path (rule: str or os.PathLike)")
        path = Path(item)
        if not path.is_file():
            raise ValueError(f"data[{i}] {str(path)!r} is not a file (rule: an existing file)")
        paths.append(path)
    return paths


def _strategy(strategy: object) -> str:
    if isinstance(strategy, str):
        return strategy
    if isinstance(strategy, type) and issubclass(strategy, Strategy):
        return strategy_name(strategy)
    if isinstance(strategy, Strategy):
        rule = "pass the class and its params, not an instance"
    else:
        rule = "'module:Class', 'path/to/file.py:Class' or a Strategy subclass"
    raise TypeError(f"strategy {strategy!r} is not a strategy class or name (rule: {rule})")


def _mapping(field: str, value: object) -> dict[str, object]:
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise TypeError(f"{field} {value!r} is not a mapping of names (rule: dict[str, ...])")
    return dict(value)


def _cash(cash: object) -> Decimal:
    if isinstance(cash, bool) or not isinstance(cash, Decimal | int | str):
        raise TypeError(
            f"cash {cash!r} is a {type(cash).__name__} (rule: money is exact: a str, an int"
            " or a Decimal)"
        )
    try:
        value = Decimal(cash)
    except InvalidOperation:
        raise ValueError(f"cash {cash!r} is not a decimal number (rule: e.g. '100000')") from None
    if not value.is_finite() or value <= 0:
        raise ValueError(f"cash {cash!r} is not positive (rule: > 0)")
    return value


def _interval(seconds: object) -> int:
    if isinstance(seconds, bool) or not isinstance(seconds, int | float):
        raise TypeError(f"equity_interval_s {seconds!r} is not a number (rule: seconds)")
    if not math.isfinite(seconds) or seconds <= 0 or int(seconds * 1e9) < 1:
        raise ValueError(f"equity_interval_s {seconds!r} is not positive (rule: > 0 seconds)")
    return int(seconds * 1e9)


def _settings(field: str, model: type[_S], values: object) -> _S:
    given = _mapping(field, values)
    try:
        return model(**given)
    except PydanticValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise ValueError(
            f"{field}.{where} = {first.get('input')!r}: {first['msg']} (rule: see {model.__name__})"
        ) from None


def _open_store(
    path: PathArg | None, started: RunStarted, *, explicit: bool
) -> tuple[Store, str | None, str]:
    """The journal with `started` as its first record, where it is and the run id: SQLite
    at `path` (a taken id gets a `-n` suffix unless the caller chose it), else memory."""
    if path is None:
        store = MemoryStore()
        store.append(started)
        store.commit()
        return store, None, started.run_id
    if not isinstance(path, str | os.PathLike):
        raise TypeError(f"store_path {path!r} is not a path (rule: str, os.PathLike or None)")
    from adapters.store.sqlite import RunReader, SqliteStore

    where = Path(path)
    taken: set[str] = set()
    if where.exists():
        with RunReader(where) as reader:
            taken = {str(r["run_id"]) for r in reader.runs()}
    run_id, n = started.run_id, 1
    while run_id in taken:
        if explicit:
            raise ValueError(
                f"run_id {run_id!r} is already a run in {str(where)!r} (rule: one id per run)"
            )
        n += 1
        run_id = f"{started.run_id}-{n}"
    where.parent.mkdir(parents=True, exist_ok=True)
    run = RunStarted(
        run_id=run_id,
        ts_event=started.ts_event,
        mode=started.mode,
        strategy=started.strategy,
        params_json=started.params_json,
        config_json=started.config_json,
    )
    return SqliteStore.open(where, run=run, pipelined=True), str(where), run_id


def _close(store: Store) -> None:
    close = getattr(store, "close", None)
    if close is not None:
        close()


# --- plain values ------------------------------------------------------------------------
def _document(record: JournalRecord) -> dict[str, Any]:
    doc: dict[str, Any] = orjson.loads(encode(record))
    return doc


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _order(o: Order) -> dict[str, Any]:
    t = o.terms
    avg = o.avg_fill_price
    return {
        "client_order_id": t.client_order_id,
        "symbol": t.symbol,
        "side": t.side.value,
        "order_type": t.order_type.value,
        "time_in_force": t.time_in_force.value,
        "quantity": str(t.quantity),
        "price": _text(t.price),
        "trigger_price": _text(t.trigger_price),
        "post_only": t.post_only,
        "reduce_only": t.reduce_only,
        "status": o.status.value,
        "filled_qty": str(o.filled_qty),
        "avg_fill_price": None if avg is None else format(avg, "f"),
        "venue_order_id": o.venue_order_id or None,
    }


def _position(p: Position) -> dict[str, str]:
    return {
        "quantity": str(p.quantity),
        "avg_entry_price": str(p.avg_entry_price),
        "realized_pnl": str(p.realized_pnl),
        "fees": str(p.fees),
        "currency": p.currency,
    }


def _quote(result: BacktestResult) -> str | None:
    quotes = {i.quote for i in result.instruments.values()}
    return quotes.pop() if len(quotes) == 1 else None
