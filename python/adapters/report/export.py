"""CSV and JSON exports of a `RunReport`: one CSV per table and `report.json` with all.

Values: amounts are the journal's exact decimal strings (`str(Decimal)`, never floats),
times integer nanoseconds (`ts_*`), a missing value an empty CSV field or JSON null.
The statistics are floats (they are ratios, computed in f64); a non-finite one
(`profit_factor` with wins and no losses) is the JSON string "inf" / "-inf" / "nan",
since JSON has no such numbers. Bytes are deterministic: the same report gives the same
files (columns in the store's order, rows in journal order, JSON keys sorted, "\\n" line
ends, no timestamps of the export itself). Files are written whole and then renamed
into place, so a reader never sees half a file."""

from __future__ import annotations

import csv
import io
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, fields
from decimal import Decimal
from pathlib import Path
from typing import Any, Final

import orjson

from adapters.report.build import RunReport, Trade

__all__ = [
    "CSV_TABLES",
    "EQUITY_COLUMNS",
    "TRADE_COLUMNS",
    "csv_bytes",
    "json_value",
    "report_document",
    "report_json",
    "summary",
    "table_rows",
    "write_exports",
    "write_file",
]

EQUITY_COLUMNS: Final = ("ts_event", "equity")
TRADE_COLUMNS: Final = tuple(f.name for f in fields(Trade))
CSV_TABLES: Final = (
    "orders", "fills", "positions", "position_history", "balances", "equity", "trades",
)  # fmt: skip
"""The CSV files (`<name>.csv`), in the order they are written."""
REPORT_FORMAT: Final = "quantx-report/1"


def json_value(value: Any) -> Any:
    """A journal value in its exported JSON form (Decimal -> exact string)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float) and not math.isfinite(value):
        return str(value)  # "inf", "-inf", "nan"
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def table_rows(report: RunReport, table: str) -> tuple[tuple[str, ...], list[Mapping[str, Any]]]:
    """(columns, rows) of one exported table; rows are the report's own (RunReader's for
    the store's tables)."""
    if table == "equity":
        return EQUITY_COLUMNS, [{"ts_event": t, "equity": e} for t, e in report.equity]
    if table == "trades":
        return TRADE_COLUMNS, [asdict(t) for t in report.trades]
    if table not in CSV_TABLES:
        raise ValueError(f"table {table} is not exported (rule: one of {', '.join(CSV_TABLES)})")
    rows: Sequence[Mapping[str, Any]] = getattr(report, table)
    columns = tuple(rows[0]) if rows else _STORE_COLUMNS[table]
    return columns, list(rows)


def csv_bytes(columns: Sequence[str], rows: Iterable[Mapping[str, Any]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow(["" if row[c] is None else str(row[c]) for c in columns])
    return out.getvalue().encode()


def summary(report: RunReport) -> dict[str, Any]:
    """The figures the terminal summary shows, JSON-ready (amounts as strings)."""
    figures = report.statistics
    return {
        "command": "report",
        "run_id": report.run_id,
        "store": report.store,
        "strategy": report.run["strategy"],
        "mode": report.run["mode"],
        "status": report.run["status"],
        "reason": report.run["reason"],
        "orders": len(report.orders),
        "fills": len(report.fills),
        "positions": {
            str(p["symbol"]): {
                "quantity": str(p["quantity"]),
                "avg_entry_price": str(p["avg_entry_price"]),
                "realized_pnl": str(p["realized_pnl"]),
                "fees": str(p["fees"]),
            }
            for p in report.positions
        },
        "balances": {str(b["asset"]): str(b["total"]) for b in report.balances},
        "currency": report.currency,
        "equity_start": _text(report.equity_start),
        "equity": _text(report.equity_end),
        "fees_paid": str(report.fees_paid),
        "traded_notional": str(report.traded_notional),
        "statistics": None if figures is None else json_value(figures.as_dict()),
        "statistics_params": asdict(report.params),
    }


def report_document(report: RunReport) -> dict[str, Any]:
    """Everything in the report, as `report.json` holds it: the summary's keys, `format`,
    the run's row as `run`, and every exported table under `tables`."""
    doc = summary(report)
    del doc["command"]
    doc["format"] = REPORT_FORMAT
    doc["run"] = json_value(report.run)
    doc["tables"] = {table: json_value(table_rows(report, table)[1]) for table in CSV_TABLES}
    return doc


def report_json(report: RunReport) -> bytes:
    return orjson.dumps(report_document(report), option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


def write_file(path: Path, data: bytes) -> None:
    """Writes `data` to a temporary file beside `path` and renames it into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
    os.replace(tmp, path)


def write_exports(report: RunReport, directory: Path) -> list[Path]:
    """`<table>.csv` for each of CSV_TABLES and `report.json` in `directory` (created if
    missing); returns the paths written."""
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for table in CSV_TABLES:
        columns, rows = table_rows(report, table)
        path = directory / f"{table}.csv"
        write_file(path, csv_bytes(columns, rows))
        written.append(path)
    path = directory / "report.json"
    write_file(path, report_json(report))
    written.append(path)
    return written


def _text(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def _store_columns() -> dict[str, tuple[str, ...]]:
    from adapters.store import readmodel

    fill = (
        "run_id", "seq", "trade_id", "client_order_id", "symbol", "side", "price", "quantity",
        "fee", "fee_currency", "liquidity", "ts_event",
    )  # fmt: skip
    history = (
        "run_id", "seq", "account", "symbol", "currency", "quantity", "avg_entry_price",
        "realized_pnl", "fees", "ts_event",
    )  # fmt: skip
    return {
        "orders": tuple(readmodel.ORDER_COLUMNS),
        "fills": fill,
        "positions": tuple(readmodel.POSITION_COLUMNS),
        "position_history": history,
        "balances": tuple(readmodel.BALANCE_COLUMNS),
    }


_STORE_COLUMNS: Final = _store_columns()
"""Header of an empty table (the store's view columns; a non-empty one takes its rows')."""
