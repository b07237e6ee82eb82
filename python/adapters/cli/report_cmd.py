"""`quantx report RUN_ID`: a run's report rebuilt from the store alone: the summary table,
the charts (equity.png, fills.png, position.png) and the exports (one CSV per table and
report.json) under `--out`."""

from __future__ import annotations

from pathlib import Path

import click

from adapters.cli.runs_cmd import echo_json, store_option, user_errors

__all__ = ["report"]


@click.command()
@click.argument("run_id")
@store_option
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    help="Directory for the charts and exports; default: <the store's folder>/<run_id>/"
    " (./quantx-data/<run_id>/ for the default store).",
)
@click.option("--json", "as_json", is_flag=True, help="Print the summary as one JSON object.")
def report(run_id: str, store: Path, out: Path | None, as_json: bool) -> int:
    """Rebuild a run's report from the store: summary, charts, CSV and JSON.

    RUN_ID may be latest (the run the store created last). The statistics use the run's
    own [statistics] settings, as the backtest did.
    """
    from adapters.cli.main import UserError
    from adapters.report import write_report
    from adapters.report.build import build_report, report_dir
    from adapters.report.export import summary
    from adapters.report.terminal import print_summary

    with user_errors():
        built = build_report(store, run_id)
    directory = out if out is not None else report_dir(store, built.run_id)
    try:
        files = write_report(built, directory)
    except OSError as err:
        raise UserError(f"--out {directory}: cannot write the report ({err})") from None
    shown = summary(built)
    shown["report_dir"] = str(directory)
    if as_json:
        echo_json({**shown, "files": [p.name for p in files]})
    else:
        print_summary(shown)
    return 0
