"""ccxt.pro against the fake's websockets (captured diffs, user stream) and faults on demand."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from typing import Any

import ccxt
import ccxt.pro as ccxtpro
import pytest

from fakex import FakeBinance
from fakex.testing import CAPTURES, client, run


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    with FakeBinance(captures=CAPTURES) as f:
        yield f


def _client(fake: FakeBinance, cls: Any) -> Coroutine[Any, Any, Any]:
    return client(fake, cls, timeout_ms=1500)  # short: the timeout faults wait longer


async def _assert_in_sync(ex: Any, fake: FakeBinance, market: Any, sym: str) -> None:
    """Waits (bounded) until ccxt applied every diff sent, then compares the top 20 levels."""
    book = fake.venue(market).books["BTCUSDT"]
    for _ in range(300):
        ob = ex.orderbooks.get(sym)
        if ob is not None and ob["nonce"] == book.last_update_id:
            break
        await asyncio.sleep(0.01)
    ob = ex.orderbooks[sym]
    assert ob["nonce"] == book.last_update_id
    # ccxt's book = the 1000-level REST snapshot + diffs; the top 20 of each side agree exactly
    for side in ("bids", "asks"):
        assert ob[side][:20] == [[float(p), float(q)] for p, q in book.levels(side, 20)]


@pytest.mark.parametrize(
    ("cls", "market", "sym"),
    [(ccxtpro.binance, "spot", "BTC/USDT"), (ccxtpro.binanceusdm, "futures", "BTC/USDT:USDT")],
)
def test_watch_order_book_top_equals_fake_book_after_diffs(
    fake: FakeBinance, cls: Any, market: Any, sym: str
) -> None:
    async def go() -> None:
        ex = await _client(fake, cls)
        try:
            first = asyncio.ensure_future(ex.watch_order_book(sym))
            await asyncio.to_thread(fake.wait_for, lambda: fake.subscribers(market) == 1)
            assert await asyncio.to_thread(fake.advance, 30, market) == 30
            await asyncio.wait_for(first, 5)
            await asyncio.to_thread(fake.advance, 60, market)
            await _assert_in_sync(ex, fake, market, sym)
            bid, ask = fake.book_top(market)
            assert ex.orderbooks[sym]["bids"][0][0] == float(bid or 0)
            assert ex.orderbooks[sym]["asks"][0][0] == float(ask or 0)
        finally:
            await ex.close()

    run(go())


def test_futures_watch_orders_and_my_trades_see_a_partial_fill(fake: FakeBinance) -> None:
    fake.set_balance("USDT", "10000", market="futures")
    sym = "BTC/USDT:USDT"

    async def go() -> None:
        ex = await _client(fake, ccxtpro.binanceusdm)
        try:
            orders = asyncio.ensure_future(ex.watch_orders(sym))
            await asyncio.to_thread(fake.wait_for, lambda: fake.user_subscribers("futures") == 1)
            o = await ex.create_order(sym, "limit", "buy", 0.005, 50000, {"clientOrderId": "w1"})
            got = await asyncio.wait_for(orders, 5)
            assert [(x["id"], x["status"]) for x in got] == [(o["id"], "open")]
            # a watch resolves on the next message after it is called: start both before the fill
            trades = asyncio.ensure_future(ex.watch_my_trades(sym))
            updates = asyncio.ensure_future(ex.watch_orders(sym))
            await asyncio.sleep(0.2)
            fake.fill(int(o["id"]), "0.002")
            (t,) = await asyncio.wait_for(trades, 5)
            assert (t["price"], t["amount"], t["order"]) == (50000.0, 0.002, o["id"])
            assert t["fee"]["cost"] == pytest.approx(0.02)  # 100 USDT * 0.02 % maker
            upd = await asyncio.wait_for(updates, 5)
            assert (upd[-1]["id"], upd[-1]["status"], upd[-1]["filled"], upd[-1]["remaining"]) == (
                o["id"],
                "open",
                0.002,
                0.003,
            )
            # REST agrees with the stream; the position is 0.002 long at 50000
            assert (await ex.fetch_order(o["id"], sym))["filled"] == 0.002
            (p,) = await ex.fetch_positions([sym])
            assert (p["contracts"], p["entryPrice"]) == (0.002, 50000.0)
        finally:
            await ex.close()

    run(go())


@pytest.mark.parametrize(
    ("status", "exc"),
    [
        (429, ccxt.DDoSProtection),
        (418, ccxt.DDoSProtection),
        (503, ccxt.ExchangeNotAvailable),
        (500, ccxt.ExchangeNotAvailable),
    ],
)
def test_http_faults_raise_network_family(fake: FakeBinance, status: int, exc: type) -> None:
    async def go() -> None:
        ex = await _client(fake, ccxtpro.binance)
        try:
            fake.faults.http_status(status, 1, retry_after=2, path="/depth")
            with pytest.raises(exc):
                await ex.fetch_order_book("BTC/USDT")
            assert (await ex.fetch_order_book("BTC/USDT"))["nonce"] > 0  # bounded: one shot
            assert issubclass(exc, ccxt.NetworkError)
        finally:
            await ex.close()

    run(go())


@pytest.mark.parametrize("mode", ["delay", "close"])
def test_create_timeout_but_order_was_placed(fake: FakeBinance, mode: str) -> None:
    fake.set_balance("USDT", "10000")

    async def go() -> None:
        ex = await _client(fake, ccxtpro.binance)
        try:
            fake.faults.create_timeout(1, mode=mode, delay_s=2.5)
            with pytest.raises(ccxt.NetworkError) as info:
                await ex.create_order(
                    "BTC/USDT", "limit", "buy", 0.001, 50000, {"clientOrderId": "amb"}
                )
            if mode == "delay":
                assert isinstance(info.value, ccxt.RequestTimeout)
            found = await ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "amb"})
            assert found["status"] == "open"
            with pytest.raises(ccxt.InvalidOrder):  # a blind retry is refused, not duplicated
                await ex.create_order(
                    "BTC/USDT", "limit", "buy", 0.001, 50000, {"clientOrderId": "amb"}
                )
        finally:
            await ex.close()

    run(go())
    assert len(fake.spot.orders) == 1


def test_ws_drop_and_refused_reconnect(fake: FakeBinance) -> None:
    async def go() -> None:
        ex = await _client(fake, ccxtpro.binance)
        try:
            first = asyncio.ensure_future(ex.watch_order_book("BTC/USDT"))
            await asyncio.to_thread(fake.wait_for, lambda: fake.subscribers("spot") == 1)
            await asyncio.to_thread(fake.advance, 10, "spot")
            await asyncio.wait_for(first, 5)
            fake.faults.drop_ws(after_messages=0, refuse_s=1.0)
            nxt = asyncio.ensure_future(ex.watch_order_book("BTC/USDT"))
            await asyncio.to_thread(fake.advance, 1, "spot")
            with pytest.raises(ccxt.NetworkError):
                await asyncio.wait_for(nxt, 5)
            with pytest.raises(ccxt.NetworkError):  # refused while the window lasts
                await asyncio.wait_for(ex.watch_order_book("BTC/USDT"), 5)
            await asyncio.sleep(1.1)
            again = asyncio.ensure_future(ex.watch_order_book("BTC/USDT"))
            await asyncio.to_thread(fake.wait_for, lambda: fake.subscribers("spot") == 1)
            await asyncio.to_thread(fake.advance, 10, "spot")
            await asyncio.wait_for(again, 5)
            await _assert_in_sync(ex, fake, "spot", "BTC/USDT")
        finally:
            await ex.close()

    run(go())


@pytest.mark.parametrize(
    ("cls", "market", "sym"),
    [(ccxtpro.binance, "spot", "BTC/USDT"), (ccxtpro.binanceusdm, "futures", "BTC/USDT:USDT")],
)
def test_depth_gap_is_detected_by_ccxt(fake: FakeBinance, cls: Any, market: Any, sym: str) -> None:
    async def go() -> None:
        ex = await _client(fake, cls)
        try:
            first = asyncio.ensure_future(ex.watch_order_book(sym))
            await asyncio.to_thread(fake.wait_for, lambda: fake.subscribers(market) == 1)
            await asyncio.to_thread(fake.advance, 10, market)
            await asyncio.wait_for(first, 5)
            fake.faults.depth_gap(1)
            nxt = asyncio.ensure_future(ex.watch_order_book(sym))
            await asyncio.sleep(0)
            await asyncio.to_thread(fake.advance, 40, market)  # the capture mixes trades and diffs
            with pytest.raises(ccxt.ChecksumError):
                await asyncio.wait_for(nxt, 5)
            # ccxt dropped the book; watching again re-syncs from a fresh REST snapshot
            again = asyncio.ensure_future(ex.watch_order_book(sym))
            await asyncio.to_thread(fake.wait_for, lambda: fake.subscribers(market) >= 1)
            await asyncio.sleep(0.2)
            await asyncio.to_thread(fake.advance, 40, market)
            await asyncio.wait_for(again, 5)
            await _assert_in_sync(ex, fake, market, sym)
        finally:
            await ex.close()

    run(go())


def test_futures_user_stream_drop_then_resubscribe(fake: FakeBinance) -> None:
    fake.set_balance("USDT", "10000", market="futures")
    sym = "BTC/USDT:USDT"

    async def go() -> None:
        ex = await _client(fake, ccxtpro.binanceusdm)
        try:
            first = asyncio.ensure_future(ex.watch_orders(sym))
            await asyncio.to_thread(fake.wait_for, lambda: fake.user_subscribers("futures") == 1)
            await ex.create_order(sym, "limit", "buy", 0.002, 50000, {"clientOrderId": "d1"})
            await asyncio.wait_for(first, 5)
            pending = asyncio.ensure_future(ex.watch_orders(sym))
            await asyncio.sleep(0.1)
            fake.faults.drop_ws(after_messages=0, refuse_s=0.5)
            fake.push_trade("BTCUSDT", "60000", "0.001", "buy", market="futures")  # trips the drop
            with pytest.raises(ccxt.NetworkError):
                await asyncio.wait_for(pending, 5)
            assert fake.user_subscribers("futures") == 0
            # placed while the stream is down: only a REST lookup (reconciliation) can see it
            o2 = await ex.create_order(sym, "limit", "buy", 0.002, 50000, {"clientOrderId": "d2"})
            await asyncio.sleep(0.6)  # the refusal window ends
            again = asyncio.ensure_future(ex.watch_orders(sym))
            await asyncio.to_thread(fake.wait_for, lambda: fake.user_subscribers("futures") == 1)
            await ex.cancel_order(o2["id"], sym)
            got = await asyncio.wait_for(again, 5)
            assert (got[-1]["clientOrderId"], got[-1]["status"]) == ("d2", "canceled")
        finally:
            await ex.close()

    run(go())
