"""Upbit spot through CcxtVenue (ccxt.pro `upbit`, reports by polling) against FakeUpbit:
the order manager's orders are placed, filled, cancelled and looked up by identifier with
no Upbit code in `engine`; the instrument carries Upbit's real KRW rules, not ccxt's.

Money by hand (fee 0.05 % of the funds, KRW): a bid of 0.01 @ 84,500,000 locks 845,000 +
422.5 = 845,422.5 KRW."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import ccxt.pro as ccxtpro
import pytest
from ccxt_venue_harness import FixedClock, Sleeps

from adapters.exchanges.aioloop import AsyncioThread
from adapters.exchanges.backoff import BackoffPolicy
from adapters.exchanges.markets import exchange_instrument, instrument_from_market
from adapters.live import live_instruments
from adapters.store.memory import MemoryStore
from adapters.venues.ccxt_venue import CcxtVenue
from engine.domain.enums import OrderSide, OrderStatus, OrderType
from engine.domain.errors import ValidationError
from engine.domain.events import OrderFilled, OrderRejected
from engine.services.order_manager import OrderManager
from fakex.upbit import FakeUpbit

D = Decimal
SYM = "BTC/KRW"


@pytest.fixture
def fake() -> Iterator[FakeUpbit]:
    with FakeUpbit(seed=0) as f:
        f.set_book([("84000000", "1")], [("85000000", "1")])
        f.set_balance("KRW", "1000000")
        yield f


@contextmanager
def upbit_venue(fake: FakeUpbit, **kwargs: Any) -> Iterator[tuple[CcxtVenue, list[str]]]:
    """A started CcxtVenue in "poll" mode over ccxt.pro's upbit pointed at the fake, its
    instrument from `live_instruments` (the Upbit correction)."""
    loop = AsyncioThread(name="test-ccxt-upbit")
    exchange = ccxtpro.upbit({"timeout": 1500, "enableRateLimit": False})
    fake.configure(exchange)
    logs: list[str] = []
    try:
        instruments = live_instruments(exchange, [SYM], loop, 10)
        venue = CcxtVenue(
            exchange,
            instruments,
            clock=FixedClock(),
            loop=loop,
            backoff=BackoffPolicy(initial_s=0.05, max_s=0.2, max_retries=3),
            reports="poll",
            poll_s=0.05,
            sleep=Sleeps(cap_s=0.05),
            log=logs.append,
            **kwargs,
        )
        try:
            venue.start()
            yield venue, logs
        finally:
            venue.close()
    finally:
        if loop.running:
            loop.call(exchange.close(), 5)
        loop.stop()


def manager(venue: CcxtVenue) -> tuple[OrderManager, MemoryStore]:
    store = MemoryStore()
    om = OrderManager(venue=venue, store=store, clock=FixedClock(), instruments=venue.instruments)
    return om, store


def pump(
    om: OrderManager, venue: CcxtVenue, until: Callable[[], bool], settle_s: float = 0.3
) -> None:
    """Hands the venue's reports to the manager until `until()` (bounded), then a little
    longer so that an extra report would show up too."""
    end = time.monotonic() + 5
    while not until():
        if time.monotonic() > end:
            raise AssertionError(f"never reached: {[o.status for o in om.orders()]}")
        for event in venue.drain():
            om.on_venue_event(event)
        time.sleep(0.01)
    time.sleep(settle_s)
    for event in venue.drain():
        om.on_venue_event(event)


def creates(fake: FakeUpbit) -> list[dict[str, Any]]:
    return [r for r in fake.requests if r["method"] == "POST" and r["path"] == "/v1/orders"]


def buy(om: OrderManager, quantity: str, price: str) -> Any:
    return om.submit(
        symbol=SYM,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=D(quantity),
        price=D(price),
    )


# --- the instrument ----------------------------------------------------------------------
def test_upbit_instrument_replaces_ccxts_steps(fake: FakeUpbit) -> None:
    market = {
        "symbol": SYM,
        "base": "BTC",
        "quote": "KRW",
        "spot": True,
        "precision": {"price": 1e-8, "amount": 1e-8},
        # what ccxt's fetch_market (orders/chance) says: min_total read as a BTC minimum
        "limits": {"amount": {"min": 5000}, "cost": {"min": 5000}},
    }
    assert instrument_from_market(market).min_quantity == D(5000)  # ccxt's mistake
    inst = exchange_instrument("upbit", market, reference_price=D("84000000"))
    assert (inst.tick_size, inst.lot_size, inst.min_quantity) == (D(1000), D("1e-8"), D("1e-8"))
    assert (inst.min_notional, inst.taker_fee_rate) == (D(5000), D("0.0005"))
    assert (inst.price_precision, inst.quantity_precision) == (0, 8)
    # the band's lowest price still has the 1,000 tick; below it no tick is guessed
    assert exchange_instrument("upbit", market, reference_price=D(2_000_000)).tick_size == 1000
    with pytest.raises(ValidationError, match=r"reference_price 1999999 is below 2000000"):
        exchange_instrument("upbit", market, reference_price=D(1_999_999))
    with pytest.raises(ValidationError, match=r"reference_price None is missing"):
        exchange_instrument("upbit", market)
    with pytest.raises(ValidationError, match=r"quote USDT is not a KRW spot market"):
        exchange_instrument("upbit", {**market, "quote": "USDT"}, reference_price=D(1))
    # other exchanges: ccxt's market as it is
    assert exchange_instrument("binance", market).tick_size == D("1e-8")


def test_live_instruments_reads_the_price_for_upbits_tick(fake: FakeUpbit) -> None:
    loop = AsyncioThread(name="test-upbit-instruments")
    exchange = ccxtpro.upbit({"timeout": 1500})
    fake.configure(exchange)
    try:
        (inst,) = live_instruments(exchange, [SYM], loop, 10).values()
    finally:
        loop.call(exchange.close(), 5)
        loop.stop()
    assert (inst.symbol, inst.tick_size, inst.min_notional) == (SYM, D(1000), D(5000))
    assert [r["path"] for r in fake.requests][-1] == "/v1/orderbook"  # the best bid read


# --- orders through the order manager -----------------------------------------------------
def test_limit_order_partial_fill_and_cancel(fake: FakeUpbit) -> None:
    with upbit_venue(fake) as (venue, _):
        om, store = manager(venue)
        order = buy(om, "0.01", "84500000")
        pump(om, venue, lambda: order.status is OrderStatus.ACCEPTED)
        (sent,) = creates(fake)
        assert sent["params"]["identifier"] == order.client_order_id
        assert (sent["params"]["ord_type"], sent["params"]["price"]) == ("limit", "84500000")
        fake.fill(order.client_order_id, "0.004")
        # reported from polling, once however many polls see it
        pump(om, venue, lambda: order.status is OrderStatus.PARTIALLY_FILLED, settle_s=0.4)
        fills = [r for _, r in store.records() if isinstance(r, OrderFilled)]
        assert [(f.fill.price, f.fill.quantity, f.fill.fee) for f in fills] == [
            (D(84500000), D("0.004"), D(169))  # 338,000 KRW of funds, fee 169
        ]
        om.cancel(order.client_order_id)
        pump(om, venue, lambda: order.status is OrderStatus.CANCELED)
        assert order.filled_qty == D("0.004")
        assert fake.order(order.client_order_id).state == "cancel"
        assert om.anomalies == []
        assert venue.health()["unresolved"] == []
        # 1,000,000 - 338,169 paid; the rest of the lock released
        assert fake.balances["KRW"] == (D("661831"), D(0))


def test_create_timeout_after_placing_is_resolved_by_identifier(fake: FakeUpbit) -> None:
    fake.faults.create_timeout(1, mode="close")
    with upbit_venue(fake) as (venue, _):
        om, _ = manager(venue)
        order = buy(om, "0.001", "84000000")
        pump(om, venue, lambda: order.status is OrderStatus.ACCEPTED)
        assert len(creates(fake)) == 1  # never sent again: the look-up found it
        assert [o.identifier for o in fake.orders.values()] == [order.client_order_id]
        lookups = [r for r in fake.requests if r["path"] == "/v1/order" and r["method"] == "GET"]
        assert lookups[0]["params"] == {"identifier": order.client_order_id}
        assert venue.stats["ambiguous"] == 1
        assert om.anomalies == []


def test_insufficient_funds_is_rejected_once_and_not_retried(fake: FakeUpbit) -> None:
    with upbit_venue(fake) as (venue, _):
        om, store = manager(venue)
        order = buy(om, "1", "84000000")  # 84,000,000 KRW + fee > 1,000,000
        pump(om, venue, lambda: order.status is OrderStatus.REJECTED)
        rejects = [r for _, r in store.records() if isinstance(r, OrderRejected)]
        assert len(rejects) == 1
        assert rejects[0].reason.startswith("INSUFFICIENT_FUNDS: ")
        assert "insufficient_funds_bid" in rejects[0].reason
        assert len(creates(fake)) == 1
        assert fake.orders == {}
        assert om.anomalies == []


def test_account_queries(fake: FakeUpbit) -> None:
    fake.set_balance("BTC", "0.5")
    with upbit_venue(fake) as (venue, _):
        om, _ = manager(venue)
        order = buy(om, "0.01", "84500000")
        pump(om, venue, lambda: order.status is OrderStatus.ACCEPTED)
        cid = order.client_order_id
        fake.fill(cid, "0.004")
        (state,) = venue.open_orders()
        assert (state.client_order_id, state.symbol, state.side, state.status) == (
            cid,
            SYM,
            OrderSide.BUY,
            "open",
        )
        assert (state.quantity, state.price, state.filled) == (D("0.01"), D(84500000), D("0.004"))
        found = venue.order(SYM, cid)
        assert found is not None and found.venue_order_id == fake.order(cid).uuid
        assert venue.order(SYM, "nobody-1") is None
        # KRW: 1,000,000 total (locks count in it) - 338,169 paid; BTC 0.5 + 0.004
        assert venue.balances() == {"KRW": D("661831"), "BTC": D("0.504")}
        assert venue.position(SYM) == D("0.004")  # the base since start()
        (fill,) = venue.fills(SYM, 0)  # no fetch_my_trades on Upbit: from the order itself
        assert (fill.client_order_id, fill.quantity, fill.price) == (cid, D("0.004"), D(84500000))
