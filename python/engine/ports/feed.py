"""The MarketDataFeed port: live market data for paper (and live) runs.

A feed delivers one exchange message at a time as `EVENT_DTYPE` rows of one instrument
(a depth diff or snapshot message, or one trade print), in the order it received them.
The kernel asks with a timeout and works on its timers when nothing comes, so a feed
never calls into the engine: the kernel stays the only writer of state. A websocket feed
runs its own I/O elsewhere (a thread) and hands messages over; a recorded feed releases
each message when the clock reaches its time (paper mode in tests)."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "AlertingFeed",
    "FeedAlert",
    "FeedAlertKind",
    "FeedMarket",
    "FeedMessage",
    "FeedSymbolStatus",
    "MarketDataFeed",
]


@dataclass(frozen=True, slots=True)
class FeedMarket:
    """One instrument a feed carries: its symbol, the depth sequence rule its messages
    follow ("spot" or "futures") and the size unit of its rows (`data_lot_size`)."""

    symbol: str
    rule: Literal["spot", "futures"]
    data_lot_size: str


@dataclass(frozen=True, slots=True)
class FeedMessage:
    """One exchange message: `EVENT_DTYPE` rows of `symbol`, at `ts` (ns, the time the
    feed took it in)."""

    symbol: str
    ts: int
    events: npt.NDArray[np.void]


class MarketDataFeed(Protocol):
    @property
    def markets(self) -> tuple[FeedMarket, ...]:
        """The instruments this feed carries."""
        ...

    def next_message(self, timeout_s: float, until_ns: int | None = None) -> FeedMessage | None:
        """The next message, waiting at most `timeout_s` seconds and, when `until_ns` is
        given, no later than the clock reading it (the kernel's next timer); None when
        none came by then."""
        ...

    @property
    def exhausted(self) -> bool:
        """True when no message will ever come again (a recording that ran out)."""
        ...

    def close(self) -> None:
        """Stops the feed and frees what it holds (sockets, threads, files)."""
        ...


class FeedAlertKind(StrEnum):
    """What a live feed tells the kernel about one symbol's data."""

    STALE = "STALE"
    """No book update for the feed's staleness limit: the book cannot be trusted."""
    FRESH = "FRESH"
    """A stale symbol's book updated again."""
    GAVE_UP = "GAVE_UP"
    """The feed stopped trying (retries exhausted, or the exchange refused the symbol)."""
    RESYNCED = "RESYNCED"
    """A sequence gap was found and the book was rebuilt from a fresh snapshot."""
    RECONNECTED = "RECONNECTED"
    """A lost connection was made again and data flows."""
    DROPPED = "DROPPED"
    """Trade prints were dropped because the consumer fell behind (bounded queue)."""


@dataclass(frozen=True, slots=True)
class FeedAlert:
    """One change of a symbol's data health, at `ts` (ns, the feed's clock)."""

    kind: FeedAlertKind
    symbol: str
    ts: int
    detail: str


@dataclass(frozen=True, slots=True)
class FeedSymbolStatus:
    """A live feed's counters for one symbol (health reporting reads these)."""

    symbol: str
    connected: bool
    last_update_ns: int | None
    """When the book last updated (None: never)."""
    stale: bool
    gave_up: bool
    reconnects: int
    resyncs: int
    restarts: int
    """Stalled book streams the feed re-subscribed itself."""
    malformed: int
    conflated: int
    """Book snapshots replaced by a newer one before the consumer took them."""
    dropped: int
    """Trade prints dropped because the queue was full."""


class AlertingFeed(MarketDataFeed, Protocol):
    """A feed that watches its own connections. It runs in another thread and never
    touches engine state: the kernel thread drains its alerts and acts on them."""

    def take_alerts(self) -> list[FeedAlert]:
        """The alerts raised since the last call, oldest first."""
        ...

    def status(self) -> dict[str, FeedSymbolStatus]:
        """Counters per symbol, now."""
        ...
