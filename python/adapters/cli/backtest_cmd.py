"""`quantx backtest`: run a strategy over recorded data and print what it did.

With no arguments: the demo (the bundled Binance USD-M futures capture, the sample
market maker). Ctrl-C stops at the next step; the run still ends cleanly (the
strategy's on_stop runs, the journal is committed) and the summary says "interrupted".
At the end the run's report (charts, CSV and JSON, as `quantx report` makes them) is
rebuilt from the journal into `--out/<run_id>/`.
"""

from __future__ import annotations

import signal
import time
from pathlib import Path
from typing import Any

import click
import orjson

from adapters.config import ConfigError, RunConfig, load_config

__all__ = ["backtest"]


def _params(pairs: tuple[str, ...]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise click.BadParameter(f"{pair!r} is not key=value", param_hint="--param")
        out[key.strip()] = value.strip()
    return out


@click.command()
@click.option(
    "--data",
    "data",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Data file (repeatable: several instruments run together in one account, a"
    " file may continue the previous one of its instrument); default: the bundled"
    " futures capture.",
)
@click.option(
    "--strategy", help="module:Class or path/to/file.py:Class; default: the sample market maker."
)
@click.option("--param", "params", multiple=True, help="Strategy parameter key=value (repeatable).")
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="TOML file ([backtest] table)."
)
@click.option(
    "--out", type=click.Path(path_type=Path), help="Output directory; default ./quantx-data."
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def backtest(
    data: tuple[Path, ...],
    strategy: str | None,
    params: tuple[str, ...],
    config_path: Path | None,
    out: Path | None,
    as_json: bool,
) -> int:
    """Backtest a strategy on recorded market data through the simulated venue."""
    from adapters.cli.main import UserError

    try:
        overrides: dict[str, Any] = {"strategy": strategy, "out": out}
        if data:
            overrides["data"] = list(data)
        cfg = load_config(config_path, **overrides)
        if params:
            cfg = cfg.model_copy(update={"params": {**cfg.params, **_params(params)}})
    except ConfigError as err:
        raise UserError(str(err)) from None
    for path in cfg.data:
        if not path.is_file():
            raise UserError(f"{path}: no such data file")
    summary = _run(cfg, quiet=as_json)
    summary["report_dir"] = str(_write_report(cfg, summary["store"], summary["run_id"]))
    if as_json:
        click.echo(
            orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
        )
    else:
        from adapters.report.terminal import print_summary

        print_summary(summary)
    return 0


def _write_report(cfg: RunConfig, store: str, run_id: str) -> Path:
    """The run's charts and exports, rebuilt from the journal as `quantx report` does."""
    from adapters.cli.main import UserError
    from adapters.report import write_report
    from adapters.report.build import ReportError, build_report

    directory = cfg.out / run_id
    try:
        write_report(build_report(store, run_id, params=cfg.statistics.params()), directory)
    except (ReportError, OSError) as err:
        raise UserError(f"report {directory}: {err}") from None
    return directory


def _run(cfg: RunConfig, *, quiet: bool) -> dict[str, Any]:
    from adapters.backtest import DataError, journal_digest, run_backtest
    from adapters.cli.main import UserError
    from adapters.data.binance_capture import CaptureError
    from adapters.data.jsonl_events import JsonlEventError
    from adapters.data.ohlcv_csv import OhlcvCsvError
    from adapters.venues.simulated import SimSettings
    from engine.services.risk import RiskLimits
    from engine.strategy import StrategyLoadError

    stop = {"requested": False}

    def on_sigint(signum: int, frame: object) -> None:
        stop["requested"] = True

    store, run_id = _open_store(cfg)
    previous = signal.signal(signal.SIGINT, on_sigint)
    bar = _Progress(enabled=not quiet)
    try:
        result = run_backtest(
            cfg.data,
            cfg.strategy,
            cfg.params,
            store=store,
            run_id=run_id,
            cash=cfg.cash,
            settings=SimSettings(**cfg.venue.model_dump()),
            limits=RiskLimits(**cfg.risk.model_dump()),
            equity_interval_ns=int(cfg.equity_interval_s * 1e9),
            should_stop=lambda: stop["requested"],
            progress=bar.update,
        )
    except (StrategyLoadError, CaptureError, DataError, OhlcvCsvError, JsonlEventError) as err:
        _end(store, run_id, 0, "failed", str(err))
        raise UserError(str(err)) from None
    finally:
        bar.close()
        signal.signal(signal.SIGINT, previous)
    status = "interrupted" if stop["requested"] else "completed"
    _end(store, run_id, result.ts_end, status, "")
    digest = journal_digest(store)
    figures = result.statistics(cfg.statistics.params())
    store.close()
    symbols = list(result.instruments)
    positions = {s: result.portfolio.position(s) for s in symbols}
    balances = result.portfolio.balances()
    orders = result.order_manager.orders()
    return {
        "run_id": run_id,
        "store": str(store.path),
        "journal_sha256": digest,
        "status": status,
        "strategy": cfg.strategy,
        "data": [str(p) for p in cfg.data],
        "events": result.stats.rows,
        "level_updates": result.level_updates,
        "elapsed_s": round(result.elapsed_s, 3),
        "level_updates_per_s": round(result.level_updates_per_s),
        "orders": len(orders),
        "fills": result.stats.fills,
        "book_callbacks": result.stats.book_callbacks,
        "positions": {
            s: {
                "quantity": str(p.quantity),
                "avg_entry_price": str(p.avg_entry_price),
                "realized_pnl": str(p.realized_pnl),
                "fees": str(p.fees),
            }
            for s, p in positions.items()
        },
        "balances": {a: str(v) for a, v in balances.items()},
        "start_cash": str(cfg.cash),
        "equity_start": str(cfg.cash),  # the first equity sample is taken before any trade
        "equity": str(result.equity_end) if result.equity_end is not None else None,
        "statistics": None if figures is None else figures.as_dict(),
    }


def _open_store(cfg: RunConfig) -> tuple[Any, str]:
    """The SQLite journal under `cfg.out` and a new run in it. The run id comes from the
    inputs' digest (`bt-` + 12 hex digits), with `-2`, `-3`... when the store already
    has a run of the same inputs. Commits are pipelined: a backtest sends nothing out
    of the process, so its batches go to the file from a writer process."""
    import json

    from adapters.backtest import input_digest
    from adapters.store.sqlite import RunReader, SqliteStore
    from engine.domain.journal import RunStarted

    cfg.out.mkdir(parents=True, exist_ok=True)
    path = cfg.out / "quantx.db"
    config_json = cfg.model_dump_json()
    base = "bt-" + input_digest(cfg.data, cfg.strategy, cfg.params, config_json)[:12]
    taken: set[str] = set()
    if path.exists():
        reader = RunReader(path)
        try:
            taken = {str(r["run_id"]) for r in reader.runs()}
        finally:
            reader.close()
    run_id, n = base, 1
    while run_id in taken:
        n += 1
        run_id = f"{base}-{n}"
    started = RunStarted(
        run_id=run_id,
        ts_event=0,
        mode="backtest",
        strategy=cfg.strategy,
        params_json=json.dumps(cfg.params, sort_keys=True, default=str),
        config_json=config_json,
    )
    return SqliteStore.open(path, run=started, pipelined=True), run_id


def _end(store: Any, run_id: str, ts: int, status: str, reason: str) -> None:
    from engine.domain.journal import RunEnded

    store.append(RunEnded(run_id=run_id, ts_event=ts, status=status, reason=reason))
    store.commit()


class _Progress:
    """A rich progress bar, shown only once a run has taken more than a second."""

    def __init__(self, enabled: bool) -> None:
        self._enabled = enabled
        self._t0 = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None

    def update(self, done: int, total: int) -> None:
        if not self._enabled:
            return
        elapsed = time.perf_counter() - self._t0
        if self._bar is None:
            if elapsed < 1.0:
                return
            from rich.progress import BarColumn, Progress, TextColumn, TimeRemainingColumn

            self._bar = Progress(
                TextColumn("backtest"),
                BarColumn(),
                TextColumn("{task.completed:,}/{task.total:,} events"),
                TextColumn("{task.fields[rate]}"),
                TimeRemainingColumn(),
                transient=True,
            )
            self._bar.start()
            self._task = self._bar.add_task("run", total=total, rate="")
        rate = f"{done / elapsed:,.0f} events/s" if elapsed > 0 else ""
        self._bar.update(self._task, completed=done, rate=rate)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.stop()
