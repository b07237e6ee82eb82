"""CcxtFeed under every websocket fault the fake Binance injects, with the feed's reaction
asserted: what it retried, what it reported, and that the kernel's book is the fake's
again afterwards. Retry timing is shortened (FAST) and staleness is 0.5 s here; the
default timings are measured in test_ccxt_feed_reconnect_timing.py."""

from __future__ import annotations

import pytest
from ccxt_feed_kit import SYMBOL, Market, capture_kinds, rig

from engine.ports.feed import FeedAlertKind

STALE_S = 0.5
K = FeedAlertKind


@pytest.mark.parametrize("market", ["spot", "futures"])
def test_dropped_websocket_reconnects_and_the_book_is_resynced(market: Market) -> None:
    with rig(market) as r:
        r.advance(20)
        r.synced()
        r.fake.faults.drop_ws(after_messages=0)
        r.advance(1)  # trips the drop: both the depth and the trade sockets close
        # the book comes back on its own (a fresh REST snapshot); the trade stream
        # shows it is back with its first print
        r.pump(lambda: K.RECONNECTED in r.kinds(), what="the book back")
        r.subscribed()
        r.advance(30)
        r.pump(lambda: r.kinds().count(K.RECONNECTED) == 2, what="the trades back")
        details = [a.detail.split(":")[0] for a in r.alerts if a.kind is K.RECONNECTED]
        assert details == ["book", "trades"]
        r.synced()  # the fresh snapshot plus the diffs since: equal to the fake again
        status = r.feed.status()[SYMBOL[market]]
        assert status.reconnects == 2 and status.connected
        assert r.kinds() == [K.RECONNECTED, K.RECONNECTED]


def test_refused_connections_make_the_symbol_stale_then_fresh() -> None:
    with rig("spot", stale_after_s=STALE_S) as r:
        r.advance(20)
        r.synced()
        r.fake.faults.drop_ws(after_messages=0, refuse_s=1.5)
        r.advance(1)
        r.pump(lambda: K.STALE in r.kinds(), what="STALE while refused")
        assert not r.feed.status()["BTC/USDT"].connected
        r.pump(lambda: K.FRESH in r.kinds(), what="FRESH once accepted again")
        kinds = r.kinds()
        assert kinds.index(K.STALE) < kinds.index(K.FRESH)
        # the first book after the refusal is a reconnect: RECONNECTED, then FRESH
        assert kinds[kinds.index(K.FRESH) - 1] is K.RECONNECTED
        r.subscribed()
        r.advance(30)
        r.synced()
        status = r.feed.status()["BTC/USDT"]
        assert not status.stale and status.connected and not status.gave_up


def test_max_retries_then_gave_up() -> None:
    with rig("spot", trades=False, max_retries=2, stale_after_s=30) as r:
        r.advance(20)
        r.synced()
        r.fake.faults.drop_ws(after_messages=0, refuse_s=30)
        r.advance(1)
        r.pump(lambda: K.GAVE_UP in r.kinds(), what="GAVE_UP")
        (gave_up,) = [a for a in r.alerts if a.kind is K.GAVE_UP]
        # the drop, then two retries refused: 3 failed attempts = max_retries + 1
        assert gave_up.detail.startswith("book: 3 attempts failed in a row, last NETWORK")
        status = r.feed.status()["BTC/USDT"]
        assert status.gave_up and not status.connected and status.reconnects == 0
        assert K.RECONNECTED not in r.kinds()


@pytest.mark.parametrize("market", ["spot", "futures"])
def test_depth_gap_is_resynced_from_a_fresh_snapshot(market: Market) -> None:
    with rig(market, trades=False) as r:
        r.advance(20)
        r.synced()
        r.fake.faults.depth_gap(1)
        r.advance(40)
        r.pump(lambda: K.RESYNCED in r.kinds(), what="RESYNCED")
        r.subscribed(("depth",))
        r.advance(40)
        r.synced()
        status = r.feed.status()[SYMBOL[market]]
        assert (status.resyncs, status.reconnects) == (1, 0)
        assert r.kinds() == [K.RESYNCED]


@pytest.mark.parametrize("market", ["spot", "futures"])
def test_duplicated_messages_leave_the_book_right(market: Market) -> None:
    with rig(market) as r:
        r.advance(20)
        r.synced()
        r.fake.faults.duplicate_ws(5)
        r.advance(30)
        r.synced()
        status = r.feed.status()[SYMBOL[market]]
        assert (status.resyncs, status.reconnects, status.malformed) == (0, 0, 0)
        assert r.kinds() == []


@pytest.mark.parametrize("market", ["spot", "futures"])
def test_out_of_order_diffs_are_resynced_and_the_book_is_right(market: Market) -> None:
    with rig(market, trades=False) as r:
        r.advance(20)
        r.synced()
        r.fake.faults.reorder_ws(1, kind="depth")
        r.advance(30)
        r.pump(lambda: K.RESYNCED in r.kinds(), what="RESYNCED")
        r.subscribed(("depth",))
        r.advance(30)
        r.synced()
        assert r.feed.status()[SYMBOL[market]].resyncs == 1


@pytest.mark.parametrize("style", ["truncated", "garbled"])
def test_a_malformed_trade_is_counted_and_the_stream_goes_on(style: str) -> None:
    """Unguarded, ccxt 4.5 stops reading that socket for good (test_fakex_ws_streams);
    the feed skips the frame, counts it, and the next prints arrive."""
    with rig("spot") as r:
        r.fake.faults.malformed_ws(1, style=style)
        for price in ("60001", "60002", "60003"):
            r.fake.push_trade("BTCUSDT", price, "0.1", "buy")
        r.pump(lambda: len(r.trades) == 2, what="the two good prints")
        assert [int(m.events["price"][0]) for m in r.trades] == [6_000_200, 6_000_300]
        assert r.feed.status()["BTC/USDT"].malformed == 1
        assert r.kinds() == []


def test_a_malformed_diff_is_counted_and_the_gap_it_leaves_is_resynced() -> None:
    kinds = capture_kinds("spot", 200)
    bad = next(i for i in range(20, len(kinds)) if kinds[i] == "depth")  # 41 in the capture
    with rig("spot", trades=False) as r:
        r.advance(20)
        r.synced()
        r.advance(bad - 20)  # up to the next depth diff
        r.fake.faults.malformed_ws(1)
        r.advance(40)
        r.pump(lambda: K.RESYNCED in r.kinds(), what="RESYNCED")
        r.subscribed(("depth",))
        r.advance(40)
        r.synced()
        status = r.feed.status()["BTC/USDT"]
        # the bad frame is skipped and counted; the next diff does not chain, ccxt drops
        # its book, and the feed re-subscribes at once: a fresh snapshot
        assert (status.malformed, status.resyncs, status.reconnects) == (1, 1, 0)
        assert r.kinds() == [K.RESYNCED]


def test_a_stalled_book_stream_is_stale_and_restarted_on_a_new_connection() -> None:
    """No update for stale_after_s (here: the fake sends nothing, as a stalled socket
    would): STALE, the socket is failed on purpose, ccxt subscribes again and takes a
    fresh snapshot: RECONNECTED, FRESH, and the book is the fake's."""
    with rig("spot", trades=False, stale_after_s=STALE_S) as r:
        r.advance(20)
        r.synced()
        r.pump(lambda: K.FRESH in r.kinds(), what="a restart to bring the book back")
        kinds = r.kinds()
        # STALE first; a slow re-dial on a loaded host may go stale once more before the
        # restarted stream brings the book back: RECONNECTED, then FRESH.
        assert kinds[0] is K.STALE and set(kinds) == {K.STALE, K.RECONNECTED, K.FRESH}, kinds
        assert kinds.index(K.RECONNECTED) < kinds.index(K.FRESH), kinds
        status = r.feed.status()["BTC/USDT"]
        assert status.restarts >= 1 and status.reconnects >= 1
        r.subscribed(("depth",))
        r.advance(30)
        r.synced()
