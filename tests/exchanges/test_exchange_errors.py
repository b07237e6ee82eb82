"""ccxt errors sorted into retry, look-up-first and reject, as the live venue acts on
them: the network family is retried, the exchange family never is, and a transient
failure of a state-changing call is ambiguous unless the exchange refused it outright."""

from __future__ import annotations

import ccxt
import pytest

from adapters.exchanges.errors import Outcome, classify, code_of


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ccxt.InsufficientFunds("Account has insufficient balance"), "INSUFFICIENT_FUNDS"),
        (ccxt.InvalidOrder("Filter failure: LOT_SIZE"), "INVALID_ORDER"),
        (ccxt.OrderNotFound("Unknown order sent."), "ORDER_NOT_FOUND"),
        (ccxt.DuplicateOrderId("Duplicate clientOrderId"), "DUPLICATE_ORDER_ID"),
        (ccxt.AuthenticationError("Signature for this request is not valid."), "AUTHENTICATION"),
        (ccxt.PermissionDenied("no trading rights"), "PERMISSION_DENIED"),
        (ccxt.BadSymbol("Invalid symbol."), "BAD_SYMBOL"),
        (ccxt.ExchangeError("something else"), "EXCHANGE_ERROR"),
    ],
)
def test_the_exchange_family_is_a_reject_never_retried(error: Exception, code: str) -> None:
    for changes_state in (True, False):
        verdict = classify(error, changes_state=changes_state)
        assert verdict.outcome is Outcome.REJECT
        assert verdict.reason == f"{code}: {error}"


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ccxt.RequestTimeout("binance POST /api/v3/order timed out"), "TIMEOUT"),
        (ccxt.ExchangeNotAvailable("503 Service Unavailable"), "EXCHANGE_NOT_AVAILABLE"),
        (ccxt.OnMaintenance("system maintenance"), "MAINTENANCE"),
        (ccxt.NetworkError("connection reset"), "NETWORK"),
        (ccxt.BadResponse("not JSON"), "BAD_RESPONSE"),
    ],
)
def test_a_transient_failure_of_a_create_is_ambiguous_and_of_a_read_is_retried(
    error: Exception, code: str
) -> None:
    create = classify(error, changes_state=True)
    assert (create.outcome, create.reason.split(":")[0]) == (Outcome.AMBIGUOUS, code)
    assert classify(error, changes_state=False).outcome is Outcome.RETRY


@pytest.mark.parametrize(
    ("error", "code"),
    [
        (ccxt.RateLimitExceeded("429 Too Many Requests"), "RATE_LIMITED"),
        (ccxt.DDoSProtection("418 I'm a teapot"), "DDOS_PROTECTION"),
    ],
)
def test_a_rate_limit_refuses_the_request_itself_so_even_a_create_is_retried(
    error: Exception, code: str
) -> None:
    verdict = classify(error, changes_state=True, retry_after_s=2.0)
    assert verdict.outcome is Outcome.RETRY
    assert verdict.retry_after_s == 2.0
    assert code_of(error) == code


def test_what_is_not_a_ccxt_error_is_not_retried_and_long_messages_are_cut() -> None:
    assert classify(KeyError("x"), changes_state=False).outcome is Outcome.REJECT
    verdict = classify(ccxt.InvalidOrder("x" * 1000 + "\n  tail"), changes_state=True)
    assert len(verdict.reason) == len("INVALID_ORDER: ") + 300
    assert code_of(ValueError("no")) == "UNKNOWN"
