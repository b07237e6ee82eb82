"""HealthMonitor: what an operator needs to see of a running engine, in one snapshot.

Fed by the kernel (market data per symbol, order submissions and acks, rejects, the
trading state) and by adapters (connection state, errors, rate-limit headroom). Times
are the Clock's. Read from another thread (the health endpoint), so every method holds
one lock; the kernel's calls are a few dict writes each.

- feed staleness: now minus the last market data time of each symbol;
- ack latency: submitted -> accepted of each order, the last 1,024 kept; percentiles
  are nearest-rank (`p50` is the smallest sample with at least half at or below it);
- error and reject rates: totals, and the count within the last 60 s of clock time.
"""

from __future__ import annotations

import math
import threading
from collections import deque
from typing import Any

from engine.ports.clock import Clock

__all__ = ["HealthMonitor", "percentile"]

_WINDOW_NS = 60_000_000_000
_LATENCIES = 1024


def percentile(sorted_values: list[int], fraction: float) -> int | None:
    """Nearest-rank percentile of ascending `sorted_values` (None when empty)."""
    if not sorted_values:
        return None
    rank = max(1, math.ceil(fraction * len(sorted_values)))
    return sorted_values[rank - 1]


class HealthMonitor:
    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._started = clock.now_ns()
        self._connections: dict[str, tuple[bool, int]] = {}
        self._last_market: dict[str, int] = {}
        self._submitted: dict[str, int] = {}
        self._latencies: deque[int] = deque(maxlen=_LATENCIES)
        self._errors: deque[int] = deque()
        self._rejects: deque[int] = deque()
        self._error_total = 0
        self._reject_total = 0
        self._headroom: dict[str, float] = {}
        self._status: dict[str, str] = {}

    # --- written by adapters ------------------------------------------------------------------
    def set_connection(self, name: str, connected: bool) -> None:
        """A connection went up or down (the time it did starts its uptime)."""
        with self._lock:
            now = self._clock.now_ns()
            if self._connections.get(name, (None, 0))[0] is not connected:
                self._connections[name] = (connected, now)

    def set_rate_limit_headroom(self, name: str, fraction: float) -> None:
        """What is left of a rate limit, 0 (none) to 1 (all), as the adapter knows it."""
        with self._lock:
            self._headroom[name] = min(1.0, max(0.0, float(fraction)))

    def on_error(self) -> None:
        with self._lock:
            self._error_total += 1
            self._errors.append(self._clock.now_ns())

    def set_status(self, key: str, value: str) -> None:
        """A free status line (trading state, emergency stop phase)."""
        with self._lock:
            self._status[key] = value

    # --- written by the kernel ----------------------------------------------------------------
    def on_market(self, symbol: str, ts: int) -> None:
        self._last_market[symbol] = ts  # one dict write: atomic under the GIL

    def on_submitted(self, client_order_id: str, ts: int) -> None:
        with self._lock:
            self._submitted[client_order_id] = ts

    def on_accepted(self, client_order_id: str, ts: int) -> None:
        with self._lock:
            sent = self._submitted.pop(client_order_id, None)
            if sent is not None:
                self._latencies.append(max(0, ts - sent))

    def on_closed(self, client_order_id: str) -> None:
        """An order closed without an ack (denied, rejected): no latency sample."""
        with self._lock:
            self._submitted.pop(client_order_id, None)

    def on_reject(self, ts: int) -> None:
        with self._lock:
            self._reject_total += 1
            self._rejects.append(ts)

    # --- read -----------------------------------------------------------------------------------
    def snapshot(self) -> dict[str, Any]:
        """Everything, JSON-ready (times in ns, ages in ns of clock time)."""
        with self._lock:
            now = self._clock.now_ns()
            for times in (self._errors, self._rejects):
                while times and times[0] <= now - _WINDOW_NS:
                    times.popleft()
            latencies = sorted(self._latencies)
            return {
                "now_ns": now,
                "uptime_ns": now - self._started,
                "status": dict(self._status),
                "connections": {
                    name: {
                        "connected": up,
                        "since_ns": since,
                        "uptime_ns": now - since if up else 0,
                    }
                    for name, (up, since) in sorted(self._connections.items())
                },
                "feeds": {
                    symbol: {"last_ns": ts, "staleness_ns": max(0, now - ts)}
                    for symbol, ts in sorted(dict(self._last_market).items())
                },
                "ack_latency_ns": {
                    "count": len(latencies),
                    "p50": percentile(latencies, 0.50),
                    "p90": percentile(latencies, 0.90),
                    "p99": percentile(latencies, 0.99),
                    "max": latencies[-1] if latencies else None,
                },
                "errors": {"total": self._error_total, "last_minute": len(self._errors)},
                "rejects": {"total": self._reject_total, "last_minute": len(self._rejects)},
                "rate_limit_headroom": dict(sorted(self._headroom.items())),
            }
