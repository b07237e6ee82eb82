"""`quantx replay` and `quantx bench` as a user runs them: output, exit codes, memory."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from adapters.cli.main import main

PEAK_RSS_LIMIT_MB = 200


def run_cli(*args: str) -> Result:
    try:
        runner = CliRunner(mix_stderr=False)  # type: ignore[call-arg]  # click < 8.2
    except TypeError:
        runner = CliRunner()
    return runner.invoke(main, list(args), catch_exceptions=False)


def assert_one_line_error(result: Result, *fragments: str) -> None:
    assert result.exit_code == 2, result.output
    assert result.stdout == ""
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("quantx: error: ")
    for fragment in fragments:
        assert fragment in lines[0]
    assert "Traceback" not in result.stderr


def test_replay_json_defaults_to_the_bundled_futures_capture() -> None:
    result = run_cli("replay", "--json")
    assert result.exit_code == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["sources"] == ["usdm-btcusdt-20240808.gz"]
    assert report["instrument"]["sequence_rule"] == "futures"
    assert report["lines_by_stream"]["btcusdt@depth@0ms"] == 6_551
    assert report["gap_count"] == 0 and report["gaps"] == []
    assert report["malformed_lines"] == 0
    assert report["ticker_comparisons"] == 629
    assert report["ticker_agreed"] == 629
    assert report["best_bid"] == {"price": "61659.7", "qty": "1.486"}
    assert report["best_ask"] == {"price": "61659.8", "qty": "0.981"}
    assert report["elapsed_s"] > 0 and report["events_per_s"] > 0


def test_replay_table_for_the_spot_pair(spot_captures: list[Path]) -> None:
    result = run_cli("replay", *map(str, spot_captures))
    assert result.exit_code == 0, result.stderr
    out = result.stdout
    for expected in (
        "binance:spot:BTCUSDT",
        "spot-btcusdt-20240808.gz",
        "spot-btcusdt-20240809.gz",
        "btcusdt@depth@100ms",
        "6,495",  # diff lines over both files
        "6,493",  # diffs applied
        "1,072",  # bookTicker comparisons, all agreed
        "100.00% agreed",
        "61602.01 x 1.67177000",
        "61602.02 x 2.66795000",
        "events/s",
    ):
        assert expected in out, f"{expected!r} missing from:\n{out}"


def test_replay_lists_gaps_with_file_and_line(
    usdm_capture: Path, read_gzip_lines, write_gzip_lines
) -> None:
    lines = read_gzip_lines(usdm_capture)
    diffs = [i for i, line in enumerate(lines) if b"@depth" in line]
    path = write_gzip_lines("usdm-btcusdt-gap.gz", lines[: diffs[500]] + lines[diffs[500] + 1 :])
    result = run_cli("replay", "--json", str(path))
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["gap_count"] == 1
    assert report["gaps"][0]["source"] == path.name
    assert report["gaps"][0]["line"] == diffs[501]
    assert report["book_stale"] is True


def test_missing_file_is_one_line_exit_2(tmp_path: Path) -> None:
    missing = tmp_path / "nope.gz"
    assert_one_line_error(run_cli("replay", str(missing)), str(missing), "no such file")


def test_not_a_capture_is_one_line_exit_2(tmp_path: Path) -> None:
    junk = tmp_path / "notes.gz"
    junk.write_text("just text\n")
    assert_one_line_error(run_cli("replay", str(junk)), "notes.gz", "not a readable gzip file")
    assert_one_line_error(run_cli("replay", str(tmp_path)), "is a directory")


def test_two_markets_in_one_replay_is_one_line_exit_2(
    usdm_capture: Path, spot_captures: list[Path]
) -> None:
    result = run_cli("replay", str(usdm_capture), str(spot_captures[0]))
    assert_one_line_error(result, "binance:spot:BTCUSDT", "binance:usdm:BTCUSDT")


def test_a_bad_option_is_one_line_exit_2() -> None:
    assert_one_line_error(run_cli("replay", "--jsonn"), "--jsonn")


def test_bench_hands_paths_to_the_hotpath_module(
    monkeypatch: pytest.MonkeyPatch, usdm_capture: Path
) -> None:
    calls: list[tuple[list[Path], bool]] = []

    def fake_run(paths: list[Path], as_json: bool) -> int:
        calls.append((paths, as_json))
        return 0

    fake = types.ModuleType("adapters.benchmark.hotpath")
    fake.run = fake_run  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "adapters.benchmark.hotpath", fake)
    if "adapters.benchmark" not in sys.modules:
        monkeypatch.setitem(
            sys.modules, "adapters.benchmark", types.ModuleType("adapters.benchmark")
        )

    assert run_cli("bench", "--json", str(usdm_capture)).exit_code == 0
    assert calls == [([usdm_capture], True)]
    assert_one_line_error(run_cli("bench", "missing.gz"), "missing.gz", "no such file")


def _quantx_command() -> list[str]:
    script = Path(sys.executable).parent / "quantx"
    if script.exists():
        return [str(script)]
    found = shutil.which("quantx")
    return [found] if found else [sys.executable, "-m", "adapters.cli.main"]


def test_real_process_replay_json_stays_under_the_memory_bound() -> None:
    """The CLI as installed, in its own process; a parent process of its own measures the
    peak RSS, so children of other tests cannot inflate RUSAGE_CHILDREN."""
    probe = (
        "import json, resource, subprocess, sys\n"
        "p = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "rss_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss\n"
        "print(json.dumps({'rc': p.returncode, 'out': p.stdout, 'err': p.stderr, 'kb': rss_kb}))\n"
    )
    command = [*_quantx_command(), "replay", "--json"]
    done = subprocess.run(
        [sys.executable, "-c", probe, *command], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr
    probe_result = json.loads(done.stdout)
    assert probe_result["rc"] == 0, probe_result["err"]
    report = json.loads(probe_result["out"])
    assert report["gap_count"] == 0
    assert report["ticker_agreed"] == report["ticker_comparisons"] == 629
    peak_mb = probe_result["kb"] / 1024  # Linux reports ru_maxrss in KiB
    assert peak_mb < PEAK_RSS_LIMIT_MB, f"peak RSS {peak_mb:.0f} MB"


def test_bare_quantx_shows_help() -> None:
    result = run_cli()
    assert result.exit_code == 0
    assert "replay" in result.stdout and "bench" in result.stdout
