"""The order manager with the real Rust risk gate: denials carry the gate's reason."""

from __future__ import annotations

import dataclasses
from decimal import Decimal

from om_fakes import BTC, CheckedStore, FakeVenue, ManualClock

from engine.domain import OrderSide, OrderStatus, OrderType, TradingState
from engine.services.order_manager import OrderManager
from engine.services.risk import RiskLimits, RiskService

D = Decimal
MID = D("60000.05")
INST = dataclasses.replace(BTC, min_notional=D("100"))


class Account:
    def __init__(self) -> None:
        self.positions: dict[str, Decimal] = {}

    def position(self, symbol: str) -> Decimal:
        return self.positions.get(symbol, D(0))

    def available(self, asset: str) -> Decimal:
        return D("100000") if asset == "USDT" else D(0)

    def gross_exposure(self) -> Decimal:
        return D(0)


class Market:
    def __init__(self, mid: Decimal | None) -> None:
        self.value = mid

    def mid(self, symbol: str) -> Decimal | None:
        return self.value


def make(
    mid: Decimal | None = MID,
) -> tuple[OrderManager, RiskService, FakeVenue, Account]:
    account = Account()
    limits = RiskLimits(
        max_notional=D("50000"), max_position=D("1"), max_gross_exposure=D("100000")
    )
    risk = RiskService({"BTCUSDT": INST}, {"BTCUSDT": limits}, account=account, market=Market(mid))
    store = CheckedStore()
    venue = FakeVenue(store)
    om = OrderManager(
        venue=venue, store=store, clock=ManualClock(), instruments={"BTCUSDT": INST}, risk=risk
    )
    return om, risk, venue, account


def reason(om: OrderManager, **fields: object) -> str | None:
    order = om.submit(symbol="BTCUSDT", **fields)
    if order.status is OrderStatus.DENIED:
        return order.events[-1].reason
    return None


def test_below_min_notional_is_denied_with_its_reason() -> None:
    om, _, venue, _ = make()
    # 0.001 BTC at 60000.0 = 60 USDT < 100 USDT.
    got = reason(
        om, side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=D("0.001"), price=D("60000.0")
    )
    assert got == "NOTIONAL_BELOW_MIN: notional=60 min=100"
    assert venue.sent == []
    # 0.002 BTC = 120 USDT passes.
    assert (
        reason(
            om,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=D("0.002"),
            price=D("60000.0"),
        )
        is None
    )
    assert len(venue.commands("submit")) == 1


def test_market_orders_are_judged_at_the_mid_and_refused_without_one() -> None:
    om, _, _, _ = make(mid=None)
    got = reason(om, side=OrderSide.BUY, order_type=OrderType.MARKET, quantity=D("0.010"))
    assert got is not None and got.startswith("NO_MID")
    om, _, _, _ = make()
    assert reason(om, side=OrderSide.BUY, order_type=OrderType.MARKET, quantity=D("0.010")) is None


def test_off_grid_halted_and_reduce_only() -> None:
    om, risk, _, account = make()
    # Off the grid: rounded before the gate (a BUY down), so the gate sees 60000.0.
    got = reason(
        om, side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=D("0.010"), price=D("60000.05")
    )
    assert got is None and om.orders()[-1].price == D("60000.0")
    # A quantity that would round to zero is left as given: the gate names it.
    got = reason(
        om, side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=D("0.0005"), price=D("60000.0")
    )
    assert got == "LOT_STEP: qty=0.0005 lot=0.001"
    got = reason(
        om,
        side=OrderSide.SELL,
        order_type=OrderType.LIMIT,
        quantity=D("0.010"),
        price=D("60000.0"),
        reduce_only=True,
    )
    assert got is not None and got.startswith("REDUCE_ONLY_INCREASES")
    account.positions["BTCUSDT"] = D("0.010")
    assert (
        reason(
            om,
            side=OrderSide.SELL,
            order_type=OrderType.LIMIT,
            quantity=D("0.010"),
            price=D("60000.0"),
            reduce_only=True,
        )
        is None
    )
    risk.state = TradingState.HALTED
    got = reason(
        om, side=OrderSide.BUY, order_type=OrderType.LIMIT, quantity=D("0.010"), price=D("60000.0")
    )
    assert got is not None and got.startswith("TRADING_HALTED")


def test_stop_orders_are_checked_at_their_trigger() -> None:
    om, _, _, account = make()
    account.positions["BTCUSDT"] = D("0.010")
    # A sell stop far below the mid is outside the 5% band: refused as a fat finger.
    got = reason(
        om,
        side=OrderSide.SELL,
        order_type=OrderType.STOP_MARKET,
        quantity=D("0.010"),
        trigger_price=D("50000.0"),
        reduce_only=True,
    )
    assert got is not None and got.startswith("PRICE_BAND")
    assert (
        reason(
            om,
            side=OrderSide.SELL,
            order_type=OrderType.STOP_MARKET,
            quantity=D("0.010"),
            trigger_price=D("59000.0"),
            reduce_only=True,
        )
        is None
    )
