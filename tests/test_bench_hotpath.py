"""The hot-path benchmark runs end to end on a small slice of a real capture and its
correctness check passes (figures are reported, never asserted: no timing in tests)."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest

pytest.importorskip("engine._core")

from adapters.benchmark import hotpath
from adapters.data import BUNDLED_BINANCE_DIR

SLICE_LINES = 3_000


def _slice(tmp_path: Path, name: str, lines: int = SLICE_LINES) -> Path:
    """The first lines of a bundled capture (the REST snapshot is among them)."""
    out = tmp_path / name
    with gzip.open(BUNDLED_BINANCE_DIR / name, "rb") as src, gzip.open(out, "wb") as dst:
        for i, line in enumerate(src):
            if i >= lines:
                break
            dst.write(line)
    return out


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _slice(tmp_path_factory.mktemp("bench"), "usdm-btcusdt-20240808.gz")


def test_json_report_passes_with_positive_figures(
    capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = hotpath.run([capture], True, repeats=2, reference_repeats=1)
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["check"]
    assert report["check"]["passed"] is True
    assert report["check"]["failures"] == []
    assert len(report["check"]["checks"]) == 2
    for key in ("batch", "per_call", "reference", "replay_all_rows"):
        figures = report[key]
        assert figures["level_updates"] > 0
        assert figures["best_ns_per_update"] > 0
        assert figures["median_ns_per_update"] >= figures["best_ns_per_update"]
        assert figures["m_updates_per_s"] > 0
    assert report["reference"]["subset"] is False
    assert set(report["ratios"]) == {
        "per_call_vs_batch",
        "reference_vs_batch",
        "reference_vs_per_call",
    }
    assert all(v > 0 for v in report["ratios"].values())
    assert set(report["budget"]) >= {"batch_ns_per_update", "reference_vs_batch"}
    assert report["peak_rss_bytes"] > 0
    (stream,) = report["streams"]
    assert stream["rule"] == "futures" and stream["snapshots"] == 1
    assert stream["diffs_applied"] > 0 and stream["final_stale"] is False


def test_reference_prefix_is_reported_as_a_subset(
    capture: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = hotpath.run([capture], True, repeats=1, reference_repeats=1, reference_max_rows=3_000)
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["check"]
    assert report["reference"]["subset"] is True
    assert report["reference"]["level_updates"] < report["batch"]["level_updates"]


def test_files_of_one_instrument_are_one_stream(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The 0809 spot file continues 0808 with no snapshot: it must join the same book."""
    first = _slice(tmp_path, "spot-btcusdt-20240808.gz", 1_500)
    code = hotpath.run([first, first], True, repeats=1, reference_repeats=1)
    report = json.loads(capsys.readouterr().out)
    assert code == 0, report["check"]
    (stream,) = report["streams"]
    assert stream["files"] == [first.name, first.name]


def test_table_output_says_pass(capture: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert hotpath.run([capture], False, repeats=1, reference_repeats=1) == 0
    out = capsys.readouterr().out
    assert "PASS" in out and "reference" in out


def test_missing_reference_is_exit_2(
    capture: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(hotpath, "_load_reference", lambda: None)
    assert hotpath.run([capture], True) == 2
    assert "tests/reference/l2.py" in capsys.readouterr().err


def test_unreadable_capture_is_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "usdm-btcusdt-bad.gz"
    bad.write_bytes(b"not gzip")
    assert hotpath.run([bad], True) == 2
    assert "bench" in capsys.readouterr().err
