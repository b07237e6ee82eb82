"""Journals shared by the report tests (built once per session: a backtest takes a second)."""

from __future__ import annotations

from pathlib import Path

import pytest
from report_journals import run_slice, write_journal

import adapters.backtest as bt


@pytest.fixture(scope="session")
def slice_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bt.BacktestResult]:
    """(store, result) of the market maker over the capture slice; run id `bt-slice`."""
    db = tmp_path_factory.mktemp("report-slice") / "quantx.db"
    return db, run_slice(db, "bt-slice")


@pytest.fixture(scope="session")
def hand_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The hand-written journal, run id `hand`."""
    db = tmp_path_factory.mktemp("report-hand") / "quantx.db"
    write_journal(db, "hand")
    return db
