"""Rich tables for the terminal: the run summary (`quantx backtest` and `quantx report`
print the same one) and the tables of `quantx status/orders/positions/pnl`.

Every function takes JSON-ready data (what `--json` prints), so the table and the JSON
never disagree. Times are shown in UTC to the millisecond; a start time of 0 (a backtest:
its clock is the data's, which has not begun when the run starts) is shown as "-"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from rich.console import Console
from rich.table import Table

__all__ = [
    "format_ns",
    "print_orders",
    "print_pnl",
    "print_positions",
    "print_runs",
    "print_summary",
    "summary_rows",
]


def format_ns(ts: int | None) -> str:
    """UTC time of a nanosecond timestamp, to the millisecond; "-" for None or 0."""
    if not ts:
        return "-"
    seconds, ns = divmod(int(ts), 1_000_000_000)
    moment = datetime.fromtimestamp(seconds, tz=UTC)
    return f"{moment:%Y-%m-%d %H:%M:%S}.{ns // 1_000_000:03d}"


def summary_rows(summary: Mapping[str, Any]) -> list[tuple[str, str]]:
    """(measure, value) rows of a run summary; the run-time rows (events, speed,
    elapsed) only when the summary has them (a backtest's, not a report's)."""
    rows: list[tuple[str, str]] = []
    if "events" in summary:
        rows += [
            ("events", f"{summary['events']:,}"),
            ("level updates/s", f"{summary['level_updates_per_s']:,}"),
            ("elapsed", f"{summary['elapsed_s']} s"),
        ]
    rows.append(("orders / fills", f"{summary['orders']:,} / {summary['fills']:,}"))
    for symbol, p in summary["positions"].items():
        rows += [
            (f"{symbol} position", p["quantity"]),
            (f"{symbol} realized P&L (net of fees)", p["realized_pnl"]),
            (f"{symbol} fees", p["fees"]),
        ]
    if summary.get("equity") is not None and summary.get("equity_start") is not None:
        change = Decimal(summary["equity"]) - Decimal(summary["equity_start"])
        rows.append(("equity (change)", f"{summary['equity']} ({change:+})"))
    figures = summary.get("statistics")
    if figures is not None:
        rows += [
            ("total return", f"{figures['total_return']:.4%}"),
            (
                "max drawdown (duration)",
                f"{figures['max_drawdown']:.4%}"
                f" ({figures['max_drawdown_duration_ns'] / 1e9:,.0f} s)",
            ),
            (
                "Sharpe / Sortino (annualised)",
                f"{figures['sharpe']:.2f} / {figures['sortino']:.2f}",
            ),
            ("trades, win rate", f"{figures['trade_count']:,}, {figures['win_rate']:.1%}"),
            ("profit factor", f"{_number(figures['profit_factor'], '.3f')}"),
            ("exposure, turnover", f"{figures['exposure']:.1%}, {figures['turnover']:.2f}x"),
        ]
    return rows


def print_summary(summary: Mapping[str, Any], console: Console | None = None) -> None:
    """The run summary: one table, then where the journal (and the report) are."""
    console = console or Console()
    command = summary.get("command", "backtest")
    title = f"quantx {command} {summary['run_id']}: {summary['strategy']} ({summary['status']})"
    table = Table(title=title)
    table.add_column("measure")
    table.add_column("value", justify="right")
    for name, value in summary_rows(summary):
        table.add_row(name, value)
    console.print(table)
    console.print(f"journal: {summary['store']} run {summary['run_id']}", soft_wrap=True)
    if "journal_sha256" in summary:
        console.print(f"journal sha256: {summary['journal_sha256']}", soft_wrap=True)
    if summary.get("report_dir"):
        console.print(f"report: {summary['report_dir']} (charts, CSV and JSON)", soft_wrap=True)


@dataclass(frozen=True, slots=True)
class _Column:
    header: str
    key: str
    right: bool = False
    time: bool = False
    keep: bool = False  # shown even when every row has the same value


def _cell(value: Any, time: bool) -> str:
    if time:
        return format_ns(value)
    return "" if value is None else str(value)


def _print_rows(
    title: str,
    columns: Sequence[_Column],
    rows: Sequence[Mapping[str, Any]],
    console: Console,
) -> None:
    """A table that stays readable in 80 columns: a column with one value in every row
    moves into the title (empty ones go), times on one date show the date once, and a
    cell too wide for its column wraps instead of being cut."""
    cells = {c.key: [_cell(r[c.key], c.time) for r in rows] for c in columns}
    shown, notes = [], []
    for c in columns:
        values = set(cells[c.key])
        if not c.keep and len(rows) > 1 and len(values) == 1:
            (value,) = values
            if value and value != "-":
                notes.append(f"{c.header}: {value}")
            continue
        shown.append(c)
    times = [v for c in shown if c.time for v in cells[c.key] if v != "-"]
    dates = {v[:10] for v in times}
    if len(dates) == 1:
        notes.append(f"on {dates.pop()} UTC")
        for c in shown:
            if c.time:
                cells[c.key] = [v[11:] if v != "-" else v for v in cells[c.key]]
    table = Table(title=title + (f" ({'; '.join(notes)})" if notes else ""), title_justify="left")
    for n, c in enumerate(shown):
        # Ids and times are never wrapped: a folded id or time is hard to read back.
        whole = n == 0 or c.time
        table.add_column(
            c.header,
            justify="right" if c.right else "left",
            overflow="fold",
            no_wrap=whole,
            min_width=max(map(len, cells[c.key])) if whole else None,
        )
    for i in range(len(rows)):
        table.add_row(*(cells[c.key][i] for c in shown))
    console.print(table)


def print_runs(
    store: str, runs: Sequence[Mapping[str, Any]], console: Console | None = None
) -> None:
    console = console or Console()
    if not runs:
        console.print(f"no runs in {store}", soft_wrap=True)
        return
    columns = (
        _Column("run", "run_id", keep=True),
        _Column("status", "status", keep=True),
        _Column("mode", "mode"),
        _Column("strategy", "strategy"),
        _Column("started", "ts_started", time=True),
        _Column("ended", "ts_ended", time=True, keep=True),
        _Column("reason", "reason"),
    )
    _print_rows(f"runs in {store}, oldest first", columns, runs, console)


def print_orders(
    run_id: str, orders: Sequence[Mapping[str, Any]], console: Console | None = None
) -> None:
    console = console or Console()
    if not orders:
        console.print(f"run {run_id} has no orders", soft_wrap=True)
        return
    columns = (
        _Column("id", "client_order_id", keep=True),
        _Column("symbol", "symbol"),
        _Column("side", "side", keep=True),
        _Column("type", "order_type"),
        _Column("tif", "time_in_force"),
        _Column("quantity", "quantity", right=True, keep=True),
        _Column("price", "price", right=True),
        _Column("trigger", "trigger_price", right=True),
        _Column("status", "status", keep=True),
        _Column("filled", "filled_qty", right=True, keep=True),
        _Column("avg fill", "avg_fill_price", right=True),
        _Column("updated", "ts_updated", time=True, keep=True),
    )
    title = f"orders of {run_id}, latest state, in creation order"
    _print_rows(title, columns, orders, console)


def print_positions(
    run_id: str,
    positions: Sequence[Mapping[str, Any]],
    balances: Sequence[Mapping[str, Any]],
    console: Console | None = None,
) -> None:
    console = console or Console()
    if positions:
        columns = (
            _Column("account", "account"),
            _Column("symbol", "symbol", keep=True),
            _Column("quantity", "quantity", right=True, keep=True),
            _Column("avg entry", "avg_entry_price", right=True, keep=True),
            _Column("realized P&L (net of fees)", "realized_pnl", right=True, keep=True),
            _Column("fees", "fees", right=True, keep=True),
            _Column("currency", "currency"),
            _Column("as of", "ts_event", time=True, keep=True),
        )
        _print_rows(f"positions of {run_id}", columns, positions, console)
    else:
        console.print(f"run {run_id} has no positions (no fills)", soft_wrap=True)
    if balances:
        cash = (
            _Column("account", "account"),
            _Column("asset", "asset", keep=True),
            _Column("total", "total", right=True, keep=True),
            _Column("as of", "ts_event", time=True, keep=True),
        )
        _print_rows(f"balances of {run_id}", cash, balances, console)


def print_pnl(run_id: str, pnl: Mapping[str, Any], console: Console | None = None) -> None:
    """`pnl`: `adapters.report.build.PnlView` as JSON-ready data."""
    console = console or Console()
    currency = pnl["currency"] or ""
    table = Table(title=f"P&L of {run_id} ({currency or 'no trades'})", title_justify="left")
    table.add_column("measure")
    table.add_column("value", justify="right")
    for p in pnl["positions"]:
        name = p["symbol"]
        table.add_row(f"{name} position @ avg entry", f"{p['quantity']} @ {p['avg_entry_price']}")
        table.add_row(f"{name} realized P&L (net of fees)", p["realized_pnl"])
        table.add_row(f"{name} fees", p["fees"])
        if p["unrealized_pnl"] is not None:
            table.add_row(f"{name} unrealized P&L at mark {p['mark']}", p["unrealized_pnl"])
        else:
            table.add_row(f"{name} unrealized P&L", "no mark given (--mark SYMBOL=PRICE)")
    table.add_section()
    table.add_row("realized P&L, all positions", pnl["realized_pnl"])
    table.add_row("fees, all positions", pnl["fees"])
    if pnl["equity_end"] is not None:
        table.add_row("equity at the first sample", pnl["equity_start"])
        when = format_ns(pnl["ts_equity_end"])
        table.add_row(f"equity at the last sample ({when})", pnl["equity_end"])
        table.add_row("equity change (realized + unrealized)", pnl["equity_change"])
    if pnl["unrealized_at_last_sample"] is not None:
        table.add_row("cash", pnl["cash"])
        table.add_row(
            "unrealized P&L at the last sample (equity - cash)", pnl["unrealized_at_last_sample"]
        )
    else:
        table.add_row("unrealized P&L at the last sample", f"unknown: {pnl['unrealized_note']}")
    console.print(table)
    console.print(
        "The journal holds no market data: the last equity sample is marked at the book mid"
        " of its time; a mark given with --mark prices one position."
    )


def _number(value: Any, spec: str) -> str:
    return format(value, spec) if isinstance(value, int | float) else str(value)
