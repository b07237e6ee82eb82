"""Clocks: simulated (backtests: time is the data's) and live (the system's)."""

from __future__ import annotations

import time

__all__ = ["LiveClock", "SimulatedClock"]


class SimulatedClock:
    """Time that only the kernel moves, to each event's timestamp; never backwards."""

    def __init__(self, start_ns: int = 0) -> None:
        self._now = start_ns

    def now_ns(self) -> int:
        return self._now

    def advance_to(self, ts_ns: int) -> None:
        if ts_ns > self._now:
            self._now = ts_ns


class LiveClock:
    """The system's wall clock, made monotonic (a clock step back never shows)."""

    def __init__(self) -> None:
        self._last = 0

    def now_ns(self) -> int:
        now = time.time_ns()
        if now < self._last:
            return self._last
        self._last = now
        return now

    def advance_to(self, ts_ns: int) -> None:
        """Live time moves by itself."""
