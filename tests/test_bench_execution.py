"""The execution benchmark runs end to end and reports its figures and budgets
(figures are printed, never asserted: no timing in tests)."""

from __future__ import annotations

import json

import pytest

from adapters.benchmark import execution
from adapters.cli.main import main


def test_json_report_has_every_figure(capsys: pytest.CaptureFixture[str]) -> None:
    assert execution.run([], True, repeats=1, calls=2_000) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["risk_check_ns_per_call_python"] > 0
    assert report["accounting_ns_per_fill_python"] > 0
    assert report["order_round_trip_us"] > 0
    m = report["matching"]
    assert m["level_updates"] > 100_000 and m["resting_orders"] == 100
    assert m["fills"] > 0  # the periodic market orders and the prints do fill
    assert set(report["budget"]) == {
        "risk_check_ns_per_call_python",
        "matching_m_level_updates_per_s",
    }


def test_table_output_through_the_cli(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--suite", "execution"], standalone_mode=True)
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "execution benchmark" in out and "level updates," in out and " fills" in out


def test_unknown_suite_is_a_one_line_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["bench", "--suite", "nope"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert "quantx: error:" in err and "nope" in err and "Traceback" not in err


def test_engine_suite_reports_every_path(capsys: pytest.CaptureFixture[str]) -> None:
    from adapters.benchmark import engine_bench

    assert engine_bench.run([], True, repeats=1) == 0
    report = json.loads(capsys.readouterr().out)
    rates = report["m_level_updates_per_s"]
    assert set(rates) == {
        "replay_book_only",
        "kernel_no_callbacks",
        "demo_market_maker",
        "demo_market_maker_sqlite",
        "demo_market_maker_sqlite_inline",
        "decoding_capture_json",
    }
    assert 0 < report["writer_process_peak_rss_mb"] < report["peak_rss_mb"]
    assert all(v > 0 for v in rates.values()) and report["level_updates"] == 445_521
    assert report["peak_rss_mb"] > 0 and set(report["budget"]) == {
        "demo_m_level_updates_per_s",
        "peak_rss_mb",
    }
