"""Line-oriented event files (Binance captures, JSONL events): the one place that reads
lines a block at a time and groups decoded messages into `EventChunk`s with their line
numbers, so every reader reports bad lines the same way."""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np

from engine import _core
from engine.marketdata import DecodeStats, EventChunk

__all__ = [
    "BAD_TIMESTAMP",
    "CORRUPT_GZIP",
    "NO_SEPARATOR",
    "READ_BLOCK_BYTES",
    "chunked",
    "read_lines",
    "split_capture_line",
]

NO_SEPARATOR = "no_separator"
BAD_TIMESTAMP = "bad_timestamp"

CORRUPT_GZIP = "corrupt_gzip"
READ_BLOCK_BYTES = 1 << 18

Decode = Callable[[_core.EventBuilder, bytes, int, DecodeStats], int]
"""One line -> one atomic push into the builder; returns the rows added (0: skipped)."""


def read_lines(path: Path, stats: DecodeStats, *, gzipped: bool = True) -> Iterator[bytes]:
    """The file's lines, read a block at a time (much cheaper than readline). A corrupt
    or truncated gzip ends the file with one `corrupt_gzip` issue; the lines before the
    damaged block have been yielded."""
    tail = b""
    opener = gzip.open if gzipped else open
    with opener(path, "rb") as fh:
        while True:
            try:
                block = fh.read(READ_BLOCK_BYTES)
            except (OSError, EOFError, zlib.error) as exc:
                stats.count_malformed(
                    stats.lines + 1,
                    CORRUPT_GZIP,
                    f"gzip data unreadable after line {stats.lines}: {exc}",
                )
                return
            if not block:
                break
            lines = (tail + block).split(b"\n")
            tail = lines.pop()
            stats.lines += len(lines)
            yield from lines
    if tail:
        stats.lines += 1
        yield tail


def split_capture_line(raw: bytes, lineno: int, stats: DecodeStats) -> tuple[int, bytes] | None:
    """A capture line `<receive ns> <raw JSON>` -> (receive ns, JSON bytes); None when
    the line is blank (counted) or its framing is malformed (counted by category)."""
    sep = raw.find(b" ")
    if sep <= 0:
        if not raw.strip():
            stats.blank += 1
            return None
        if sep < 0:
            stats.count_malformed(
                lineno, NO_SEPARATOR, f"no space between receive time and JSON: {raw[:60]!r}"
            )
            return None
    head = raw[:sep]
    if not head.isdigit():
        stats.count_malformed(
            lineno, BAD_TIMESTAMP, f"receive time {head[:40]!r} is not integer nanoseconds"
        )
        return None
    return int(head), raw[sep + 1 :]


def chunked(
    name: str,
    builder: _core.EventBuilder,
    lines: Iterator[bytes],
    decode: Decode,
    stats: DecodeStats,
    chunk_rows: int,
) -> Iterator[EventChunk]:
    """Decodes `lines` into chunks of about `chunk_rows` rows, whole messages each, every
    row mapped to the 1-based line it came from."""
    msg_lines: list[int] = []
    msg_rows: list[int] = []
    pending = 0
    for lineno, raw in enumerate(lines, 1):
        added = decode(builder, raw, lineno, stats)
        if added:
            msg_lines.append(lineno)
            msg_rows.append(added)
            pending += added
            if pending >= chunk_rows:
                yield _flush(name, builder, msg_lines, msg_rows)
                msg_lines, msg_rows, pending = [], [], 0
    if pending:
        yield _flush(name, builder, msg_lines, msg_rows)


def _flush(
    name: str, builder: _core.EventBuilder, msg_lines: list[int], msg_rows: list[int]
) -> EventChunk:
    events = builder.finish()
    lines = np.repeat(np.asarray(msg_lines, dtype=np.int64), np.asarray(msg_rows, dtype=np.int64))
    return EventChunk(name, events, lines)
