"""PNG charts: real PNGs of the expected size, the same bytes for the same report (no
time or version written, the user's matplotlib settings ignored), different bytes for
different data, and charts for runs with nothing to draw."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import matplotlib as mpl
import pytest
from report_journals import HAND_RECORDS, D, S, equity, write_journal

import adapters.backtest as bt
from adapters.report import write_report
from adapters.report.build import RunReport, build_report
from adapters.report.charts import CHARTS, DPI, WIDTH_IN, drawdown, write_charts

SIGNATURE = b"\x89PNG\r\n\x1a\n"


def chunks(png: bytes) -> list[tuple[bytes, bytes]]:
    """(type, data) of every chunk, CRCs checked."""
    assert png[:8] == SIGNATURE
    out, at = [], 8
    while at < len(png):
        (length,) = struct.unpack(">I", png[at : at + 4])
        kind, data = png[at + 4 : at + 8], png[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", png[at + 8 + length : at + 12 + length])
        assert crc == zlib.crc32(kind + data), kind
        out.append((kind, data))
        at += 12 + length
    return out


@pytest.fixture(scope="module")
def slice_report(slice_run: tuple[Path, bt.BacktestResult]) -> RunReport:
    return build_report(slice_run[0], "bt-slice")


@pytest.mark.parametrize("name", [n for n, _ in CHARTS])
def test_each_chart_is_a_deterministic_png_without_time_or_software(
    slice_report: RunReport, name: str
) -> None:
    draw = dict(CHARTS)[name]
    first = draw(slice_report)
    parts = chunks(first)
    kinds = [k for k, _ in parts]
    assert kinds[0] == b"IHDR" and kinds[-1] == b"IEND" and b"IDAT" in kinds
    assert not {b"tEXt", b"iTXt", b"zTXt", b"tIME"} & set(kinds)  # no tags, no time
    width, height = struct.unpack(">II", parts[0][1][:8])
    assert width == int(WIDTH_IN * DPI) and height >= 300
    assert draw(slice_report) == first
    # The user's settings do not leak in: the chart is drawn under the default style.
    with mpl.rc_context({"lines.linewidth": 6.0, "axes.facecolor": "black", "font.size": 20}):
        assert draw(slice_report) == first


def test_different_data_draws_different_charts(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    write_journal(db, "a")
    changed = tuple(equity(4 * S, "130") if r == HAND_RECORDS[-1] else r for r in HAND_RECORDS)
    write_journal(db, "b", changed)
    a, b = build_report(db, "a"), build_report(db, "b")
    equity_chart = dict(CHARTS)["equity.png"]
    assert equity_chart(a) != equity_chart(b)  # only the last equity sample differs


def test_runs_with_nothing_to_draw_still_get_their_charts(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    write_journal(db, "empty", [])
    written = write_charts(build_report(db, "empty"), tmp_path / "out")
    assert [p.name for p in written] == ["equity.png", "fills.png", "position.png"]
    for path in written:
        assert chunks(path.read_bytes())[0][0] == b"IHDR"


def test_write_report_writes_the_charts_and_the_exports(
    slice_report: RunReport, tmp_path: Path
) -> None:
    written = write_report(slice_report, tmp_path / "r")
    names = sorted(p.name for p in written)
    assert names == sorted(
        [
            "equity.png", "fills.png", "position.png", "orders.csv", "fills.csv",
            "positions.csv", "position_history.csv", "balances.csv", "equity.csv",
            "trades.csv", "report.json",
        ]
    )  # fmt: skip
    assert all(p.parent == tmp_path / "r" and p.stat().st_size > 0 for p in written)


def test_drawdown_by_hand() -> None:
    values = [D("100"), D("110"), D("99"), D("121"), D("60.5")]
    assert drawdown(values) == pytest.approx([0.0, 0.0, -0.1, 0.0, -0.5], abs=1e-15)
    assert drawdown([]) == []
