"""The Clock port: the only source of time in the hexagon (determinism)."""

from __future__ import annotations

from typing import Protocol

__all__ = ["Clock"]


class Clock(Protocol):
    def now_ns(self) -> int:
        """Integer nanoseconds since the epoch; never goes backwards."""
        ...
