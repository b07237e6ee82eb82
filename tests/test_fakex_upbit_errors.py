"""What ccxt 4.5.90's `upbit` makes of the fake Upbit's errors and faults (the exception class
each becomes decides whether the engine retries), and the fake's JWT checks."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import aiohttp
import ccxt
import ccxt.async_support as ccxta
import ccxt.pro as ccxtpro
import pytest

from fakex.testing import run
from fakex.upbit import FakeUpbit

SYM = "BTC/KRW"


@pytest.fixture
def fake() -> Iterator[FakeUpbit]:
    with FakeUpbit(seed=1) as f:
        f.set_book([("84000000", "1")], [("85000000", "1")])
        f.set_balance("KRW", "10000")
        yield f


async def _raises(fake: FakeUpbit, call: str, *args: Any, **config: Any) -> BaseException:
    """The exception ccxt raises for `exchange.<call>(*args)` (markets loaded first)."""
    ex = ccxta.upbit({"timeout": 3000, **config})
    fake.configure(ex)
    ex.apiKey, ex.secret = config.get("apiKey", ex.apiKey), config.get("secret", ex.secret)
    try:
        await ex.load_markets()
        with pytest.raises(ccxt.BaseError) as info:
            await getattr(ex, call)(*args)
        return info.value
    finally:
        await ex.close()


def test_insufficient_funds_and_state_unchanged(fake: FakeUpbit) -> None:
    # 0.001 * 84,000,000 = 84,000 + fee 42 > 10,000 KRW
    e = run(_raises(fake, "create_order", SYM, "limit", "buy", 0.001, 84000000))
    assert type(e) is ccxt.InsufficientFunds
    assert "insufficient_funds_bid" in str(e)
    assert fake.orders == {} and fake.balances["KRW"] == (Decimal(10000), Decimal(0))
    e = run(_raises(fake, "create_order", SYM, "market", "sell", 0.001))
    assert type(e) is ccxt.InsufficientFunds and "insufficient_funds_ask" in str(e)


def test_order_rule_errors_map_to_these_classes(fake: FakeUpbit) -> None:
    # a side Upbit does not know (sent through params): its exact message -> InvalidOrder
    e = run(_raises(fake, "create_order", SYM, "limit", "buy", 0.0001, 84000000, {"side": "x"}))
    assert type(e) is ccxt.InvalidOrder
    # off the 1,000 KRW tick: no entry in ccxt's table -> plain ExchangeError (not InvalidOrder)
    e = run(_raises(fake, "create_order", SYM, "limit", "buy", 0.0001, 84000500))
    assert type(e) is ccxt.ExchangeError and "invalid_price_bid" in str(e)
    # 0.00001 * 84,000,000 = 840 KRW < 5,000: also a plain ExchangeError
    e = run(_raises(fake, "create_order", SYM, "limit", "buy", 0.00001, 84000000))
    assert type(e) is ccxt.ExchangeError and "under_min_total_bid" in str(e)
    # a market sell the bids would pay 0.00005 * 84,000,000 = 4,200 KRW for: under 5,000
    e = run(_raises(fake, "create_order", SYM, "market", "sell", 0.00005))
    assert type(e) is ccxt.ExchangeError and "under_min_total_ask" in str(e)
    # 9 decimals: ccxt's amount precision (1e-8) truncates it before sending, so it goes as
    # 0.0001 (* 100,000,000 = 10,000 + fee 5 > 10,000 KRW: refused for funds, not precision)
    e = run(_raises(fake, "create_order", SYM, "limit", "buy", 0.000100009, 100000000))
    assert fake.requests[-1]["params"]["volume"] == "0.0001"
    assert type(e) is ccxt.InsufficientFunds
    # post-only on a market order: refused by ccxt itself, nothing sent
    sent = len(fake.requests)
    e = run(_raises(fake, "create_order", SYM, "market", "buy", None, None, {"postOnly": True}))
    assert type(e) is ccxt.InvalidOrder
    assert [r["path"] for r in fake.requests[sent:]] == ["/v1/market/all"]
    # unknown uuid: 404 order_not_found -> OrderNotFound
    e = run(_raises(fake, "cancel_order", "0000"))
    assert type(e) is ccxt.OrderNotFound
    assert fake.orders == {}


def test_rate_limit_and_server_errors(fake: FakeUpbit) -> None:
    cases: list[tuple[int, str | None, type[ccxt.BaseError]]] = [
        (429, None, ccxt.RateLimitExceeded),  # plain-text page: ccxt maps the status
        (418, None, ccxt.DDoSProtection),
        (500, None, ccxt.ExchangeNotAvailable),
        (503, None, ccxt.ExchangeNotAvailable),
        (504, None, ccxt.RequestTimeout),
        # a 429 with an Upbit-shaped JSON error: ccxt's handle_errors runs before the status
        # map and knows no "too_many_requests", so it becomes a plain ExchangeError
        (
            429,
            '{"error":{"name":"too_many_requests","message":"Too many API requests."}}',
            ccxt.ExchangeError,
        ),
    ]
    for status, body, cls in cases:
        fake.faults.http_status(status, 1, retry_after=1, path="/v1/accounts", body=body)
        e = run(_raises(fake, "fetch_balance"))
        assert type(e) is cls, (status, body, type(e))
    fake.faults.http_status(429, 1, retry_after=2, path="/v1/orders")
    e = run(_raises(fake, "create_order", SYM, "limit", "buy", 0.0001, 84000000))
    assert type(e) is ccxt.RateLimitExceeded
    assert fake.orders == {}  # refused before the venue saw it


def test_bad_credentials_are_authentication_errors(fake: FakeUpbit) -> None:
    e = run(_raises(fake, "fetch_balance", secret="wrong-secret"))
    assert type(e) is ccxt.AuthenticationError and "jwt_verification" in str(e)
    e = run(_raises(fake, "fetch_balance", apiKey="someone-else"))
    assert type(e) is ccxt.AuthenticationError and "invalid_access_key" in str(e)


def _token(payload: dict[str, Any], secret: str) -> str:
    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    head = b64(json.dumps({"alg": "HS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(payload).encode())
    sig = hmac.new(secret.encode(), f"{head}.{body}".encode(), hashlib.sha256).digest()
    return f"{head}.{body}.{b64(sig)}"


def test_query_hash_and_nonce_are_checked(fake: FakeUpbit) -> None:
    query = "market=KRW-BTC"
    good = hashlib.sha512(query.encode()).hexdigest()
    other = hashlib.sha512(b"market=KRW-ETH").hexdigest()

    async def get(payload: dict[str, Any]) -> tuple[int, Any]:
        headers = {"Authorization": f"Bearer {_token(payload, fake.secret)}"}
        async with (
            aiohttp.ClientSession() as s,
            s.get(f"{fake.url}/v1/orders/chance?{query}", headers=headers) as r,
        ):
            return r.status, await r.json()

    key = fake.api_key
    status, body = run(get({"access_key": key, "nonce": "n1", "query_hash": good}))
    assert status == 200 and body["market"]["id"] == "KRW-BTC"
    status, body = run(get({"access_key": key, "nonce": "n1", "query_hash": good}))
    assert (status, body["error"]["name"]) == (401, "nonce_used")
    status, body = run(get({"access_key": key, "nonce": "n2", "query_hash": other}))
    assert (status, body["error"]["name"]) == (401, "invalid_query_payload")
    status, body = run(get({"access_key": key, "nonce": "n3"}))  # params but no hash
    assert (status, body["error"]["name"]) == (401, "invalid_query_payload")
    # what ccxt 4.5.90 makes of those two names: neither is in its table -> ExchangeError
    ex = ccxt.upbit()
    for name in ("nonce_used", "invalid_query_payload"):
        text = json.dumps({"error": {"name": name, "message": "m"}})
        with pytest.raises(ccxt.BaseError) as info:
            ex.handle_errors(401, "", "u", "GET", {}, text, json.loads(text), None, None)
        assert type(info.value) is ccxt.ExchangeError


def test_create_timeout_after_placing_then_lookup_by_identifier(fake: FakeUpbit) -> None:
    fake.set_balance("KRW", "1000000")

    async def go() -> None:
        ex = ccxta.upbit({"timeout": 3000})
        fake.configure(ex)
        try:
            await ex.load_markets()
            fake.faults.create_timeout(1, mode="close")
            with pytest.raises(ccxt.NetworkError):
                await ex.create_order(SYM, "limit", "buy", 0.001, 84000000, {"clientOrderId": "x1"})
            found = ex.parse_order(await ex.private_get_order({"identifier": "x1"}))
            assert (found["status"], found["amount"], found["clientOrderId"]) == (
                "open",
                0.001,
                "x1",
            )
            # the same identifier again is refused (the fake keeps them unique): ExchangeError
            with pytest.raises(ccxt.ExchangeError) as info:
                await ex.create_order(SYM, "limit", "buy", 0.001, 84000000, {"clientOrderId": "x1"})
            assert "identifier_already_used" in str(info.value)
            fake.faults.create_timeout(1, mode="delay", delay_s=1.0)
            ex.timeout = 300
            with pytest.raises(ccxt.RequestTimeout):
                await ex.create_order(SYM, "limit", "buy", 0.001, 84000000, {"clientOrderId": "x2"})
        finally:
            await ex.close()

    run(go())
    assert sorted(o.identifier or "" for o in fake.orders.values()) == ["x1", "x2"]


def test_unserved_endpoints_fail_loudly_on_loopback(fake: FakeUpbit) -> None:
    e = run(_raises(fake, "fetch_ticker", SYM))
    assert type(e) is ccxt.ExchangeError
    assert "fakex does not serve GET /v1/ticker" in str(e)

    async def ws() -> BaseException:
        ex = ccxtpro.upbit({"timeout": 3000})
        fake.configure(ex)
        try:
            await ex.load_markets()
            assert ex.urls["api"]["ws"].startswith("ws://127.0.0.1:")
            with pytest.raises(ccxt.BaseError) as info:
                await ex.watch_orders(SYM)
            return info.value
        finally:
            await ex.close()

    e = run(ws())
    assert isinstance(e, ccxt.NetworkError)  # the websocket upgrade is answered 404
    assert any(r["path"] == "/unserved/websocket/v1/private" for r in fake.requests)
