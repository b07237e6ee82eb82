"""Shared value checks for the domain's constructors; each raises a ValidationError.

The string checks remember the strings they passed (a bounded set each): the same
symbol, account and client order id come through every event of a run, and a set
lookup is several times cheaper than the regular expression. Only exact `str` values
are remembered, so the cache cannot answer for a look-alike object."""

from __future__ import annotations

import re
from decimal import Decimal
from enum import Enum
from typing import TypeVar

from engine.domain.errors import ValidationError

CLIENT_ORDER_ID_PATTERN = re.compile(r"[.A-Z:/a-z0-9_-]{1,36}")
"""Binance's rule (`^[\\.A-Z\\:/a-z0-9_-]{1,36}$`), the strictest common one among venues."""


def decimal(field: str, value: object, subject: str = "") -> Decimal:
    """A finite Decimal; floats are refused because they cannot hold 0.1 exactly."""
    if not isinstance(value, Decimal):
        kind = type(value).__name__
        raise ValidationError(field, value, f"is a {kind} (rule: Decimal, never float)", subject)
    if not value.is_finite():
        raise ValidationError(field, value, "is not finite (rule: a finite Decimal)", subject)
    return value


def positive(field: str, value: object, subject: str = "") -> Decimal:
    if type(value) is Decimal and value.is_finite() and value > 0:
        return value
    number = decimal(field, value, subject)
    if number <= 0:
        raise ValidationError(field, number, "is not positive (rule: > 0)", subject)
    return number


def non_negative(field: str, value: object, subject: str = "") -> Decimal:
    if type(value) is Decimal and value.is_finite() and value >= 0:
        return value
    number = decimal(field, value, subject)
    if number < 0:
        raise ValidationError(field, number, "is negative (rule: >= 0)", subject)
    return number


def timestamp_ns(field: str, value: object, subject: str = "") -> int:
    """Integer nanoseconds since the Unix epoch, never negative."""
    if not isinstance(value, int) or isinstance(value, bool):
        kind = type(value).__name__
        raise ValidationError(field, value, f"is a {kind} (rule: int nanoseconds)", subject)
    if value < 0:
        raise ValidationError(field, value, "is negative (rule: int nanoseconds >= 0)", subject)
    return value


_WHITESPACE = re.compile(r"\s")

_REMEMBERED = 4096
"""Strings each cache holds before it starts again (a run has a few symbols and
accounts; client order ids come and go)."""
_TEXT_OK: set[str] = set()
"""Non-empty strings without whitespace that passed `text` (any length: the length
rule is checked on every call)."""
_ID_OK: set[str] = set()
"""Strings that passed `client_order_id`."""


def _remember(cache: set[str], value: str) -> None:
    if len(cache) >= _REMEMBERED:
        cache.clear()
    cache.add(value)


def text(field: str, value: object, subject: str = "", max_length: int = 64) -> str:
    """A non-empty identifier without surrounding or inner whitespace."""
    if type(value) is str and value in _TEXT_OK and len(value) <= max_length:
        return value
    if not isinstance(value, str):
        raise ValidationError(field, value, f"is a {type(value).__name__} (rule: str)", subject)
    if not value or len(value) > max_length or _WHITESPACE.search(value):
        rule = f"(rule: 1..{max_length} characters, no whitespace)"
        raise ValidationError(field, value, f"is not a valid identifier {rule}", subject)
    if type(value) is str:
        _remember(_TEXT_OK, value)
    return value


_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def reference(field: str, value: object, subject: str = "", max_length: int = 4096) -> str:
    """A name that may be a file path (`path/to/file.py:Class`): paths can be long and
    contain spaces, so only emptiness, surrounding whitespace, control characters and
    the length (PATH_MAX) are refused."""
    if not isinstance(value, str):
        raise ValidationError(field, value, f"is a {type(value).__name__} (rule: str)", subject)
    if not value or len(value) > max_length or value.strip() != value or _CONTROL.search(value):
        rule = f"(rule: 1..{max_length} characters, no control characters, no surrounding spaces)"
        raise ValidationError(field, value, f"is not a valid reference {rule}", subject)
    return value


def client_order_id(value: object, subject: str = "") -> str:
    if type(value) is str and value in _ID_OK:
        return value
    if not isinstance(value, str) or CLIENT_ORDER_ID_PATTERN.fullmatch(value) is None:
        rule = "(rule: 1..36 characters of A-Z a-z 0-9 . : / _ -)"
        raise ValidationError("client_order_id", value, f"is not valid {rule}", subject)
    if type(value) is str:
        _remember(_ID_OK, value)
    return value


def decimals_of(step: Decimal) -> int:
    """Decimal places a step needs: 0.010 -> 2, 5 -> 0, 1E+1 -> 0."""
    exponent = step.normalize().as_tuple().exponent
    assert isinstance(exponent, int)  # finite by construction
    return max(0, -exponent)


_E = TypeVar("_E", bound=Enum)


def member(field: str, value: object, kind: type[_E], subject: str = "") -> _E:
    """A member of `kind` itself; plain strings are refused so typos cannot slip through."""
    if not isinstance(value, kind):
        names = ", ".join(str(m.value) for m in kind)
        rule = f"is not a {kind.__name__} (rule: one of {names})"
        raise ValidationError(field, value, rule, subject)
    return value


def flag(field: str, value: object, subject: str = "") -> bool:
    if not isinstance(value, bool):
        raise ValidationError(field, value, "is not a bool (rule: True or False)", subject)
    return value
