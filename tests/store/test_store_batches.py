"""How SqliteStore writes a batch: every batch with records is one transaction (a batch
of journal rows alone is a single INSERT, its own transaction), an empty batch writes
nothing, batches beyond one statement's rows are chunked inside the one transaction,
and a failed single-INSERT batch is lost whole while the store goes on."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from store_fakes import D, initialized, run_started

from adapters.store.sqlite import RunReader, SqliteStore
from engine.domain import OrderSubmitted
from engine.domain.journal import EquitySample
from engine.ports import StoreError


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "quantx.db"


@pytest.fixture
def store(path: Path) -> Iterator[SqliteStore]:
    with SqliteStore.open(path, run=run_started()) as opened:
        yield opened


def sample(ts: int, equity: str = "100") -> EquitySample:
    return EquitySample(ts_event=ts, account="main", currency="USDT", equity=D(equity))


class Watcher:
    """Another connection's view: `PRAGMA data_version` changes when some other
    connection committed since it last looked."""

    def __init__(self, path: Path) -> None:
        self.conn = sqlite3.connect(path, isolation_level=None)
        self.last = self._version()

    def _version(self) -> int:
        return int(self.conn.execute("PRAGMA data_version").fetchone()[0])

    def committed(self) -> bool:
        now = self._version()
        changed, self.last = now != self.last, now
        return changed

    def count(self) -> int:
        return int(self.conn.execute("SELECT count(*) FROM journal").fetchone()[0])


def test_empty_batches_write_nothing_and_every_other_batch_commits(
    store: SqliteStore, path: Path
) -> None:
    watcher = Watcher(path)
    store.commit()
    assert not watcher.committed()
    store.append(sample(1_100))  # journal rows only: one INSERT
    store.commit()
    assert watcher.committed() and watcher.count() == 2
    store.append(initialized("o-1", 1_200))  # with a read model: BEGIN ... COMMIT
    store.append(OrderSubmitted(client_order_id="o-1", ts_event=1_201))
    store.commit()
    assert watcher.committed() and watcher.count() == 4
    store.commit()
    assert not watcher.committed()
    watcher.conn.close()


@pytest.mark.parametrize("size", [1, 7, 63, 64, 65, 130])
def test_a_large_batch_is_chunked_inside_one_transaction(
    store: SqliteStore, path: Path, size: int
) -> None:
    for i in range(size):
        store.append(sample(2_000 + i, str(i)))
    store.append(initialized("o-1", 3_000))
    store.commit()
    with RunReader(path) as reader:
        equity = reader.equity("run-1")
        [order] = reader.orders("run-1")
        seqs = [seq for seq, _ in reader.records("run-1")]
    assert equity == [(2_000 + i, D(i)) for i in range(size)]
    assert (order["client_order_id"], order["seq"]) == ("o-1", size + 2)
    assert seqs == list(range(1, size + 3))


@pytest.mark.parametrize("size", [2, 7])  # one statement alone; three inside BEGIN
def test_a_failed_journal_only_batch_is_lost_whole_and_the_store_goes_on(
    store: SqliteStore, path: Path, size: int
) -> None:
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute(
            f"CREATE TRIGGER fault BEFORE INSERT ON journal WHEN NEW.ts_event = {4_000 + size}"
            " BEGIN SELECT RAISE(ABORT, 'injected write failure'); END"
        )
    for i in range(1, size + 1):
        store.append(sample(4_000 + i))  # the last row of the batch fails
    with pytest.raises(StoreError, match=f"the uncommitted batch of {size} records is lost"):
        store.commit()
    assert [seq for seq, _ in store.records()] == [1]
    with RunReader(path) as reader:
        assert reader.equity("run-1") == []
    assert store.append(sample(5_000)) == 2
    store.commit()
    with RunReader(path) as reader:
        assert reader.equity("run-1") == [(5_000, D(100))]
