"""The Store port: an append-only journal of records, read back in order."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from engine.domain.journal import JournalRecord

__all__ = ["Store"]


class Store(Protocol):
    def append(self, record: JournalRecord) -> int:
        """Writes one record durably and returns its sequence number (1, 2, ...).
        Raises when it cannot: the caller then changes nothing."""
        ...

    def records(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        """(sequence, record) with sequence > after, in append order."""
        ...
