"""`quantx live`: a strategy trading real money on an exchange through ccxt.

It refuses to start without `--live` (a typo in a paper command must not trade). The
exchange, symbols, strategy and limits come from `--config` (a `[live]` table; see
`adapters.config.LiveConfig`) and the options; API keys only from the environment or a
0600 key file (`adapters.exchanges.credentials`), masked in every log line and error.

Start-up: markets loaded, private stream and feed connected, then reconciliation;
trading starts only once it succeeds (a new run is funded from the account's balances).
While running, the safety of paper mode applies (breakers, alerts, `/health`,
`/metrics`, `POST /kill` on 127.0.0.1 and the control file `quantx kill` uses), and
more: a stale feed holds trading at REDUCING, a lost feed halts, a reconnect halts
until reconciled. SIGINT or SIGTERM is an emergency stop in live mode: trading halts,
every open order is canceled, every position is flattened with reduce-only market
orders under the slippage cap, flat is verified at the exchange, and the run ends as
`killed`. `--resume RUN_ID` continues a run after a crash: its journal is replayed,
then squared with the exchange before anything is sent.
"""

from __future__ import annotations

import logging
import os
import signal
import time
from pathlib import Path
from typing import Any

import click
import orjson

from adapters.config import ConfigError, LiveConfig, load_live_config

__all__ = ["live"]


@click.command()
@click.option("--live", "confirmed", is_flag=True, help="Required: yes, trade real money.")
@click.option(
    "--config", "config_path", type=click.Path(path_type=Path), help="TOML file ([live] table)."
)
@click.option("--exchange", help="ccxt id: binance, binanceusdm or upbit.")
@click.option("--symbol", "symbols", multiple=True, help="ccxt symbol, e.g. BTC/USDT (repeatable).")
@click.option("--strategy", help="module:Class or path/to/file.py:Class.")
@click.option("--param", "params", multiple=True, help="Strategy parameter key=value (repeatable).")
@click.option("--key-file", type=click.Path(path_type=Path), help="0600 JSON key file.")
@click.option("--duration", "duration_s", type=float, help="Stop after this many seconds.")
@click.option(
    "--out", type=click.Path(path_type=Path), help="Output directory; default ./quantx-data."
)
@click.option("--run-id", help="Id of the new run; default lv-<UTC time>.")
@click.option("--resume", help="Continue this unended live run (after a crash).")
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def live(
    confirmed: bool,
    config_path: Path | None,
    exchange: str | None,
    symbols: tuple[str, ...],
    strategy: str | None,
    params: tuple[str, ...],
    key_file: Path | None,
    duration_s: float | None,
    out: Path | None,
    run_id: str | None,
    resume: str | None,
    as_json: bool,
) -> int:
    """Trade a strategy live on an exchange (needs --live)."""
    from adapters.cli.backtest_cmd import _params
    from adapters.cli.main import UserError

    if not confirmed:
        raise UserError("live trading needs --live (rule: an explicit flag; use `quantx paper`)")
    if resume is not None and (config_path or exchange or symbols or strategy or params or run_id):
        raise UserError(
            "--resume takes the run's own configuration: drop --config/--exchange/--symbol/"
            "--strategy/--param/--run-id"
        )
    try:
        if resume is not None:
            cfg = _resumed_config(out or Path("quantx-data"), resume)
            updates = {"duration_s": duration_s, "key_file": key_file, "out": out}
            cfg = cfg.model_copy(update={k: v for k, v in updates.items() if v is not None})
        else:
            cfg = load_live_config(
                config_path,
                exchange=exchange,
                symbols=list(symbols) or None,
                strategy=strategy,
                duration_s=duration_s,
                out=out,
                key_file=key_file,
            )
        if params:
            cfg = cfg.model_copy(update={"params": {**cfg.params, **_params(params)}})
    except ConfigError as err:
        raise UserError(str(err)) from None
    summary = _run(cfg, run_id=run_id, resume=resume)
    if as_json:
        click.echo(
            orjson.dumps(summary, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS).decode()
        )
    else:
        _print(summary)
    return 0 if summary["status"] != "failed" else 1


def _resumed_config(out: Path, run_id: str) -> LiveConfig:
    """The configuration a live run was started with, from its RunStarted record."""
    from adapters.cli.resume import resumed_config

    return resumed_config(out, run_id, "live", LiveConfig)


def _run(cfg: LiveConfig, *, run_id: str | None, resume: str | None) -> dict[str, Any]:
    from adapters.cli.main import UserError
    from adapters.exchanges.backoff import BackoffPolicy
    from adapters.exchanges.credentials import CredentialError, Redactor, load_credentials
    from adapters.http.control import ControlInfo, control_path, new_token, write_control
    from adapters.http.health import HealthServer
    from adapters.live import LiveError, LiveSetup, build_live
    from adapters.notify.log import FanOut, LogNotifier
    from adapters.notify.webhook import WebhookNotifier
    from adapters.store.sqlite import SqliteStore
    from engine.domain.journal import RunEnded, RunStarted
    from engine.ports import Notifier, StoreError
    from engine.services.emergency import EmergencyPhase
    from engine.services.risk import RiskLimits
    from engine.strategy import StrategyLoadError, load_strategy

    try:
        credentials = load_credentials(cfg.exchange, key_file=cfg.key_file)
    except CredentialError as err:
        raise UserError(str(err)) from None
    redact = Redactor([credentials.api_key, credentials.secret])
    redact.install()
    try:
        strategy = load_strategy(cfg.strategy, cfg.params)
    except StrategyLoadError as err:
        raise UserError(str(err)) from None
    cfg.out.mkdir(parents=True, exist_ok=True)
    path = cfg.out / "quantx.db"
    try:
        if resume is not None:
            store = SqliteStore.open(path, resume=resume)
            run_id = resume
        else:
            run_id = run_id or "lv-" + time.strftime("%Y%m%dT%H%M%S", time.gmtime())
            started = RunStarted(
                run_id=run_id,
                ts_event=time.time_ns(),
                mode="live",
                strategy=cfg.strategy,
                params_json=orjson.dumps(
                    cfg.params, option=orjson.OPT_SORT_KEYS, default=str
                ).decode(),
                config_json=cfg.model_dump_json(),
            )
            store = SqliteStore.open(path, run=started)
    except (StoreError, ValueError) as err:
        raise UserError(str(err)) from None
    safety, conn = cfg.safety, cfg.connection
    webhook = WebhookNotifier(safety.webhook_url) if safety.webhook_url else None
    notifier: Notifier = FanOut(LogNotifier(), webhook) if webhook else LogNotifier()
    logger = logging.getLogger("quantx.live")
    setup = LiveSetup(
        exchange=cfg.exchange,
        symbols=tuple(cfg.symbols),
        credentials=credentials,
        run_id=run_id,
        exchange_setup=cfg.exchange_setup,
        limits=RiskLimits(**cfg.risk.model_dump()),
        breakers=safety.breakers(),
        emergency=safety.emergency(),
        backoff=BackoffPolicy(
            initial_s=conn.backoff_initial_s, max_s=conn.backoff_max_s, max_retries=conn.max_retries
        ),
        stale_after_s=conn.stale_after_s,
        reconcile_retry_s=conn.reconcile_retry_s,
        call_timeout_s=conn.call_timeout_s,
        max_attempts=conn.max_attempts,
        depth=conn.depth,
        equity_interval_ns=int(cfg.equity_interval_s * 1e9),
    )
    try:
        run = build_live(
            setup,
            strategy,
            store=store,
            resume=resume is not None,
            notifier=notifier,
            redactor=redact,
            log=logger.info,
        )
    except (LiveError, ValueError) as err:
        store.close()
        raise UserError(redact(str(err))) from None
    token = new_token()
    server = HealthServer(
        run.health, token=token, on_kill=run.kernel.request_kill, port=safety.health_port
    )
    try:
        port = server.start()
    except OSError as err:
        run.close()
        store.close()
        raise UserError(f"config value safety.health_port = {safety.health_port}: {err}") from None
    control = control_path(cfg.out, run_id)
    write_control(control, ControlInfo(run_id=run_id, pid=os.getpid(), port=port, token=token))
    began = time.monotonic()

    def should_stop() -> bool:
        return cfg.duration_s is not None and time.monotonic() - began >= cfg.duration_s

    def on_signal(signum: int, frame: object) -> None:
        run.kernel.request_kill(f"signal {signal.Signals(signum).name}")

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGINT, signal.SIGTERM)}
    status, reason = "completed", ""
    try:
        try:
            run.start(timeout_s=conn.reconcile_timeout_s)
            run.run(should_stop=should_stop)
        except LiveError as err:
            status, reason = "failed", redact(str(err))
    finally:
        for s, handler in previous.items():
            signal.signal(s, handler)
        server.stop()
        control.unlink(missing_ok=True)
        run.close()
        if webhook is not None:
            webhook.close(timeout_s=5.0)
    emergency = run.kernel.emergency
    if emergency.phase is not EmergencyPhase.IDLE:
        status, reason = "killed", f"{emergency.reason} (emergency stop {emergency.phase.value})"
    store.append(RunEnded(run_id=run_id, ts_event=run.clock.now_ns(), status=status, reason=reason))
    store.commit()
    store.close()
    stats = run.stats
    return {
        "run_id": run_id,
        "store": str(path),
        "exchange": cfg.exchange,
        "status": status,
        "reason": reason,
        "resumed": resume is not None,
        "messages": 0 if stats is None else stats.steps,
        "orders": len(run.order_manager.orders()),
        "fills": 0 if stats is None else stats.fills,
        "trading_state": run.kernel.trading.state.value,
        "emergency_stop": emergency.phase.value,
        "reconciliation": None
        if run.guard.last_report is None
        else run.guard.last_report.summary(),
        "balances": {a: str(v) for a, v in run.portfolio.balances(run.account).items()},
        "positions": {s: str(run.portfolio.quantity(s)) for s in run.instruments},
    }


def _print(summary: dict[str, Any]) -> None:
    from rich.console import Console

    console = Console()
    console.print(
        f"live run {summary['run_id']} on {summary['exchange']}: {summary['status']}"
        + (f" ({summary['reason']})" if summary["reason"] else "")
    )
    console.print(
        f"{summary['orders']:,} orders, {summary['fills']:,} fills; trading "
        f"{summary['trading_state']}; reconciliation {summary['reconciliation']}"
    )
    console.print("balances: " + ", ".join(f"{a} {v}" for a, v in summary["balances"].items()))
    console.print("positions: " + ", ".join(f"{s} {q}" for s, q in summary["positions"].items()))
    console.print(f"journal {summary['store']}")
