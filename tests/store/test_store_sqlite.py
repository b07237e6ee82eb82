"""SqliteStore beyond the shared contract: the file (0600, WAL, schema and migrations),
run management, refusals, injected write failures, read models written by a real
OrderManager, readers that see committed data only, and a SIGKILL mid-batch."""

from __future__ import annotations

import os
import sqlite3
import stat
import textwrap
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from store_fakes import (
    BTC,
    BUY,
    SELL,
    D,
    FakeVenue,
    ManualClock,
    every_record_type,
    initialized,
    killed_when_ready,
    make_fill,
    run_started,
)

from adapters.store.sqlite import (
    MIGRATIONS,
    SCHEMA_VERSION,
    RunReader,
    SqliteStore,
    migrate,
    schema_version,
)
from engine.domain import (
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderStatus,
    OrderSubmitted,
    OrderType,
    OrderUpdated,
)
from engine.domain.journal import (
    BalanceSnapshot,
    EquitySample,
    PositionSnapshot,
    RunEnded,
    RunStarted,
)
from engine.ports import StoreError
from engine.services.order_manager import OrderManager

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "quantx.db"


@pytest.fixture
def store(path: Path) -> Iterator[SqliteStore]:
    with SqliteStore.open(path, run=run_started()) as opened:
        yield opened


def raw(path: Path) -> sqlite3.Connection:
    """A plain connection of the test's own (another process would see the same)."""
    return sqlite3.connect(path, isolation_level=None)


def mode(file: Path) -> int:
    return stat.S_IMODE(file.stat().st_mode)


# --- the file -------------------------------------------------------------------------------
def test_files_are_created_0600_whatever_the_umask(path: Path) -> None:
    old = os.umask(0)  # the most permissive umask: nothing may depend on it
    try:
        with SqliteStore.open(path, run=run_started()) as store:
            store.append(initialized("o-1"))
            store.commit()
            files = [path, Path(f"{path}-wal"), Path(f"{path}-shm")]
            assert all(f.exists() for f in files)
            assert [oct(mode(f)) for f in files] == ["0o600"] * 3
        assert not Path(f"{path}-wal").exists()  # the last connection checkpointed it away
        with RunReader(path) as reader:  # a reader brings the WAL files back: same mode
            assert reader.orders("run-1")[0]["client_order_id"] == "o-1"
            assert [oct(mode(f)) for f in files] == ["0o600"] * 3
    finally:
        os.umask(old)


def test_wal_mode_and_the_synchronous_choice(tmp_path: Path) -> None:
    with SqliteStore.open(tmp_path / "a.db", run=run_started()) as normal:
        assert normal.synchronous == "NORMAL"
    with raw(tmp_path / "a.db") as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    with SqliteStore.open(tmp_path / "b.db", run=run_started(), synchronous="FULL") as full:
        assert full.synchronous == "FULL"
    with pytest.raises(StoreError, match="is not NORMAL or FULL") as caught:
        SqliteStore.open(tmp_path / "c.db", run=run_started(), synchronous="OFF")  # type: ignore[arg-type]
    assert caught.value.field == "synchronous"


def test_a_path_that_cannot_hold_a_store_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="cannot be opened as a store") as caught:
        SqliteStore.open(tmp_path / "missing-dir" / "x.db", run=run_started())
    assert caught.value.field == "path"
    garbage = tmp_path / "notes.txt"
    garbage.write_bytes(b"not a database, just text" * 100)
    with pytest.raises(StoreError, match="is not a usable store"):
        SqliteStore.open(garbage, run=run_started())
    assert garbage.read_bytes() == b"not a database, just text" * 100


def test_a_new_file_is_at_the_current_schema_version(store: SqliteStore, path: Path) -> None:
    with raw(path) as conn:
        assert schema_version(conn) == SCHEMA_VERSION == 2
        objects = conn.execute(
            "SELECT type, name FROM sqlite_master WHERE type IN ('table', 'view')"
        ).fetchall()
    assert sorted(objects) == [
        ("table", "balances"), ("table", "journal"), ("table", "orders"),
        ("table", "positions"), ("table", "runs"), ("table", "schema_version"),
        ("view", "equity"), ("view", "fills"), ("view", "position_history"),
    ]  # fmt: skip


FAKE_V3 = (
    "ALTER TABLE runs ADD COLUMN host TEXT NOT NULL DEFAULT 'unknown'",
    "CREATE TABLE notes (run_id TEXT NOT NULL, note TEXT NOT NULL)",
)


def test_a_migration_to_a_newer_version_keeps_the_data(store: SqliteStore, path: Path) -> None:
    store.append(initialized("o-1"))
    store.commit()
    store.close()
    with raw(path) as conn:
        assert migrate(conn, (*MIGRATIONS, FAKE_V3)) == 3
        assert schema_version(conn) == 3
        assert conn.execute("SELECT run_id, host FROM runs").fetchall() == [("run-1", "unknown")]
        conn.execute("INSERT INTO notes VALUES ('run-1', 'v3 works')")
        assert conn.execute("SELECT count(*) FROM journal").fetchone() == (2,)
        assert migrate(conn, (*MIGRATIONS, FAKE_V3)) == 3  # nothing left to do
    # This code knows version 2 only: a newer file is refused, and left as it is.
    with pytest.raises(StoreError, match=r"is newer than this code knows \(2\)") as caught:
        SqliteStore.open(path, resume="run-1")
    assert (caught.value.field, caught.value.value) == ("schema_version", 3)
    with pytest.raises(StoreError, match="schema_version 3 is not 2"):
        RunReader(path)
    with raw(path) as conn:
        assert schema_version(conn) == 3
        assert conn.execute("SELECT note FROM notes").fetchall() == [("v3 works",)]


def test_a_fresh_file_takes_every_step_in_one_go(path: Path) -> None:
    with raw(path) as conn:
        assert schema_version(conn) == 0
        assert migrate(conn, (*MIGRATIONS, FAKE_V3)) == 3
        assert conn.execute("SELECT count(*) FROM notes").fetchone() == (0,)


def test_a_failing_migration_step_changes_nothing(store: SqliteStore, path: Path) -> None:
    store.close()
    broken = ("CREATE TABLE notes (note TEXT)", "INSERT INTO nowhere VALUES (1)")
    with raw(path) as conn:
        with pytest.raises(sqlite3.OperationalError, match="no such table: nowhere"):
            migrate(conn, (*MIGRATIONS, broken))
        assert schema_version(conn) == 2
        assert conn.execute("SELECT name FROM sqlite_master WHERE name = 'notes'").fetchall() == []
    with SqliteStore.open(path, resume="run-1") as again:  # still a good v2 file
        assert [seq for seq, _ in again.records()] == [1]


def test_the_journal_is_append_only_in_the_file(store: SqliteStore, path: Path) -> None:
    with raw(path) as conn:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("UPDATE journal SET body = '{}' WHERE seq = 1")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            conn.execute("DELETE FROM journal")
        assert conn.execute("SELECT count(*) FROM journal").fetchone() == (1,)


def test_the_same_run_writes_the_same_bytes(tmp_path: Path) -> None:
    dumps = []
    for name in ("a.db", "b.db"):
        with SqliteStore.open(tmp_path / name, run=run_started()) as s:
            for record in every_record_type():
                s.append(record)
            s.commit()
        with raw(tmp_path / name) as conn:
            rows = conn.execute("SELECT run_id, seq, type, ts_event, body FROM journal")
            dumps.append(sorted(rows.fetchall(), key=lambda row: row[1]))
    assert dumps[0] == dumps[1] and len(dumps[0]) == 31
    seq, kind, ts, body = dumps[0][14][1:]
    assert (seq, kind, ts) == (15, "OrderInitialized", 1_014)
    assert body.startswith('{"client_order_id":"o-2","handling":"VENUE","terms":{')


# --- run management -------------------------------------------------------------------------
def test_open_takes_exactly_one_of_run_and_resume(path: Path) -> None:
    with pytest.raises(StoreError, match="neither given") as caught:
        SqliteStore.open(path)
    assert caught.value.field == "run, resume"
    with pytest.raises(StoreError, match="both given"):
        SqliteStore.open(path, run=run_started(), resume="run-1")


def test_runs_are_created_once_and_resumed_until_they_end(store: SqliteStore, path: Path) -> None:
    with pytest.raises(StoreError, match="already exists in this file") as caught:
        SqliteStore.open(path, run=run_started())
    assert caught.value.value == "run-1"
    with pytest.raises(StoreError, match="is not a run in this file"):
        SqliteStore.open(path, resume="run-2")
    store.append(RunEnded(run_id="run-1", ts_event=5_000, status="completed"))
    store.commit()
    store.close()
    with pytest.raises(StoreError, match=r"has ended \(completed\)"):
        SqliteStore.open(path, resume="run-1")
    with RunReader(path) as reader:
        [run] = reader.runs()
    assert run == {
        "run_id": "run-1",
        "mode": "paper",
        "strategy": "strategies.grid:Grid",
        "params_json": '{"levels":5,"step":"0.5"}',
        "config_json": '{"venue":"sim"}',
        "ts_started": 1_000,
        "ts_ended": 5_000,
        "status": "completed",
        "reason": "",
    }


def test_runs_in_one_file_keep_their_own_journals(store: SqliteStore, path: Path) -> None:
    store.append(initialized("o-1"))
    store.commit()
    with SqliteStore.open(path, run=run_started("run-2", ts=2_000)) as second:
        second.append(initialized("o-1"))  # the same id in another run is another order
        assert second.append(initialized("o-2")) == 3
        second.commit()
        assert [type(r).__name__ for _, r in second.records()] == [
            "RunStarted", "OrderInitialized", "OrderInitialized",
        ]  # fmt: skip
    assert [seq for seq, _ in store.records()] == [1, 2]
    with RunReader(path) as reader:
        assert [r["run_id"] for r in reader.runs()] == ["run-1", "run-2"]
        assert [o["client_order_id"] for o in reader.orders("run-2")] == ["o-1", "o-2"]
        assert len(reader.orders("run-1")) == 1


def test_a_closed_store_refuses_work(store: SqliteStore) -> None:
    store.close()
    store.close()  # twice is fine
    with pytest.raises(StoreError, match="is closed"):
        store.append(initialized("o-1"))
    with pytest.raises(StoreError, match="is closed"):
        list(store.records())


# --- what a run cannot take -----------------------------------------------------------------
def _filled(cid: str, qty: str, trade: str, ts: int = 1_300) -> OrderFilled:
    return OrderFilled(
        client_order_id=cid, ts_event=ts, fill=make_fill(cid, BUY, "60000.0", qty, trade, ts)
    )


@pytest.mark.parametrize(
    ("record", "field", "words"),
    [
        (
            OrderAccepted(client_order_id="o-9", ts_event=1_200),
            "OrderAccepted.client_order_id",
            "is not an order of run-1",
        ),
        (initialized("o-1"), "OrderInitialized.client_order_id", "already exists in this run"),
        (_filled("o-1", "0.020", "t-1"), "OrderFilled", "would overfill"),
        (_filled("o-2", "0.001", "t-1"), "OrderFilled.client_order_id", "is CANCELED"),
        (run_started(), "RunStarted.run_id", "is a second start"),
        (RunEnded(run_id="run-7", ts_event=1, status="x"), "RunEnded.run_id", "is another run"),
    ],
)
def test_records_the_run_cannot_take_are_refused_and_change_nothing(
    store: SqliteStore, path: Path, record: Any, field: str, words: str
) -> None:
    store.append(initialized("o-1"))
    store.append(OrderSubmitted(client_order_id="o-1", ts_event=1_100))
    store.append(initialized("o-2"))
    store.append(OrderCanceled(client_order_id="o-2", ts_event=1_101))
    store.commit()  # o-2 is closed and has left the cache
    store.append(OrderAccepted(client_order_id="o-1", ts_event=1_102))
    before = list(store.records())
    with pytest.raises(StoreError, match=words) as caught:
        store.append(record)
    assert caught.value.field == field
    assert list(store.records()) == before and store.uncommitted == 1
    store.append(_filled("o-1", "0.010", "t-2"))  # the run goes on, numbered without a hole
    store.commit()
    with RunReader(path) as reader:
        orders = reader.orders("run-1")
    assert [(o["client_order_id"], o["status"], o["filled_qty"]) for o in orders] == [
        ("o-1", "FILLED", D("0.010")),
        ("o-2", "CANCELED", D("0")),
    ]
    assert [seq for seq, _ in store.records()] == list(range(1, 8))


def test_nothing_follows_the_run_end(store: SqliteStore) -> None:
    store.append(RunEnded(run_id="run-1", ts_event=2_000, status="failed", reason="venue down"))
    with pytest.raises(StoreError, match="comes after the RunEnded of run-1"):
        store.append(EquitySample(ts_event=2_001, account="a", currency="USDT", equity=D(1)))
    store.commit()
    assert store.uncommitted == 0


# --- failures inside SQLite -----------------------------------------------------------------
def _trigger(path: Path, sql: str) -> None:
    """Installs a fault from another connection (as a full disk would strike, mid-batch)."""
    with raw(path) as conn:
        conn.execute(sql)


def test_a_failed_journal_write_loses_the_batch_and_the_orders_forget_it(
    store: SqliteStore, path: Path
) -> None:
    _trigger(
        path,
        "CREATE TRIGGER fault BEFORE INSERT ON journal WHEN NEW.body LIKE '%\"t-bad\"%'"
        " BEGIN SELECT RAISE(ABORT, 'injected write failure'); END",
    )
    store.append(initialized("o-1"))
    store.append(OrderSubmitted(client_order_id="o-1", ts_event=1_100))
    store.commit()
    store.append(OrderAccepted(client_order_id="o-1", ts_event=1_200))
    store.append(_filled("o-1", "0.004", "t-bad"))
    with pytest.raises(StoreError, match="injected write failure") as caught:
        store.commit()
    assert "the uncommitted batch of 2 records is lost" in str(caught.value)
    assert store.uncommitted == 0
    assert [seq for seq, _ in store.records()] == [1, 2, 3]
    # Had the order kept the lost 0.004, this full 0.010 fill would overfill.
    assert store.append(_filled("o-1", "0.010", "t-2")) == 4
    store.commit()
    with RunReader(path) as reader:
        [order] = reader.orders("run-1")
        fills = reader.fills("run-1")
    assert (order["status"], order["filled_qty"], order["venue_order_id"]) == (
        "FILLED", D("0.010"), "",
    )  # fmt: skip
    assert [(f["seq"], f["trade_id"], f["quantity"]) for f in fills] == [(4, "t-2", D("0.010"))]


def test_a_failed_commit_loses_the_batch_and_the_run_goes_on_from_the_file(
    store: SqliteStore, path: Path
) -> None:
    store.append(initialized("o-1"))
    store.commit()
    _trigger(
        path,
        "CREATE TRIGGER fault BEFORE INSERT ON orders WHEN NEW.client_order_id = 'o-bad'"
        " BEGIN SELECT RAISE(ABORT, 'injected commit failure'); END",
    )
    store.append(OrderSubmitted(client_order_id="o-1", ts_event=1_100))
    store.append(initialized("o-bad"))
    with pytest.raises(StoreError, match="the uncommitted batch of 2 records is lost"):
        store.commit()
    assert store.uncommitted == 0
    assert [seq for seq, _ in store.records()] == [1, 2]
    _trigger(path, "DROP TRIGGER fault")
    # The store forgot the lost batch: o-1 is INITIALIZED again and o-bad never existed.
    assert store.append(OrderSubmitted(client_order_id="o-1", ts_event=1_200)) == 3
    assert store.append(initialized("o-bad")) == 4
    store.commit()
    with RunReader(path) as reader:
        orders = reader.orders("run-1")
    assert [(o["client_order_id"], o["status"], o["ts_updated"]) for o in orders] == [
        ("o-1", "SUBMITTED", 1_200),
        ("o-bad", "INITIALIZED", 1_000),
    ]


# --- readers see committed data only --------------------------------------------------------
def test_a_reader_sees_only_committed_data(store: SqliteStore, path: Path) -> None:
    store.append(initialized("o-1"))
    store.commit()
    store.append(OrderSubmitted(client_order_id="o-1", ts_event=1_100))
    store.append(EquitySample(ts_event=1_100, account="main", currency="USDT", equity=D(5)))
    with RunReader(path) as reader:
        assert [o["status"] for o in reader.orders("run-1")] == ["INITIALIZED"]
        assert [seq for seq, _ in reader.records("run-1")] == [1, 2]
        assert reader.equity("run-1") == []
        with raw(path) as conn:
            assert conn.execute("SELECT max(seq) FROM journal").fetchone() == (2,)
        store.commit()
        assert [o["status"] for o in reader.orders("run-1")] == ["SUBMITTED"]
        assert reader.equity("run-1") == [(1_100, D(5))]
    store.append(OrderAccepted(client_order_id="o-1", ts_event=1_200))
    store.close()  # without commit: the batch is gone
    with SqliteStore.open(path, resume="run-1") as again:
        assert [seq for seq, _ in again.records()] == [1, 2, 3, 4]
        assert again.append(OrderAccepted(client_order_id="o-1", ts_event=1_300)) == 5
        again.commit()
    with RunReader(path) as reader:
        [order] = reader.orders("run-1")
    assert (order["status"], order["ts_updated"]) == ("ACCEPTED", 1_300)


def test_reader_errors_name_what_is_missing(store: SqliteStore, path: Path, tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        RunReader(tmp_path / "nowhere.db")
    for sample in (("main", "1"), ("main", "2"), ("hedge", "3")):
        account, value = sample
        record = EquitySample(ts_event=2_000, account=account, currency="USDT", equity=D(value))
        store.append(record)
    store.commit()
    with RunReader(path) as reader:
        with pytest.raises(StoreError, match="is not a run in") as caught:
            reader.orders("run-404")
        assert caught.value.field == "run_id"
        with pytest.raises(StoreError, match="is ambiguous"):
            reader.equity("run-1")
        assert reader.equity("run-1", account="main") == [(2_000, D(1)), (2_000, D(2))]
        assert reader.equity("run-1", account="hedge") == [(2_000, D(3))]
        assert reader.equity("run-1", account="hedge", currency="BTC") == []


# --- read models written by a real OrderManager ---------------------------------------------
def test_read_models_follow_a_real_order_manager(store: SqliteStore, path: Path) -> None:
    clock = ManualClock(1_000)
    venue = FakeVenue(store)
    om = OrderManager(venue=venue, store=store, clock=clock, instruments={"BTCUSDT": BTC})

    def answer(event: Any) -> None:  # one kernel batch per venue answer
        clock.now = event.ts_event
        om.on_venue_event(event)
        store.commit()

    buy = om.submit(
        symbol="BTCUSDT", side=BUY, order_type=OrderType.LIMIT, quantity=D("0.010"),
        price=D("60000.0"),
    )  # fmt: skip
    sell = om.submit(
        symbol="BTCUSDT", side=SELL, order_type=OrderType.LIMIT, quantity=D("0.005"),
        price=D("61000.0"),
    )  # fmt: skip
    denied = om.submit(symbol="ETHUSDT", side=BUY, order_type=OrderType.MARKET, quantity=D("1"))
    stop = om.submit(
        symbol="BTCUSDT", side=SELL, order_type=OrderType.STOP_MARKET, quantity=D("0.010"),
        trigger_price=D("59000.0"),
    )  # fmt: skip
    store.commit()
    ids = [o.client_order_id for o in (buy, sell, denied, stop)]
    assert ids == ["qx-1", "qx-2", "qx-3", "qx-4"]
    answer(OrderAccepted(client_order_id="qx-1", ts_event=1_100, venue_order_id="v-1"))
    answer(OrderAccepted(client_order_id="qx-2", ts_event=1_110, venue_order_id="v-2"))
    answer(OrderAccepted(client_order_id="qx-4", ts_event=1_120, venue_order_id="v-4"))
    fill_1 = make_fill("qx-1", BUY, "60000.0", "0.004", "t-1", 1_200, fee="0.12")
    answer(OrderFilled(client_order_id="qx-1", ts_event=1_200, fill=fill_1))
    clock.now = 1_250
    om.modify("qx-2", price=D("61500.0"))
    store.commit()
    answer(OrderUpdated(client_order_id="qx-2", ts_event=1_260, price=D("61500.0")))
    fill_2 = make_fill("qx-1", BUY, "59999.0", "0.006", "t-2", 1_300, fee="0.18")
    answer(OrderFilled(client_order_id="qx-1", ts_event=1_300, fill=fill_2))
    clock.now = 1_400
    om.cancel("qx-2")
    store.commit()
    answer(OrderCanceled(client_order_id="qx-2", ts_event=1_410))
    # The portfolio's records, as it would journal them after the fills.
    for record in (
        PositionSnapshot(ts_event=1_200, account="main", symbol="BTCUSDT", currency="USDT",
                         quantity=D("0.004"), avg_entry_price=D("60000.0"),
                         realized_pnl=D("0"), fees=D("0.12")),
        PositionSnapshot(ts_event=1_300, account="main", symbol="BTCUSDT", currency="USDT",
                         quantity=D("0.010"), avg_entry_price=D("59999.4"),
                         realized_pnl=D("0"), fees=D("0.30")),
        BalanceSnapshot(ts_event=1_200, account="main", asset="USDT", total=D("9759.88")),
        BalanceSnapshot(ts_event=1_300, account="main", asset="USDT", total=D("9399.706")),
        EquitySample(ts_event=1_200, account="main", currency="USDT", equity=D("9999.88")),
        EquitySample(ts_event=1_300, account="main", currency="USDT", equity=D("9999.70")),
    ):  # fmt: skip
        store.append(record)
    store.commit()

    with RunReader(path) as reader:
        orders = {o["client_order_id"]: o for o in reader.orders("run-1")}
        fills = reader.fills("run-1")
        positions = reader.positions("run-1")
        history = reader.position_history("run-1")
        balances = reader.balances("run-1")
        curve = reader.equity("run-1")
    assert list(orders) == ["qx-1", "qx-2", "qx-3", "qx-4"]
    # qx-1: 0.004 @ 60000.0 + 0.006 @ 59999.0 = 240.0 + 359.994 = 599.994 over 0.010.
    assert orders["qx-1"] == {
        "run_id": "run-1", "client_order_id": "qx-1", "seq": 2, "symbol": "BTCUSDT",
        "side": "BUY", "order_type": "LIMIT", "time_in_force": "GTC",
        "quantity": D("0.010"), "price": D("60000.0"), "trigger_price": None,
        "status": "FILLED", "filled_qty": D("0.010"), "avg_fill_price": D("59999.4"),
        "venue_order_id": "v-1", "ts_created": 1_000, "ts_updated": 1_300,
    }  # fmt: skip
    assert str(orders["qx-1"]["avg_fill_price"]) == "59999.4"
    q2 = orders["qx-2"]
    assert (q2["status"], q2["price"], q2["filled_qty"], q2["avg_fill_price"]) == (
        "CANCELED", D("61500.0"), D("0"), None,
    )  # fmt: skip
    assert q2["ts_updated"] == 1_410
    assert (orders["qx-3"]["status"], orders["qx-3"]["order_type"]) == ("DENIED", "MARKET")
    assert (orders["qx-4"]["status"], orders["qx-4"]["trigger_price"]) == ("ACCEPTED", D("59000.0"))
    assert [
        (f["trade_id"], f["client_order_id"], f["side"], f["price"], f["quantity"], f["fee"],
         f["fee_currency"], f["liquidity"], f["ts_event"])
        for f in fills
    ] == [
        ("t-1", "qx-1", "BUY", D("60000.0"), D("0.004"), D("0.12"), "USDT", "TAKER", 1_200),
        ("t-2", "qx-1", "BUY", D("59999.0"), D("0.006"), D("0.18"), "USDT", "TAKER", 1_300),
    ]  # fmt: skip
    assert [(p["quantity"], p["avg_entry_price"], p["fees"]) for p in positions] == [
        (D("0.010"), D("59999.4"), D("0.30"))
    ]
    assert [p["quantity"] for p in history] == [D("0.004"), D("0.010")]
    assert [(b["asset"], b["total"], b["ts_event"]) for b in balances] == [
        ("USDT", D("9399.706"), 1_300)
    ]
    assert curve == [(1_200, D("9999.88")), (1_300, D("9999.70"))]
    assert all(isinstance(v, Decimal) for _, v in curve)

    # Recovery from the same file rebuilds the orders the read model shows.
    store.close()
    with SqliteStore.open(path, resume="run-1") as again:
        recovered = OrderManager.recover(
            venue=FakeVenue(again), store=again, clock=clock, instruments={"BTCUSDT": BTC}
        )
        assert {o.client_order_id: (o.status.value, o.filled_qty) for o in recovered.orders()} == {
            cid: (o["status"], o["filled_qty"]) for cid, o in orders.items()
        }
        assert recovered.order("qx-4").status is OrderStatus.ACCEPTED


# --- a process killed mid-batch -------------------------------------------------------------
CHILD = textwrap.dedent(
    """
    import sys, time
    from decimal import Decimal
    from adapters.store.sqlite import SqliteStore
    from engine.domain import OrderAccepted, OrderSide, OrderType
    from engine.services.order_manager import OrderManager
    from store_fakes import BTC, FakeVenue, ManualClock, run_started

    store = SqliteStore.open(sys.argv[1], run=run_started())
    clock = ManualClock(1_000)
    om = OrderManager(venue=FakeVenue(store), store=store, clock=clock,
                      instruments={"BTCUSDT": BTC})
    for i in range(30):
        clock.now += 1
        om.submit(symbol="BTCUSDT", side=OrderSide.BUY, order_type=OrderType.LIMIT,
                  quantity=Decimal("0.010"), price=Decimal("60000.0"))
        store.commit()
    for i in range(10):  # acknowledgements in a batch that is never committed
        om.on_venue_event(OrderAccepted(client_order_id=f"qx-{i + 1}", ts_event=2_000 + i))
    print("ready", store.uncommitted, flush=True)
    time.sleep(120)
    """
)


def test_a_run_killed_mid_batch_restarts_with_exactly_what_it_committed(path: Path) -> None:
    assert killed_when_ready(CHILD, path) == ["ready", "10"]

    with SqliteStore.open(path, resume="run-1") as store:
        kinds = [type(r).__name__ for _, r in store.records()]
        assert kinds == ["RunStarted"] + ["OrderInitialized", "OrderSubmitted"] * 30
        clock = ManualClock(3_000)
        om = OrderManager.recover(
            venue=FakeVenue(store), store=store, clock=clock, instruments={"BTCUSDT": BTC}
        )
        assert [o.status for o in om.orders()] == [OrderStatus.SUBMITTED] * 30
        next_order = om.submit(
            symbol="BTCUSDT", side=SELL, order_type=OrderType.MARKET, quantity=D("0.001")
        )
        assert next_order.client_order_id == "qx-31"
        store.commit()
        assert store.append(OrderAccepted(client_order_id="qx-1", ts_event=3_100)) == 64
        store.commit()
    with RunReader(path) as reader:
        statuses = [o["status"] for o in reader.orders("run-1")]
    assert statuses == ["ACCEPTED"] + ["SUBMITTED"] * 30


def test_run_started_is_required_to_open(path: Path) -> None:
    not_a_start = RunEnded(run_id="run-1", ts_event=1, status="x")
    with pytest.raises(StoreError, match="is not a RunStarted"):
        SqliteStore.open(path, run=not_a_start)  # type: ignore[arg-type]
    assert isinstance(run_started(), RunStarted)
