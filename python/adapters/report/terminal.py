"""Rich tables for the terminal: the run summary (`quantx backtest` and `quantx report`
print the same one) and the tables of `quantx status/orders/positions/pnl`.

Every function takes JSON-ready data (what `--json` prints), so the table and the JSON
never disagree. Times are shown in UTC to the millisecond; a start time of 0 (a backtest:
its clock is the data's, which has not begun when the run starts) is shown as "-"."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
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
    console.print(f"journal: {summary['store']} run {summary['run_id']}")
    if "journal_sha256" in summary:
        console.print(f"journal sha256: {summary['journal_sha256']}")
    if summary.get("report_dir"):
        console.print(f"report: {summary['report_dir']} (charts, CSV and JSON)")


def print_runs(
    store: str, runs: Sequence[Mapping[str, Any]], console: Console | None = None
) -> None:
    console = console or Console()
    if not runs:
        console.print(f"no runs in {store}")
        return
    table = Table(title=f"runs in {store}", title_justify="left")
    for name in ("run", "status", "mode", "strategy", "started (UTC)", "ended (UTC)", "reason"):
        table.add_column(name)
    for r in runs:
        table.add_row(
            r["run_id"],
            r["status"],
            r["mode"],
            r["strategy"],
            format_ns(r["ts_started"]),
            format_ns(r["ts_ended"]),
            r["reason"],
        )
    console.print(table)


def print_orders(
    run_id: str, orders: Sequence[Mapping[str, Any]], console: Console | None = None
) -> None:
    console = console or Console()
    if not orders:
        console.print(f"run {run_id} has no orders")
        return
    title = f"orders of {run_id} (latest state, in creation order)"
    table = Table(title=title, title_justify="left")
    columns = (
        ("id", "client_order_id", "left"),
        ("symbol", "symbol", "left"),
        ("side", "side", "left"),
        ("type", "order_type", "left"),
        ("tif", "time_in_force", "left"),
        ("quantity", "quantity", "right"),
        ("price", "price", "right"),
        ("trigger", "trigger_price", "right"),
        ("status", "status", "left"),
        ("filled", "filled_qty", "right"),
        ("avg fill", "avg_fill_price", "right"),
    )
    for title, _, justify in columns:
        table.add_column(title, justify=justify)  # type: ignore[arg-type]
    table.add_column("created (UTC)")
    table.add_column("updated (UTC)")
    for o in orders:
        cells = ["" if o[key] is None else str(o[key]) for _, key, _ in columns]
        table.add_row(*cells, format_ns(o["ts_created"]), format_ns(o["ts_updated"]))
    console.print(table)


def print_positions(
    run_id: str,
    positions: Sequence[Mapping[str, Any]],
    balances: Sequence[Mapping[str, Any]],
    console: Console | None = None,
) -> None:
    console = console or Console()
    if positions:
        table = Table(title=f"positions of {run_id} (latest)", title_justify="left")
        for name in ("account", "symbol", "quantity", "avg entry", "realized P&L", "fees"):
            table.add_column(name, justify="right" if name[0] in "qarf" else "left")
        table.add_column("currency")
        table.add_column("as of (UTC)")
        for p in positions:
            table.add_row(
                p["account"],
                p["symbol"],
                str(p["quantity"]),
                str(p["avg_entry_price"]),
                str(p["realized_pnl"]),
                str(p["fees"]),
                p["currency"],
                format_ns(p["ts_event"]),
            )
        console.print(table)
    else:
        console.print(f"run {run_id} has no positions (no fills)")
    if balances:
        table = Table(title=f"balances of {run_id} (latest)", title_justify="left")
        table.add_column("account")
        table.add_column("asset")
        table.add_column("total", justify="right")
        table.add_column("as of (UTC)")
        for b in balances:
            table.add_row(b["account"], b["asset"], str(b["total"]), format_ns(b["ts_event"]))
        console.print(table)


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
