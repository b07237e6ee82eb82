"""Schema version 2 (the journal keyed by one integer per row): a file version 1 wrote is
migrated when a store opens it, keeps every record and read-model row, reads back the
same as a file written at version 2 from the start, and takes appends and new runs
after; a version-1 journal that cannot be keyed is refused and left as it was."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest
from store_fakes import D, every_record_type, initialized, run_started

from adapters.store.codec import encode, type_tag
from adapters.store.readmodel import RUN_COLUMNS, RunProjection
from adapters.store.sqlite import MIGRATIONS, RunReader, SqliteStore, migrate, schema_version
from engine.domain import OrderSubmitted
from engine.domain.journal import EquitySample, JournalRecord, RunEnded, RunStarted
from engine.ports import StoreError


def _v1_file(path: Path, journals: dict[str, list[JournalRecord]]) -> None:
    """A file as the version-1 store left it: the version-1 schema, journal rows keyed by
    (run_id, seq) and the read-model rows, one transaction per run, runs in dict order."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = WAL")
        assert migrate(conn, MIGRATIONS[:1]) == 1
        for run_id, records in journals.items():
            projection = RunProjection(run_id)
            conn.execute("BEGIN")
            for seq, record in enumerate(records, 1):
                projection.fold(seq, record)
                body = encode(record).decode()
                conn.execute(
                    "INSERT INTO journal VALUES (?, ?, ?, ?, ?)",
                    (run_id, seq, type_tag(record), record.ts_event, body),
                )
            changes = projection.drain()
            assert changes.run_started is not None
            columns, slots = ", ".join(RUN_COLUMNS), ", ".join("?" * len(RUN_COLUMNS))
            conn.execute(f"INSERT INTO runs ({columns}) VALUES ({slots})", changes.run_started)
            for table, rows in (
                ("orders", changes.orders),
                ("positions", changes.positions),
                ("balances", changes.balances),
            ):
                for row in rows:  # the projection's rows leave out the run_id
                    slots = ", ".join("?" * (len(row) + 1))
                    conn.execute(f"INSERT INTO {table} VALUES ({slots})", (run_id, *row))
            if changes.run_ended is not None:
                conn.execute(
                    "UPDATE runs SET ts_ended = ?, status = ?, reason = ? WHERE run_id = ?",
                    (*changes.run_ended, run_id),
                )
            conn.execute("COMMIT")
    finally:
        conn.close()


def _read_all(path: Path, run_id: str) -> dict[str, Any]:
    with RunReader(path) as reader:
        return {
            "orders": reader.orders(run_id),
            "fills": reader.fills(run_id),
            "positions": reader.positions(run_id),
            "position_history": reader.position_history(run_id),
            "balances": reader.balances(run_id),
            "equity": reader.equity(run_id),
            "records": list(reader.records(run_id)),
        }


RUN_A = [run_started("run-a"), *every_record_type("run-a")[:-1]]  # not ended: resumable
RUN_B = [
    run_started("run-b", 2_000),
    initialized("o-1", 2_001),
    RunEnded(run_id="run-b", ts_event=2_500, status="completed"),
]


def test_a_version_1_file_migrates_and_reads_as_version_2_wrote_it(tmp_path: Path) -> None:
    old, new = tmp_path / "v1.db", tmp_path / "v2.db"
    _v1_file(old, {"run-a": RUN_A, "run-b": RUN_B})
    with sqlite3.connect(old) as conn:
        assert schema_version(conn) == 1
    with pytest.raises(StoreError, match="schema_version 1 is not 2"):
        RunReader(old)  # readers never migrate: only a store does
    with SqliteStore.open(old, resume="run-a") as store:  # migrates on open
        assert [r for _, r in store.records()] == RUN_A
    # The same journals written at version 2 from the start read back the same.
    for journal in (RUN_A, RUN_B):
        first, rest = journal[0], journal[1:]
        assert isinstance(first, RunStarted)
        with SqliteStore.open(new, run=first) as store:
            for record in rest:
                store.append(record)
            store.commit()
    for run_id in ("run-a", "run-b"):
        assert _read_all(old, run_id) == _read_all(new, run_id)
    migrated = _read_all(old, "run-a")
    assert [seq for seq, _ in migrated["records"]] == list(range(1, len(RUN_A) + 1))
    assert [(f["seq"], f["trade_id"], f["quantity"]) for f in migrated["fills"]] == [
        (10, "t-1", D("0.004"))
    ]
    with sqlite3.connect(old) as conn:
        assert schema_version(conn) == 2
        # Runs keep their creation order as their number; keys are number << 32 | seq.
        assert conn.execute("SELECT run_id, number FROM runs ORDER BY number").fetchall() == [
            ("run-a", 1), ("run-b", 2),
        ]  # fmt: skip
        keys = conn.execute("SELECT id FROM journal WHERE run_id = 'run-b' ORDER BY id")
        assert [k for (k,) in keys] == [(2 << 32) + 1, (2 << 32) + 2, (2 << 32) + 3]
        leftovers = "SELECT name FROM sqlite_master WHERE name IN ('journal_v1', 'orders_v1')"
        assert conn.execute(leftovers).fetchall() == []
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM journal WHERE run_id = 'run-b'")


def test_a_migrated_run_goes_on_and_new_runs_take_the_next_number(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    _v1_file(path, {"run-a": RUN_A, "run-b": RUN_B})
    with SqliteStore.open(path, resume="run-a") as store:
        sample = EquitySample(ts_event=1_100, account="main", currency="USDT", equity=D("7"))
        assert store.append(sample) == len(RUN_A) + 1
        store.commit()
    with SqliteStore.open(path, run=run_started("run-c", 3_000)) as store:
        store.append(initialized("o-9", 3_001))
        store.append(OrderSubmitted(client_order_id="o-9", ts_event=3_002))
        store.commit()
    with RunReader(path) as reader:
        assert [r["run_id"] for r in reader.runs()] == ["run-a", "run-b", "run-c"]
        assert reader.equity("run-a")[-1] == (1_100, D("7"))
        assert [(o["client_order_id"], o["status"]) for o in reader.orders("run-c")] == [
            ("o-9", "SUBMITTED")
        ]
        assert [seq for seq, _ in reader.records("run-c")] == [1, 2, 3]
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT number FROM runs WHERE run_id = 'run-c'").fetchone() == (3,)


def test_a_version_1_journal_that_cannot_be_keyed_is_refused_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "v1.db"
    _v1_file(path, {"run-a": RUN_A})
    with sqlite3.connect(path, isolation_level=None) as conn:  # a row of a run never started
        conn.execute("INSERT INTO journal VALUES ('ghost', 1, 'EquitySample', 5, '{}')")
    with pytest.raises(StoreError, match=r"is not a usable store \(CHECK constraint failed"):
        SqliteStore.open(path, resume="run-a")
    with sqlite3.connect(path) as conn:
        assert schema_version(conn) == 1
        assert conn.execute("SELECT count(*) FROM journal").fetchone() == (len(RUN_A) + 1,)
        columns = [row[1] for row in conn.execute("PRAGMA table_info(runs)")]
        assert "number" not in columns


def test_a_new_file_gets_the_schema_the_migration_steps_build(tmp_path: Path) -> None:
    def schema(conn: sqlite3.Connection) -> list[tuple[str, ...]]:
        rows = conn.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        return [tuple(row) for row in rows]

    with sqlite3.connect(tmp_path / "fresh.db", isolation_level=None) as fresh:
        assert migrate(fresh) == 2  # the one-step schema of a new file
        with sqlite3.connect(tmp_path / "stepped.db", isolation_level=None) as stepped:
            assert migrate(stepped, list(MIGRATIONS)) == 2  # not MIGRATIONS itself: step by step
            assert schema(fresh) == schema(stepped)
            assert len(schema(fresh)) == 15  # 6 tables, 2 triggers, 3 views, 4 indexes
