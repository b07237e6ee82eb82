"""ReplayFeed: a recording played as live market data (paper mode on recorded captures).

The streams' rows are cut into exchange messages (a depth message ends at its row with
the end flag; each trade print is a message of its own) and merged across instruments
by receive time, ties by stream order. A message is released once the clock reads its
receive time; with an `AcceleratedClock` the recording runs `speed` times faster than
real time, waits included, so the kernel sees the same pacing a live feed would give.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np
import numpy.typing as npt

from engine.kernel import MarketStream
from engine.ports.feed import FeedMarket, FeedMessage

__all__ = ["PacedClock", "ReplayFeed"]

_KIND_TRADE = 3
_FLAG_END = 2


class PacedClock(Protocol):
    def now_ns(self) -> int: ...

    def wall_seconds_until(self, ts_ns: int) -> float: ...


class ReplayFeed:
    def __init__(
        self,
        streams: Sequence[MarketStream],
        *,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        """Cuts `streams` into messages; `start` gives it the clock that paces it."""
        self._streams = list(streams)
        self._clock: PacedClock | None = None
        self._sleep = sleep
        self._markets = tuple(FeedMarket(s.symbol, s.rule, s.data_lot_size) for s in streams)
        parts = [_messages(i, s.events) for i, s in enumerate(self._streams)]
        ts = np.concatenate([p[0] for p in parts]) if parts else np.zeros(0, np.int64)
        idx = np.concatenate([p[1] for p in parts]) if parts else np.zeros(0, np.int64)
        lo = np.concatenate([p[2] for p in parts]) if parts else np.zeros(0, np.int64)
        hi = np.concatenate([p[3] for p in parts]) if parts else np.zeros(0, np.int64)
        order = np.lexsort((lo, idx, ts))  # by time, then stream, then position
        self._ts = ts[order].tolist()
        self._idx = idx[order].tolist()
        self._lo = lo[order].tolist()
        self._hi = hi[order].tolist()
        self._next = 0
        self._closed = False

    def start(self, clock: PacedClock) -> None:
        """From now on messages are released by `clock` (one that reads `first_ts`, or a
        later time to start part-way)."""
        self._clock = clock

    @property
    def markets(self) -> tuple[FeedMarket, ...]:
        return self._markets

    @property
    def first_ts(self) -> int | None:
        """The receive time of the recording's first message (where a clock starts)."""
        return self._ts[0] if self._ts else None

    @property
    def remaining(self) -> int:
        return len(self._ts) - self._next

    @property
    def exhausted(self) -> bool:
        return self._closed or self._next >= len(self._ts)

    def next_message(self, timeout_s: float, until_ns: int | None = None) -> FeedMessage | None:
        if self.exhausted:
            return None
        if self._clock is None:
            raise RuntimeError("ReplayFeed.next_message before start(clock)")
        ts = self._ts[self._next]
        wait = self._clock.wall_seconds_until(ts)
        limit = timeout_s
        if until_ns is not None:
            limit = min(limit, self._clock.wall_seconds_until(until_ns))
        if wait > limit:
            self._sleep(limit)
            return None
        if wait > 0:
            self._sleep(wait)
        return self._take()

    def skip_until(self, ts_ns: int) -> list[FeedMessage]:
        """Every message received at or before `ts_ns`, taken at once (books are rebuilt
        from them when a run resumes part-way through the recording)."""
        out: list[FeedMessage] = []
        while not self.exhausted and self._ts[self._next] <= ts_ns:
            out.append(self._take())
        return out

    def close(self) -> None:
        self._closed = True

    def _take(self) -> FeedMessage:
        n = self._next
        self._next = n + 1
        stream = self._streams[self._idx[n]]
        return FeedMessage(stream.symbol, self._ts[n], stream.events[self._lo[n] : self._hi[n]])


def _messages(index: int, ev: npt.NDArray[np.void]) -> tuple[npt.NDArray[np.int64], ...]:
    """(receive time, stream index, first row, end row) of each message in `ev`."""
    n = len(ev)
    if n == 0:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, empty, empty
    kinds = ev["kind"]
    ends = (kinds == _KIND_TRADE) | ((ev["flags"] & _FLAG_END) != 0)
    ends[-1] = True
    hi = np.flatnonzero(ends).astype(np.int64) + 1
    lo = np.concatenate([[0], hi[:-1]]).astype(np.int64)
    recv = np.where(ev["ts_recv"] != 0, ev["ts_recv"], ev["ts_event"]).astype(np.int64)
    recv = np.maximum.accumulate(recv)
    return recv[hi - 1], np.full(len(hi), index, dtype=np.int64), lo, hi
