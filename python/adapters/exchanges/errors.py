"""What to do after a ccxt call failed: retry, look the order up first, or give up.

ccxt raises two families. The network family (`NetworkError`: `RequestTimeout`,
`ExchangeNotAvailable`, `RateLimitExceeded`, `DDoSProtection`, ...) and ccxt's
`OperationFailed` (`BadResponse`, `NullResponse`) are transient: the same request may
work later. The exchange family (`ExchangeError`: `InvalidOrder`, `InsufficientFunds`,
`AuthenticationError`, `BadSymbol`, ...) is the exchange saying no: asking again gets
the same answer, so it is never retried and becomes a reject with its reason.

A transient failure of a request that changes state (create, cancel, edit) is
AMBIGUOUS unless the exchange is known to have turned the request away before acting on
it: a timeout or a 5xx may come after the order was placed. The caller must look the
order up by its client order id before sending anything again. Rate-limit answers (429,
418) and DDoS protection refuse the request itself, so they are plain RETRY.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Final

import ccxt

__all__ = ["Outcome", "Verdict", "classify"]


class Outcome(StrEnum):
    RETRY = "RETRY"
    """Send the same request again after a backoff."""
    AMBIGUOUS = "AMBIGUOUS"
    """It may have happened: find out (order lookup by client id) before retrying."""
    REJECT = "REJECT"
    """The exchange said no: never retried; the order is rejected with `reason`."""


@dataclass(frozen=True, slots=True)
class Verdict:
    outcome: Outcome
    reason: str
    """`CODE: message`, the code from the most specific ccxt class (a reject's reason)."""
    retry_after_s: float | None = None
    """The exchange's own wait (a Retry-After header), when it gave one."""


_CODES: Final[tuple[tuple[type[BaseException], str], ...]] = (
    # Most specific first: the first class the error is an instance of names it.
    (ccxt.DuplicateOrderId, "DUPLICATE_ORDER_ID"),
    (ccxt.OrderNotFound, "ORDER_NOT_FOUND"),
    (ccxt.OrderImmediatelyFillable, "ORDER_IMMEDIATELY_FILLABLE"),
    (ccxt.OrderNotFillable, "ORDER_NOT_FILLABLE"),
    (ccxt.InvalidOrder, "INVALID_ORDER"),
    (ccxt.InsufficientFunds, "INSUFFICIENT_FUNDS"),
    (ccxt.AccountSuspended, "ACCOUNT_SUSPENDED"),
    (ccxt.PermissionDenied, "PERMISSION_DENIED"),
    (ccxt.AuthenticationError, "AUTHENTICATION"),
    (ccxt.BadSymbol, "BAD_SYMBOL"),
    (ccxt.BadRequest, "BAD_REQUEST"),
    (ccxt.MarketClosed, "MARKET_CLOSED"),
    (ccxt.OperationRejected, "OPERATION_REJECTED"),
    (ccxt.NotSupported, "NOT_SUPPORTED"),
    (ccxt.ExchangeError, "EXCHANGE_ERROR"),
    (ccxt.RateLimitExceeded, "RATE_LIMITED"),
    (ccxt.DDoSProtection, "DDOS_PROTECTION"),
    (ccxt.RequestTimeout, "TIMEOUT"),
    (ccxt.OnMaintenance, "MAINTENANCE"),
    (ccxt.ExchangeNotAvailable, "EXCHANGE_NOT_AVAILABLE"),
    (ccxt.InvalidNonce, "INVALID_NONCE"),
    (ccxt.NetworkError, "NETWORK"),
    (ccxt.BadResponse, "BAD_RESPONSE"),
    (ccxt.OperationFailed, "OPERATION_FAILED"),
)

_REFUSED_BEFORE_ACTING: Final = (ccxt.RateLimitExceeded, ccxt.DDoSProtection)
"""Transient errors that turn the request away before the exchange acts on it (429 and
418 answers)."""


def code_of(error: BaseException) -> str:
    for cls, code in _CODES:
        if isinstance(error, cls):
            return code
    return "UNKNOWN"


def classify(
    error: BaseException, *, changes_state: bool, retry_after_s: float | None = None
) -> Verdict:
    """The verdict on `error` from a call that `changes_state` (create, cancel, edit)
    or only reads (fetch_*). Anything that is not a ccxt error is a bug, not an
    exchange answer: it is re-raised by the caller, so it is classified REJECT here."""
    message = " ".join(str(error).split())[:300] or type(error).__name__
    reason = f"{code_of(error)}: {message}"
    if isinstance(error, ccxt.ExchangeError) or not isinstance(error, ccxt.BaseError):
        return Verdict(Outcome.REJECT, reason)
    if isinstance(error, ccxt.OperationFailed):
        if changes_state and not isinstance(error, _REFUSED_BEFORE_ACTING):
            return Verdict(Outcome.AMBIGUOUS, reason, retry_after_s)
        return Verdict(Outcome.RETRY, reason, retry_after_s)
    return Verdict(Outcome.REJECT, reason)  # other ccxt errors (e.g. unsubscribe)
