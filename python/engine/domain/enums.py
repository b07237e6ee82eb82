"""The domain's closed vocabularies (sides, order types, statuses...), as string enums.

String values keep journals and logs readable and stable across versions.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "InstrumentKind",
    "Liquidity",
    "OrderEventKind",
    "OrderSide",
    "OrderStatus",
    "OrderType",
    "Rounding",
    "TimeInForce",
    "TriggerSource",
]


class InstrumentKind(StrEnum):
    SPOT = "SPOT"
    LINEAR_PERPETUAL = "LINEAR_PERPETUAL"


class OrderSide(StrEnum):
    BUY = "BUY"
    SELL = "SELL"

    @property
    def sign(self) -> int:
        """+1 for BUY, -1 for SELL: the sign a fill gives a position."""
        return 1 if self is OrderSide.BUY else -1

    @property
    def opposite(self) -> OrderSide:
        return OrderSide.SELL if self is OrderSide.BUY else OrderSide.BUY


class OrderType(StrEnum):
    MARKET = "MARKET"
    LIMIT = "LIMIT"
    STOP_MARKET = "STOP_MARKET"
    STOP_LIMIT = "STOP_LIMIT"
    TAKE_PROFIT_MARKET = "TAKE_PROFIT_MARKET"
    TAKE_PROFIT_LIMIT = "TAKE_PROFIT_LIMIT"
    TRAILING_STOP_MARKET = "TRAILING_STOP_MARKET"

    @property
    def has_limit_price(self) -> bool:
        """LIMIT and the *_LIMIT types carry a limit price; every other type must not."""
        return self in _LIMIT_PRICED

    @property
    def is_triggered(self) -> bool:
        """Stops, take-profits and trailing stops wait for a trigger before they work."""
        return self in _TRIGGERED


_LIMIT_PRICED = frozenset({OrderType.LIMIT, OrderType.STOP_LIMIT, OrderType.TAKE_PROFIT_LIMIT})
_TRIGGERED = frozenset(
    {
        OrderType.STOP_MARKET,
        OrderType.STOP_LIMIT,
        OrderType.TAKE_PROFIT_MARKET,
        OrderType.TAKE_PROFIT_LIMIT,
        OrderType.TRAILING_STOP_MARKET,
    }
)


class TimeInForce(StrEnum):
    GTC = "GTC"
    IOC = "IOC"
    FOK = "FOK"
    GTD = "GTD"


class TriggerSource(StrEnum):
    """Which market price fires a trigger: last trade, the touch (bid for sells, ask for
    buys), or the venue's mark price."""

    LAST_TRADE = "LAST_TRADE"
    BID_ASK = "BID_ASK"
    MARK = "MARK"


class TradingState(StrEnum):
    """What the risk gate lets through: everything, only orders that reduce, nothing."""

    ACTIVE = "ACTIVE"
    REDUCING = "REDUCING"
    HALTED = "HALTED"


class Liquidity(StrEnum):
    MAKER = "MAKER"
    TAKER = "TAKER"


class Rounding(StrEnum):
    """How a value off the grid is brought onto it (see `engine.domain.instrument`)."""

    DOWN = "DOWN"
    UP = "UP"
    HALF_EVEN = "HALF_EVEN"


class OrderStatus(StrEnum):
    INITIALIZED = "INITIALIZED"
    DENIED = "DENIED"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    TRIGGERED = "TRIGGERED"
    PARTIALLY_FILLED = "PARTIALLY_FILLED"
    FILLED = "FILLED"
    PENDING_UPDATE = "PENDING_UPDATE"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    EXPIRED = "EXPIRED"

    @property
    def is_terminal(self) -> bool:
        """Nothing leaves a terminal status."""
        return self in _TERMINAL


_TERMINAL = frozenset(
    {
        OrderStatus.DENIED,
        OrderStatus.REJECTED,
        OrderStatus.FILLED,
        OrderStatus.CANCELED,
        OrderStatus.EXPIRED,
    }
)


class OrderEventKind(StrEnum):
    """The column of the transition table. A fill is PARTIAL_FILL or FULL_FILL depending
    on whether it leaves quantity open, so the table itself stays plain data."""

    DENIED = "DENIED"
    SUBMITTED = "SUBMITTED"
    ACCEPTED = "ACCEPTED"
    REJECTED = "REJECTED"
    TRIGGERED = "TRIGGERED"
    PARTIAL_FILL = "PARTIAL_FILL"
    FULL_FILL = "FULL_FILL"
    PENDING_UPDATE = "PENDING_UPDATE"
    UPDATED = "UPDATED"
    UPDATE_REJECTED = "UPDATE_REJECTED"
    PENDING_CANCEL = "PENDING_CANCEL"
    CANCELED = "CANCELED"
    CANCEL_REJECTED = "CANCEL_REJECTED"
    EXPIRED = "EXPIRED"
