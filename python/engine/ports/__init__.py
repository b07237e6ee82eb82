"""Ports: what the hexagon needs from the outside world, as small Protocols.

Adapters in `adapters/` implement them; tests use hand-written fakes."""

from engine.ports.clock import Clock
from engine.ports.store import Store, StoreError
from engine.ports.venue import ExecutionVenue, VenueCapabilities

__all__ = ["Clock", "ExecutionVenue", "Store", "StoreError", "VenueCapabilities"]
