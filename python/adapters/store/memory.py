"""In-memory Store: a list. For tests and throwaway runs; nothing survives the process."""

from __future__ import annotations

from collections.abc import Iterator

from engine.domain.journal import JournalRecord

__all__ = ["MemoryStore"]


class MemoryStore:
    def __init__(self) -> None:
        self._records: list[JournalRecord] = []

    def append(self, record: JournalRecord) -> int:
        self._records.append(record)
        return len(self._records)

    def commit(self) -> None:
        """Nothing to make durable: memory is all there is."""

    def records(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        for i in range(max(after, 0), len(self._records)):
            yield i + 1, self._records[i]

    def __len__(self) -> int:
        return len(self._records)
