"""Journal records: what the order manager writes to the store before anything changes.

Replaying a journal's records in order rebuilds every order exactly: `OrderInitialized`
creates an order (with how the manager handles it), `BracketCreated` links three orders,
and every other record is an `OrderEvent` that the named order applies."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from engine.domain import _checks
from engine.domain.enums import OrderSide, TriggerSource
from engine.domain.errors import ValidationError
from engine.domain.events import OrderEvent
from engine.domain.order import OrderTerms

__all__ = ["BracketCreated", "Handling", "JournalRecord", "OrderInitialized"]


class Handling(StrEnum):
    """Who works an order: the venue, or the manager until a local trigger fires."""

    VENUE = "VENUE"
    EMULATED = "EMULATED"


@dataclass(frozen=True, slots=True, kw_only=True)
class OrderInitialized(OrderEvent):
    """An order came into being with these terms. `replaces` names the order it replaces
    (cancel-replace); `bracket` names the bracket it belongs to."""

    terms: OrderTerms
    handling: Handling = Handling.VENUE
    replaces: str | None = None
    bracket: str | None = None

    def __post_init__(self) -> None:
        OrderEvent.__post_init__(self)
        if not isinstance(self.terms, OrderTerms):
            raise ValidationError("terms", self.terms, "is not OrderTerms", self._subject)
        if self.terms.client_order_id != self.client_order_id:
            rule = f"does not match the record's {self.client_order_id}"
            raise ValidationError("terms.client_order_id", self.terms.client_order_id, rule)
        _checks.member("handling", self.handling, Handling, self._subject)
        for name in ("replaces", "bracket"):
            value = getattr(self, name)
            if value is not None:
                _checks.client_order_id(value, self._subject)


@dataclass(frozen=True, slots=True, kw_only=True)
class BracketCreated(OrderEvent):
    """An entry with a stop-loss and a take-profit (one cancels the other). The exits'
    ids are reserved now; their orders are created when the entry first fills.
    `client_order_id` is the bracket's own id."""

    symbol: str
    side: OrderSide
    entry: str
    stop_loss: str
    take_profit: str
    stop_price: Decimal
    take_profit_price: Decimal
    trigger_source: TriggerSource

    def __post_init__(self) -> None:
        OrderEvent.__post_init__(self)
        _checks.text("symbol", self.symbol, self._subject)
        _checks.member("side", self.side, OrderSide, self._subject)
        _checks.positive("stop_price", self.stop_price, self._subject)
        _checks.positive("take_profit_price", self.take_profit_price, self._subject)
        _checks.member("trigger_source", self.trigger_source, TriggerSource, self._subject)
        ids = (self.entry, self.stop_loss, self.take_profit)
        for name, value in zip(("entry", "stop_loss", "take_profit"), ids, strict=True):
            _checks.client_order_id(value, f"{self._subject} {name}")
        if len({self.client_order_id, *ids}) != 4:
            raise ValidationError("bracket ids", ids, "repeat (rule: four distinct ids)")


JournalRecord = OrderEvent
"""Every record is an OrderEvent subclass: the two above, or an order's own event."""
