"""The live run's write-ahead rule (`adapters.live._CommitThenSend`): held commands go to
the exchange only after the batch that records them is durable, including when the
store pipelines its commits (then after its `sync`)."""

from __future__ import annotations

from typing import Any

from adapters.live import _CommitThenSend, _HeldVenue


class Venue:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def submit(self, terms: Any) -> None:
        self.calls.append(f"submit {terms}")

    def cancel(self, client_order_id: str) -> None:
        self.calls.append(f"cancel {client_order_id}")


class InlineStore:
    def __init__(self, calls: list[str]) -> None:
        self.calls = calls

    def append(self, record: Any) -> int:
        self.calls.append("append")
        return 1

    def commit(self) -> None:
        self.calls.append("commit")


class PipelinedStore(InlineStore):
    def sync(self) -> None:
        self.calls.append("sync")


def run_batch(store: InlineStore, calls: list[str]) -> None:
    venue = _HeldVenue(Venue(calls))
    live = _CommitThenSend(store, venue, settle=lambda: True)  # type: ignore[arg-type]
    live.append("record")
    venue.submit("o-1")
    venue.cancel("o-0")
    assert calls == ["append"]  # held: nothing went out before the commit
    live.commit()
    live.commit()  # nothing held: no sync, nothing sent


def test_held_commands_go_out_after_the_commit_in_order() -> None:
    calls: list[str] = []
    run_batch(InlineStore(calls), calls)
    assert calls == ["append", "commit", "submit o-1", "cancel o-0", "commit"]


def test_a_pipelined_store_is_synced_before_anything_goes_out() -> None:
    calls: list[str] = []
    run_batch(PipelinedStore(calls), calls)
    assert calls == ["append", "commit", "sync", "submit o-1", "cancel o-0", "commit"]
