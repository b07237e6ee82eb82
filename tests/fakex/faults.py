"""Faults a test switches on; each is bounded by a count (and the ws refusal by a duration).

All counters are consumed by the server on its own loop; tests only call these setters.
"""

from __future__ import annotations

import threading
from collections import Counter
from dataclasses import dataclass, field


@dataclass
class _HttpFault:
    status: int
    count: int
    retry_after: int | None
    path: str  # only paths containing this (empty: every path)
    body: str | None = None  # the answer's text instead of the venue's default
    method: str = ""  # only this HTTP method (empty: every method)


@dataclass
class Faults:
    """Switch faults on; each setter says how many times (or how long) the fault fires."""

    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    http: list[_HttpFault] = field(default_factory=list)
    create_timeouts: int = 0
    create_timeout_mode: str = (
        "delay"  # "delay": answer after `create_delay_s`; "close": drop the socket
    )
    create_delay_s: float = 2.0
    ws_drop_after: int | None = None  # drop every ws after this many more market messages
    ws_refuse_s: float = 0.0
    ws_duplicates: int = 0
    ws_swaps: int = 0
    ws_swap_kind: str | None = None
    ws_malformed: int = 0
    ws_malformed_style: str = "truncated"
    depth_gaps: int = 0
    user_duplicates: int = 0
    user_swaps: int = 0
    user_malformed: int = 0
    fired: Counter[str] = field(default_factory=Counter)
    """How many times each fault fired: a counted fault by its field name, an HTTP fault
    as "http <status> <method>" (what a soak reports, whatever was armed)."""

    def http_status(
        self,
        status: int,
        count: int = 1,
        *,
        retry_after: int | None = None,
        path: str = "",
        body: str | None = None,
        method: str = "",
    ) -> None:
        """The next `count` REST calls on paths containing `path` (and with `method`, when
        given: "POST" creates, "DELETE" cancels) answer `status` (429/418/5xx), with `body`
        as the text if given (else the venue's usual answer for that status)."""
        with self._lock:
            self.http.append(_HttpFault(status, count, retry_after, path, body, method.upper()))

    def create_timeout(self, count: int = 1, *, mode: str = "delay", delay_s: float = 2.0) -> None:
        """The next `count` order creations ARE placed, but the answer comes after `delay_s`
        ("delay") or never: the connection is closed without a response ("close")."""
        if mode not in ("delay", "close"):
            raise ValueError(f"create_timeout mode {mode!r}: must be 'delay' or 'close'")
        with self._lock:
            self.create_timeouts, self.create_timeout_mode, self.create_delay_s = (
                count,
                mode,
                delay_s,
            )

    def drop_ws(self, *, after_messages: int = 0, refuse_s: float = 0.0) -> None:
        """Close every websocket after `after_messages` more market-data messages, then refuse
        new websocket connections for `refuse_s` seconds (HTTP 503 on the upgrade)."""
        with self._lock:
            self.ws_drop_after, self.ws_refuse_s = after_messages, refuse_s

    def duplicate_ws(self, count: int = 1) -> None:
        """The next `count` market-data messages are sent twice."""
        with self._lock:
            self.ws_duplicates = count

    def reorder_ws(self, count: int = 1, *, kind: str | None = None) -> None:
        """`count` times, a market-data message (of `kind` "depth" or "trade", or any) is held back
        and sent right after the next message of the same stream."""
        with self._lock:
            self.ws_swaps, self.ws_swap_kind = count, kind

    def malformed_ws(self, count: int = 1, *, style: str = "truncated") -> None:
        """The next `count` market-data messages are sent as invalid JSON: "truncated" (cut in
        the middle) or "garbled" (still wrapped in braces, a stray comma before the end)."""
        if style not in ("truncated", "garbled"):
            raise ValueError(f"malformed_ws style {style!r}: must be 'truncated' or 'garbled'")
        with self._lock:
            self.ws_malformed, self.ws_malformed_style = count, style

    def depth_gap(self, count: int = 1) -> None:
        """The next `count` depth diffs change the fake's book but are not sent (a gap)."""
        with self._lock:
            self.depth_gaps = count

    def user_ws(self, *, duplicate: int = 0, reorder: int = 0, malformed: int = 0) -> None:
        """Faults on the user-data streams' order events (executionReport, ORDER_TRADE_UPDATE):
        the next `duplicate` are sent twice; `reorder` times one is held back and sent right
        after the next order event of that market; the next `malformed` are sent as truncated
        JSON (the order change itself happens: only its report is spoiled)."""
        with self._lock:
            self.user_duplicates, self.user_swaps, self.user_malformed = (
                duplicate,
                reorder,
                malformed,
            )

    def add(self, name: str, count: int) -> None:
        """Adds `count` to a counted fault (`user_duplicates`, `create_timeouts`, ...) under
        the lock: arming more while earlier ones are pending loses none of them."""
        if not isinstance(getattr(self, name, None), int) or count < 0:
            raise ValueError(f"fault {name!r} count {count!r}: a counted fault, count >= 0")
        with self._lock:
            setattr(self, name, getattr(self, name) + count)

    def note_fired(self, name: str) -> None:
        """Counts a fault the server fired on its own terms (a websocket drop)."""
        with self._lock:
            self.fired[name] += 1

    def clear_http(self) -> None:
        """Disarms every HTTP fault not fired yet."""
        with self._lock:
            self.http.clear()

    def take_http(self, path: str, method: str = "") -> _HttpFault | None:
        with self._lock:
            for f in self.http:
                if f.count > 0 and f.path in path and f.method in ("", method.upper()):
                    f.count -= 1
                    self.fired[f"http {f.status} {method.upper()}"] += 1
                    return f
            return None

    def take(self, name: str) -> bool:
        """Consumes one unit of a counted fault; True when it fires."""
        with self._lock:
            left: int = getattr(self, name)
            if left > 0:
                setattr(self, name, left - 1)
                self.fired[name] += 1
                return True
            return False
