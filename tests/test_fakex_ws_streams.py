"""ccxt.pro against the fake's streams: spot user data over the WebSocket API, and what ccxt does
with duplicated, reordered and malformed market-data messages."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from decimal import Decimal
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


async def _book_synced(ex: Any, fake: FakeBinance, market: Any, sym: str) -> None:
    first = asyncio.ensure_future(ex.watch_order_book(sym))
    await asyncio.to_thread(fake.wait_for, lambda: fake.subscribers(market) == 1)
    await asyncio.to_thread(fake.advance, 20, market)
    await asyncio.wait_for(first, 5)


def test_spot_user_stream_over_ws_api_shows_a_partial_fill(fake: FakeBinance) -> None:
    fake.set_balance("USDT", "1000")
    sym = "BTC/USDT"

    async def go() -> None:
        ex = await _client(fake, ccxtpro.binance)
        try:
            orders = asyncio.ensure_future(ex.watch_orders(sym))
            await asyncio.to_thread(fake.wait_for, lambda: fake.user_subscribers("spot") == 1)
            o = await ex.create_order(sym, "limit", "buy", 0.01, 50000, {"clientOrderId": "u1"})
            got = await asyncio.wait_for(orders, 5)
            assert [(x["id"], x["clientOrderId"], x["status"]) for x in got] == [
                (o["id"], "u1", "open")
            ]
            trades = asyncio.ensure_future(ex.watch_my_trades(sym))
            updates = asyncio.ensure_future(ex.watch_orders(sym))
            balance = asyncio.ensure_future(ex.watch_balance())
            await asyncio.sleep(0.2)
            fake.push_trade(
                "BTCUSDT", "49999.99", "0.004", "sell"
            )  # prints through 50000: 0.004 fills
            (t,) = await asyncio.wait_for(trades, 5)
            assert (t["price"], t["amount"], t["takerOrMaker"]) == (50000.0, 0.004, "maker")
            assert t["fee"] == {"cost": 0.2, "currency": "USDT"}  # 200 USDT * 0.1 %
            upd = await asyncio.wait_for(updates, 5)
            assert (upd[-1]["status"], upd[-1]["filled"], upd[-1]["remaining"]) == (
                "open",
                0.004,
                0.006,
            )
            bal = await asyncio.wait_for(balance, 5)
            # 1000 - 500 locked at order entry; the fill pays 200 + 0.2 fee from the lock and free
            assert (bal["USDT"]["free"], bal["USDT"]["used"]) == (499.8, 300.0)
            assert bal["BTC"]["free"] == 0.004
            assert fake.balances["spot"]["USDT"] == (Decimal("499.8"), Decimal("300"))
        finally:
            await ex.close()

    run(go())


def test_ws_api_bad_signature_is_refused(fake: FakeBinance) -> None:
    """The fake answers Binance's {"status": 401, "error": {"code": -1022}}; ccxt 4.5.90 maps it to
    AuthenticationError in handle_ws_error, which also drops the 'spot' subscription, and then
    authenticate() deletes it a second time: the caller gets KeyError('spot'), not a ccxt error."""

    async def go() -> None:
        ex = await _client(fake, ccxtpro.binance)
        ex.secret = "wrong"
        try:
            with pytest.raises(KeyError, match="spot"):
                await asyncio.wait_for(ex.watch_orders("BTC/USDT"), 5)
            assert fake.user_subscribers("spot") == 0
        finally:
            await ex.close()

    run(go())


def test_duplicated_trade_is_delivered_twice(fake: FakeBinance) -> None:
    async def go() -> None:
        ex = await _client(fake, ccxtpro.binance)
        try:
            first = asyncio.ensure_future(ex.watch_trades("BTC/USDT"))
            await asyncio.to_thread(fake.wait_for, lambda: fake.subscribers("spot", "trade") == 1)
            fake.faults.duplicate_ws(1)
            fake.push_trade("BTCUSDT", "60000", "0.1", "buy")
            await asyncio.wait_for(first, 5)
            await asyncio.sleep(0.2)
            ids = [t["id"] for t in ex.trades["BTC/USDT"]]
            assert len(ids) == 2 and ids[0] == ids[1]  # ccxt does not de-duplicate by trade id
        finally:
            await ex.close()

    run(go())


@pytest.mark.parametrize(
    ("cls", "market", "sym"),
    [(ccxtpro.binance, "spot", "BTC/USDT"), (ccxtpro.binanceusdm, "futures", "BTC/USDT:USDT")],
)
def test_duplicated_depth_diff_is_harmless(
    fake: FakeBinance, cls: Any, market: Any, sym: str
) -> None:
    async def go() -> None:
        ex = await _client(fake, cls)
        try:
            await _book_synced(ex, fake, market, sym)
            fake.faults.duplicate_ws(5)
            await asyncio.to_thread(fake.advance, 30, market)
            book = fake.venue(market).books["BTCUSDT"]
            for _ in range(300):
                if ex.orderbooks[sym]["nonce"] == book.last_update_id:
                    break
                await asyncio.sleep(0.01)
            ob = ex.orderbooks[sym]
            assert ob["nonce"] == book.last_update_id
            for side in ("bids", "asks"):
                assert ob[side][:20] == [[float(p), float(q)] for p, q in book.levels(side, 20)]
        finally:
            await ex.close()

    run(go())


@pytest.mark.parametrize(
    ("cls", "market", "sym"),
    [(ccxtpro.binance, "spot", "BTC/USDT"), (ccxtpro.binanceusdm, "futures", "BTC/USDT:USDT")],
)
def test_reordered_depth_diffs_raise_checksum_error(
    fake: FakeBinance, cls: Any, market: Any, sym: str
) -> None:
    async def go() -> None:
        ex = await _client(fake, cls)
        try:
            await _book_synced(ex, fake, market, sym)
            fake.faults.reorder_ws(1, kind="depth")
            nxt = asyncio.ensure_future(ex.watch_order_book(sym))
            await asyncio.sleep(0)
            await asyncio.to_thread(fake.advance, 30, market)
            with pytest.raises(ccxt.ChecksumError):
                # the diffs before the swap may resolve a watch first; the rejection then waits
                # in ccxt for the next watcher
                for _ in range(3):
                    await asyncio.wait_for(nxt, 2)
                    nxt = asyncio.ensure_future(ex.watch_order_book(sym))
        finally:
            await ex.close()

    run(go())


@pytest.mark.parametrize("style", ["truncated", "garbled"])
def test_malformed_message_stalls_ccxt_stream_silently(fake: FakeBinance, style: str) -> None:
    """ccxt 4.5 decodes every frame starting with '{' and the decode error escapes its receive
    callback: no exception reaches the watcher and nothing more is delivered on that connection,
    though the socket stays open. Only a staleness check on the client side notices."""

    async def go() -> None:
        ex = await _client(fake, ccxtpro.binance)
        try:
            first = asyncio.ensure_future(ex.watch_trades("BTC/USDT"))
            await asyncio.to_thread(fake.wait_for, lambda: fake.subscribers("spot", "trade") == 1)
            fake.push_trade("BTCUSDT", "60000", "0.1", "buy")
            assert [t["price"] for t in await asyncio.wait_for(first, 5)] == [60000.0]
            fake.faults.malformed_ws(1, style=style)
            nxt = asyncio.ensure_future(ex.watch_trades("BTC/USDT"))
            for price in ("60001", "60002", "60003"):
                fake.push_trade("BTCUSDT", price, "0.1", "buy")
            with pytest.raises(TimeoutError):
                await asyncio.wait_for(nxt, 1.0)
            assert fake.subscribers("spot", "trade") == 1  # the connection is still up
            assert [t["price"] for t in ex.trades["BTC/USDT"]] == [60000.0]
        finally:
            await ex.close()

    run(go())
