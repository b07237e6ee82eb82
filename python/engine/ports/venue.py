"""The ExecutionVenue port: where orders go. Commands are fire-and-forget; the venue's
answers (accepted, filled, canceled, ...) come back later as `OrderEvent`s that the
driver hands to the order manager, so no venue call ever re-enters the manager."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Protocol

import numpy as np
import numpy.typing as npt

from engine.domain.enums import OrderType, TimeInForce, TriggerSource
from engine.domain.events import OrderEvent
from engine.domain.order import OrderTerms

__all__ = ["ExecutionVenue", "SimulatedMarket", "VenueCapabilities"]


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


class SimulatedMarket(ExecutionVenue, Protocol):
    """A venue that matches our orders against market data we feed it (backtest and
    paper): the kernel hands it the rows, then collects its answers."""

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
