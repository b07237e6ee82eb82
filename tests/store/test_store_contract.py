"""The Store contract, run against every store: MemoryStore and SqliteStore (a tmp file),
the latter committing inline and pipelined (through its writer process).

A harness starts a run (its RunStarted committed as record 1) and restarts it the way
a process killed at that moment would be restarted: what was committed is there, the
rest is gone, and appends continue the run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import pytest
from store_fakes import (
    BUY,
    D,
    every_record_type,
    initialized,
    make_fill,
    run_started,
)

from adapters.store.memory import MemoryStore
from adapters.store.sqlite import SqliteStore
from engine.domain import OrderAccepted, OrderFilled, OrderSubmitted
from engine.domain.journal import EquitySample, JournalRecord, RunStarted
from engine.ports import Store, StoreError


class Harness(Protocol):
    def start(self, run: RunStarted) -> Store: ...

    def restart(self) -> Store:
        """Drops the current store as a crash would (no commit), returns the run reopened."""
        ...


class MemoryHarness:
    def __init__(self) -> None:
        self.store = MemoryStore()

    def start(self, run: RunStarted) -> Store:
        self.store.append(run)
        self.store.commit()
        return self.store

    def restart(self) -> Store:
        self.store = self.store.reopened()
        return self.store


class SqliteHarness:
    def __init__(self, path: Path, *, pipelined: bool = False) -> None:
        self.path = path
        self.pipelined = pipelined
        self.store: SqliteStore | None = None
        self.run_id = ""

    def start(self, run: RunStarted) -> Store:
        self.store = SqliteStore.open(self.path, run=run, pipelined=self.pipelined)
        self.run_id = run.run_id
        return self.store

    def restart(self) -> Store:
        assert self.store is not None
        self.store.close()  # rolls the open batch back, as the end of the process would
        self.store = SqliteStore.open(self.path, resume=self.run_id, pipelined=self.pipelined)
        return self.store

    def close(self) -> None:
        if self.store is not None:
            self.store.close()


@pytest.fixture(params=["memory", "sqlite", "sqlite-pipelined"])
def harness(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Harness]:
    if request.param == "memory":
        yield MemoryHarness()
        return
    sqlite = SqliteHarness(tmp_path / "journal.db", pipelined=request.param == "sqlite-pipelined")
    yield sqlite
    sqlite.close()


RUN = run_started()


def equity(ts: int, value: str) -> EquitySample:
    return EquitySample(ts_event=ts, account="main", currency="USDT", equity=D(value))


def listed(store: Store, after: int = 0) -> list[tuple[int, JournalRecord]]:
    return list(store.records(after))


def test_sequence_numbers_count_up_from_the_run_start(harness: Harness) -> None:
    store = harness.start(RUN)
    assert listed(store) == [(1, RUN)]
    assert [store.append(equity(2_000 + i, f"{i}.5")) for i in range(3)] == [2, 3, 4]
    store.commit()
    assert store.append(equity(3_000, "7")) == 5


def test_records_come_back_in_append_order_and_after_filters(harness: Harness) -> None:
    store = harness.start(RUN)
    samples = [equity(2_000 - i, str(i)) for i in range(5)]  # time runs backwards: order is seq
    for sample in samples:
        store.append(sample)
    store.commit()
    assert listed(store) == [(1, RUN)] + [(i + 2, s) for i, s in enumerate(samples)]
    assert listed(store, after=4) == [(5, samples[3]), (6, samples[4])]
    assert listed(store, after=-3) == listed(store, after=0)
    assert listed(store, after=6) == []
    assert listed(store, after=60) == []


def test_every_record_type_round_trips(harness: Harness) -> None:
    store = harness.start(RUN)
    journal = every_record_type(RUN.run_id)
    assert [store.append(r) for r in journal] == list(range(2, len(journal) + 2))
    store.commit()
    back = listed(store)
    assert [seq for seq, _ in back] == list(range(1, len(journal) + 2))
    assert [r for _, r in back] == [RUN, *journal]
    assert [repr(r) for _, r in back] == [repr(r) for r in [RUN, *journal]]  # exponents too


def test_the_current_batch_is_visible_and_a_restart_finds_only_committed(harness: Harness) -> None:
    store = harness.start(RUN)
    store.append(equity(2_000, "1"))
    store.commit()
    store.append(equity(2_001, "2"))
    store.append(equity(2_002, "3"))
    assert [seq for seq, _ in listed(store)] == [1, 2, 3, 4]  # committed, then the batch
    store = harness.restart()
    assert listed(store) == [(1, RUN), (2, equity(2_000, "1"))]


def test_a_restart_continues_the_sequence_numbers(harness: Harness) -> None:
    store = harness.start(RUN)
    store.append(initialized("o-1", 1_100))
    store.append(OrderSubmitted(client_order_id="o-1", ts_event=1_101))
    store.commit()
    store.append(OrderAccepted(client_order_id="o-1", ts_event=1_102))  # lost in the crash
    store = harness.restart()
    # The lost acknowledgement is not there: the same event can be appended again.
    assert store.append(OrderAccepted(client_order_id="o-1", ts_event=1_103)) == 4
    fill = make_fill("o-1", BUY, "60000.0", "0.010", "t-1", 1_104)
    assert store.append(OrderFilled(client_order_id="o-1", ts_event=1_104, fill=fill)) == 5
    store.commit()
    store = harness.restart()
    assert [seq for seq, _ in listed(store)] == [1, 2, 3, 4, 5]
    accepted = listed(store, after=3)[0][1]
    assert isinstance(accepted, OrderAccepted) and accepted.ts_event == 1_103


def test_a_failing_append_leaves_nothing_behind(harness: Harness) -> None:
    store = harness.start(RUN)
    store.append(equity(2_000, "1"))
    before = listed(store)
    not_a_record = make_fill("o-1", BUY, "60000.0", "0.010", "t-1", 1_104)
    with pytest.raises(StoreError) as caught:
        store.append(not_a_record)  # type: ignore[arg-type]
    assert caught.value.field in ("record", "type")
    assert "Fill" in str(caught.value)
    assert listed(store) == before
    assert store.append(equity(2_001, "2")) == 3  # no hole in the numbering
    store.commit()
    store = harness.restart()
    assert [seq for seq, _ in listed(store)] == [1, 2, 3]


def test_commit_without_a_batch_changes_nothing(harness: Harness) -> None:
    store = harness.start(RUN)
    store.commit()
    store.commit()
    assert listed(store) == [(1, RUN)]
    store = harness.restart()
    assert listed(store) == [(1, RUN)]
    assert store.append(equity(2_000, "1")) == 2
