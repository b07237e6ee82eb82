"""Domain errors: every one names the field, the value and the rule it broke.

All are `ValueError`s, so callers that only know "bad input" still catch them.
"""

from __future__ import annotations

from decimal import Decimal

__all__ = [
    "DomainError",
    "DuplicateFillError",
    "InvalidStateTransition",
    "OverfillError",
    "PrecisionError",
    "ValidationError",
]


class DomainError(ValueError):
    """Base of every domain error; `field`, `value` and `rule` are kept for callers."""

    def __init__(self, field: str, value: object, rule: str, subject: str = "") -> None:
        self.field = field
        self.value = value
        self.rule = rule
        self.subject = subject
        where = f" for {subject}" if subject else ""
        super().__init__(f"{field} {_show(value)} {rule}{where}")


class ValidationError(DomainError):
    """A value outside what the domain accepts (sign, range, type, format, combination)."""


class PrecisionError(DomainError):
    """A price or quantity that is not a whole number of ticks or lots of its instrument."""


class OverfillError(DomainError):
    """A fill that would take an order's filled quantity beyond its quantity."""


class DuplicateFillError(DomainError):
    """A fill whose trade id the order has already applied (venues re-send on reconnect)."""


class InvalidStateTransition(DomainError):
    """An event the order state machine does not allow in the order's current state."""

    def __init__(self, client_order_id: str, state: str, event: str, why: str = "") -> None:
        rule = why or "not in the transition table"
        # The message leads with the order, then the state, then the event, as logs read it.
        DomainError.__init__(self, "status", state, f"does not accept {event} ({rule})")
        self.client_order_id = client_order_id
        self.state = state
        self.event = event
        self.args = (f"order {client_order_id}: state {state} does not accept {event} ({rule})",)


def _show(value: object) -> str:
    """Decimals print in plain notation (0.0004, not 4E-4); odd strings are quoted."""
    if isinstance(value, Decimal):
        return format(value, "f") if value.is_finite() else str(value)
    if isinstance(value, str):
        return value if value and not value.isspace() and value == value.strip() else repr(value)
    return str(value) if isinstance(value, int) else repr(value)
