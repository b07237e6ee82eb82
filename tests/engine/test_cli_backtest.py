"""`quantx backtest` from the command line: the demo, configuration sources, Ctrl-C,
and one-line errors (exit 2, never a traceback)."""

from __future__ import annotations

import json
import os
import signal
import stat
import tempfile
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.cli import backtest_cmd
from adapters.cli.main import main
from adapters.store.sqlite import RunReader

OUT = Path(tempfile.mkdtemp(prefix="quantx-cli-test-"))


def invoke(*args: str, env: dict[str, str] | None = None) -> Any:
    env = {"QUANTX_OUT": str(OUT), **(env or {})}
    return CliRunner().invoke(main, ["backtest", *args], env=env, catch_exceptions=False)


@pytest.fixture(scope="module")
def demo() -> dict[str, Any]:
    result = invoke("--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_journal_is_sqlite_0600_and_the_same_inputs_give_the_same_journal(
    demo: dict[str, Any],
) -> None:
    again = json.loads(invoke("--json").output)
    assert again["journal_sha256"] == demo["journal_sha256"]
    assert again["run_id"] == demo["run_id"] + "-2"  # a second run of the same inputs
    db = Path(demo["store"])
    assert db == OUT / "quantx.db" and stat.S_IMODE(db.stat().st_mode) == 0o600
    reader = RunReader(db)
    try:
        runs = {r["run_id"]: r for r in reader.runs()}
        assert runs[demo["run_id"]]["status"] == "completed"
        assert len(reader.fills(demo["run_id"])) == demo["fills"]
        assert len(reader.orders(demo["run_id"])) == demo["orders"]
    finally:
        reader.close()


def test_the_demo_runs_the_market_maker_on_the_bundled_capture(demo: dict[str, Any]) -> None:
    assert demo["status"] == "completed"
    assert demo["strategy"] == "engine.strategies.market_maker:MarketMaker"
    assert demo["data"][0].endswith("usdm-btcusdt-20240808.gz")
    assert demo["level_updates"] == 445_521 and demo["events"] > demo["level_updates"]
    assert demo["orders"] > 100 and demo["fills"] > 100
    pos = demo["positions"]["BTC/USDT:USDT"]
    # The realized P&L is net of fees, which are paid: it is below the gross result.
    assert float(pos["fees"]) > 0
    # Statistics: the total return is the equity change over the starting cash (the
    # first equity sample is taken before any trade), and the trades are counted.
    figures = demo["statistics"]
    change = (float(demo["equity"]) - float(demo["start_cash"])) / float(demo["start_cash"])
    assert figures["total_return"] == pytest.approx(change, rel=1e-9)
    assert figures["fees_paid"] == pytest.approx(float(pos["fees"]), rel=1e-12)
    assert 0 < figures["trade_count"] <= demo["fills"]
    assert 0 <= figures["win_rate"] <= 1 and figures["max_drawdown"] >= 0


def test_parameters_from_the_command_line_a_toml_file_and_the_environment(
    tmp_path: Path, demo: dict[str, Any]
) -> None:
    cfg = tmp_path / "run.toml"
    cfg.write_text("[backtest]\nparams = { half_spread_ticks = 50 }\n")
    wide = json.loads(invoke("--json", "--config", str(cfg)).output)
    assert wide["fills"] < demo["fills"]  # quotes 50 ticks from the mid fill less often
    narrower = json.loads(
        invoke("--json", "--config", str(cfg), "--param", "half_spread_ticks=5").output
    )
    assert narrower["orders"] == demo["orders"]  # the command line wins over the file...
    env = json.loads(invoke("--json", env={"QUANTX_CASH": "5000"}).output)
    assert env["start_cash"] == "5000"  # ...and the environment fills in what neither sets


@pytest.mark.parametrize(
    ("args", "env", "message"),
    [
        (("--strategy", "nope:X"), None, "strategy 'nope:X': cannot import 'nope'"),
        (("--param", "half_spread_ticks=0"), None, "parameter half_spread_ticks = '0'"),
        (("--param", "oops"), None, "'oops' is not key=value"),
        (("--data", "/no/such.gz"), None, "/no/such.gz: no such data file"),
        (("--config", "/no/such.toml"), None, "/no/such.toml: no such config file"),
        ((), {"QUANTX_CASH": "-5"}, "config value cash = '-5'"),
        ((), {"QUANTX_VENUE__SUBMIT_LATENCY_NS": "-1"}, "config value venue.submit_latency_ns"),
    ],
)
def test_user_errors_are_one_line_with_exit_2(
    args: tuple[str, ...], env: dict[str, str] | None, message: str
) -> None:
    result = CliRunner().invoke(
        main, ["backtest", *args], env={"QUANTX_OUT": str(OUT), **(env or {})}
    )
    assert result.exit_code == 2, result.output
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert message in result.output and "Traceback" not in result.output
    assert (
        len([line for line in lines if line.startswith("quantx: error:") or "Error" in line]) == 1
    )


def test_a_bad_toml_file_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text("cash = = 1\n")
    result = CliRunner().invoke(
        main, ["backtest", "--config", str(bad)], env={"QUANTX_OUT": str(OUT)}
    )
    assert result.exit_code == 2 and f"{bad}: not valid TOML" in result.output


def test_ctrl_c_stops_cleanly_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"n": 0}

    def interrupt_once(self: Any, done: int, total: int) -> None:
        calls["n"] += 1
        if calls["n"] == 2:
            os.kill(os.getpid(), signal.SIGINT)  # as if the user pressed Ctrl-C mid-run

    monkeypatch.setattr(backtest_cmd._Progress, "update", interrupt_once)
    result = invoke("--json")
    out = json.loads(result.output)
    assert result.exit_code == 0 and out["status"] == "interrupted"
    reader = RunReader(Path(out["store"]))
    try:
        assert {r["run_id"]: r["status"] for r in reader.runs()}[out["run_id"]] == "interrupted"
    finally:
        reader.close()
    assert out["events"] < 599_012
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # restored


def test_the_table_output(demo: dict[str, Any]) -> None:
    result = invoke()
    assert result.exit_code == 0
    assert "quantx backtest" in result.output and "BTC/USDT:USDT position" in result.output
