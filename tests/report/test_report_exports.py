"""CSV and JSON exports: parsed back they equal the RunReader rows (exact decimals),
report.json holds every table and the statistics, and the bytes are deterministic."""

from __future__ import annotations

import csv
import io
import math
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from report_journals import HAND_RECORDS, D, S, equity, position, write_journal

import adapters.backtest as bt
from adapters.report.build import build_report
from adapters.report.export import (
    CSV_TABLES,
    EQUITY_COLUMNS,
    TRADE_COLUMNS,
    json_value,
    report_document,
    write_exports,
)
from adapters.store.sqlite import RunReader

MONEY = {
    "quantity", "price", "trigger_price", "filled_qty", "avg_fill_price", "fee",
    "avg_entry_price", "realized_pnl", "fees", "total", "equity", "pnl",
    "quantity_before", "quantity_after",
}  # fmt: skip
TIMES_AND_COUNTS = {"seq", "ts_event", "ts_created", "ts_updated"}


def parse_csv(path: Path) -> tuple[list[str], list[dict[str, Any]]]:
    """The file's header and rows with the store's types back: Decimal amounts, int
    times, None for an empty field."""
    reader = csv.DictReader(io.StringIO(path.read_text()))
    rows = []
    for raw in reader:
        row: dict[str, Any] = {}
        for key, text in raw.items():
            if text == "":
                row[key] = None
            elif key in MONEY:
                row[key] = Decimal(text)
            elif key in TIMES_AND_COUNTS:
                row[key] = int(text)
            else:
                row[key] = text
        rows.append(row)
    return list(reader.fieldnames or []), rows


@pytest.fixture(scope="module")
def exported(
    slice_run: tuple[Path, bt.BacktestResult], tmp_path_factory: pytest.TempPathFactory
) -> Path:
    db, _ = slice_run
    out = tmp_path_factory.mktemp("exports")
    write_exports(build_report(db, "bt-slice"), out)
    return out


def test_each_csv_parses_back_to_the_reader_rows(
    slice_run: tuple[Path, bt.BacktestResult], exported: Path
) -> None:
    db, _ = slice_run
    with RunReader(db) as reader:
        expected = {
            "orders": reader.orders("bt-slice"),
            "fills": reader.fills("bt-slice"),
            "positions": reader.positions("bt-slice"),
            "position_history": reader.position_history("bt-slice"),
            "balances": reader.balances("bt-slice"),
        }
        curve = reader.equity("bt-slice")
    for table, rows in expected.items():
        header, parsed = parse_csv(exported / f"{table}.csv")
        assert header == list(rows[0]), table
        assert parsed == rows, table
        # Exact strings, not re-rendered numbers: "0.010" stays "0.010".
    assert "0.010" in (exported / "orders.csv").read_text()
    header, parsed = parse_csv(exported / "equity.csv")
    assert tuple(header) == EQUITY_COLUMNS
    assert [(r["ts_event"], r["equity"]) for r in parsed] == curve
    header, parsed = parse_csv(exported / "trades.csv")
    assert tuple(header) == TRADE_COLUMNS and len(parsed) == 42
    assert [r["pnl"] for r in parsed] == build_report(db, "bt-slice").trade_pnl


def test_report_json_holds_every_table_and_the_statistics(
    slice_run: tuple[Path, bt.BacktestResult], exported: Path
) -> None:
    db, result = slice_run
    report = build_report(db, "bt-slice")
    doc = orjson.loads((exported / "report.json").read_bytes())
    assert doc["format"] == "quantx-report/1" and doc["run_id"] == "bt-slice"
    for table in CSV_TABLES:
        _, parsed = parse_csv(exported / f"{table}.csv")
        # The same rows as the CSV, with JSON's types (decimals as the same strings).
        as_text = [{k: (None if v is None else str(v)) for k, v in r.items()} for r in parsed]
        in_json = [
            {k: (None if v is None else str(v)) for k, v in r.items()} for r in doc["tables"][table]
        ]
        assert in_json == as_text, table
    figures = result.statistics(report.params)
    assert figures is not None and doc["statistics"] == figures.as_dict()
    assert doc["fees_paid"] == str(report.fees_paid)
    assert doc["traded_notional"] == str(result.traded_notional)
    assert doc["tables"]["equity"] == [{"ts_event": t, "equity": str(e)} for t, e in report.equity]
    assert doc["equity"] == str(report.equity_end) and doc["orders"] == len(report.orders)
    assert doc["run"]["status"] == "completed"
    assert doc["statistics_params"] == {
        "interval_ns": 60 * S,
        "periods_per_year": 525_600.0,
        "risk_free_rate": 0.0,
        "ddof": 1,
    }


def test_exports_are_deterministic_bytes(
    slice_run: tuple[Path, bt.BacktestResult], exported: Path, tmp_path: Path
) -> None:
    db, _ = slice_run
    again = write_exports(build_report(db, "bt-slice"), tmp_path)
    assert sorted(p.name for p in again) == sorted(
        [f"{t}.csv" for t in CSV_TABLES] + ["report.json"]
    )
    for path in again:
        assert path.read_bytes() == (exported / path.name).read_bytes(), path.name
    assert not list(tmp_path.glob(".*.tmp"))  # written whole, then renamed


def test_a_profit_factor_without_losses_is_the_string_inf(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    records = [
        equity(1 * S, "100"),
        position(1_100_000_000, "BTCUSDT", "2", "100", "-0.2", "0.2"),
        position(1_200_000_000, "BTCUSDT", "1", "100", "4.8", "0.3"),  # a winner: +5
        equity(2 * S, "105"),
    ]
    write_journal(db, "wins", records)
    report = build_report(db, "wins")
    assert report.statistics is not None and math.isinf(report.statistics.profit_factor)
    doc = orjson.loads(orjson.dumps(report_document(report)))
    assert doc["statistics"]["profit_factor"] == "inf"
    assert doc["tables"]["trades"][0]["pnl"] == "5.0"


def test_empty_tables_still_have_their_header(
    slice_run: tuple[Path, bt.BacktestResult], exported: Path, tmp_path: Path
) -> None:
    db = tmp_path / "q.db"
    write_journal(db, "hand", HAND_RECORDS[:1])
    write_exports(build_report(db, "hand"), tmp_path / "out")
    for table in ("orders", "fills", "positions", "position_history", "balances", "trades"):
        empty = (tmp_path / "out" / f"{table}.csv").read_text()
        # The same header as the real run's, and nothing else.
        assert empty == (exported / f"{table}.csv").read_text().split("\n")[0] + "\n", table


def test_json_value_keeps_decimals_exact() -> None:
    assert json_value({"a": [D("1.10"), None, 2, float("-inf")]}) == {
        "a": ["1.10", None, 2, "-inf"]
    }
