"""The Store port: a run's append-only journal, written in batches, read back in order.

One kernel batch (everything one input event causes) is one transaction: records are
appended as they happen and `commit` makes the batch durable at the end. Anything that
leaves the process (an order sent to a real venue) is released only after the commit,
so the journal always holds a request before the outside world sees it."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from engine.domain.journal import JournalRecord

__all__ = ["Store"]


class Store(Protocol):
    def append(self, record: JournalRecord) -> int:
        """Adds one record to the current batch; returns its sequence number in the run
        (1, 2, ...). Raises when it cannot: the caller then changes nothing."""
        ...

    def commit(self) -> None:
        """Makes every record appended since the last commit durable, atomically."""
        ...

    def records(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        """(sequence, record) of this run with sequence > after, in append order
        (committed records, then the current batch)."""
        ...
