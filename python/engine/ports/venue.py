"""The ExecutionVenue port: where orders go. Commands are fire-and-forget; the venue's
answers (accepted, filled, canceled, ...) come back later as `OrderEvent`s that the
driver hands to the order manager, so no venue call ever re-enters the manager."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import numpy.typing as npt

from engine.domain.enums import OrderSide, OrderType, TimeInForce, TriggerSource
from engine.domain.events import OrderEvent
from engine.domain.fill import Fill
from engine.domain.order import OrderTerms

__all__ = [
    "ExecutionVenue",
    "LiveVenue",
    "MarketBookView",
    "SharesMarketBook",
    "SimulatedMarket",
    "VenueAccount",
    "VenueCapabilities",
    "VenueOrderState",
    "VenueOrderStatus",
    "VenueSession",
    "VenueUnavailable",
]


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueCapabilities:
    """What the venue does natively; the order manager emulates the rest locally
    (stops and trailing stops, GTD expiry) or by cancel-replace (amend)."""

    order_types: frozenset[OrderType]
    time_in_force: frozenset[TimeInForce]
    trigger_sources: frozenset[TriggerSource]
    amend: bool


class ExecutionVenue(Protocol):
    @property
    def capabilities(self) -> VenueCapabilities: ...

    def submit(self, terms: OrderTerms) -> None:
        """Sends a new order; its client order id is the key of every later answer."""
        ...

    def cancel(self, client_order_id: str) -> None: ...

    def modify(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None:
        """Amends in place (only when `capabilities.amend`); `quantity` is the new total."""
        ...


class VenueSession(ExecutionVenue, Protocol):
    """What the kernel drives: a venue it hands market rows to, whose time it moves
    on, and whose answers it collects. A simulated venue matches on the rows; a real
    exchange matches on its own and ignores them."""

    def apply_events(self, symbol: str, events: npt.NDArray[np.void]) -> None: ...

    def advance_to(self, ts: int) -> None:
        """Lets commands in flight arrive and orders expire up to `ts`."""
        ...

    def drain(self) -> list[OrderEvent]:
        """Answers produced since the last call, in order."""
        ...

    def position(self, symbol: str) -> Decimal:
        """The venue's own view of our signed position (what an emergency stop verifies
        flat against, rather than our own books)."""
        ...


Level = tuple[int, int]
"""(price in ticks, size in the data's lots)."""


class MarketBookView(Protocol):
    """What the kernel reads of an instrument's market book (its own `L2Book`, or a
    simulated venue's book of the same rows)."""

    @property
    def stale(self) -> bool: ...

    def top(self) -> tuple[Level | None, Level | None]: ...

    def best_bid(self) -> Level | None: ...

    def best_ask(self) -> Level | None: ...

    def depth(self, side: int, n: int) -> list[Level]: ...


@runtime_checkable
class SharesMarketBook(Protocol):
    """A venue whose own book of an instrument is the market book the kernel would build
    from the same rows: the kernel reads that one instead of replaying every row into a
    copy (a simulated venue; a real exchange has no such book)."""

    def market_book(self, symbol: str, rule: str) -> MarketBookView | None:
        """`symbol`'s book when it is built from exactly the rows `apply_events` gets,
        under sequence rule `rule`, in the rows' own lots; None otherwise."""
        ...


class SimulatedMarket(VenueSession, Protocol):
    """A venue that matches our orders against market data we feed it (backtest and
    paper): the kernel hands it the rows, then collects its answers."""


VenueOrderStatus = Literal["open", "filled", "canceled", "expired", "rejected"]


@dataclass(frozen=True, slots=True, kw_only=True)
class VenueOrderState:
    """One order as the venue reports it when asked (a snapshot, not an event).
    `client_order_id` is the venue's copy of ours (an order placed elsewhere has the
    venue's own, or `ext-<venue id>` when it had none); `filled` is cumulative."""

    client_order_id: str
    venue_order_id: str
    symbol: str
    side: OrderSide
    order_type: OrderType
    quantity: Decimal
    price: Decimal | None
    trigger_price: Decimal | None
    filled: Decimal
    status: VenueOrderStatus
    reduce_only: bool
    ts_event: int


class VenueUnavailable(Exception):
    """A query the venue could not answer in time (network, rate limit, outage): the
    caller does not know, and must not act as if the answer were "nothing"."""


class VenueAccount(Protocol):
    """Queries reconciliation compares the journal with. Each blocks for a bounded time
    and raises `VenueUnavailable` when the venue cannot answer; symbols are the
    engine's."""

    def open_orders(self) -> list[VenueOrderState]:
        """Every open order of the account on the instruments this venue trades."""
        ...

    def order(self, symbol: str, client_order_id: str) -> VenueOrderState | None:
        """The order with this client order id; None when the venue never had it."""
        ...

    def fills(self, symbol: str, since_ns: int) -> list[Fill]:
        """The account's own executions on `symbol` at or after `since_ns`, oldest first
        (a fill of an order placed elsewhere carries that order's client id as above)."""
        ...

    def order_fills(self, symbol: str, client_order_id: str) -> list[Fill]:
        """Every execution of one order, oldest first; [] when the venue never had it
        (asked by order, so it does not depend on the clocks agreeing)."""
        ...

    def balances(self) -> dict[str, Decimal]:
        """Total per asset (free plus locked), zero balances left out."""
        ...

    def positions(self) -> dict[str, Decimal]:
        """Signed position per derivative instrument (spot holds balances only)."""
        ...


class LiveVenue(VenueSession, VenueAccount, Protocol):
    """A real exchange: commands, answers, queries, and a count of how many times its
    private stream has (re)connected, so the kernel knows when to reconcile again."""

    @property
    def connections(self) -> int: ...

    def close(self) -> None: ...
