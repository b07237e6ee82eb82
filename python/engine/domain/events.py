"""Order events: immutable facts an Order applies, in the order they happened.

Each names its order by `client_order_id` and carries `ts_event`, integer nanoseconds
of when it happened (at the venue for venue reports, on our clock for our requests)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.domain import _checks
from engine.domain._frozen import fast_init
from engine.domain.errors import ValidationError
from engine.domain.fill import Fill

__all__ = [
    "OrderAccepted",
    "OrderCancelRejected",
    "OrderCanceled",
    "OrderDenied",
    "OrderEvent",
    "OrderExpired",
    "OrderFilled",
    "OrderPendingCancel",
    "OrderPendingUpdate",
    "OrderRejected",
    "OrderSubmitted",
    "OrderTriggered",
    "OrderUpdateRejected",
    "OrderUpdated",
]


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderEvent:
    """Base of every order event; not applied on its own."""

    client_order_id: str
    ts_event: int

    def __post_init__(self) -> None:
        _checks.client_order_id(self.client_order_id, type(self).__name__)
        ts = self.ts_event
        if type(ts) is not int or ts < 0:  # the subject is put together only to refuse
            _checks.timestamp_ns("ts_event", ts, self._subject)

    @property
    def _subject(self) -> str:
        return f"{type(self).__name__} of {self.client_order_id}"


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class _WithReason(OrderEvent):
    """An event whose reason must be said (a denial or rejection without one is useless)."""

    reason: str

    def __post_init__(self) -> None:
        OrderEvent.__post_init__(self)
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValidationError("reason", self.reason, "is empty (rule: say why)", self._subject)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderDenied(_WithReason):
    """Refused before leaving the process (risk gate, validation)."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderSubmitted(OrderEvent):
    """Sent to the venue (written to the store first)."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderAccepted(OrderEvent):
    """The venue acknowledged the order; `venue_order_id` is its own id when it gave one."""

    venue_order_id: str = ""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderRejected(_WithReason):
    """The venue refused the order."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderTriggered(OrderEvent):
    """A stop, take-profit or trailing stop reached its trigger and now works."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderFilled(OrderEvent):
    """One execution; its `client_order_id` must be the fill's."""

    fill: Fill

    def __post_init__(self) -> None:
        OrderEvent.__post_init__(self)
        if not isinstance(self.fill, Fill):
            raise ValidationError("fill", self.fill, "is not a Fill", self._subject)
        if self.fill.client_order_id != self.client_order_id:
            rule = f"does not match the event's {self.client_order_id}"
            raise ValidationError("fill.client_order_id", self.fill.client_order_id, rule)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPendingUpdate(OrderEvent):
    """We asked the venue to amend the order."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdated(OrderEvent):
    """The venue amended the order; a field left None is unchanged."""

    price: Decimal | None = None
    quantity: Decimal | None = None
    trigger_price: Decimal | None = None

    def __post_init__(self) -> None:
        OrderEvent.__post_init__(self)
        if self.price is None and self.quantity is None and self.trigger_price is None:
            raise ValidationError(
                "update",
                None,
                "changes nothing (rule: price, quantity or trigger_price)",
                self._subject,
            )
        for name in ("price", "quantity", "trigger_price"):
            value = getattr(self, name)
            if value is not None:
                _checks.positive(name, value, self._subject)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderUpdateRejected(_WithReason):
    """The venue refused an amendment; the order keeps its terms."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderPendingCancel(OrderEvent):
    """We asked the venue to cancel the order."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCanceled(OrderEvent):
    """Canceled at our request or by the venue (`reason`, e.g. a slippage cap, IOC rest)."""

    reason: str = ""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderCancelRejected(_WithReason):
    """The venue refused a cancel (often: already filled or unknown)."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderExpired(OrderEvent):
    """Expired: GTD time passed, or IOC/FOK leftovers as some venues report them."""
