"""Reads the bundled captures (`<local ns> <raw JSON>` per line, gzip) lazily, message by message.

The REST snapshot line (no "stream" key) seeds the book; diffs the snapshot already covers and
everything before it are dropped, as a client following Binance's sync rules would.
"""

from __future__ import annotations

import gzip
import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson


def _lines(paths: Sequence[Path]) -> Iterator[dict[str, Any]]:
    for path in paths:
        with gzip.open(path, "rb") as fh:
            for line in fh:
                _, _, raw = line.partition(b" ")
                yield orjson.loads(raw)


class Capture:
    """The snapshot and then the stream messages (depth diffs and trades) that follow it."""

    def __init__(self, paths: Path | Sequence[Path], futures: bool) -> None:
        self._it = _lines([paths] if isinstance(paths, Path) else list(paths))
        self.futures = futures
        self.snapshot: dict[str, Any] = {}
        early: list[dict[str, Any]] = []  # diffs received before the snapshot may still cover it
        for msg in self._it:
            if "stream" not in msg:
                self.snapshot = msg
                break
            early.append(msg)
        self._it = itertools.chain(early, self._it)
        if not self.snapshot:
            raise ValueError(f"capture {paths}: no REST snapshot line")
        self._synced = False

    def __iter__(self) -> Iterator[tuple[str, dict[str, Any]]]:
        return self

    def __next__(self) -> tuple[str, dict[str, Any]]:
        """Next ("depth" | "trade", data); bookTicker lines are skipped."""
        lid = int(self.snapshot["lastUpdateId"])
        for msg in self._it:
            stream: str = msg["stream"]
            data: dict[str, Any] = msg["data"]
            if "@depth" in stream:
                if not self._synced:
                    first, last = int(data["U"]), int(data["u"])
                    # spot: first diff has U <= lid+1 <= u; futures: U <= lid <= u
                    ok = (first <= lid <= last) if self.futures else (first <= lid + 1 <= last)
                    if not ok:
                        continue
                    self._synced = True
                return "depth", data
            if stream.endswith("@trade") and self._synced:
                return "trade", data
        raise StopIteration
