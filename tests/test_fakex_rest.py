"""ccxt's own binance / binanceusdm classes against the fake over loopback REST.

Money is hand-checked in the comments next to each assertion.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import ccxt.async_support as ccxta
import pytest

from fakex import FakeBinance
from fakex.testing import client as _client
from fakex.testing import run


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as f:
        yield f


def test_spot_markets_and_filters(fake: FakeBinance) -> None:
    async def go() -> None:
        ex = await _client(fake, ccxta.binance)
        try:
            m = ex.market("BTC/USDT")
            assert (m["precision"]["price"], m["precision"]["amount"]) == (0.01, 0.00001)
            assert m["limits"]["cost"]["min"] == 5.0
            assert list(ex.markets) == ["BTC/USDT"]
            assert await ex.fetch_time() == fake.clock.now()
        finally:
            await ex.close()

    run(go())


def test_spot_round_trip_with_partial_fill(fake: FakeBinance) -> None:
    fake.set_book("BTCUSDT", [("59990", "1")], [("60000", "0.01"), ("60001", "0.02")])
    fake.set_balance("USDT", "10000")

    async def go() -> None:
        ex = await _client(fake, ccxta.binance)
        try:
            ob = await ex.fetch_order_book("BTC/USDT", 5)
            assert ob["asks"][:2] == [[60000.0, 0.01], [60001.0, 0.02]]
            m = await ex.create_order(
                "BTC/USDT", "market", "buy", 0.02, None, {"clientOrderId": "m1"}
            )
            # 0.01 @ 60000 + 0.01 @ 60001 = 1200.01; fee 0.1 % = 1.20001 USDT
            assert (m["status"], m["filled"], m["cost"]) == ("closed", 0.02, 1200.01)
            bal = await ex.fetch_balance()
            assert bal["USDT"]["free"] == pytest.approx(8798.78999, abs=1e-9)
            assert Decimal(fake.balances["spot"]["USDT"][0]) == Decimal("8798.78999")
            assert bal["BTC"]["free"] == 0.02
            s = await ex.create_order(
                "BTC/USDT", "limit", "sell", 0.01, 61000, {"clientOrderId": "s1"}
            )
            assert s["status"] == "open"
            fake.push_trade(
                "BTCUSDT", "61000.01", "0.004", "buy"
            )  # prints through 61000: 0.004 fills
            o = await ex.fetch_order(s["id"], "BTC/USDT")
            assert (o["status"], o["filled"], o["remaining"]) == ("open", 0.004, 0.006)
            by_client = await ex.fetch_order(None, "BTC/USDT", {"origClientOrderId": "s1"})
            assert by_client["id"] == s["id"]
            trades = await ex.fetch_my_trades("BTC/USDT")
            assert [(t["price"], t["amount"], t["takerOrMaker"]) for t in trades] == [
                (60000.0, 0.01, "taker"),
                (60001.0, 0.01, "taker"),
                (61000.0, 0.004, "maker"),
            ]
            # 244 USDT less 0.244 maker fee
            assert fake.balances["spot"]["USDT"] == (Decimal("9042.54599"), Decimal(0))
            assert fake.balances["spot"]["BTC"] == (Decimal("0.01"), Decimal("0.006"))
            assert len(await ex.fetch_open_orders("BTC/USDT")) == 1
            e = await ex.edit_order(s["id"], "BTC/USDT", "limit", "sell", 0.006, 61500)
            assert (e["price"], e["amount"], e["status"]) == (61500.0, 0.006, "open")
            assert fake.orders[int(s["id"])].status == "CANCELED"
            c = await ex.cancel_order(e["id"], "BTC/USDT")
            assert c["status"] == "canceled"
            assert fake.balances["spot"]["BTC"] == (Decimal("0.016"), Decimal(0))
            assert await ex.fetch_open_orders("BTC/USDT") == []
        finally:
            await ex.close()

    run(go())


def test_spot_errors_map_to_ccxt_classes(fake: FakeBinance) -> None:
    import ccxt

    fake.set_book("BTCUSDT", [("59990", "1")], [("60000", "1")])
    fake.set_balance("USDT", "100")

    async def go() -> None:
        ex = await _client(fake, ccxta.binance)
        try:
            with pytest.raises(ccxt.InsufficientFunds):
                await ex.create_order("BTC/USDT", "limit", "buy", 0.01, 59000)
            # below the 5 USDT minimum notional: Binance's -1013 "Filter failure: NOTIONAL", which
            # ccxt 4.5 maps to BadRequest (not InvalidOrder): the adapter must classify it itself
            with pytest.raises(ccxt.BadRequest):
                await ex.create_order("BTC/USDT", "limit", "buy", 0.00001, 59000)
            with pytest.raises(
                ccxt.InvalidOrder
            ):  # off the lot step (sent raw, past ccxt's rounding)
                await ex.privatePostOrder(
                    {
                        "symbol": "BTCUSDT",
                        "side": "BUY",
                        "type": "LIMIT",
                        "timeInForce": "GTC",
                        "quantity": "0.000015",
                        "price": "59000",
                    }
                )
            with pytest.raises(ccxt.OrderNotFound):
                await ex.fetch_order("42", "BTC/USDT")
            with pytest.raises(ccxt.OrderNotFound):
                await ex.cancel_order("42", "BTC/USDT")
            with pytest.raises(ccxt.BadSymbol):
                await ex.publicGetDepth({"symbol": "NOPEUSDT"})
            await ex.create_order(
                "BTC/USDT", "limit", "buy", 0.001, 59000, {"clientOrderId": "dup"}
            )
            with pytest.raises(ccxt.InvalidOrder):
                await ex.create_order(
                    "BTC/USDT", "limit", "buy", 0.001, 59000, {"clientOrderId": "dup"}
                )
            with pytest.raises(
                ccxt.OrderImmediatelyFillable
            ):  # post-only (LIMIT_MAKER) would cross
                await ex.create_order("BTC/USDT", "limit", "buy", 0.001, 60000, {"postOnly": True})
            ex.secret = "wrong"
            with pytest.raises(ccxt.AuthenticationError):
                await ex.fetch_balance()
            ex.apiKey = "nobody"
            # ccxt reads -2015 after an earlier authenticated success as a temporary ban
            with pytest.raises(ccxt.DDoSProtection):
                await ex.fetch_balance()
        finally:
            await ex.close()
        fresh = await _client(fake, ccxta.binance)
        fresh.apiKey = "nobody"
        try:
            with pytest.raises(ccxt.AuthenticationError):
                await fresh.fetch_balance()
        finally:
            await fresh.close()

    run(go())
    assert len(fake.spot.orders) == 1  # refused orders leave no trace


def test_futures_round_trip_positions_and_pnl(fake: FakeBinance) -> None:
    import ccxt

    fake.set_book(
        "BTCUSDT", [("59990.0", "1")], [("60000.0", "0.005"), ("60000.5", "1")], market="futures"
    )
    fake.set_balance("USDT", "10000", market="futures")
    sym = "BTC/USDT:USDT"

    async def go() -> None:
        ex = await _client(fake, ccxta.binanceusdm)
        try:
            m = ex.market(sym)
            assert (
                m["precision"]["price"],
                m["precision"]["amount"],
                m["limits"]["cost"]["min"],
            ) == (0.1, 0.001, 100.0)
            o = await ex.create_order(sym, "market", "buy", 0.01, None, {"clientOrderId": "f1"})
            # 0.005 @ 60000 + 0.005 @ 60000.5 = 600.0025; taker 0.05 % = 0.30000125
            assert (o["status"], o["filled"], o["average"]) == ("closed", 0.01, 60000.25)
            assert fake.balances["futures"]["USDT"][0] == Decimal("9999.69999875")
            (p,) = await ex.fetch_positions([sym])
            assert (p["contracts"], p["entryPrice"], p["side"]) == (0.01, 60000.25, "long")
            with pytest.raises(
                ccxt.InvalidOrder
            ):  # reduce-only that would open a short beyond the long
                await ex.create_order(sym, "market", "sell", 0.02, None, {"reduceOnly": True})
            with pytest.raises(ccxt.InvalidOrder):  # duplicate client id: -4116
                await ex.create_order(sym, "limit", "buy", 0.002, 59000, {"clientOrderId": "f1"})
            with pytest.raises(ccxt.InvalidOrder):  # notional 59 < 100
                await ex.create_order(sym, "limit", "buy", 0.001, 59000)
            with pytest.raises(
                ccxt.InsufficientFunds
            ):  # 100 BTC at 20x needs 295,000 USDT of margin
                await ex.create_order(sym, "limit", "buy", 100, 59000)
            r = await ex.create_order(sym, "limit", "buy", 0.002, 59000, {"clientOrderId": "f2"})
            e = await ex.edit_order(r["id"], sym, "limit", "buy", 0.003, 59100)
            assert (e["id"], e["amount"], e["price"]) == (r["id"], 0.003, 59100.0)
            fake.fill(int(r["id"]), "0.001")
            got = await ex.fetch_order(None, sym, {"origClientOrderId": "f2"})
            assert (got["status"], got["filled"]) == ("open", 0.001)
            assert (await ex.cancel_order(r["id"], sym))["status"] == "canceled"
            fake.set_book("BTCUSDT", [("60010.0", "1")], [("60020.0", "1")], market="futures")
            c = await ex.create_order(sym, "market", "sell", 0.011, None, {"reduceOnly": True})
            assert c["filled"] == 0.011
            trades = await ex.fetch_my_trades(sym)
            assert [t["amount"] for t in trades] == [0.005, 0.005, 0.001, 0.011]
            # maker fill 0.001 @ 59100: fee 0.01182; entry (600.0025 + 59.1) / 0.011 = 59918.409...
            # close 0.011 @ 60010: pnl 660.11 - 659.1025 = 1.0075 (rounded to 1e-8); fee 0.330055
            # wallet 9999.69999875 - 0.01182 + 1.0075 - 0.330055 = 10000.36562375, exactly
            assert fake.balances["futures"]["USDT"][0] == Decimal("10000.36562375")
            assert [f.realized_pnl for f in fake.futures.fills][-1] == Decimal("1.00750000")
            assert fake.positions["BTCUSDT"].amount == 0
            bal = await ex.fetch_balance()
            assert bal["USDT"]["total"] == pytest.approx(10000.36562375, abs=1e-6)
        finally:
            await ex.close()

    run(go())
