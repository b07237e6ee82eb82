"""`quantx report`, `status`, `orders`, `positions`, `pnl`, and the report `quantx
backtest` writes: output against the store, and one-line errors (exit 2)."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from report_journals import MM, S, capture_slice, write_journal

import adapters.backtest as bt
from adapters.cli.main import main
from adapters.report.build import build_report
from adapters.store.sqlite import RunReader, connect

COMMANDS = ("report", "status", "orders", "positions", "pnl")


def quantx(*args: str) -> Any:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def as_json(*args: str) -> Any:
    result = quantx(*args, "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.stdout)


@pytest.fixture(scope="module")
def backtest(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`quantx backtest --json` over the capture slice into a fresh --out."""
    out = tmp_path_factory.mktemp("cli-report")
    data = capture_slice()
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(bt, "load_streams", lambda paths: data)
        mp.setenv("QUANTX_OUT", str(out))
        summary = as_json("backtest", "--param", "half_spread_ticks=30")
    summary["out"] = out
    return summary


def test_backtest_writes_its_report_beside_the_store(backtest: dict[str, Any]) -> None:
    out, run_id = backtest["out"], backtest["run_id"]
    assert backtest["report_dir"] == str(out / run_id)
    names = {p.name for p in (out / run_id).iterdir()}
    assert {"equity.png", "fills.png", "position.png", "orders.csv", "report.json"} <= names
    doc = json.loads((out / run_id / "report.json").read_text())
    # The report rebuilt from the journal agrees with what the run computed itself.
    assert doc["statistics"] == backtest["statistics"]
    assert doc["statistics"]["trade_count"] == 42
    assert len(doc["tables"]["fills"]) == doc["fills"] == backtest["fills"] == 86
    assert doc["positions"]["BTC/USDT:USDT"] == backtest["positions"]["BTC/USDT:USDT"]
    assert doc["tables"]["equity"][-1]["equity"] == doc["equity"] == backtest["equity"]


def test_backtest_table_says_where_the_report_is(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    data = capture_slice()
    monkeypatch.setattr(bt, "load_streams", lambda paths: data)
    monkeypatch.setenv("QUANTX_OUT", str(tmp_path))
    monkeypatch.setenv("COLUMNS", "200")
    result = quantx("backtest")
    assert result.exit_code == 0, result.output
    [line] = [x for x in result.stdout.splitlines() if x.startswith("report: ")]
    run_id = line.split("/")[-1].split(" ")[0]
    assert line == f"report: {tmp_path / run_id} (charts, CSV and JSON)"
    assert (tmp_path / run_id / "equity.png").is_file()


def test_report_rebuilds_the_same_figures_and_files(
    backtest: dict[str, Any], tmp_path: Path
) -> None:
    store = str(backtest["out"] / "quantx.db")
    shown = as_json("report", "latest", "--store", store, "--out", str(tmp_path))
    assert shown["run_id"] == backtest["run_id"] and shown["report_dir"] == str(tmp_path)
    assert shown["statistics"] == backtest["statistics"]
    assert (shown["orders"], shown["fills"]) == (backtest["orders"], backtest["fills"])
    assert shown["equity"] == backtest["equity"] and shown["equity_start"] == "100000"
    first = backtest["out"] / backtest["run_id"]
    for name in shown["files"]:
        assert (tmp_path / name).read_bytes() == (first / name).read_bytes(), name
    # Without --out: <the store's folder>/<run_id>/.
    default = as_json("report", backtest["run_id"], "--store", store)
    assert default["report_dir"] == str(first)


def test_report_table(backtest: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    store = str(backtest["out"] / "quantx.db")
    result = quantx("report", "latest", "--store", store)
    assert result.exit_code == 0, result.output
    text = " ".join(result.stdout.split())  # rich wraps a title to the table's width
    assert f"quantx report {backtest['run_id']}: {MM} (completed)" in text
    assert "trades, win rate" in text and "42, 9.5%" in text  # 4 winners of 42
    assert f"report: {backtest['out'] / backtest['run_id']} (charts, CSV and JSON)" in text


def test_status_orders_positions_pnl_read_the_store(backtest: dict[str, Any]) -> None:
    store = str(backtest["out"] / "quantx.db")
    run_id = backtest["run_id"]
    runs = as_json("status", "--store", store)["runs"]
    assert [(r["run_id"], r["status"], r["mode"], r["strategy"]) for r in runs] == [
        (run_id, "completed", "backtest", MM)
    ]
    orders = as_json("orders", "latest", "--store", store)
    assert orders["run_id"] == run_id and len(orders["orders"]) == backtest["orders"]
    with RunReader(store) as reader:
        first = reader.orders(run_id)[0]
    assert orders["orders"][0] == {
        k: (str(v) if isinstance(v, Decimal) else v) for k, v in first.items()
    }
    held = as_json("positions", run_id, "--store", store)
    [position] = held["positions"]
    expected = backtest["positions"]["BTC/USDT:USDT"]
    assert {k: position[k] for k in expected} == expected
    assert [b["asset"] for b in held["balances"]] == ["USDT"]
    pnl = as_json("pnl", run_id, "--store", store, "--mark", "BTC/USDT:USDT=60000")
    [p] = pnl["positions"]
    assert p["realized_pnl"] == expected["realized_pnl"] and p["mark"] == "60000"
    unrealized = Decimal(p["quantity"]) * (60000 - Decimal(p["avg_entry_price"]))
    assert Decimal(p["unrealized_pnl"]) == unrealized.quantize(Decimal("1e-18"))
    report = build_report(store, run_id)
    assert pnl["equity_end"] == backtest["equity"] == str(report.equity_end)
    cash = Decimal(held["balances"][0]["total"])
    assert Decimal(pnl["unrealized_at_last_sample"]) == Decimal(backtest["equity"]) - cash


def test_tables_of_the_read_commands(
    backtest: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")
    store = str(backtest["out"] / "quantx.db")
    run_id = backtest["run_id"]
    status = quantx("status", "--store", store).stdout
    assert run_id in status and "completed" in status
    orders = " ".join(quantx("orders", run_id, "--store", store).stdout.split())
    assert "(symbol: BTC/USDT:USDT; type: LIMIT; tif: GTC" in orders and "qx-1 " in orders
    positions = quantx("positions", run_id, "--store", store).stdout
    assert backtest["positions"]["BTC/USDT:USDT"]["realized_pnl"] in positions
    pnl = quantx("pnl", run_id, "--store", store).stdout
    assert "no mark given (--mark SYMBOL=PRICE)" in pnl
    assert "unrealized P&L at the last sample (equity - cash)" in pnl


def test_every_command_has_help() -> None:
    for command in (*COMMANDS, "backtest"):
        result = quantx(command, "--help")
        assert result.exit_code == 0 and "Usage:" in result.stdout, command
        assert "--json" in result.stdout, command


def one_line_error(*args: str) -> str:
    result = quantx(*args)
    assert result.exit_code == 2, result.output
    assert result.stdout == "" and "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("quantx: error: "), result.stderr
    return lines[0]


def test_errors_are_one_line_exit_2(backtest: dict[str, Any], tmp_path: Path) -> None:
    store = str(backtest["out"] / "quantx.db")
    missing = str(tmp_path / "none.db")
    for command in COMMANDS:
        args = [command] if command == "status" else [command, "latest"]
        line = one_line_error(*args, "--store", missing)
        assert line.endswith(f"path {missing} does not exist (rule: a store file to read)")
    for command in ("report", "orders", "positions", "pnl"):
        line = one_line_error(command, "bt-nope", "--store", store)
        assert "run_id bt-nope is not a run in" in line, line
        assert "missing argument 'run_id'" in one_line_error(command).lower()
    not_sqlite = tmp_path / "notes.txt"
    not_sqlite.write_text("hello")
    assert "cannot be read as a store" in one_line_error("status", "--store", str(not_sqlite))
    line = one_line_error("pnl", "latest", "--store", store, "--mark", "BTCUSDT")
    assert "'BTCUSDT' is not SYMBOL=PRICE with a positive decimal price" in line
    line = one_line_error("pnl", "latest", "--store", store, "--mark", "ETHUSDT=1")
    assert "mark ETHUSDT has no position in run" in line
    assert "No such option '--bogus'" in one_line_error("orders", "latest", "--bogus")
    one = tmp_path / "one.db"
    write_journal(one, "only")
    blocker = tmp_path / "file"
    blocker.write_text("")
    line = one_line_error("report", "only", "--store", str(one), "--out", str(blocker / "x"))
    assert f"--out {blocker / 'x'}: cannot write the report" in line


def test_status_lists_runs_in_creation_order_and_an_empty_store_has_none(
    tmp_path: Path,
) -> None:
    db = tmp_path / "q.db"
    write_journal(db, "zulu", end_ts=S)
    write_journal(db, "alpha", end_ts=2 * S)
    runs = as_json("status", "--store", str(db))["runs"]
    assert [r["run_id"] for r in runs] == ["zulu", "alpha"]
    assert as_json("orders", "latest", "--store", str(db))["run_id"] == "alpha"
    empty = tmp_path / "empty.db"
    connect(empty).close()  # a store with its schema and no run
    assert as_json("status", "--store", str(empty)) == {"store": str(empty), "runs": []}
    assert f"no runs in {empty}" in quantx("status", "--store", str(empty)).stdout
    line = one_line_error("report", "latest", "--store", str(empty))
    assert line == f"quantx: error: run_id latest names no run: {empty} has none"
