"""The hand-over between a websocket feed's asyncio thread and the kernel thread: a
bounded queue that conflates book snapshots, the per-symbol counters and the alerts.

Memory is bounded whatever the consumer does: at most one book snapshot waits per
symbol (a newer one replaces it and counts as conflated), trade prints wait in a ring
of `trade_capacity` (the oldest print goes when it is full, counted as dropped), and at
most `ALERT_CAPACITY` alerts wait. Messages leave in the order they came in: a
replacing snapshot takes the place of the newest arrival, so the kernel's clock never
sees a trade older than a book it already applied.

Every method takes one lock; the asyncio thread holds it for a few dict and deque
operations per message, the kernel thread waits on it with a timeout.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Final

from engine.ports.clock import Clock
from engine.ports.feed import FeedAlert, FeedAlertKind, FeedMessage, FeedSymbolStatus

__all__ = ["ALERT_CAPACITY", "Handoff", "SymbolCounters"]

ALERT_CAPACITY: Final = 1024
"""Alerts kept for the kernel; beyond it the oldest go (a kernel that never drains)."""


@dataclass(slots=True)
class SymbolCounters:
    symbol: str
    since_ns: int
    """Staleness is measured from here until the first book arrives."""
    last_update_ns: int | None = None
    stale: bool = False
    gave_up: bool = False
    streams_down: set[str] = field(default_factory=set)
    reconnects: int = 0
    resyncs: int = 0
    restarts: int = 0
    malformed: int = 0
    conflated: int = 0
    dropped: int = 0
    dropping: bool = False
    """Inside an episode of dropped prints (one DROPPED alert per episode)."""


class Handoff:
    def __init__(self, symbols: list[str], clock: Clock, trade_capacity: int, stale_after_ns: int):
        if trade_capacity < 1:
            rule = "(rule: at least one trade print fits)"
            raise ValueError(f"queue_capacity {trade_capacity!r} is below 1 {rule}")
        if stale_after_ns <= 0:
            raise ValueError(f"stale_after_s {stale_after_ns / 1e9!r} is not positive (rule: > 0)")
        self._clock = clock
        self._cond = threading.Condition()
        self._seq = 0
        self._books: dict[str, tuple[int, FeedMessage]] = {}
        self._trades: deque[tuple[int, FeedMessage]] = deque()
        self._capacity = trade_capacity
        self._stale_after = stale_after_ns
        self._alerts: deque[FeedAlert] = deque(maxlen=ALERT_CAPACITY)
        self._closed = False
        now = clock.now_ns()
        self._symbols = {s: SymbolCounters(s, now) for s in symbols}

    # --- written by the asyncio thread -------------------------------------------------
    def started(self) -> None:
        """The watches start now: a symbol with no book yet is stale from here on."""
        with self._cond:
            now = self._clock.now_ns()
            for state in self._symbols.values():
                state.since_ns = now

    def put_book(self, message: FeedMessage) -> None:
        """A symbol's latest book: replaces one still waiting (conflation). Staleness is
        judged on books, so this also marks the symbol fresh."""
        with self._cond:
            if self._closed:
                return
            state = self._symbols[message.symbol]
            if message.symbol in self._books:
                state.conflated += 1
                del self._books[message.symbol]
            self._seq += 1
            self._books[message.symbol] = (self._seq, message)
            state.last_update_ns = message.ts
            if state.stale:
                state.stale = False
                self._alert(FeedAlertKind.FRESH, message.symbol, message.ts, "book updated")
            self._cond.notify()

    def put_trade(self, message: FeedMessage) -> None:
        """One trade print; when the ring is full the oldest print is dropped."""
        with self._cond:
            if self._closed:
                return
            if len(self._trades) >= self._capacity:
                _, old = self._trades.popleft()
                state = self._symbols[old.symbol]
                state.dropped += 1
                if not state.dropping:
                    state.dropping = True
                    detail = f"trade queue full ({self._capacity} prints): oldest dropped"
                    self._alert(FeedAlertKind.DROPPED, old.symbol, message.ts, detail)
            self._seq += 1
            self._trades.append((self._seq, message))
            self._cond.notify()

    def alert(self, kind: FeedAlertKind, symbol: str, detail: str) -> None:
        with self._cond:
            self._alert(kind, symbol, self._clock.now_ns(), detail)

    def update(self, symbol: str, **counts: int) -> None:
        """Adds to a symbol's counters (`reconnects=1`, `malformed=1`, ...)."""
        with self._cond:
            state = self._symbols[symbol]
            for name, n in counts.items():
                setattr(state, name, getattr(state, name) + n)

    def stream_state(self, symbol: str, stream: str, *, up: bool) -> None:
        with self._cond:
            down = self._symbols[symbol].streams_down
            if up:
                down.discard(stream)
            else:
                down.add(stream)

    def give_up(self, symbol: str, detail: str) -> None:
        """One GAVE_UP per symbol: the first of its streams to give up raises it."""
        with self._cond:
            state = self._symbols[symbol]
            if not state.gave_up:
                state.gave_up = True
                self._alert(FeedAlertKind.GAVE_UP, symbol, self._clock.now_ns(), detail)

    # --- read by either thread ---------------------------------------------------------
    def check_stale(self) -> list[str]:
        """Marks (and alerts) symbols whose book is older than the limit; returns every
        symbol stale now."""
        with self._cond:
            now = self._clock.now_ns()
            out: list[str] = []
            for state in self._symbols.values():
                since = state.last_update_ns if state.last_update_ns is not None else state.since_ns
                if now - since < self._stale_after:
                    continue
                if not state.stale:
                    state.stale = True
                    seen = "no book yet" if state.last_update_ns is None else "no book update"
                    detail = f"{seen} for {(now - since) / 1e9:.3f} s"
                    self._alert(FeedAlertKind.STALE, state.symbol, now, detail)
                out.append(state.symbol)
            return out

    def stale_for_ns(self, symbol: str) -> int:
        """How long the symbol's book has gone without an update."""
        with self._cond:
            state = self._symbols[symbol]
            since = state.last_update_ns if state.last_update_ns is not None else state.since_ns
            return self._clock.now_ns() - since

    def status(self) -> dict[str, FeedSymbolStatus]:
        with self._cond:
            return {
                s.symbol: FeedSymbolStatus(
                    symbol=s.symbol,
                    connected=not s.streams_down and not s.gave_up,
                    last_update_ns=s.last_update_ns,
                    stale=s.stale,
                    gave_up=s.gave_up,
                    reconnects=s.reconnects,
                    resyncs=s.resyncs,
                    restarts=s.restarts,
                    malformed=s.malformed,
                    conflated=s.conflated,
                    dropped=s.dropped,
                )
                for s in self._symbols.values()
            }

    @property
    def queued(self) -> int:
        """Messages waiting now (at most symbols + trade capacity)."""
        with self._cond:
            return len(self._books) + len(self._trades)

    # --- taken by the kernel thread ----------------------------------------------------
    def take(self, wait_s: float) -> FeedMessage | None:
        """The oldest waiting message, waiting at most `wait_s` for one."""
        with self._cond:
            if not self._books and not self._trades and wait_s > 0 and not self._closed:
                self._cond.wait(wait_s)
            return self._pop()

    def take_alerts(self) -> list[FeedAlert]:
        with self._cond:
            out = list(self._alerts)
            self._alerts.clear()
            return out

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._books.clear()
            self._trades.clear()
            self._cond.notify_all()

    @property
    def closed(self) -> bool:
        return self._closed

    # --- inside the lock ---------------------------------------------------------------
    def _pop(self) -> FeedMessage | None:
        book: tuple[int, FeedMessage] | None = None
        if self._books:
            book = min(self._books.values(), key=lambda item: item[0])
        trade = self._trades[0] if self._trades else None
        if trade is not None and (book is None or trade[0] < book[0]):
            self._trades.popleft()
            if not self._trades:  # the consumer caught up: a new drop is a new episode
                for state in self._symbols.values():
                    state.dropping = False
            return trade[1]
        if book is None:
            return None
        del self._books[book[1].symbol]
        return book[1]

    def _alert(self, kind: FeedAlertKind, symbol: str, ts: int, detail: str) -> None:
        self._alerts.append(FeedAlert(kind, symbol, ts, detail))
