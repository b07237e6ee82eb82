"""CcxtFeed against the fake Binance: books and trades arrive exactly, a kernel L2Book fed
the messages holds ccxt's book, one bad symbol stops nothing else, and a slow consumer
never makes the hand-over grow past its bound."""

from __future__ import annotations

from decimal import Decimal

import pytest
from ccxt_feed_kit import SYMBOL, Market, rig

from engine import _core
from engine.ports.feed import FeedAlertKind, FeedMarket


@pytest.mark.parametrize("market", ["spot", "futures"])
def test_books_arrive_and_the_kernel_book_equals_the_fake_and_ccxt(market: Market) -> None:
    with rig(market) as r:
        r.advance(30)
        r.synced()  # top 20 of each side: the fake's == the kernel L2Book's == ccxt's
        first = r.books
        bid, ask = r.fake.book_top(market)
        assert r.our_levels("bids", 1)[0][0] == bid and r.our_levels("asks", 1)[0][0] == ask
        r.advance(60)
        r.synced()
        assert r.books > first
        status = r.feed.status()[SYMBOL[market]]
        assert status.connected and not status.stale
        assert (status.reconnects, status.resyncs, status.malformed) == (0, 0, 0)
        assert r.kinds() == []  # nothing went wrong: no alert at all


@pytest.mark.parametrize(
    ("market", "rule", "lot"),
    [("spot", "spot", "0.00000001"), ("futures", "futures", "0.001")],
)
def test_markets_name_the_rule_and_the_size_unit(market: Market, rule: str, lot: str) -> None:
    # spot: the finer of the 0.00001 lot and 1e-8 (Binance spot books print 8 decimals);
    # the perpetual: its 0.001 lot
    with rig(market, subscribe=False) as r:
        assert r.feed.markets == (FeedMarket(SYMBOL[market], rule, lot),)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("market", "ticks", "lots"),
    # 60000.5 at tick 0.01 = 6,000,050; at 0.1 = 600,005. 0.123 at 1e-8 = 12,300,000;
    # at 0.001 = 123.
    [("spot", 6_000_050, 12_300_000), ("futures", 600_005, 123)],
)
def test_trades_arrive_one_print_per_message_exactly(market: Market, ticks: int, lots: int) -> None:
    with rig(market) as r:
        r.fake.push_trade("BTCUSDT", "60000.5", "0.123", "buy", market=market)
        r.fake.push_trade("BTCUSDT", "60000.5", "0.123", "sell", market=market)
        r.pump(lambda: len(r.trades) == 2, what="two prints")
        rows = [m.events for m in r.trades]
        assert [len(x) for x in rows] == [1, 1]
        assert [int(x["kind"][0]) for x in rows] == [_core.KIND_TRADE] * 2
        assert [(int(x["price"][0]), int(x["qty"][0])) for x in rows] == [(ticks, lots)] * 2
        # the taker's side: a buy lifts the ask (aggressor bid), a sell hits the bid
        assert [int(x["side"][0]) for x in rows] == [_core.SIDE_BID, _core.SIDE_ASK]
        ids = [int(x["order_id"][0]) for x in rows]
        assert ids[1] == ids[0] + 1 and ids[0] > 0  # Binance's trade ids, in order


def test_one_bad_symbol_gives_up_and_the_good_one_goes_on() -> None:
    with rig("spot", extra_symbols=("ETH/USDT",)) as r:
        r.pump(lambda: FeedAlertKind.GAVE_UP in r.kinds("ETH/USDT"), what="ETH/USDT to give up")
        (gave_up,) = [a for a in r.alerts if a.kind is FeedAlertKind.GAVE_UP]
        assert gave_up.symbol == "ETH/USDT" and "BAD_SYMBOL" in gave_up.detail
        assert "never retried" in gave_up.detail
        r.advance(30)
        r.synced()
        status = r.feed.status()
        assert status["ETH/USDT"].gave_up and not status["ETH/USDT"].connected
        assert status["BTC/USDT"].connected and not status["BTC/USDT"].gave_up
        assert FeedAlertKind.GAVE_UP not in r.kinds("BTC/USDT")


def test_a_slow_consumer_is_conflated_and_the_queue_stays_bounded() -> None:
    with rig("spot", queue_capacity=4) as r:
        r.advance(20)
        r.pump(lambda: r.books > 0, what="the first book")
        r.drain()
        sent = r.advance(400)  # nobody takes anything meanwhile
        assert sent == 400
        r.wait(r.ccxt_caught_up, what="ccxt to catch up with the fake")
        # one book per symbol plus the trade ring, whatever came in
        assert r.feed.queued <= 1 + 4
        status = r.feed.status()["BTC/USDT"]
        assert status.conflated > 0
        assert status.dropped > 0  # the capture's prints overflow a ring of 4
        r.synced()
        # one DROPPED per episode (until the consumer empties the ring), not per print;
        # the trade stream may still be catching up while the test drains, so a second
        # episode can start
        drops = r.kinds()
        assert set(drops) == {FeedAlertKind.DROPPED}
        assert len(drops) < r.feed.status()["BTC/USDT"].dropped


def test_sizes_finer_than_the_unit_are_malformed_never_rounded() -> None:
    """A print of 0.0000000001 BTC does not fit 1e-8 units: counted, skipped; the next
    print goes through."""
    with rig("spot") as r:
        r.fake.push_trade("BTCUSDT", "60000", "0.0000000001", "buy")
        r.fake.push_trade("BTCUSDT", "60000", "0.5", "buy")
        r.pump(lambda: len(r.trades) == 1, what="the good print")
        assert int(r.trades[0].events["qty"][0]) == 50_000_000
        assert r.feed.status()["BTC/USDT"].malformed == 1
        assert Decimal(r.feed.markets[0].data_lot_size) == Decimal("1e-8")
