"""Normalized market data as it crosses from a feed adapter into the services.

A source hands over `EventChunk`s (rows of `engine._core.EVENT_DTYPE` plus the source
line each row came from) and keeps `DecodeStats` about the lines it could not use.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from engine.marketdata.instruments import InstrumentSpec

__all__ = ["DecodeStats", "EventChunk", "EventSource", "InstrumentSpec", "LineIssue"]


@dataclass(frozen=True, slots=True)
class EventChunk:
    """A batch of normalized event rows and, per row, its 1-based line in `source`.

    The line map is what lets a gap found by the Rust book be reported as file:line.
    """

    source: str
    events: npt.NDArray[np.void]
    lines: npt.NDArray[np.int64]

    def __post_init__(self) -> None:
        if len(self.events) != len(self.lines):
            raise ValueError(
                f"EventChunk {self.source}: lines has {len(self.lines)} entries "
                f"but events has {len(self.events)} rows; they must match one to one"
            )


@dataclass(frozen=True, slots=True)
class LineIssue:
    """One input line that was skipped, and why."""

    source: str
    line: int
    category: str
    detail: str

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "line": self.line,
            "category": self.category,
            "detail": self.detail,
        }


@dataclass(slots=True)
class DecodeStats:
    """What a reader made of one source's lines. Bad lines are counted, never fatal."""

    source: str
    max_examples_per_category: int = 5
    lines: int = 0
    blank: int = 0
    by_stream: dict[str, int] = field(default_factory=dict)
    unknown_streams: dict[str, int] = field(default_factory=dict)
    malformed: dict[str, int] = field(default_factory=dict)
    examples: list[LineIssue] = field(default_factory=list)

    def count_stream(self, stream: str) -> None:
        self.by_stream[stream] = self.by_stream.get(stream, 0) + 1

    def count_unknown(self, stream: str) -> None:
        self.unknown_streams[stream] = self.unknown_streams.get(stream, 0) + 1

    def count_malformed(self, line: int, category: str, detail: str) -> None:
        seen = self.malformed.get(category, 0)
        self.malformed[category] = seen + 1
        # Only the first few per category: a broken file must not grow memory per line.
        if seen < self.max_examples_per_category:
            self.examples.append(LineIssue(self.source, line, category, detail))

    @property
    def malformed_total(self) -> int:
        return sum(self.malformed.values())

    @property
    def unknown_total(self) -> int:
        return sum(self.unknown_streams.values())


class EventSource(Protocol):
    """A replayable source of normalized events for one instrument (a capture file, ...)."""

    @property
    def name(self) -> str: ...

    @property
    def instrument(self) -> InstrumentSpec: ...

    @property
    def stats(self) -> DecodeStats:
        """Complete once `chunks()` is exhausted."""
        ...

    def chunks(self) -> Iterator[EventChunk]: ...
