"""ccxt's own `upbit` class against the fake Upbit over loopback REST.

Money is hand-checked in the comments next to each assertion (fee 0.05 % of the funds,
in KRW; a bid locks price * volume * 1.0005).
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import ccxt
import ccxt.async_support as ccxta
import pytest

from adapters.data.upbit_capture import BUNDLED_UPBIT_SYNTHETIC
from adapters.exchanges.markets import instrument_from_market
from engine.marketdata.upbit import KRW_BTC, upbit_trading_instrument
from fakex.testing import run
from fakex.upbit import FakeUpbit

SYM = "BTC/KRW"


@pytest.fixture
def fake() -> Iterator[FakeUpbit]:
    with FakeUpbit(seed=0) as f:
        yield f


async def _client(fake: FakeUpbit) -> Any:
    ex = ccxta.upbit({"timeout": 3000})
    fake.configure(ex)
    await ex.load_markets()
    return ex


def test_markets_carry_no_tick_rules_and_instrument_from_market_pins_that(fake: FakeUpbit) -> None:
    async def go() -> tuple[dict[str, Any], dict[str, Any]]:
        ex = await _client(fake)
        try:
            return ex.market(SYM), await ex.fetch_market(SYM)  # /v1/orders/chance
        finally:
            await ex.close()

    market, chance = run(go())
    assert (market["id"], market["base"], market["quote"]) == ("KRW-BTC", "BTC", "KRW")
    # ccxt 4.5.90 gives every Upbit market precision 1e-8 for price and amount and no limits
    # (market/all has none): the 1,000 KRW tick and the 5,000 KRW minimum are not in it
    assert market["precision"] == {"price": 1e-8, "amount": 1e-8}
    assert market["limits"]["cost"] == {"min": None, "max": None}
    inst = instrument_from_market(market)
    assert (inst.symbol, inst.base, inst.quote) == (SYM, "BTC", "KRW")
    assert (inst.tick_size, inst.lot_size) == (Decimal("1e-8"), Decimal("1e-8"))
    assert (inst.min_notional, inst.maker_fee_rate) == (Decimal(0), Decimal("0.0005"))
    # the project's own Upbit facts have the real grid: use them for KRW-BTC, not ccxt's
    real = upbit_trading_instrument(KRW_BTC)
    assert (real.tick_size, real.min_notional) == (Decimal(1000), Decimal(5000))
    # fetch_market (orders/chance) reads min_total into BOTH cost.min and amount.min: a
    # 5,000 "BTC" minimum amount, a ccxt mistake that instrument_from_market would carry
    assert (chance["limits"]["cost"]["min"], chance["limits"]["amount"]["min"]) == (5000, 5000)
    assert instrument_from_market(chance).min_quantity == Decimal(5000)


def test_order_book_and_balance() -> None:
    with FakeUpbit(capture=BUNDLED_UPBIT_SYNTHETIC) as fake:
        fake.set_balance("KRW", "1000000")
        fake.set_balance("BTC", "0.5")

        async def go() -> tuple[Any, Any, Any]:
            ex = await _client(fake)
            try:
                first = await ex.fetch_order_book(SYM, 2)
                assert fake.advance(3) == 3  # orderbook, orderbook, trade
                return first, await ex.fetch_order_book(SYM), await ex.fetch_balance()
            finally:
                await ex.close()

        first, later, bal = run(go())
    # the capture's first orderbook (8.4717E7 / 8.4718E7 in its JSON)
    assert first["bids"] == [[84717000.0, 4.51136], [84715000.0, 1.20605]]
    assert first["asks"] == [[84718000.0, 1.61379], [84719000.0, 0.00086]]
    assert first["timestamp"] == 1723161255408
    # its third orderbook (the one the first trade met), all 15 levels
    assert later["bids"][0] == [84717000.0, 0.164] and later["asks"][0] == [84718000.0, 3.49337]
    assert (len(later["bids"]), len(later["asks"]), later["timestamp"]) == (15, 15, 1723161255619)
    assert bal["KRW"] == {"free": 1000000.0, "used": 0.0, "total": 1000000.0}
    assert bal["BTC"]["free"] == 0.5
    assert [r["path"] for r in fake.requests[-3:]] == [
        "/v1/orderbook",
        "/v1/orderbook",
        "/v1/accounts",
    ]
    assert fake.requests[-3]["params"] == {"markets": "KRW-BTC", "count": "2"}


def test_limit_order_partial_fill_and_cancel(fake: FakeUpbit) -> None:
    fake.set_book([("84000000", "1")], [("85000000", "1")])
    fake.set_balance("KRW", "1000000")

    async def go() -> None:
        ex = await _client(fake)
        try:
            o = await ex.create_order(SYM, "limit", "buy", 0.01, 84500000, {"clientOrderId": "c1"})
            # ccxt sends the client order id as Upbit's `identifier`
            assert fake.requests[-1]["params"] == {
                "market": "KRW-BTC",
                "side": "bid",
                "ord_type": "limit",
                "price": "84500000",
                "volume": "0.01",
                "identifier": "c1",
            }
            assert (o["clientOrderId"], o["status"], o["type"]) == ("c1", "open", "limit")
            assert o["id"] == fake.order("c1").uuid == "e3e70682-c209-4cac-a29f-6fbed82c07cd"
            # 0.01 * 84,500,000 = 845,000 + fee 422.5 locked
            assert o["info"]["locked"] == "845422.5"
            assert [x["id"] for x in await ex.fetch_open_orders(SYM)] == [o["id"]]
            fake.fill("c1", "0.004")
            f = await ex.fetch_order(o["id"])
            # 0.004 * 84,500,000 = 338,000 funds, fee 169
            assert (f["status"], f["filled"], f["remaining"]) == ("open", 0.004, 0.006)
            assert (f["cost"], f["average"], f["fees"][0]["cost"]) == (338000.0, 84500000.0, 169.0)
            assert f["fee"]["cost"] == "169"  # ccxt 4.5.90 leaves the order's fee cost a string
            assert len(f["trades"]) == 1 and f["trades"][0]["amount"] == 0.004
            bal = await ex.fetch_balance()
            # free 1,000,000 - 845,422.5 = 154,577.5; locked 845,422.5 - 338,169 = 507,253.5
            assert (bal["KRW"]["free"], bal["KRW"]["used"]) == (154577.5, 507253.5)
            assert bal["BTC"]["free"] == 0.004
            c = await ex.cancel_order(o["id"])
            # Upbit answers a cancel with the order as it was: state "wait" -> ccxt "open"
            assert (c["id"], c["status"]) == (o["id"], "open")
            after = await ex.fetch_order(o["id"])
            assert (after["status"], after["filled"]) == ("canceled", 0.004)
            assert await ex.fetch_open_orders(SYM) == []
            canceled = await ex.fetch_canceled_orders(SYM)
            assert [x["id"] for x in canceled] == [o["id"]]
            assert fake.requests[-1]["params"] == {"state": "cancel", "market": "KRW-BTC"}
            bal = await ex.fetch_balance()
            assert (bal["KRW"]["free"], bal["KRW"]["used"]) == (661831.0, 0.0)  # - 338,169
        finally:
            await ex.close()

    run(go())
    assert fake.balances["KRW"] == (Decimal("661831"), Decimal(0))


def test_lookup_by_identifier_and_closed_orders(fake: FakeUpbit) -> None:
    fake.set_book([("84000000", "1")], [("85000000", "1")])
    fake.set_balance("KRW", "1000000")

    async def go() -> None:
        ex = await _client(fake)
        try:
            o = await ex.create_order(SYM, "limit", "buy", 0.001, 85000000, {"clientOrderId": "t1"})
            # marketable: takes 0.001 @ 85,000,000 at once -> Upbit state "done"
            assert (o["status"], o["filled"]) == ("closed", 0.001)
            # fetch_order(None, ..., {"identifier"}) cannot look up by client id: ccxt sends
            # uuid=None as the text "None" next to it, and the fake (taking uuid first) has none
            with pytest.raises(ccxt.OrderNotFound):
                await ex.fetch_order(None, None, {"identifier": "t1"})
            assert fake.requests[-1]["params"] == {"uuid": "None", "identifier": "t1"}
            # the implicit endpoint does it; parse_order makes the unified order of it
            raw = await ex.private_get_order({"identifier": "t1"})
            by_id = ex.parse_order(raw)
            assert (by_id["id"], by_id["clientOrderId"], by_id["status"]) == (
                o["id"],
                "t1",
                "closed",
            )
            with pytest.raises(ccxt.OrderNotFound):
                await ex.private_get_order({"identifier": "nope"})
            closed = await ex.fetch_closed_orders(SYM)
            assert [x["id"] for x in closed] == [o["id"]]
            assert await ex.fetch_canceled_orders(SYM) == []
        finally:
            await ex.close()

    run(go())
    # 85,000 funds + 42.5 fee
    assert fake.balances["KRW"] == (Decimal("914957.5"), Decimal(0))


def test_market_buy_spends_a_cost_and_ends_cancelled_with_the_dust(fake: FakeUpbit) -> None:
    fake.set_book([("84000000", "1")], [("85000000", "0.001"), ("85001000", "1")])
    fake.set_balance("KRW", "1000000")

    async def go() -> None:
        ex = await _client(fake)
        try:
            # ccxt's default (createMarketBuyOrderRequiresPrice): cost = amount * price
            o = await ex.create_order(
                SYM, "market", "buy", 0.002, 85000000, {"clientOrderId": "m1"}
            )
            sent = fake.requests[-1]["params"]
            assert (sent["ord_type"], sent["price"], "volume" in sent) == ("price", "170000", False)
            f = await ex.fetch_order(o["id"])
            # 0.001 @ 85,000,000 = 85,000; the other 85,000 KRW buys 85,000 / 85,001,000
            # = 0.00099998823... -> 0.00099998 (8 decimals, cut) = 84,999.29998 KRW; the
            # 0.70002 KRW left cannot buy one lot: Upbit state "cancel" -> ccxt "canceled"
            assert (f["type"], f["status"], f["filled"]) == ("market", "canceled", 0.00199998)
            assert f["cost"] == pytest.approx(169999.29998, abs=1e-9)
            assert f["price"] is None or f["price"] > 0
            # the cost can also be given outright
            await ex.create_order(SYM, "market", "buy", None, None, {"cost": 5000})
            assert fake.requests[-1]["params"]["price"] == "5000"
        finally:
            await ex.close()

    run(go())
    # fee 0.05 % of 169,999.29998 = 84.99964999; then 5,000 KRW more: 5,000 / 85,000,000
    # = 0.0000588235.. -> 0.00005882 = 4,999.7 KRW, fee 2.49985
    spent = (
        Decimal("169999.29998") + Decimal("84.99964999") + Decimal("4999.7") + Decimal("2.49985")
    )
    assert fake.balances["KRW"] == (Decimal(1000000) - spent, Decimal(0))
    assert fake.balances["BTC"][0] == Decimal("0.00199998") + Decimal("0.00005882")


def test_market_sell_walks_the_bids(fake: FakeUpbit) -> None:
    fake.set_book([("84000000", "0.005"), ("83999000", "1")], [("85000000", "1")])
    fake.set_balance("BTC", "0.01")

    async def go() -> None:
        ex = await _client(fake)
        try:
            o = await ex.create_order(SYM, "market", "sell", 0.008, None, {"clientOrderId": "s1"})
            assert fake.requests[-1]["params"]["ord_type"] == "market"
            assert (o["status"], o["filled"]) == ("closed", 0.008)
        finally:
            await ex.close()

    run(go())
    # 0.005 @ 84,000,000 = 420,000 + 0.003 @ 83,999,000 = 251,997 -> 671,997; fee 335.9985
    assert fake.balances["KRW"] == (Decimal("671661.0015"), Decimal(0))
    assert fake.balances["BTC"] == (Decimal("0.002"), Decimal(0))


def test_resting_order_fills_from_a_print_through_its_price(fake: FakeUpbit) -> None:
    fake.set_book([("84000000", "1")], [("85000000", "1")])
    fake.set_balance("BTC", "0.01")

    async def go() -> None:
        ex = await _client(fake)
        try:
            o = await ex.create_order(SYM, "limit", "sell", 0.01, 84500000, {"clientOrderId": "a1"})
            fake.push_trade("84500000", "1")  # at the price: not through, no fill
            fake.push_trade("84501000", "0.003")  # through: 0.003 at the order's price
            f = await ex.fetch_order(o["id"])
            assert (f["status"], f["filled"], f["average"]) == ("open", 0.003, 84500000.0)
        finally:
            await ex.close()

    run(go())
    # 0.003 @ 84,500,000 = 253,500 - fee 126.75; 0.007 BTC still locked
    assert fake.balances["KRW"] == (Decimal("253373.25"), Decimal(0))
    assert fake.balances["BTC"] == (Decimal(0), Decimal("0.007"))


def test_sync_ccxt_round_trip(fake: FakeUpbit) -> None:
    fake.set_book([("84000000", "1")], [("85000000", "1")])
    fake.set_balance("KRW", "100000")
    ex = ccxt.upbit({"timeout": 3000})
    fake.configure(ex)
    ex.load_markets()
    o = ex.create_order(SYM, "limit", "buy", 0.001, 80000000, {"clientOrderId": "sync1"})
    assert ex.fetch_order(o["id"])["clientOrderId"] == "sync1"
    ex.cancel_order(o["id"])
    assert ex.fetch_order(o["id"])["status"] == "canceled"
    assert fake.balances["KRW"] == (Decimal(100000), Decimal(0))
