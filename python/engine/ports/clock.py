"""The Clock port: the only source of time in the hexagon (determinism)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Clock", "SettableClock"]


class Clock(Protocol):
    def now_ns(self) -> int:
        """Integer nanoseconds since the epoch; never goes backwards."""
        ...


class SettableClock(Clock, Protocol):
    """A clock the kernel moves: simulated time in backtests (to each event's time)."""

    def advance_to(self, ts_ns: int) -> None:
        """Moves time forward to `ts_ns`; an earlier time leaves it where it is."""
        ...
