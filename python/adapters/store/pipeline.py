"""Pipelined commits: a `SqliteStore`'s transactions run in a writer process
(`adapters.store.writer_process`) on the machine's other core, while the kernel goes on.

Why: committed inline, SQLite's work (about 800 transactions in the demo backtest, the
read models' upserts, the checkpoint at close) is nearly as long as everything else a
backtest does in the journal's name. Pipelined, each kernel batch is still exactly
one transaction, the batches land in order, and the file's bytes are the same; what
changes is when `commit` returns: once the batch is handed to the writer, not once it
is in the file. `sync` waits for the file, and closing the store waits for the last
batch (not for the WAL's checkpoint, which the writer does before it exits). So it is
for runs where nothing leaves the process before the batch that records it is
durable: backtests. Paper and live runs commit inline (a live order is sent only
after its batch is in the file).

Failures: a transaction that fails in the writer loses its batch and every later one
(they build on it), and the store raises `StoreError` at its next call (rule: stop).
If the parent dies, the writer commits every whole batch it was handed and exits: the
file ends on a batch boundary, as it would inline. Batches wait in the pipe (sized up
to 1 MiB where the OS allows) while the writer starts; a full pipe makes `commit`
wait, so memory stays bounded however far the writer falls behind."""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Final

from adapters.store import writer_process
from engine.ports.store import StoreError

__all__ = ["WriterProcess"]

SCRIPT: Final = str(Path(writer_process.__file__).resolve())
CHECKPOINT_PAGES: Final = 1024
"""WAL pages between the writer's automatic checkpoints (1 MiB at 1 KiB pages), an
eighth of an inline store's: the checkpoints run on the writer's core and nobody waits
for them, so the WAL file is kept small (the writer's instructions are the same either
way: measured at 1024 and 8192)."""
PIPE_BYTES: Final = 1 << 20
"""The pipe's size asked for: room for a few thousand batches while the writer starts."""
_F_SETPIPE_SZ: Final = 1031  # Linux fcntl; elsewhere the OS's default size is kept
_HEADER: Final = writer_process.HEADER


class WriterProcess:
    """The parent's end: records a batch's statements (`execute`, the cursor method the
    store's writes call) and hands them over as one transaction (`send`)."""

    def __init__(self, path: str, synchronous: str, run_id: str) -> None:
        self._run_id = run_id
        try:
            self._proc = subprocess.Popen(
                [sys.executable, "-I", "-S", SCRIPT, path, synchronous, str(CHECKPOINT_PAGES)],
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                start_new_session=True,  # a terminal's Ctrl-C is the parent's to handle
            )
        except OSError as err:
            raise StoreError("writer", SCRIPT, f"cannot be started ({err})") from err
        assert self._proc.stdin is not None and self._proc.stdout is not None
        self._to = self._proc.stdin.fileno()
        self._from = self._proc.stdout.fileno()
        try:
            import fcntl

            fcntl.fcntl(self._to, _F_SETPIPE_SZ, PIPE_BYTES)
        except (ImportError, OSError):
            pass  # a smaller pipe only means commit waits sooner
        self._ids: dict[str, int] = {}
        self._new: list[tuple[int, str]] = []
        self._steps: list[tuple[int, Any]] = []
        self._token = 0
        self._failed: str | None = None
        self._raised = False
        self._closed = False

    # --- recording a batch ----------------------------------------------------------------
    def execute(self, sql: str, params: Any = ()) -> None:
        """Records one statement of the batch (sent once, then named by number)."""
        number = self._ids.get(sql)
        if number is None:
            number = self._ids[sql] = len(self._ids)
            self._new.append((number, sql))
        self._steps.append((number, params))

    def send(self) -> None:
        """Hands the recorded statements over as one transaction."""
        self.check()
        body = pickle.dumps(("tx", (self._new, self._steps)), pickle.HIGHEST_PROTOCOL)
        self._new, self._steps = [], []
        self._write(_HEADER.pack(len(body)) + body)

    # --- waiting ------------------------------------------------------------------------------
    def check(self) -> None:
        """Raises if the writer has reported a failure (looks without waiting)."""
        if self._failed is None and select.select([self._from], [], [], 0)[0]:
            self._read_reply()
        self._raise_failure()

    def sync(self) -> None:
        """Waits until every batch sent is in the file; raises if one failed."""
        self.check()
        self._token += 1
        body = pickle.dumps(("sync", self._token), pickle.HIGHEST_PROTOCOL)
        self._write(_HEADER.pack(len(body)) + body)
        while self._failed is None:
            kind, payload = self._read_reply()
            if kind == "ok" and payload == self._token:
                return
        self._raise_failure()

    def close(self) -> None:
        """Returns once every batch sent is committed; raises a failure not raised before.
        The writer then checkpoints the WAL into the file and exits on its own (a daemon
        thread reaps it): nothing waits for the copy, the data is safe in the WAL
        already. Idempotent."""
        if self._closed:
            return
        self._closed = True
        with contextlib.suppress(BrokenPipeError):  # a dead writer: read why below
            self._proc.stdin.close()  # type: ignore[union-attr]
        while True:
            kind, payload = self._read_reply()
            if kind in ("done", "closed"):
                if payload is not None and self._failed is None:
                    self._failed = str(payload)
                break
        self._proc.stdout.close()  # type: ignore[union-attr]
        threading.Thread(target=self._proc.wait, name="quantx-writer-reaper", daemon=True).start()
        self._raise_failure()

    def wait(self, timeout: float | None = None) -> int:
        """Waits for the writer process to exit (its checkpoint done); its exit code."""
        return self._proc.wait(timeout)

    def peak_rss_mb(self) -> float | None:
        """The writer's peak resident memory so far (Linux /proc; None where unknown)."""
        try:
            status = Path(f"/proc/{self._proc.pid}/status").read_text()
        except OSError:
            return None
        for line in status.splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return None

    # --- internals ----------------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        try:
            while view:
                view = view[os.write(self._to, view) :]
        except OSError as err:  # a dead writer: its own answer, if any, says why
            self._failed = self._failed or self._ended(f"took no more batches ({err})")
            self._raise_failure()

    def _read_reply(self) -> tuple[str, Any]:
        """The next answer; an ended writer reads as ("closed", ...)."""
        head = self._read(_HEADER.size)
        body = self._read(_HEADER.unpack(head)[0]) if len(head) == _HEADER.size else b""
        if not body:
            self._failed = self._failed or self._ended("ended without answering")
            return "closed", self._failed
        kind, payload = pickle.loads(body)
        if kind == "error" and self._failed is None:
            self._failed = str(payload)
        return kind, payload

    def _read(self, size: int) -> bytes:
        chunks: list[bytes] = []
        while size:
            chunk = os.read(self._from, size)
            if not chunk:
                break
            chunks.append(chunk)
            size -= len(chunk)
        return b"".join(chunks)

    def _ended(self, what: str) -> str:
        code = self._proc.wait()
        return f"the writer process {what} (exit code {code})"

    def _raise_failure(self) -> None:
        if self._failed is None or self._raised:
            return
        self._raised = True
        rule = (
            f"failed in the writer process ({self._failed}); that batch and every later one"
            " are lost (rule: stop)"
        )
        raise StoreError("commit", self._run_id, rule)
