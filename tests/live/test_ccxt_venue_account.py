"""CcxtVenue's account queries against the fake's own state, orders not ours, polling,
cancels of orders the venue no longer has, and a second run taking over open orders."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import ccxt
import pytest
from ccxt_venue_harness import (
    NOW_NS,
    SPOT,
    USDM,
    Sleeps,
    fixed_touch,
    kinds,
    terms,
    venue_on,
    wait_events,
)

from engine.domain.enums import OrderSide, OrderType
from engine.domain.events import OrderCanceled, OrderCancelRejected, OrderFilled
from engine.ports.venue import VenueOrderState, VenueUnavailable
from fakex import FakeBinance

D = Decimal


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    with FakeBinance() as f:
        yield f


def other_client(fake: FakeBinance, cls: type = ccxt.binance) -> ccxt.Exchange:
    """Someone else trading on the same account (a person, another program)."""
    exchange = cls({"timeout": 3000})
    fake.configure(exchange)
    exchange.load_markets()
    return exchange


def test_spot_queries_agree_with_the_fake(fake: FakeBinance) -> None:
    fake.set_book("BTCUSDT", [("59990", "5")], [("60000", "5")])
    fake.set_balance("USDT", "10000")
    fake.set_balance("BTC", "0.5")
    ours = lambda cid: cid.startswith("qx-")  # noqa: E731
    touch = fixed_touch("59990", "60000")
    with venue_on(fake, "spot", is_ours=ours, touch=touch) as (venue, _, _):
        assert venue.position(SPOT) == 0
        venue.submit(terms("qx-1", "buy", "0.01"))  # a limit IOC at 60600 (1 % cap)
        venue.submit(terms("qx-2", "buy", "0.01", "50000"))
        events = wait_events(venue, lambda e: len(e) >= 3)
        fake.set_time(1723161300000)
        other = other_client(fake)
        other.create_order(SPOT, "market", "buy", 0.002)
        theirs = other.create_order(SPOT, "limit", "sell", 0.1, 70000)
        fake.fill(int(theirs["id"]), "0.05")
        events = wait_events(venue, lambda e: True, events)
        # their orders and fills are not reported as events
        assert kinds(events) == ["OrderAccepted", "OrderFilled", "OrderAccepted"]
        assert venue.stats["foreign"] >= 2
        # USDT: 10000 - 600 - 0.6 (ours) - 120 - 0.12 (their buy) + 3500 - 3.5 (their sale)
        # BTC: 0.5 + 0.01 + 0.002 - 0.05; locked amounts count in the totals
        assert venue.balances() == {"USDT": D("12775.78"), "BTC": D("0.462")}
        assert venue.position(SPOT) == D("-0.038")  # the account's base since start()
        assert venue.positions() == {}
        states = sorted(venue.open_orders(), key=lambda s: s.venue_order_id)
        assert [(s.client_order_id == "qx-2", s.side, s.filled, s.status) for s in states] == [
            (True, OrderSide.BUY, D(0), "open"),
            (False, OrderSide.SELL, D("0.05"), "open"),
        ]
        assert states[0] == VenueOrderState(
            client_order_id="qx-2",
            venue_order_id=states[0].venue_order_id,
            symbol=SPOT,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=D("0.01"),
            price=D("50000"),
            trigger_price=None,
            filled=D(0),
            status="open",
            reduce_only=False,
            ts_event=NOW_NS,
        )
        assert states[1].client_order_id == theirs["clientOrderId"]
        assert venue.order(SPOT, "qx-1") is not None
        assert venue.order(SPOT, "qx-1").status == "filled"  # type: ignore[union-attr]
        assert venue.order(SPOT, "nope") is None
        every = venue.fills(SPOT, 0)
        assert [(f.trade_id, f.client_order_id, f.quantity) for f in every] == [
            ("1", "qx-1", D("0.01")),
            ("2", every[1].client_order_id, D("0.002")),
            ("3", theirs["clientOrderId"], D("0.05")),
        ]
        assert every[2].side is OrderSide.SELL and every[2].fee == D("3.5")
        # the exchange filters in its own milliseconds: since the clock was set
        later = venue.fills(SPOT, 1723161300000 * 1_000_000)
        assert [f.trade_id for f in later] == ["2", "3"]


def test_usdm_positions_and_balances(fake: FakeBinance) -> None:
    fake.set_book("BTCUSDT", [("59990.0", "1")], [("60000.0", "1")], market="futures")
    fake.set_balance("USDT", "10000", market="futures")
    touch = fixed_touch("59990.0", "60000.0")
    with venue_on(fake, "futures", touch=touch) as (venue, _, _):
        venue.submit(terms("qx-1", "sell", "0.003", symbol=USDM))  # IOC at 59390.1
        wait_events(venue, lambda e: len(e) >= 2)
        assert venue.positions() == {USDM: D("-0.003")}
        assert venue.position(USDM) == D("-0.003")
        # 0.003 @ 59990 = 179.97 notional; taker 0.05 % = 0.089985 off the wallet
        assert fake.balances["futures"]["USDT"][0] == D("9999.910015")
        # ccxt's total for USD-M is the margin balance: the wallet plus unrealized PnL,
        # here (mark 59995 - entry 59990) * -0.003 = -0.015
        assert venue.balances() == {"USDT": D("9999.895015")}


def test_queries_raise_venue_unavailable_when_not_answered(fake: FakeBinance) -> None:
    with venue_on(fake, "spot") as (venue, sleeps, _):
        fake.faults.http_status(503, 5, path="/api/v3/account")
        with pytest.raises(VenueUnavailable, match="balances: EXCHANGE_NOT_AVAILABLE"):
            venue.balances()
        calls = [r for r in fake.requests if r["path"] == "/api/v3/account"]
        assert len(calls) == 1 + 5  # start()'s baseline, then 5 attempts (max_attempts)
        assert len(sleeps.waits) == 4
        fake.faults.http_status(503, 5, path="/api/v3/order")
        with pytest.raises(VenueUnavailable):
            venue.order(SPOT, "qx-1")
        assert venue.balances() == {}  # answered again


def test_poll_mode_reports_fills_and_a_venue_cancel(fake: FakeBinance) -> None:
    fake.set_balance("USDT", "1000")
    with venue_on(fake, "spot", reports="poll", poll_s=0.1, sleeps=Sleeps(cap_s=1.0)) as (
        venue,
        _,
        _,
    ):
        assert venue.health()["stream"] == "polling" and venue.connections == 0
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        events = wait_events(venue, lambda e: len(e) >= 1)
        (order_id,) = fake.orders
        fake.fill(order_id, "0.004")
        events = wait_events(venue, lambda e: len(e) >= 2, events)
        other_client(fake).cancel_order(str(order_id), SPOT)  # canceled by someone else
        events = wait_events(venue, lambda e: len(e) >= 3, events)
        assert kinds(events) == ["OrderAccepted", "OrderFilled", "OrderCanceled"]
        assert events[2] == OrderCanceled(
            client_order_id="qx-1", ts_event=NOW_NS, reason="VENUE_CANCELED: canceled by the venue"
        )
        assert fake.user_subscribers("spot") == 0  # no stream in poll mode


def test_cancel_of_an_order_filled_meanwhile_reports_the_fill(fake: FakeBinance) -> None:
    fake.set_balance("USDT", "1000")
    # no stream and no polling during the test: only the cancel's lookup can find the fill
    with venue_on(fake, "spot", reports="poll", poll_s=30, sleeps=Sleeps(cap_s=60)) as (
        venue,
        _,
        _,
    ):
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        events = wait_events(venue, lambda e: len(e) >= 1)
        (order_id,) = fake.orders
        fake.fill(order_id, "0.01")
        venue.cancel("qx-1")
        events = wait_events(venue, lambda e: len(e) >= 2, events)
        assert kinds(events) == ["OrderAccepted", "OrderFilled"]
        fill = events[1]
        assert isinstance(fill, OrderFilled)
        assert (fill.fill.quantity, fill.fill.fee, fill.fill.liquidity.value) == (
            D("0.01"),
            D("0.5"),
            "MAKER",
        )
        steps = [(r["method"], r["path"]) for r in fake.requests if r["path"] != "/api/v3/account"]
        assert steps[-3:] == [
            ("DELETE", "/api/v3/order"),  # -2011 unknown order
            ("GET", "/api/v3/order"),  # the lookup: FILLED
            ("GET", "/api/v3/myTrades"),  # its fills
        ]
        venue.cancel("nobody")
        events = wait_events(venue, lambda e: len(e) >= 3, events)
        assert isinstance(events[2], OrderCancelRejected)
        assert events[2].reason.startswith("ORDER_NOT_FOUND: ")


def test_a_new_run_follows_and_cancels_the_previous_runs_order(fake: FakeBinance) -> None:
    fake.set_balance("USDT", "1000")
    with venue_on(fake, "spot") as (venue, _, _):
        venue.submit(terms("qx-1", "buy", "0.01", "50000"))
        first = wait_events(venue, lambda e: len(e) >= 1)
        (order_id,) = fake.orders
        fake.fill(order_id, "0.004")
        first = wait_events(venue, lambda e: len(e) >= 2, first)
    with venue_on(fake, "spot") as (venue, _, _):  # the next run, after a restart
        venue.seen_trades([(SPOT, e.fill.trade_id) for e in first if isinstance(e, OrderFilled)])
        (state,) = venue.open_orders()
        assert (state.client_order_id, state.filled) == ("qx-1", D("0.004"))
        # the new fill's report is spoiled: the catch-up fetches the order's trades, the
        # journaled one among them, which is not reported again
        fake.faults.user_ws(malformed=1)
        fake.fill(order_id, "0.002")
        fake.wait_for(lambda: any(r["path"].endswith("myTrades") for r in fake.requests))
        venue.cancel("qx-1")
        events = wait_events(venue, lambda e: len(e) >= 2)
        # no second acceptance (the journal has it): the new fill, then the cancel
        assert kinds(events) == ["OrderFilled", "OrderCanceled"]
        assert events[0].fill.trade_id == "2"  # type: ignore[attr-defined]
        assert venue.stats["duplicates"] >= 1
