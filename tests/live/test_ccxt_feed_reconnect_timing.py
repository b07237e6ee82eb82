"""Issue 5's reconnect target, measured (printed, not asserted as a time): the fake drops
every websocket and refuses new ones for REFUSE_S; the figure is the time from the
fake accepting connections again to the kernel side taking the first fresh book.

Run with `-s` to see the figures; QUANTX_TIMING_SEED (default 0) picks the feed's
jitter draw. tests/live/README.md has the figures and how they were taken."""

from __future__ import annotations

import os
import time

import pytest
from ccxt_feed_kit import Market, rig

from adapters.exchanges.backoff import BackoffPolicy
from adapters.feeds.ccxt_ws import MARKET_DATA_BACKOFF
from engine.ports.feed import FeedAlertKind

REFUSE_S = 1.0
POLICIES = {
    "default": BackoffPolicy(),  # 1 s doubling to 60 s
    "tuned": MARKET_DATA_BACKOFF,  # 0.25 s doubling to 60 s: recommended for market data
}


@pytest.mark.parametrize("market", ["spot", "futures"])
@pytest.mark.parametrize("label", sorted(POLICIES))
def test_reconnect_time_after_a_refused_websocket(label: str, market: Market) -> None:
    seed = int(os.environ.get("QUANTX_TIMING_SEED", "0"))
    with rig(market, trades=False, backoff=POLICIES[label], seed=seed) as r:
        r.advance(20)
        r.synced()
        books = r.books
        r.fake.faults.drop_ws(after_messages=0, refuse_s=REFUSE_S)
        r.advance(1)  # the drop; the refusal window starts now
        # the fake's own deadline, on the same monotonic clock as time.monotonic()
        accepting_at = r.fake._refuse_until
        end = time.monotonic() + 15
        while r.books == books:
            assert time.monotonic() < end, f"no fresh book; alerts {r.kinds()}"
            r.take(0.01)
        first_book_at = time.monotonic()
        lag = first_book_at - accepting_at
        kinds = r.kinds()
        print(f"\nreconnect [{market}, {label}, seed {seed}]: first fresh book {lag:.3f} s after")
        print(f"the fake accepted connections again (refused {REFUSE_S} s)")
        assert lag > 0  # nothing fresh can come while every connection is refused
        assert kinds == [FeedAlertKind.RECONNECTED]
        r.subscribed(("depth",))
        r.advance(30)
        r.synced()  # and it is the fake's book
