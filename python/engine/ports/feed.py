"""The MarketDataFeed port: live market data for paper (and live) runs.

A feed delivers one exchange message at a time as `EVENT_DTYPE` rows of one instrument
(a depth diff or snapshot message, or one trade print), in the order it received them.
The kernel asks with a timeout and works on its timers when nothing comes, so a feed
never calls into the engine: the kernel stays the only writer of state. A websocket feed
runs its own I/O elsewhere (a thread) and hands messages over; a recorded feed releases
each message when the clock reaches its time (paper mode in tests)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import numpy as np
import numpy.typing as npt

__all__ = ["FeedAlert", "FeedMarket", "FeedMessage", "MarketDataFeed"]


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


@dataclass(frozen=True, slots=True)
class FeedAlert:
    """Something the kernel must act on, from a live feed's own thread: `kind` is
    STALE (no update for the configured time), FRESH (updates again), GAVE_UP (the
    reconnect loop used its retries), RECONNECTED, RESYNCED (a gap, book rebuilt from a
    snapshot) or DROPPED (messages lost to overload); `ts` on the feed's clock."""

    kind: str
    symbol: str
    ts: int
    detail: str = ""


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
