"""The fake from a sync ccxt client, its request log, capture playback, time-in-force rules and the
futures user stream's balance and position updates."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from decimal import Decimal

import ccxt
import ccxt.pro as ccxtpro
import pytest

from fakex import FakeBinance
from fakex.testing import DATA, run


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as f:
        yield f


def test_sync_client_and_request_log(fake: FakeBinance) -> None:
    fake.set_book("BTCUSDT", [("59990", "1")], [("60000", "1")])
    fake.set_balance("USDT", "1000")
    fake.set_time(1723161300000)
    ex = ccxt.binance({"timeout": 3000})
    fake.configure(ex)
    ex.load_markets()
    o = ex.create_order("BTC/USDT", "limit", "buy", 0.001, 59000, {"clientOrderId": "sync1"})
    assert ex.fetch_order(o["id"], "BTC/USDT")["clientOrderId"] == "sync1"
    (log,) = [r for r in fake.requests if r["method"] == "POST"]
    assert log["path"] == "/api/v3/order"
    assert log["time"] == 1723161300000  # the fake's clock, not the wall clock
    assert (
        log["params"]["newClientOrderId"],
        log["params"]["quantity"],
        log["params"]["price"],
    ) == (
        "sync1",
        "0.001",
        "59000",
    )
    assert "signature" not in log["params"] and "timestamp" in log["params"]
    assert fake.orders[int(o["id"])].time == 1723161300000


def test_ioc_and_fok(fake: FakeBinance) -> None:
    fake.set_book("BTCUSDT", [("59990", "1")], [("60000", "0.01"), ("60010", "0.01")])
    fake.set_balance("USDT", "10000")

    async def go() -> None:
        ex = ccxtpro.binance({"timeout": 3000})
        fake.configure(ex)
        try:
            await ex.load_markets()
            fok = await ex.create_order(
                "BTC/USDT", "limit", "buy", 0.03, 60010, {"timeInForce": "FOK"}
            )
            assert (fok["status"], fok["filled"]) == ("expired", 0.0)  # only 0.02 up to 60010
            ioc = await ex.create_order(
                "BTC/USDT", "limit", "buy", 0.03, 60005, {"timeInForce": "IOC"}
            )
            assert (ioc["status"], ioc["filled"], ioc["price"]) == ("expired", 0.01, 60005.0)
            # 0.01 @ 60000 = 600 + 0.6 fee; nothing stays locked
            assert fake.balances["spot"]["USDT"] == (Decimal("9399.4"), Decimal(0))
            gtc = await ex.create_order("BTC/USDT", "limit", "buy", 0.015, 60010)
            assert (gtc["status"], gtc["filled"]) == ("closed", 0.015)
        finally:
            await ex.close()

    run(go())
    # 0.01 @ 60000 and 0.005 @ 60010: the GTC order walked two levels and filled completely
    fills = [(f.price, f.qty) for f in fake.spot.fills]
    assert fills == [
        (Decimal("60000"), Decimal("0.01")),
        (Decimal("60000"), Decimal("0.01")),
        (Decimal("60010"), Decimal("0.005")),
    ]


def test_play_feeds_the_capture_in_the_background() -> None:
    with FakeBinance(captures={"spot": DATA / "spot-btcusdt-20240808.gz"}) as fake:
        start_id = fake.spot.books["BTCUSDT"].last_update_id
        fake.play("spot", speed=1000.0)
        fake.wait_for(lambda: fake.spot.books["BTCUSDT"].last_update_id > start_id + 1000)
        fake.stop_play()
        seen = fake.spot.books["BTCUSDT"].last_update_id
        time.sleep(0.1)
        assert fake.spot.books["BTCUSDT"].last_update_id == seen  # stopped
        assert fake.clock.now() > 1723161255208


def test_futures_create_dropped_connection_then_lookup(fake: FakeBinance) -> None:
    fake.set_balance("USDT", "1000", market="futures")
    sym = "BTC/USDT:USDT"

    async def go() -> None:
        ex = ccxtpro.binanceusdm({"timeout": 3000})
        fake.configure(ex)
        try:
            await ex.load_markets()
            fake.faults.create_timeout(1, mode="close")
            with pytest.raises(ccxt.NetworkError):
                await ex.create_order(sym, "limit", "sell", 0.002, 70000, {"clientOrderId": "x1"})
            found = await ex.fetch_order(None, sym, {"origClientOrderId": "x1"})
            assert (found["status"], found["amount"]) == ("open", 0.002)
            with pytest.raises(ccxt.InvalidOrder):  # -4116 duplicated client id
                await ex.create_order(sym, "limit", "sell", 0.002, 70000, {"clientOrderId": "x1"})
        finally:
            await ex.close()

    run(go())
    assert len(fake.futures.orders) == 1


def test_futures_account_update_moves_balance_and_position(fake: FakeBinance) -> None:
    fake.set_book("BTCUSDT", [("59999.9", "1")], [("60000.0", "1")], market="futures")
    fake.set_balance("USDT", "1000", market="futures")
    sym = "BTC/USDT:USDT"

    async def go() -> None:
        ex = ccxtpro.binanceusdm({"timeout": 3000})
        fake.configure(ex)
        try:
            await ex.load_markets()
            # the first watch_positions answers with ccxt's REST snapshot (no position yet)
            assert await asyncio.wait_for(ex.watch_positions([sym]), 5) == []
            balance = asyncio.ensure_future(ex.watch_balance())
            positions = asyncio.ensure_future(ex.watch_positions([sym]))
            await asyncio.to_thread(fake.wait_for, lambda: fake.user_subscribers("futures") == 1)
            await asyncio.sleep(0.2)
            await ex.create_order(sym, "market", "buy", 0.002)
            bal = await asyncio.wait_for(balance, 5)
            # 0.002 @ 60000 = 120 notional; taker 0.05 % = 0.06
            assert bal["USDT"]["total"] == 999.94
            (p,) = await asyncio.wait_for(positions, 5)
            assert (p["contracts"], p["entryPrice"], p["side"]) == (0.002, 60000.0, "long")
        finally:
            await ex.close()

    run(go())


def test_my_trades_since_limit_and_cancel_by_client_id(fake: FakeBinance) -> None:
    fake.set_book("BTCUSDT", [("59990", "5")], [("60000", "5")])
    fake.set_balance("USDT", "10000")

    async def go() -> None:
        ex = ccxtpro.binance({"timeout": 3000})
        fake.configure(ex)
        try:
            await ex.load_markets()
            for i, ms in enumerate((1723161300000, 1723161301000, 1723161302000)):
                fake.set_time(ms)
                await ex.create_order("BTC/USDT", "market", "buy", 0.001 * (i + 1))
            got = await ex.fetch_my_trades("BTC/USDT", since=1723161301000, limit=1)
            assert [(t["timestamp"], t["amount"]) for t in got] == [(1723161301000, 0.002)]
            await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 59000, {"clientOrderId": "k1"})
            c = await ex.cancel_order("", "BTC/USDT", {"origClientOrderId": "k1"})
            assert (c["clientOrderId"], c["status"]) == ("k1", "canceled")
        finally:
            await ex.close()

    run(go())
    deletes = [r for r in fake.requests if r["method"] == "DELETE"]
    assert deletes[0]["params"]["origClientOrderId"] == "k1"


def test_retry_after_header_and_listen_keys(fake: FakeBinance) -> None:
    import aiohttp

    async def go() -> None:
        fake.faults.http_status(418, 1, retry_after=7)
        async with aiohttp.ClientSession() as s:
            async with s.get(f"{fake.url}/api/v3/time", timeout=aiohttp.ClientTimeout(3)) as r:
                assert (r.status, r.headers["Retry-After"]) == (418, "7")
                assert (await r.json())["code"] == -1003
            async with s.get(f"{fake.url}/api/v3/time", timeout=aiohttp.ClientTimeout(3)) as r:
                assert r.status == 200  # the fault was bounded to one call
        ex = ccxtpro.binance({"timeout": 3000})
        fake.configure(ex)
        fut = ccxtpro.binanceusdm({"timeout": 3000})
        fake.configure(fut)
        try:
            key = (await ex.publicPostUserDataStream())["listenKey"]
            assert key in fake.listen_keys["spot"] and len(key) == 64
            await ex.publicPutUserDataStream({"listenKey": key})
            await ex.publicDeleteUserDataStream({"listenKey": key})
            assert fake.listen_keys["spot"] == set()
            fkey = (await fut.fapiPrivatePostListenKey())["listenKey"]
            assert (await fut.fapiPrivatePutListenKey())["listenKey"] == fkey
            await fut.fapiPrivateDeleteListenKey()
            assert fake.listen_keys["futures"] == set()
        finally:
            await ex.close()
            await fut.close()

    run(go())
