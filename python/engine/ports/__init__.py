"""Ports: what the hexagon needs from the outside world, as small Protocols.

Adapters in `adapters/` implement them; tests use hand-written fakes."""

from engine.ports.clock import Clock, SettableClock
from engine.ports.notifier import AlertLevel, Notifier, SilentNotifier
from engine.ports.store import Store, StoreError
from engine.ports.venue import (
    ExecutionVenue,
    LiveVenue,
    MarketBookView,
    SharesMarketBook,
    SimulatedMarket,
    VenueAccount,
    VenueCapabilities,
    VenueOrderState,
    VenueSession,
    VenueUnavailable,
)

__all__ = [
    "AlertLevel",
    "Clock",
    "ExecutionVenue",
    "LiveVenue",
    "MarketBookView",
    "Notifier",
    "SettableClock",
    "SharesMarketBook",
    "SilentNotifier",
    "SimulatedMarket",
    "Store",
    "StoreError",
    "VenueAccount",
    "VenueCapabilities",
    "VenueOrderState",
    "VenueSession",
    "VenueUnavailable",
]
