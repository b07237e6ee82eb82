"""The Store port: a run's append-only journal, written in batches, read back in order.

One kernel batch (everything one input event causes) is one transaction: records are
appended as they happen and `commit` makes the batch durable at the end. Anything that
leaves the process (an order sent to a real venue) is released only after the commit,
so the journal always holds a request before the outside world sees it. A store may
pipeline its commits (the SQLite store's backtest mode): `commit` then hands the batch
over to be made durable in order, and its `sync()` waits until it is; what leaves the
process waits for that too."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Protocol

from engine.domain.journal import JournalRecord

__all__ = ["Store", "StoreError"]


class StoreError(Exception):
    """The store refused a request or could not do it (a record it cannot take, a broken
    file, a failed write). Like the domain's errors it names the field, the value and the
    rule; a refused append changed nothing."""

    def __init__(self, field: str, value: object, rule: str) -> None:
        self.field = field
        self.value = value
        self.rule = rule
        if isinstance(value, str):  # bare unless empty or padded, as the domain's errors
            shown = value if value and value == value.strip() else repr(value)
        else:
            shown = str(value)
        if len(shown) > 120:
            shown = shown[:117] + "..."
        super().__init__(f"{field} {shown} {rule}")


class Store(Protocol):
    def append(self, record: JournalRecord) -> int:
        """Adds one record to the current batch; returns its sequence number in the run
        (1, 2, ...). Raises (StoreError) when it cannot: the caller then changes nothing."""
        ...

    def commit(self) -> None:
        """Makes every record appended since the last commit durable, atomically (or, for a
        pipelined store, hands them over to be; see the module). When it raises, none of
        them is kept: the run must stop (the caller's state has moved on)."""
        ...

    def records(self, after: int = 0) -> Iterator[tuple[int, JournalRecord]]:
        """(sequence, record) of this run with sequence > after, in append order
        (committed records, then the current batch)."""
        ...
