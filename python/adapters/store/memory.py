"""In-memory Store: a list. For tests and throwaway runs; nothing survives the process.

Commit semantics follow the port: records are visible to `records()` as soon as they
are appended, committed or not; `reopened()` gives what a restart after a crash would
find (the committed records only), so crash-recovery tests can run without a file."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Final

from engine.domain.events import OrderEvent
from engine.domain.journal import (
    AccountFunded,
    BalanceSnapshot,
    EmergencyStop,
    EquitySample,
    JournalRecord,
    PositionSnapshot,
    Reconciled,
    RunEnded,
    RunStarted,
    TradingStateChanged,
)
from engine.ports.store import StoreError

__all__ = ["MemoryStore"]

_RECORD_TYPES: Final = (
    OrderEvent, RunStarted, RunEnded, PositionSnapshot, BalanceSnapshot, EquitySample,
    AccountFunded, TradingStateChanged, EmergencyStop, Reconciled,
)  # fmt: skip


class MemoryStore:
    def __init__(self, records: Iterable[JournalRecord] = ()) -> None:
        """`records`: a journal to start from, taken as committed."""
        self._records: list[JournalRecord] = list(records)
        self._committed = len(self._records)

    def append(self, record: JournalRecord) -> int:
        if not isinstance(record, _RECORD_TYPES):
            kind = type(record).__name__
            raise StoreError("record", kind, "is not a journal record type")
        self._records.append(record)
        return len(self._records)

    def commit(self) -> None:
        """Nothing to make durable: marks the batch as what a restart would find."""
        self._committed = len(self._records)

    def records(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        for i in range(max(after, 0), len(self._records)):
            yield i + 1, self._records[i]

    @property
    def uncommitted(self) -> int:
        return len(self._records) - self._committed

    def reopened(self) -> MemoryStore:
        """A new store holding the committed records only: the journal after a crash."""
        return MemoryStore(self._records[: self._committed])

    def __len__(self) -> int:
        return len(self._records)
