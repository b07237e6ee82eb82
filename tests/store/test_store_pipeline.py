"""Pipelined commits (`SqliteStore.open(..., pipelined=True)`): the writer process puts the
same bytes in the file as an inline store, batch by batch; failures stop the store; a
dying parent leaves whole batches; the writer itself is tested in-process too."""

from __future__ import annotations

import io
import os
import pickle
import signal
import sqlite3
import sys
import textwrap
import time
from pathlib import Path
from typing import Any

import pytest
from store_fakes import D, every_record_type, initialized, killed_when_ready, run_started

from adapters.store import writer_process
from adapters.store.sqlite import RunReader, SqliteStore
from engine.domain import OrderAccepted, OrderSubmitted
from engine.domain.journal import EquitySample, JournalRecord
from engine.ports import StoreError

RUN = run_started()


def sample(ts: int, value: str = "1") -> EquitySample:
    return EquitySample(ts_event=ts, account="main", currency="USDT", equity=D(value))


def dump(path: Path) -> list[tuple[Any, ...]]:
    """Every row of every table of the file, in key order."""
    conn = sqlite3.connect(path)
    try:
        tables = [t for (t,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows: list[tuple[Any, ...]] = []
        for table in sorted(tables):
            rows += [(table, *r) for r in conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2")]
    finally:
        conn.close()
    return rows


def opened_with_fault(path: Path, table: str, when: str, message: str) -> SqliteStore:
    """A pipelined store whose writer will fail inserts into `table` matching `when`
    (installed from another connection, as a full disk would strike)."""
    store = SqliteStore.open(path, run=RUN, pipelined=True)
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute(
            f"CREATE TRIGGER fault BEFORE INSERT ON {table} WHEN {when}"
            f" BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )
    conn.close()
    return store


def write_batches(store: SqliteStore, batches: list[list[JournalRecord]]) -> None:
    for batch in batches:
        for record in batch:
            store.append(record)
        store.commit()


def batches_of_every_kind() -> list[list[JournalRecord]]:
    """Batches of one to many records (single-statement and BEGIN..COMMIT transactions)."""
    journal = every_record_type(RUN.run_id)
    chunked = [sample(1_600 + i, str(i)) for i in range(150)]  # statements of 64, 64, 22 rows
    return [[sample(1_500)], journal[:3], chunked, journal[3:]]  # the last one ends the run


def test_the_file_holds_the_same_rows_as_an_inline_store(tmp_path: Path) -> None:
    writers = []
    for name, pipelined in (("inline.db", False), ("pipelined.db", True)):
        with SqliteStore.open(tmp_path / name, run=RUN, pipelined=pipelined) as store:
            assert store.pipelined is pipelined
            writers.append(store.writer)
            write_batches(store, batches_of_every_kind())
    assert writers[0] is None and writers[1] is not None
    assert writers[1].wait(timeout=30) == 0
    assert not (tmp_path / "pipelined.db-wal").exists()  # checkpointed as the writer ended
    assert dump(tmp_path / "pipelined.db") == dump(tmp_path / "inline.db")
    assert len(dump(tmp_path / "inline.db")) > 150


def test_sync_puts_every_committed_batch_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    with SqliteStore.open(path, run=RUN, pipelined=True) as store:
        store.append(initialized("o-1"))
        store.append(OrderSubmitted(client_order_id="o-1", ts_event=1_100))
        store.commit()
        store.append(OrderAccepted(client_order_id="o-1", ts_event=1_200))  # not committed
        store.sync()
        assert store.committed == 3 and store.uncommitted == 1
        with RunReader(path) as reader:
            assert [o["status"] for o in reader.orders(RUN.run_id)] == ["SUBMITTED"]
            assert [seq for seq, _ in reader.records(RUN.run_id)] == [1, 2, 3]
        # records() waits for the writer itself, then adds the open batch
        assert [seq for seq, _ in store.records()] == [1, 2, 3, 4]
    with SqliteStore.open(path, resume=RUN.run_id, pipelined=True) as again:
        assert [seq for seq, _ in again.records()] == [1, 2, 3]  # the open batch was dropped


def test_a_failed_transaction_stops_the_store_and_names_the_rule(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    store = opened_with_fault(path, "orders", "NEW.client_order_id = 'o-bad'", "injected")
    store.append(initialized("o-1"))
    store.commit()
    store.append(initialized("o-bad"))
    store.commit()  # handed over: the failure comes back later
    store.append(sample(2_000))
    store.commit()  # builds on the lost batch: skipped by the writer
    with pytest.raises(StoreError) as caught:
        store.sync()
    message = str(caught.value)
    assert "IntegrityError: injected" in message
    assert "that batch and every later one are lost (rule: stop)" in message
    with pytest.raises(StoreError, match="is closed"):
        store.append(sample(3_000))
    store.close()  # closing again raises nothing new
    with RunReader(path) as reader:
        assert [seq for seq, _ in reader.records(RUN.run_id)] == [1, 2]  # up to the lost one
        assert [o["client_order_id"] for o in reader.orders(RUN.run_id)] == ["o-1"]


def test_a_failure_nobody_asked_about_is_raised_by_close(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    store = opened_with_fault(path, "journal", "1", "disk full, say")
    store.append(sample(2_000))
    store.commit()
    with pytest.raises(StoreError, match="disk full, say"):
        store.close()


def test_a_failure_is_seen_at_the_next_commit_once_reported(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    store = opened_with_fault(path, "journal", "1", "no room")
    store.append(sample(2_000))
    store.commit()
    deadline = time.monotonic() + 30
    with pytest.raises(StoreError, match="no room"):
        while time.monotonic() < deadline:  # the writer answers within milliseconds
            store.append(sample(3_000))
            store.commit()
            time.sleep(0.01)
    assert store.uncommitted == 0
    with pytest.raises(StoreError, match="is closed"):
        store.commit()


def test_a_killed_writer_fails_the_next_call(tmp_path: Path) -> None:
    store = SqliteStore.open(tmp_path / "q.db", run=RUN, pipelined=True)
    writer = store._writer
    assert writer is not None
    os.kill(writer._proc.pid, signal.SIGKILL)
    writer._proc.wait(timeout=30)
    with pytest.raises(StoreError, match=r"writer process .*exit code -9"):
        for i in range(100):  # the pipe takes a frame or two before it is known closed
            store.append(sample(2_000 + i))
            store.commit()
            store.sync()


def test_the_writer_ignores_a_terminals_ctrl_c(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    with SqliteStore.open(path, run=RUN, pipelined=True) as store:
        writer = store._writer
        assert writer is not None
        store.append(sample(2_000))
        store.commit()
        store.sync()  # the writer is up and has its SIGINT handler
        os.kill(writer._proc.pid, signal.SIGINT)
        store.append(sample(3_000))
        store.commit()
    with RunReader(path) as reader:
        assert [seq for seq, _ in reader.records(RUN.run_id)] == [1, 2, 3]


PARENT = textwrap.dedent(
    """
    import sys, time
    from decimal import Decimal
    from adapters.store.sqlite import SqliteStore
    from engine.domain.journal import EquitySample
    from store_fakes import run_started

    store = SqliteStore.open(sys.argv[1], run=run_started(), pipelined=True)
    for i in range(200):
        for j in range(3):
            store.append(EquitySample(ts_event=2_000 + i, account="main", currency="USDT",
                                      equity=Decimal(j)))
        store.commit()
    store.append(EquitySample(ts_event=9_000, account="main", currency="USDT",
                              equity=Decimal(1)))  # never committed
    print("ready", store.committed, flush=True)
    time.sleep(120)
    """
)


def test_a_parent_killed_mid_run_leaves_every_batch_it_handed_over(tmp_path: Path) -> None:
    path = tmp_path / "q.db"
    assert killed_when_ready(PARENT, path) == ["ready", "601"]
    # The orphaned writer commits what it was handed, then checkpoints and exits.
    deadline = time.monotonic() + 30
    while (path.parent / "q.db-wal").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    with SqliteStore.open(path, resume=RUN.run_id) as store:
        seqs = [seq for seq, _ in store.records()]
    assert seqs == list(range(1, 602))


# --- the writer process's own code, in-process ---------------------------------------------------
def frame(message: object) -> bytes:
    body = pickle.dumps(message)
    return writer_process.HEADER.pack(len(body)) + body


def test_frames_stop_at_a_frame_cut_short() -> None:
    whole = frame(("sync", 1)) + frame(("sync", 2))
    cut = frame(("tx", ([], [])))[:-3]
    assert list(writer_process.frames(io.BytesIO(whole + cut))) == [("sync", 1), ("sync", 2)]
    assert list(writer_process.frames(io.BytesIO(whole[:2]))) == []


def test_serve_runs_transactions_and_answers_syncs(
    tmp_path: Path, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    path = str(tmp_path / "w.db")
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TABLE t (x INTEGER CHECK (x < 3))")
    conn.close()
    insert = (0, "INSERT INTO t VALUES (?)")
    source = io.BytesIO(
        frame(("tx", ([insert], [(0, (1,))])))
        + frame(("tx", ([(1, "BEGIN IMMEDIATE"), (2, "COMMIT")], [(1, ()), (0, (2,)), (2, ())])))
        + frame(("sync", 7))
        + frame(("tx", ([], [(1, ()), (0, (0,)), (0, (5,)), (2, ())])))  # fails mid-way...
        + frame(("tx", ([], [(0, (0,))])))  # ...and the next one builds on it: skipped
        + frame(("sync", 8))
    )
    failed = writer_process.serve(path, "NORMAL", 100, source)
    assert failed == "IntegrityError: CHECK constraint failed: x < 3"
    assert _replies(capfdbinary.readouterr().out) == [
        ("ok", 7), ("error", failed), ("error", failed), ("done", failed),
    ]  # fmt: skip
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT x FROM t").fetchall() == [(1,), (2,)]  # rolled back
    conn.close()


def test_main_answers_closed_with_why_it_could_not_start(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capfdbinary: pytest.CaptureFixture[bytes]
) -> None:
    class Stdin:
        buffer = io.BytesIO(frame(("sync", 1)))

    monkeypatch.setattr(sys, "stdin", Stdin)
    monkeypatch.setattr(signal, "signal", lambda *a: None)  # the test runner keeps its Ctrl-C
    niced: list[int] = []
    monkeypatch.setattr(os, "nice", niced.append)  # ...and its priority
    missing = str(tmp_path / "no" / "such" / "dir" / "w.db")
    assert writer_process.main(["writer", missing, "NORMAL", "100"]) == 1
    [(kind, why)] = _replies(capfdbinary.readouterr().out)
    assert kind == "done" and "unable to open database file" in why
    assert niced == [writer_process.NICE]


def _replies(data: bytes) -> list[Any]:
    return list(writer_process.frames(io.BytesIO(data)))
