"""Clocks: simulated (backtests: time is the data's), live (the system's) and accelerated
(paper runs on a recording: the recording's time, running `speed` times the wall clock)."""

from __future__ import annotations

import time
from collections.abc import Callable

__all__ = ["AcceleratedClock", "LiveClock", "SimulatedClock"]


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

    def wall_seconds_until(self, ts_ns: int) -> float:
        """Seconds of real time until the clock reads `ts_ns` (0 when it has)."""
        return max(0, ts_ns - self.now_ns()) / 1e9


class AcceleratedClock:
    """Live time that starts at `start_ns` (a recording's first moment) and runs `speed`
    times faster than the machine's monotonic clock. Paper mode on a recording uses it
    so that timers, latencies and the feed all agree on one time."""

    def __init__(
        self,
        start_ns: int,
        speed: float = 1.0,
        *,
        monotonic_ns: Callable[[], int] = time.monotonic_ns,
    ) -> None:
        if not (isinstance(speed, int | float) and 0 < speed <= 1e6):
            raise ValueError(f"speed {speed!r} is not in (0, 1e6] (rule: a positive factor)")
        self._start = start_ns
        self._speed = float(speed)
        self._monotonic = monotonic_ns
        self._origin = monotonic_ns()
        self._last = start_ns

    @property
    def speed(self) -> float:
        return self._speed

    def now_ns(self) -> int:
        now = self._start + int((self._monotonic() - self._origin) * self._speed)
        if now > self._last:
            self._last = now
        return self._last

    def advance_to(self, ts_ns: int) -> None:
        """Time moves by itself."""

    def wall_seconds_until(self, ts_ns: int) -> float:
        """Seconds of real time until the clock reads `ts_ns` (0 when it has)."""
        return max(0, ts_ns - self.now_ns()) / self._speed / 1e9
