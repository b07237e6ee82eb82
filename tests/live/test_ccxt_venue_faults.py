"""CcxtVenue under the fake's faults: what was retried, what was looked up first, what was
rejected at once, asserted through the fake's request log and the drained events."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import pytest
from ccxt_venue_harness import (
    NOW_NS,
    USDM,
    Sleeps,
    kinds,
    posts,
    terms,
    venue_on,
    wait_events,
)

from adapters.exchanges.backoff import BackoffPolicy
from adapters.exchanges.ratelimit import TokenBucket
from engine.domain.events import OrderAccepted, OrderEvent, OrderFilled, OrderRejected
from fakex import FakeBinance

D = Decimal
ORDER_PATH = "/api/v3/order"


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as f:
        f.set_balance("USDT", "10000")
        f.set_balance("USDT", "10000", market="futures")
        yield f


def order_calls(fake: FakeBinance, path: str = ORDER_PATH) -> list[str]:
    return [r["method"] for r in fake.requests if r["path"] == path]


def fill_ids(events: list[OrderEvent]) -> list[str]:
    return [e.fill.trade_id for e in events if isinstance(e, OrderFilled)]


@pytest.mark.parametrize("status", [429, 418])
def test_rate_limited_create_is_sent_again_after_retry_after(
    fake: FakeBinance, status: int
) -> None:
    with venue_on(fake, "spot") as (venue, sleeps, _):
        fake.faults.http_status(status, 1, retry_after=7, path=ORDER_PATH)
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        events = wait_events(venue, lambda e: len(e) >= 1)
        assert kinds(events) == ["OrderAccepted"]
        # refused before acting: sent again (no lookup), after the exchange's 7 s
        assert order_calls(fake) == ["POST", "POST"]
        assert max(sleeps.waits) == 7.0
        assert [p["params"]["newClientOrderId"] for p in posts(fake)] == ["qx-1", "qx-1"]
        assert len(fake.spot.orders) == 1
        assert venue.stats["retries"] == {"DDOS_PROTECTION": 1}  # ccxt maps both to DDoSProtection


def test_rate_limited_create_gives_up_after_max_attempts(fake: FakeBinance) -> None:
    with venue_on(fake, "spot", max_attempts=3) as (venue, sleeps, _):
        fake.faults.http_status(429, 3, retry_after=1, path=ORDER_PATH)
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        events = wait_events(venue, lambda e: len(e) >= 1)
        (rejected,) = events
        assert isinstance(rejected, OrderRejected)
        assert rejected.reason.startswith("DDOS_PROTECTION: ")
        assert rejected.reason.endswith("(not placed: 3 attempts)")
        assert order_calls(fake) == ["POST", "POST", "POST"]
        assert sleeps.waits == [1.0, 1.0]
        assert fake.spot.orders == {}


@pytest.mark.parametrize("status", [500, 503])
def test_5xx_on_create_is_looked_up_before_sending_again(fake: FakeBinance, status: int) -> None:
    with venue_on(fake, "spot") as (venue, _, _):
        fake.faults.http_status(status, 1, path=ORDER_PATH)
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        events = wait_events(venue, lambda e: len(e) >= 1)
        (order_id,) = fake.spot.orders
        assert events == [
            OrderAccepted(client_order_id="qx-1", ts_event=NOW_NS, venue_order_id=str(order_id))
        ]
        # ambiguous: a lookup by client id (not found), then the same request again
        assert order_calls(fake) == ["POST", "GET", "POST"]
        lookup = [r for r in fake.requests if r["method"] == "GET" and r["path"] == ORDER_PATH]
        assert lookup[0]["params"]["origClientOrderId"] == "qx-1"
        assert venue.stats["ambiguous"] == 1


@pytest.mark.parametrize("mode", ["delay", "close"])
def test_create_timeout_after_placing_is_found_not_duplicated(fake: FakeBinance, mode: str) -> None:
    with venue_on(fake, "spot", timeout_ms=800) as (venue, _, _):
        fake.faults.create_timeout(1, mode=mode, delay_s=1.2)
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        events = wait_events(venue, lambda e: len(e) >= 1)
        # the stream may tell first; either way one acceptance, and the lookup is done
        fake.wait_for(lambda: "GET" in order_calls(fake))
        events = wait_events(venue, lambda e: True, events)
        (order_id,) = fake.spot.orders
        assert events == [
            OrderAccepted(client_order_id="qx-1", ts_event=NOW_NS, venue_order_id=str(order_id))
        ]
        assert order_calls(fake) == ["POST", "GET"]  # never sent twice
        assert venue.health()["unresolved"] == []


def test_lookup_never_answered_leaves_the_order_unresolved_not_rejected(fake: FakeBinance) -> None:
    with venue_on(fake, "spot", timeout_ms=800) as (venue, _, logs):
        # delay: the create is placed, its answer comes too late; then every lookup fails
        fake.faults.create_timeout(1, mode="delay", delay_s=1.5)
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        fake.wait_for(lambda: order_calls(fake) == ["POST"])
        fake.faults.http_status(503, 4, path=ORDER_PATH)
        fake.wait_for(lambda: venue.health()["unresolved"] == ["qx-1"], timeout=5)
        events = venue.drain()
        # the stream saw the order: accepted, never rejected, never sent again
        assert [e for e in events if isinstance(e, OrderRejected)] == []
        assert order_calls(fake) == ["POST", "GET", "GET", "GET", "GET"]  # the policy: 1 + 3
        assert any("left unresolved" in line for line in logs)


@pytest.mark.parametrize(
    ("market", "order", "code"),
    [
        ("spot", ("buy", "1", "59000"), "INSUFFICIENT_FUNDS"),  # 59,000 USDT of 10,000
        ("spot", ("buy", "0.00001", "59000"), "BAD_REQUEST"),  # -1013: 0.59 below 5 USDT
        ("futures", ("buy", "0.001", "59000"), "INVALID_ORDER"),  # -4164: 59 below 100 USDT
    ],
)
def test_exchange_refusals_are_rejected_once(
    fake: FakeBinance, market: str, order: tuple[str, str, str], code: str
) -> None:
    symbol = "BTC/USDT" if market == "spot" else USDM
    with venue_on(fake, market) as (venue, sleeps, _):  # type: ignore[arg-type]
        venue.submit(terms("qx-1", *order, symbol=symbol))
        events = wait_events(venue, lambda e: len(e) >= 1)
        (rejected,) = events
        assert isinstance(rejected, OrderRejected)
        assert rejected.reason.startswith(f"{code}: ")
        assert len(posts(fake)) == 1 and sleeps.waits == []  # never retried
        assert venue.stats["rejects"] == 1


def test_post_only_that_would_cross_is_rejected(fake: FakeBinance) -> None:
    fake.set_book("BTCUSDT", [("59990", "1")], [("60000", "1")])
    with venue_on(fake, "spot") as (venue, _, _):
        venue.submit(terms("qx-1", "buy", "0.001", "60000", post_only=True))
        (rejected,) = wait_events(venue, lambda e: len(e) >= 1)
        assert isinstance(rejected, OrderRejected)
        assert rejected.reason.startswith("ORDER_IMMEDIATELY_FILLABLE: ")
        assert posts(fake)[0]["params"]["type"] == "LIMIT_MAKER"


@pytest.mark.parametrize("market", ["spot", "futures"])
def test_duplicated_user_messages_give_one_fill_each(fake: FakeBinance, market: str) -> None:
    symbol = "BTC/USDT" if market == "spot" else USDM
    with venue_on(fake, market) as (venue, _, _):  # type: ignore[arg-type]
        venue.submit(terms("qx-1", "buy", "0.01", "50000", symbol=symbol))
        events = wait_events(venue, lambda e: len(e) >= 1)
        (order_id,) = fake.orders
        fake.faults.user_ws(duplicate=10)
        fake.fill(order_id, "0.004")
        fake.fill(order_id, "0.006")
        events = wait_events(venue, lambda e: len(e) >= 3, events)
        assert kinds(events) == ["OrderAccepted", "OrderFilled", "OrderFilled"]
        assert len(set(fill_ids(events))) == 2
        assert fake.faults.user_duplicates == 8  # both fills' reports went out twice
        assert venue.stats["duplicates"] >= 2


def test_fill_overtaking_its_order_update_keeps_accept_first(fake: FakeBinance) -> None:
    """The NEW report is held back and arrives after the TRADE one; a partial fill's
    TRADE report is held back behind the CANCELED one."""
    with venue_on(fake, "spot", poll_s=30, sleeps=Sleeps(cap_s=60)) as (venue, _, _):
        fake.faults.user_ws(reorder=1)
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        fake.wait_for(lambda: len(fake.spot.orders) == 1)
        (order_id,) = fake.orders
        fake.fill(order_id, "0.002")
        events = wait_events(venue, lambda e: len(e) >= 2)
        assert kinds(events) == ["OrderAccepted", "OrderFilled"]
        assert fake.faults.user_swaps == 0
        fake.faults.user_ws(reorder=1)
        fake.fill(order_id, "0.003")
        venue.cancel("qx-1")
        events = wait_events(venue, lambda e: len(e) >= 4, events)
        # the cancel answer says 0.005 filled: the cancel waits for the late fill
        assert kinds(events) == ["OrderAccepted", "OrderFilled", "OrderFilled", "OrderCanceled"]
        assert [e.fill.quantity for e in events if isinstance(e, OrderFilled)] == [
            D("0.002"),
            D("0.003"),
        ]
        assert not [r for r in fake.requests if r["path"].endswith("myTrades")]  # the stream did


def test_malformed_user_message_is_counted_and_recovered(fake: FakeBinance) -> None:
    with venue_on(fake, "spot") as (venue, _, logs):
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        events = wait_events(venue, lambda e: len(e) >= 1)
        (order_id,) = fake.orders
        fake.faults.user_ws(malformed=1)
        fake.fill(order_id, "0.004")  # its report is spoiled: the catch-up finds the fill
        events = wait_events(venue, lambda e: len(e) >= 2, events)
        assert venue.stats["malformed"] == 1
        assert any("private stream frame dropped" in line for line in logs)
        fake.fill(order_id, "0.006")  # the stream still works after the bad frame
        events = wait_events(venue, lambda e: len(e) >= 3, events)
        assert kinds(events) == ["OrderAccepted", "OrderFilled", "OrderFilled"]
        assert fill_ids(events) == ["1", "2"]
        assert venue.connections == 1


@pytest.mark.parametrize("market", ["spot", "futures"])
def test_stream_drop_reconnects_and_catches_up_fills_once(fake: FakeBinance, market: str) -> None:
    symbol = "BTC/USDT" if market == "spot" else USDM
    # no retries allowed: the first failure already counts as giving up (health says so,
    # for the kernel to halt and alert), yet the stream keeps trying at the capped delay
    policy = BackoffPolicy(initial_s=0.05, max_s=0.2, max_retries=0)
    with venue_on(fake, market, sleeps=Sleeps(cap_s=0.3), backoff=policy) as (venue, _, _):  # type: ignore[arg-type]
        venue.submit(terms("qx-1", "buy", "0.01", "50000", symbol=symbol))
        venue.submit(terms("qx-2", "buy", "0.002", "51000", symbol=symbol))
        events = wait_events(venue, lambda e: len(e) >= 2)
        first, second = sorted(fake.orders)
        assert venue.connections == 1
        fake.faults.drop_ws(after_messages=0, refuse_s=1.0)
        fake.push_trade("BTCUSDT", "70000", "0.001", "buy", market=market)  # trips the drop
        fake.wait_for(lambda: fake.user_subscribers(market) == 0)
        fake.wait_for(lambda: venue.health()["stream"] == "gave_up")
        fake.fill(first, "0.004")  # while the stream is down
        fake.fill(second, "0.002")
        fake.wait_for(lambda: venue.connections >= 2, timeout=10)
        events = wait_events(venue, lambda e: len(e) >= 4, events, timeout_s=10)
        assert sorted(kinds(events)) == ["OrderAccepted"] * 2 + ["OrderFilled"] * 2
        assert len(set(fill_ids(events))) == 2
        # after the reconnect the stream works again
        fake.wait_for(lambda: fake.user_subscribers(market) == 1)
        fake.fill(first, "0.006")
        events = wait_events(venue, lambda e: len(e) >= 5, events)
        assert kinds(events)[-1] == "OrderFilled" and len(set(fill_ids(events))) == 3
        health = venue.health()
        assert health["reconnects"] >= 1 and health["stream"] == "up"
        assert health["catch_ups"] >= 1 and health["stream_failures"]


def test_token_bucket_is_taken_before_every_rest_call(fake: FakeBinance) -> None:
    # a frozen clock: one token, refilled at 0.5 a second that never passes
    bucket = TokenBucket(1, 0.5, lambda: 0.0)
    with venue_on(fake, "spot", bucket=bucket) as (venue, sleeps, _):
        assert venue.stats["requests"] == 1  # start()'s balances took the token
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        wait_events(venue, lambda e: len(e) >= 1)
        # the create waited for its token: one short, at 0.5 a second
        assert sleeps.waits == [2.0]
        health = venue.health()
        assert (health["rate_limit_waits"], health["requests"], health["headroom"]) == (1, 2, -1.0)
