"""`quantx status`, `orders`, `positions` and `pnl`: what a store's runs did, read from
the committed journal (a running run shows what it has committed so far).

Each reads the SQLite store at `--store` (default ./quantx-data/quantx.db) and prints
a table, or with `--json` one JSON object (amounts as exact decimal strings, times as
integer nanoseconds). A RUN_ID may be `latest`: the run the store created last.
A missing store, an unknown run or a bad argument is one line and exit 2.
`status` also shows the health of each run still RUNNING whose control file (next to
the store) belongs to a live process, read from its loopback `/health` endpoint."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

import click
import orjson

__all__ = ["DEFAULT_STORE", "orders", "pnl", "positions", "status", "store_option"]

DEFAULT_STORE = Path("quantx-data") / "quantx.db"

F = TypeVar("F", bound=Callable[..., Any])


def store_option(command: F) -> F:
    return click.option(
        "--store",
        type=click.Path(path_type=Path, dir_okay=False),
        default=DEFAULT_STORE,
        show_default=True,
        help="The SQLite store to read.",
    )(command)


def json_option(command: F) -> F:
    return click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")(command)


def echo_json(document: Any) -> None:
    from adapters.report.export import json_value

    options = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS
    click.echo(orjson.dumps(json_value(document), option=options).decode())


@contextmanager
def user_errors() -> Iterator[None]:
    """The store's and the report's refusals as one-line user errors (exit 2)."""
    from adapters.cli.main import UserError
    from adapters.report.build import ReportError
    from engine.ports.store import StoreError

    try:
        yield
    except (StoreError, ReportError) as err:
        raise UserError(str(err)) from None


@contextmanager
def open_run(store: Path, run_id: str) -> Iterator[tuple[Any, str]]:
    """(reader, resolved run id) of `run_id` (or `latest`) in `store`."""
    from adapters.report.build import resolve_run_id
    from adapters.store.sqlite import RunReader

    with user_errors(), RunReader(store) as reader:
        yield reader, resolve_run_id(reader.runs(), run_id, store)


@click.command()
@store_option
@json_option
def status(store: Path, as_json: bool) -> int:
    """List the store's runs, oldest first: status, mode, strategy, times (UTC).

    A backtest's start time is "-": its clock is the data's, which has not begun when the
    run starts; its end is the data time it stopped at. A run that is running here shows
    its health (trading state, emergency stop, feed staleness, ack latency).
    """
    from adapters.report.terminal import print_runs
    from adapters.store.sqlite import RunReader

    with user_errors(), RunReader(store) as reader:
        runs = reader.runs()
    live = live_health(store.parent, [r["run_id"] for r in runs if r["status"] == "RUNNING"])
    if as_json:
        doc: dict[str, Any] = {"store": str(store), "runs": runs}
        if live:  # runs running here, with their health
            doc["live"] = live
        echo_json(doc)
    else:
        print_runs(str(store), runs)
        for run_id, health in live.items():
            click.echo(_health_line(run_id, health))
    return 0


def live_health(out: Path, run_ids: list[str]) -> dict[str, dict[str, Any]]:
    """run id -> its /health snapshot, for the runs with a live control file in `out`
    (one that does not answer shows as `{"error": ...}`)."""
    from adapters.http.client import ControlUnreachable, get_health
    from adapters.http.control import ControlError, control_path, read_control

    out_map: dict[str, dict[str, Any]] = {}
    for run_id in run_ids:
        try:
            info = read_control(control_path(out, run_id), run_id)
        except ControlError:
            continue
        if not info.alive:
            continue
        try:
            out_map[run_id] = get_health(info.url)
        except (ControlUnreachable, ValueError) as err:
            out_map[run_id] = {"error": str(err)}
    return out_map


def _health_line(run_id: str, health: dict[str, Any]) -> str:
    if "error" in health:
        return f"run {run_id} (live): health unavailable: {health['error']}"
    status = health.get("status", {})
    feeds = ", ".join(
        f"{s} {f['staleness_ns'] / 1e9:.1f}s" for s, f in health.get("feeds", {}).items()
    )
    ack = health.get("ack_latency_ns", {})
    p50 = "-" if ack.get("p50") is None else f"{ack['p50'] / 1e6:.2f}ms"
    return (
        f"run {run_id} (live): trading {status.get('trading_state', '?')}, "
        f"emergency stop {status.get('emergency_stop', '?')}, "
        f"up {health.get('uptime_ns', 0) / 1e9:.1f}s, feeds [{feeds}], "
        f"ack p50 {p50}, rejects {health.get('rejects', {}).get('total', 0)}"
    )


@click.command()
@click.argument("run_id")
@store_option
@json_option
def orders(run_id: str, store: Path, as_json: bool) -> int:
    """List a run's orders (latest state of each, in creation order). RUN_ID may be latest."""
    from adapters.report.terminal import print_orders

    with open_run(store, run_id) as (reader, chosen):
        rows = reader.orders(chosen)
    if as_json:
        echo_json({"run_id": chosen, "orders": rows})
    else:
        print_orders(chosen, rows)
    return 0


@click.command()
@click.argument("run_id")
@store_option
@json_option
def positions(run_id: str, store: Path, as_json: bool) -> int:
    """Show a run's latest positions and balances. RUN_ID may be latest."""
    from adapters.report.terminal import print_positions

    with open_run(store, run_id) as (reader, chosen):
        held, balances = reader.positions(chosen), reader.balances(chosen)
    if as_json:
        echo_json({"run_id": chosen, "positions": held, "balances": balances})
    else:
        print_positions(chosen, held, balances)
    return 0


def _marks(pairs: tuple[str, ...]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for pair in pairs:
        symbol, sep, text = pair.partition("=")
        try:
            price = Decimal(text.strip()) if sep and symbol.strip() else None
        except InvalidOperation:
            price = None
        if price is None or not price.is_finite() or price <= 0:
            rule = "is not SYMBOL=PRICE with a positive decimal price"
            raise click.BadParameter(f"{pair!r} {rule}", param_hint="--mark")
        out[symbol.strip()] = price
    return out


@click.command()
@click.argument("run_id")
@store_option
@json_option
@click.option(
    "--mark",
    "mark_pairs",
    multiple=True,
    metavar="SYMBOL=PRICE",
    help="Price a position at this mark to show its unrealized P&L (repeatable).",
)
def pnl(run_id: str, store: Path, as_json: bool, mark_pairs: tuple[str, ...]) -> int:
    """Show a run's P&L: realized (net of fees) and fees per position; equity at the
    first and last samples; unrealized P&L where it is known.

    The journal holds no market data. Unrealized P&L is shown per position at a mark you
    give (--mark BTC/USDT:USDT=61700.5), and for the whole account at the last equity sample
    (marked at the book mid then) as equity minus cash, when the account holds only its
    equity currency and no balance changed after that sample. RUN_ID may be latest.
    """
    from adapters.report.build import build_report
    from adapters.report.export import json_value
    from adapters.report.terminal import print_pnl

    marks = _marks(mark_pairs)
    with user_errors():
        report = build_report(store, run_id)
        view = json_value(asdict(report.pnl(marks)))
    if as_json:
        echo_json({"run_id": report.run_id, **view})
    else:
        print_pnl(report.run_id, view)
    return 0
