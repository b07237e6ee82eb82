"""A token bucket per exchange and API key: stay under the exchange's request limits
instead of finding them with 429s.

Tokens refill continuously at `refill_per_s` up to `capacity`; a request of `weight`
takes its tokens now and, when the bucket runs short, is told how long to wait first
(the debt is kept, so callers queue in order). Time comes from an injected monotonic
clock, so tests step it. Binance's published limits (API docs, "LIMITS"): spot 6,000
request weight a minute, USD-M futures 2,400; the bucket is sized from the exchange's
own `rateLimits` when the markets are loaded, these being the fall-back."""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["TokenBucket"]


class TokenBucket:
    def __init__(
        self, capacity: float, refill_per_s: float, monotonic_s: Callable[[], float]
    ) -> None:
        if capacity <= 0 or refill_per_s <= 0:
            rule = "(rule: capacity > 0 and refill_per_s > 0)"
            raise ValueError(f"bucket {capacity!r}/{refill_per_s!r} is not usable {rule}")
        self.capacity = float(capacity)
        self.refill_per_s = float(refill_per_s)
        self._now = monotonic_s
        self._tokens = self.capacity
        self._at = monotonic_s()

    @classmethod
    def per_minute(cls, weight: float, monotonic_s: Callable[[], float]) -> TokenBucket:
        """A limit stated as `weight` per minute (how exchanges publish them)."""
        return cls(weight, weight / 60.0, monotonic_s)

    def _refill(self) -> None:
        now = self._now()
        if now > self._at:
            self._tokens = min(self.capacity, self._tokens + (now - self._at) * self.refill_per_s)
            self._at = now

    def take(self, weight: float = 1.0) -> float:
        """Takes `weight` tokens; returns the seconds to wait before sending (0: now)."""
        if not 0 < weight <= self.capacity:
            rule = f"(rule: 0 < weight <= capacity {self.capacity:g})"
            raise ValueError(f"weight {weight!r} cannot be taken {rule}")
        self._refill()
        self._tokens -= weight
        return 0.0 if self._tokens >= 0 else -self._tokens / self.refill_per_s

    @property
    def headroom(self) -> float:
        """The share of the bucket left now (1: full, 0 or less: waiting)."""
        self._refill()
        return self._tokens / self.capacity
