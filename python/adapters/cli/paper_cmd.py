"""`quantx paper`: a strategy on live market data with simulated fills and virtual
balances, journaled to SQLite like any run.

With no arguments: the bundled futures capture played in real time as the live feed,
the sample market maker, one account with 100,000 USDT. `--config` names a TOML file
with a `[paper]` table (several `[[paper.accounts]]`, each with its own data and
balances); `--speed` plays a recording faster. Ctrl-C (or SIGTERM) stops cleanly: the
strategy's on_stop runs, the journal is committed, the run is marked interrupted.
`--resume RUN_ID` continues a run that was killed: everything it committed is rebuilt
from the store and it goes on from there.

Safety (`[paper.safety]`): circuit breakers, alerts (log, and a webhook if set) and a
health and control endpoint on 127.0.0.1 (`/health`, `/metrics`, `POST /kill`), whose
port and token go to `<out>/<run_id>.control.json` (0600) while the run lives.
`quantx kill RUN_ID` uses it: the run flattens everything, ends as `killed` and exits.
"""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path
from typing import Any

import click
import orjson

from adapters.config import ConfigError, PaperConfig, load_paper_config

__all__ = ["paper"]


@click.command()
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="TOML file ([paper] table)."
)
@click.option(
    "--strategy", help="module:Class or path/to/file.py:Class; default: the sample market maker."
)
@click.option("--param", "params", multiple=True, help="Strategy parameter key=value (repeatable).")
@click.option("--speed", type=float, help="Play recordings this many times faster (default 1).")
@click.option("--duration", "duration_s", type=float, help="Stop after this many seconds.")
@click.option(
    "--out", type=click.Path(path_type=Path), help="Output directory; default ./quantx-data."
)
@click.option("--run-id", help="Id of the new run; default pp-<UTC time>.")
@click.option("--resume", "resume", help="Continue this unended run (after a crash).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def paper(
    config_path: Path | None,
    strategy: str | None,
    params: tuple[str, ...],
    speed: float | None,
    duration_s: float | None,
    out: Path | None,
    run_id: str | None,
    resume: str | None,
    as_json: bool,
) -> int:
    """Paper-trade a strategy: live data, simulated fills, virtual balances."""
    from adapters.cli.backtest_cmd import _params
    from adapters.cli.main import UserError

    if resume is not None and (config_path or strategy or params or run_id):
        raise UserError(
            "--resume takes the run's own configuration: drop --config/--strategy/--param/--run-id"
        )
    try:
        if resume is not None:
            cfg = _resumed_config(out or Path("quantx-data"), resume)
            cfg = cfg.model_copy(
                update={k: v for k, v in (("speed", speed), ("duration_s", duration_s)) if v}
            )
        else:
            cfg = load_paper_config(
                config_path, strategy=strategy, speed=speed, duration_s=duration_s, out=out
            )
        if params:
            cfg = cfg.model_copy(update={"params": {**cfg.params, **_params(params)}})
    except ConfigError as err:
        raise UserError(str(err)) from None
    for account in cfg.accounts:
        for path in account.data:
            if not path.is_file():
                raise UserError(f"accounts.{account.name}.data: {path}: no such data file")
    summary = _run(cfg, run_id=run_id, resume=resume, quiet=as_json)
    if as_json:
        click.echo(
            orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
        )
    else:
        _print(summary)
    return 0


def _run(
    cfg: PaperConfig, *, run_id: str | None, resume: str | None, quiet: bool
) -> dict[str, Any]:
    from adapters.backtest import DataError
    from adapters.cli.main import UserError
    from adapters.data.binance_capture import CaptureError
    from adapters.data.jsonl_events import JsonlEventError
    from adapters.data.ohlcv_csv import OhlcvCsvError
    from adapters.http.control import ControlInfo, control_path, new_token, write_control
    from adapters.http.health import HealthServer
    from adapters.notify.log import FanOut, LogNotifier
    from adapters.notify.webhook import WebhookNotifier
    from adapters.paper import PaperAccount, PaperError, build_paper
    from adapters.venues.simulated import SimSettings
    from engine.domain.journal import RunEnded
    from engine.ports import Notifier
    from engine.services.emergency import EmergencyPhase
    from engine.services.risk import RiskLimits
    from engine.strategy import StrategyLoadError, load_strategy

    stop = {"requested": False}
    began: list[float] = []  # the duration counts from the first look, once data flows

    def should_stop() -> bool:
        if not began:
            began.append(time.monotonic())
        over = cfg.duration_s is not None and time.monotonic() - began[0] >= cfg.duration_s
        return stop["requested"] or over

    def on_signal(signum: int, frame: object) -> None:
        stop["requested"] = True

    accounts = [
        PaperAccount(a.name, tuple(a.data), dict(a.balances), a.exchange, tuple(a.symbols))
        for a in cfg.accounts
    ]
    try:
        strategy = load_strategy(cfg.strategy, cfg.params)
    except StrategyLoadError as err:
        raise UserError(str(err)) from None
    store, run_id, resume_ts = _open_store(cfg, run_id, resume)
    safety = cfg.safety
    webhook = WebhookNotifier(safety.webhook_url) if safety.webhook_url else None
    notifier: Notifier = FanOut(LogNotifier(), webhook) if webhook else LogNotifier()
    try:
        run = build_paper(
            accounts,
            strategy,
            store=store,
            speed=cfg.speed,
            settings=SimSettings(**cfg.venue.model_dump()),
            limits=RiskLimits(**cfg.risk.model_dump()),
            equity_interval_ns=int(cfg.equity_interval_s * 1e9),
            resume_from_ns=resume_ts,
            breakers=safety.breakers(),
            emergency=safety.emergency(),
            notifier=notifier,
            exchange_setup=cfg.exchange_setup,
        )
    except (PaperError, CaptureError, DataError, OhlcvCsvError, JsonlEventError) as err:
        store.close()
        raise UserError(str(err)) from None
    run.health.set_connection("feed", True)  # up as long as the run (live data: its guard)
    run.health.set_connection("venue", True)  # simulated in the process
    token = new_token()
    server = HealthServer(
        run.health, token=token, on_kill=run.kernel.request_kill, port=safety.health_port
    )
    try:
        port = server.start()
    except OSError as err:
        store.close()
        raise UserError(f"config value safety.health_port = {safety.health_port}: {err}") from None
    control = control_path(cfg.out, run_id)
    write_control(control, ControlInfo(run_id=run_id, pid=os.getpid(), port=port, token=token))
    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        stats = run.run(should_stop=should_stop)
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        server.stop()
        control.unlink(missing_ok=True)
        if webhook is not None:
            webhook.close(timeout_s=5.0)
    emergency = run.kernel.emergency
    status = "interrupted" if stop["requested"] else "completed"
    reason = ""
    if emergency.phase is not EmergencyPhase.IDLE:
        status, reason = "killed", f"{emergency.reason} (emergency stop {emergency.phase.value})"
    store.append(RunEnded(run_id=run_id, ts_event=run.clock.now_ns(), status=status, reason=reason))
    store.commit()
    store.close()
    return {
        "run_id": run_id,
        "store": str(cfg.out / "quantx.db"),
        "status": status,
        "strategy": cfg.strategy,
        "speed": cfg.speed,
        "resumed": resume is not None,
        "messages": stats.steps,
        "events": stats.rows,
        "orders": len(run.order_manager.orders()),
        "fills": stats.fills,
        "trading_state": run.kernel.trading.state.value,
        "emergency_stop": emergency.phase.value,
        "accounts": {
            name: {
                "balances": {a: str(v) for a, v in run.portfolio.balances(name).items()},
                "positions": {s: str(run.portfolio.position(s).quantity) for s in symbols},
                "equity": _text(run.kernel.equity(name)),
            }
            for name, symbols in run.accounts.items()
        },
    }


def _resumed_config(out: Path, run_id: str) -> PaperConfig:
    """The configuration a paper run was started with, from its RunStarted record."""
    from adapters.cli.resume import resumed_config

    return resumed_config(out, run_id, "paper", PaperConfig)


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _open_store(
    cfg: PaperConfig, run_id: str | None, resume: str | None
) -> tuple[Any, str, int | None]:
    """The SQLite journal under `cfg.out`: a new run, or the resumed one (with the time
    of its last committed record, where the feed picks up)."""
    from adapters.cli.main import UserError
    from adapters.store.sqlite import SqliteStore
    from engine.domain.journal import RunStarted
    from engine.ports import StoreError

    cfg.out.mkdir(parents=True, exist_ok=True)
    path = cfg.out / "quantx.db"
    try:
        if resume is not None:
            store = SqliteStore.open(path, resume=resume)
            last = max((r.ts_event for _, r in store.records()), default=0)
            return store, resume, last
        run_id = run_id or "pp-" + time.strftime("%Y%m%dT%H%M%S", time.gmtime())
        started = RunStarted(
            run_id=run_id,
            ts_event=0,  # the run's clock is the recording's: it has not begun yet
            mode="paper",
            strategy=cfg.strategy,
            params_json=orjson.dumps(cfg.params, option=orjson.OPT_SORT_KEYS, default=str).decode(),
            config_json=cfg.model_dump_json(),
        )
        return SqliteStore.open(path, run=started), run_id, None
    except (StoreError, ValueError) as err:
        raise UserError(str(err)) from None


def _print(summary: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title=f"paper run {summary['run_id']} ({summary['status']})")
    table.add_column("account")
    table.add_column("balances")
    table.add_column("positions")
    table.add_column("equity", justify="right")
    for name, acc in summary["accounts"].items():
        table.add_row(
            name,
            ", ".join(f"{a} {v}" for a, v in acc["balances"].items()),
            ", ".join(f"{s} {q}" for s, q in acc["positions"].items()),
            acc["equity"] or "-",
        )
    console = Console()
    console.print(table)
    console.print(
        f"{summary['messages']:,} messages, {summary['orders']:,} orders, "
        f"{summary['fills']:,} fills; journal {summary['store']}"
    )
