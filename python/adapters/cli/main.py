"""The `quantx` command line: a driving adapter over the engine's services.

User errors print one line `quantx: error: ...` on stderr and exit 2, never a traceback.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

import click
import orjson

if TYPE_CHECKING:
    from engine.services.replay import Quote, ReplayReport

EXIT_USAGE = 2


class UserError(click.ClickException):
    """A mistake the user can fix (bad path, not a capture): one line, exit 2."""

    exit_code = EXIT_USAGE


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"quantx: error: {message}", err=True)
    sys.exit(code)


class _QuantxGroup(click.Group):
    """Turns click's multi-line usage errors into the one-line `quantx: error:` form."""

    def main(
        self,
        args: Sequence[str] | None = None,
        prog_name: str | None = None,
        complete_var: str | None = None,
        standalone_mode: bool = True,
        **extra: Any,
    ) -> Any:
        try:
            result = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.ClickException as exc:
            if type(exc).__name__ == "NoArgsIsHelpError":  # click >= 8.2, bare `quantx`
                click.echo(exc.format_message())
                sys.exit(0)
            message = exc.format_message()
            if isinstance(exc, click.UsageError) and exc.ctx is not None:
                message = f"{message} (see '{exc.ctx.command_path} --help')"
            _fail(message, exc.exit_code)
        except click.Abort:
            _fail("aborted", 130)
        if not standalone_mode:
            return result
        sys.exit(result if isinstance(result, int) else 0)


@click.group(cls=_QuantxGroup, context_settings={"help_option_names": ["-h", "--help"]})
def main() -> None:
    """quantx: a trading engine with a Rust hot path."""


def _register() -> None:
    from adapters.cli.backtest_cmd import backtest
    from adapters.cli.kill_cmd import kill
    from adapters.cli.live_cmd import live
    from adapters.cli.paper_cmd import paper
    from adapters.cli.report_cmd import report
    from adapters.cli.runs_cmd import orders, pnl, positions, status

    main.add_command(backtest)
    main.add_command(paper)
    main.add_command(live)
    main.add_command(kill)
    for command in (report, status, orders, positions, pnl):
        main.add_command(command)


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the report as one JSON object.")
def replay(paths: tuple[Path, ...], as_json: bool) -> int:
    """Replay Binance capture files in order into one order book and check it.

    A later file may continue an earlier one without a new snapshot. With no PATH,
    replays the bundled USD-M futures BTCUSDT capture.
    """
    from adapters.data import DEFAULT_CAPTURE
    from adapters.data.binance_capture import CaptureError, replay_captures
    from engine.services.replay import ReplayError

    chosen = list(paths) or [DEFAULT_CAPTURE]
    try:
        report = replay_captures(chosen)
    except (CaptureError, ReplayError) as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        where = exc.filename or ", ".join(str(p) for p in chosen)
        raise UserError(f"{where}: {exc.strerror or exc}") from None

    if as_json:
        click.echo(orjson.dumps(report.as_dict(), option=orjson.OPT_INDENT_2).decode())
    else:
        _print_replay_report(report)
    return 0


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the results as one JSON object.")
@click.option(
    "--suite",
    type=click.Choice(["hotpath", "execution", "engine"]),
    default="hotpath",
    show_default=True,
    help="hotpath: book replay in Rust; execution: risk, accounting, matching, orders;"
    " engine: the demo backtest against a bare replay.",
)
def bench(paths: tuple[Path, ...], as_json: bool, suite: str) -> int:
    """Benchmark the hot path (book replay in Rust) or the execution core.

    With no PATH, the benchmark chooses its own inputs (the bundled captures).
    """
    for path in paths:
        if not path.is_file():
            raise UserError(f"{path}: no such file")
    if suite == "execution":
        from adapters.benchmark import execution

        return execution.run(list(paths), as_json)
    if suite == "engine":
        from adapters.benchmark import engine_bench

        return engine_bench.run(list(paths), as_json)
    from adapters.benchmark.hotpath import run

    return run(list(paths), as_json)


def _print_replay_report(report: ReplayReport) -> None:
    """The human-readable form of the report: one rich table, sections as row groups."""
    from rich.console import Console
    from rich.table import Table

    inst = report.instrument
    table = Table(
        title=f"quantx replay: {inst.key} (tick {inst.tick_size}, book lot {inst.book_lot_size}, "
        f"{inst.sequence_rule} sequence rule)",
        show_header=False,
        title_justify="left",
    )
    table.add_column("what", style="bold")
    table.add_column("value", justify="right")
    table.add_column("detail")

    for source in report.sources:
        table.add_row("file", f"{report.per_source_lines.get(source, 0):,} lines", source)
    for stream, count in sorted(report.lines_by_stream.items()):
        table.add_row("lines by stream", f"{count:,}", stream)
    if report.blank_lines:
        table.add_row("blank lines", f"{report.blank_lines:,}", "")
    table.add_section()

    table.add_row("snapshots", f"{report.snapshots:,}", "")
    table.add_row("diffs applied", f"{report.diffs_applied:,}", f"{report.levels_applied:,} levels")
    table.add_row("diffs dropped", f"{report.diffs_dropped:,}", "older than the snapshot")
    if report.diffs_buffered:
        table.add_row("diffs buffered", f"{report.diffs_buffered:,}", "waiting for a snapshot")
    table.add_row("trades", f"{report.trades:,}", "")
    gap_style = "red" if report.gaps else "green"
    table.add_row("gaps", f"[{gap_style}]{len(report.gaps):,}[/]", "")
    for gap in report.gaps[:_MAX_LISTED]:
        table.add_row(
            "", "", f"{gap.source}:{gap.line} U={gap.first_id} u={gap.last_id} pu={gap.prev_id}"
        )
    _more(table, len(report.gaps))
    if report.book_errors:
        table.add_row(
            "book errors", f"[red]{report.book_errors:,}[/]", report.first_book_error or ""
        )
    table.add_section()

    bad_style = "yellow" if report.malformed_lines else "green"
    table.add_row("malformed lines", f"[{bad_style}]{report.malformed_lines:,}[/]", "")
    for category, count in sorted(report.malformed.items()):
        table.add_row("", f"{count:,}", category)
    for issue in report.malformed_examples[:_MAX_LISTED]:
        table.add_row("", "", f"{issue.source}:{issue.line} {issue.category}: {issue.detail}")
    table.add_row("unknown streams", f"{report.unknown_stream_lines:,}", "")
    for stream, count in sorted(report.unknown_streams.items()):
        table.add_row("", f"{count:,}", stream)
    table.add_section()

    agreed_style = "green" if report.ticker_agreed == report.ticker_comparisons else "red"
    share = (
        f"{100.0 * report.ticker_agreed / report.ticker_comparisons:.2f}% agreed"
        if report.ticker_comparisons
        else "no bookTicker shared an update id with an applied diff"
    )
    table.add_row("bookTicker compared", f"{report.ticker_comparisons:,}", "prices and sizes")
    table.add_row("bookTicker agreed", f"[{agreed_style}]{report.ticker_agreed:,}[/]", share)
    for m in report.ticker_mismatches:
        table.add_row(
            "",
            "",
            f"{m.source}:{m.line} u={m.update_id} book {m.book_bid.price}x{m.book_bid.qty} / "
            f"{m.book_ask.price}x{m.book_ask.qty} ticker {m.ticker_bid.price}x{m.ticker_bid.qty} / "
            f"{m.ticker_ask.price}x{m.ticker_ask.qty}",
        )
    table.add_section()

    table.add_row("best bid", _quote(report.best_bid), "")
    table.add_row("best ask", _quote(report.best_ask), "")
    state = "[red]stale (needs a snapshot)[/]" if report.book_stale else "in sync"
    table.add_row("book", state, f"last update id {report.last_update_id}")
    table.add_section()

    table.add_row("elapsed", f"{report.elapsed_s:.3f} s", f"{report.book_s:.3f} s in the book")
    table.add_row("events/s", f"{report.events_per_s:,.0f}", f"{report.events:,} events")
    table.add_row("messages/s", f"{report.messages_per_s:,.0f}", f"{report.messages:,} messages")
    Console(highlight=False).print(table)


_MAX_LISTED = 10


def _more(table: Any, total: int) -> None:
    if total > _MAX_LISTED:
        table.add_row("", "", f"... and {total - _MAX_LISTED:,} more (--json lists all)")


def _quote(quote: Quote | None) -> str:
    return "(empty)" if quote is None else f"{quote.price} x {quote.qty}"


_register()

if __name__ == "__main__":
    main()
