"""The journal's writer process: runs a pipelined `SqliteStore`'s commits off the kernel's
core (see `adapters.store.pipeline`, which starts it and speaks to it).

Run as a script (`python -I -S writer_process.py PATH SYNCHRONOUS CHECKPOINT_PAGES`): it
imports a few modules of the standard library only, so it is up in a few milliseconds and shares
nothing with the parent but the file. It reads frames from stdin, each a 4-byte
little-endian length and a pickle:

- `("tx", (new statements, steps))`: one kernel batch, one transaction. `new` is
  `[(id, sql), ...]`, statements met for the first time (later frames name them by
  id); `steps` is `[(id, params), ...]`, run in order (BEGIN .. COMMIT when the
  batch has more than one statement, else one statement in autocommit mode);
- `("sync", token)`: answered `("ok", token)` once every earlier transaction is
  committed, or `("error", text)`;
- end of input: the parent closed the store, or died. Every whole frame read is
  committed (a frame cut short by a dying parent is not a batch and runs not at all),
  the process answers `("done", error or None)` (the parent's close returns on it:
  every batch is committed), then closes the connection, where SQLite checkpoints the
  WAL into the file, and exits.

A failed transaction is rolled back, answered `("error", text)` at once, and every
later frame is skipped: later batches build on the lost one, so the run stops (the
parent raises at its next call). Replies go to stdout in the same framing. SIGINT
is ignored: Ctrl-C in a terminal reaches the whole process group, and the parent
decides what a Ctrl-C means (it stops and closes the store, which ends this
process when its last batch is in)."""

from __future__ import annotations

import os
import signal
import sqlite3
import struct
import sys

try:  # the C pickler itself: `pickle` would import `re` and more, ~10 ms of start-up
    from _pickle import dumps, loads
except ImportError:  # pragma: no cover - an interpreter without the accelerator
    from pickle import dumps, loads

TYPE_CHECKING = False
if TYPE_CHECKING:  # typing costs ~6 ms to import: for the type checker only
    from typing import Any, BinaryIO

HEADER = struct.Struct("<I")
# The same values as adapters.store.sqlite's: that module is not imported here (it
# brings the engine's domain with it, and the writer must start fast).
BUSY_TIMEOUT_S = 5.0
CACHED_STATEMENTS = 256


def reply(message: tuple[str, Any]) -> None:
    """One framed answer to the parent (a dead parent is no error: nothing to tell)."""
    body = dumps(message, 5)
    data = HEADER.pack(len(body)) + body
    try:
        while data:
            data = data[os.write(1, data) :]
    except BrokenPipeError:
        pass


def frames(source: BinaryIO) -> Any:
    """The whole frames of `source`, decoded, until its end (or a frame cut short)."""
    while True:
        head = source.read(HEADER.size)
        if len(head) < HEADER.size:
            return
        (size,) = HEADER.unpack(head)
        body = source.read(size)
        if len(body) < size:
            return
        yield loads(body)


def serve(path: str, synchronous: str, checkpoint_pages: int, source: BinaryIO) -> str | None:
    """Runs `source`'s transactions against `path`, answers ("done", ...) at its end, then
    closes the file; returns the first failure's text."""
    try:
        conn = sqlite3.connect(
            path, isolation_level=None, timeout=BUSY_TIMEOUT_S, cached_statements=CACHED_STATEMENTS
        )
    except sqlite3.Error as err:
        why = f"{type(err).__name__}: {err}"
        reply(("done", why))
        return why
    try:
        failed = _run(conn, synchronous, checkpoint_pages, source)
        reply(("done", failed))
    finally:
        conn.close()  # the checkpoint: after the answer, so the parent need not wait for it
    return failed


def _run(
    conn: sqlite3.Connection, synchronous: str, checkpoint_pages: int, source: BinaryIO
) -> str | None:
    failed: str | None = None
    try:
        conn.execute(f"PRAGMA synchronous = {synchronous}")
        conn.execute(f"PRAGMA wal_autocheckpoint = {checkpoint_pages}")
        cursor = conn.cursor()
        sql: dict[int, str] = {}
        for kind, payload in frames(source):
            if kind == "sync":
                reply(("ok", payload) if failed is None else ("error", failed))
                continue
            if failed is not None:
                continue  # builds on a lost batch: skipped, the parent stops at its next call
            new, steps = payload
            sql.update(new)
            try:
                for statement, params in steps:
                    cursor.execute(sql[statement], params)
            except sqlite3.Error as err:
                failed = f"{type(err).__name__}: {err}"
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                reply(("error", failed))
    except sqlite3.Error as err:
        failed = failed or f"{type(err).__name__}: {err}"
    return failed


NICE = 10
"""The writer's niceness: background work. On a machine whose second core is busy (or
taken by the hypervisor) the run's own process keeps its core, and batches wait in
the pipe until the writer gets time (the run's close waits for the last of them)."""


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:  # noqa: SIM105 - contextlib costs ~9 ms of start-up to import
        os.nice(NICE)
    except OSError:  # not allowed here: the default priority
        pass
    path, synchronous, checkpoint_pages = argv[1], argv[2], int(argv[3])
    failed = serve(path, synchronous, checkpoint_pages, sys.stdin.buffer)
    return 0 if failed is None else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
