"""The domain: instruments, orders and their state machine, fills, positions, balances,
events. Pure Python values and rules; no I/O, nothing from `adapters`."""

from engine.domain.balance import Balance
from engine.domain.enums import (
    InstrumentKind,
    Liquidity,
    OrderEventKind,
    OrderSide,
    OrderStatus,
    OrderType,
    Rounding,
    TimeInForce,
    TriggerSource,
)
from engine.domain.errors import (
    DomainError,
    DuplicateFillError,
    InvalidStateTransition,
    OverfillError,
    PrecisionError,
    ValidationError,
)
from engine.domain.events import (
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSubmitted,
    OrderTriggered,
    OrderUpdated,
    OrderUpdateRejected,
)
from engine.domain.fill import Fill
from engine.domain.instrument import Instrument
from engine.domain.order import RESUME, TRANSITIONS, WORKING_STATES, Order, OrderTerms
from engine.domain.position import Position

__all__ = [
    "RESUME",
    "TRANSITIONS",
    "WORKING_STATES",
    "Balance",
    "DomainError",
    "DuplicateFillError",
    "Fill",
    "Instrument",
    "InstrumentKind",
    "InvalidStateTransition",
    "Liquidity",
    "Order",
    "OrderAccepted",
    "OrderCancelRejected",
    "OrderCanceled",
    "OrderDenied",
    "OrderEvent",
    "OrderEventKind",
    "OrderExpired",
    "OrderFilled",
    "OrderPendingCancel",
    "OrderPendingUpdate",
    "OrderRejected",
    "OrderSide",
    "OrderStatus",
    "OrderSubmitted",
    "OrderTerms",
    "OrderTriggered",
    "OrderType",
    "OrderUpdateRejected",
    "OrderUpdated",
    "OverfillError",
    "Position",
    "PrecisionError",
    "Rounding",
    "TimeInForce",
    "TriggerSource",
    "ValidationError",
]
