"""Retry timing: capped exponential backoff with jitter, on a seeded random source.

Delay before attempt n (0-based): the ceiling min(max_s, initial_s * factor**n), then
a uniformly random point in [ceiling / 2, ceiling] ("equal jitter": clients that failed
together spread out, yet none retries at once). An exchange's own Retry-After wins when
it is longer. After `max_retries` failed attempts the caller gives up (the connection
loop then halts new orders and alerts)."""

from __future__ import annotations

import random
from dataclasses import dataclass

__all__ = ["BackoffPolicy"]


@dataclass(frozen=True, slots=True)
class BackoffPolicy:
    initial_s: float = 1.0
    max_s: float = 60.0
    factor: float = 2.0
    max_retries: int = 10

    def __post_init__(self) -> None:
        if not 0 < self.initial_s <= self.max_s:
            rule = f"(rule: 0 < initial_s <= max_s = {self.max_s})"
            raise ValueError(f"initial_s {self.initial_s!r} is out of range {rule}")
        if self.factor < 1:
            raise ValueError(f"factor {self.factor!r} is below 1 (rule: delays never shrink)")
        if self.max_retries < 0:
            raise ValueError(f"max_retries {self.max_retries!r} is negative (rule: >= 0)")

    def ceiling(self, attempt: int) -> float:
        """The longest wait before attempt `attempt` (0-based)."""
        if attempt < 0:
            raise ValueError(f"attempt {attempt!r} is negative (rule: >= 0)")
        # Cap the exponent first: factor**attempt overflows a float long before 10**3.
        grow = self.factor ** min(attempt, 64)
        return min(self.max_s, self.initial_s * grow)

    def delay(self, attempt: int, rng: random.Random, retry_after_s: float | None = None) -> float:
        ceiling = self.ceiling(attempt)
        wait = ceiling / 2 + rng.uniform(0, ceiling / 2)
        if retry_after_s is not None and retry_after_s > wait:
            return retry_after_s
        return wait

    def gives_up(self, failures: int) -> bool:
        """True once `failures` attempts have failed in a row."""
        return failures > self.max_retries
