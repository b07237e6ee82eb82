"""Run reports, rebuilt from a SQLite journal: `build` (the `RunReport` and its
statistics), `charts` (PNG), `export` (CSV and JSON), `terminal` (rich tables).

Nothing is imported here at import time: matplotlib is slow to load and only the
commands that draw need it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from adapters.report.build import RunReport

__all__ = ["write_report"]


def write_report(report: RunReport, directory: Path) -> list[Path]:
    """The charts and the exports of `report` into `directory`; the paths written."""
    from adapters.report.charts import write_charts
    from adapters.report.export import write_exports

    return write_charts(report, directory) + write_exports(report, directory)
