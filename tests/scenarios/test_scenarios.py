"""Money scenarios through the whole execution core (order manager, Rust risk gate,
Rust simulated venue, Rust accounting), every expected number worked out by hand.

Instrument: a linear perpetual, tick 0.1, lot 0.001, maker 0.0002, taker 0.0005, fees
in USDT rounded up at 8 decimals; the venue's default slippage cap is 50 bps."""

from __future__ import annotations

from decimal import Decimal

from stack import SYMBOL, Stack

from adapters.venues.simulated import SimSettings
from engine.domain import (
    OrderCanceled,
    OrderCancelRejected,
    OrderSide,
    OrderStatus,
    OrderType,
)
from engine.services.brackets import BracketState

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL


def test_three_partial_buys_with_maker_and_taker_fees_then_a_sell() -> None:
    s = Stack()
    s.snapshot(1_000, bids=[("99.0", "5")], asks=[("100.0", "1"), ("100.5", "1"), ("102.5", "5")])
    s.clock.now = 2_000
    buy = s.submit(side=BUY, order_type=OrderType.LIMIT, quantity=D("3"), price=D("101.0"))
    # Takes 1 @ 100.0 and 1 @ 100.5 as taker; 1 rests at 101.0 with nothing ahead.
    s.trade(3_000, "101.0", "1", aggressor="sell")  # the print fills the resting lot as maker
    assert s.fills(buy.client_order_id) == [
        (D("100.0"), D("1"), D("0.05"), "TAKER"),  # 100.0 x 1 x 0.0005
        (D("100.5"), D("1"), D("0.05025"), "TAKER"),  # 100.5 x 1 x 0.0005
        (D("101.0"), D("1"), D("0.0202"), "MAKER"),  # 101.0 x 1 x 0.0002
    ]
    assert buy.status is OrderStatus.FILLED
    pos = s.portfolio.position(SYMBOL)
    assert (pos.quantity, pos.avg_entry_price) == (D("3"), D("100.5"))  # 301.5 / 3
    assert pos.realized_pnl == D("-0.12045")  # fees so far: 0.05 + 0.05025 + 0.0202

    s.diff(4_000, bids=[("102.0", "5")], asks=[("100.0", "0"), ("100.5", "0")])
    s.clock.now = 5_000
    sell = s.submit(side=SELL, order_type=OrderType.MARKET, quantity=D("3"))
    assert s.fills(sell.client_order_id) == [
        (D("102.0"), D("3"), D("0.153"), "TAKER")
    ]  # 306 x 0.0005
    pos = s.portfolio.position(SYMBOL)
    # (102.0 - 100.5) x 3 = 4.5, less fees 0.12045 + 0.153 = 0.27345.
    assert (pos.quantity, pos.realized_pnl, pos.fees) == (D(0), D("4.22655"), D("0.27345"))
    assert s.portfolio.balances()["USDT"] == D("100004.22655")


def test_a_flip_from_long_to_short() -> None:
    s = Stack()
    s.snapshot(1_000, bids=[("99.0", "5")], asks=[("100.0", "5")])
    s.clock.now = 2_000
    s.submit(side=BUY, order_type=OrderType.MARKET, quantity=D("1"))  # 1 @ 100.0, fee 0.05
    s.diff(3_000, bids=[("102.0", "5")], asks=[("100.0", "0"), ("102.5", "5")])
    s.clock.now = 4_000
    flip = s.submit(side=SELL, order_type=OrderType.MARKET, quantity=D("3"))
    assert s.fills(flip.client_order_id) == [(D("102.0"), D("3"), D("0.153"), "TAKER")]
    pos = s.portfolio.position(SYMBOL)
    # Closes 1 at +2.0; the flip fill's whole fee is realized with it (accounting rule 6):
    # 2.0 - 0.05 - 0.153 = 1.797. The new short's entry is the flip price.
    assert (pos.quantity, pos.avg_entry_price, pos.realized_pnl) == (
        D("-2"),
        D("102.0"),
        D("1.797"),
    )
    assert s.portfolio.unrealized_pnl(SYMBOL, D("101.0")) == D("2.0")  # (102.0 - 101.0) x 2


def test_a_market_order_stopped_by_its_slippage_cap() -> None:
    s = Stack()
    s.snapshot(1_000, bids=[("99.0", "5")], asks=[("100.0", "1"), ("100.4", "1"), ("100.6", "5")])
    s.clock.now = 2_000
    o = s.submit(side=BUY, order_type=OrderType.MARKET, quantity=D("3"), max_slippage_bps=50)
    # Cap = 100.0 + floor(1000 ticks x 50 / 10000) = 100.0 + 5 ticks = 100.5: 100.6 is beyond.
    assert s.fills(o.client_order_id) == [
        (D("100.0"), D("1"), D("0.05"), "TAKER"),
        (D("100.4"), D("1"), D("0.0502"), "TAKER"),
    ]
    assert o.status is OrderStatus.CANCELED and o.filled_qty == D("2") and o.leaves_qty == D("1")
    canceled = [e for e in s.events if isinstance(e, OrderCanceled)]
    assert [e.reason for e in canceled] == ["SLIPPAGE_CAP"]
    assert s.portfolio.position(SYMBOL).quantity == D("2")


def test_a_trailing_stop_ratchet_never_loosens_the_users_stop() -> None:
    s = Stack(emulate_stops=True)
    s.snapshot(1_000, bids=[("99.9", "5")], asks=[("100.0", "5")])
    s.clock.now = 2_000
    s.submit(side=BUY, order_type=OrderType.MARKET, quantity=D("1"))  # 1 @ 100.0
    user = s.submit(
        side=SELL,
        order_type=OrderType.STOP_MARKET,
        quantity=D("1"),
        trigger_price=D("98.0"),
        reduce_only=True,
    )
    trail = s.submit(
        side=SELL,
        order_type=OrderType.TRAILING_STOP_MARKET,
        quantity=D("1"),
        trailing_offset=D("3.0"),
        reduce_only=True,
    )
    assert s.om.is_emulated(trail.client_order_id) and s.om.is_emulated(user.client_order_id)
    levels = []
    for ts, price in ((3_000, "100.0"), (4_000, "102.0"), (5_000, "100.5"), (6_000, "103.0")):
        s.trade(ts, price, "0.5", aggressor="buy")
        levels.append(s.om.effective_stop(trail.client_order_id))
    # Trail = high - 3.0: 97.0 (looser than the user's 98.0, so 98.0), 99.0, 99.0 (a
    # pullback never lowers it), 100.0.
    assert levels == [D("98.0"), D("99.0"), D("99.0"), D("100.0")]
    assert trail.status is OrderStatus.ACCEPTED and trail.trigger_price == D("100.0")  # journaled

    s.diff(7_000, bids=[("100.0", "5"), ("99.9", "0")], asks=[("100.0", "0"), ("100.2", "5")])
    s.trade(8_000, "100.0", "0.5", aggressor="sell")  # last 100.0 <= 100.0: fires
    assert trail.status is OrderStatus.FILLED
    assert s.fills(trail.client_order_id) == [(D("100.0"), D("1"), D("0.05"), "TAKER")]
    assert s.portfolio.position(SYMBOL).quantity == D(0)
    assert user.status is OrderStatus.ACCEPTED  # the user's own stop is never touched


def test_a_bracket_whose_take_profit_fills_partially_before_the_stop_closes_the_rest() -> None:
    s = Stack()
    s.snapshot(1_000, bids=[("99.9", "5")], asks=[("100.0", "5")])
    s.clock.now = 2_000
    b = s.om.submit_bracket(
        symbol=SYMBOL,
        side=BUY,
        quantity=D("1"),
        entry_price=D("100.0"),
        stop_loss=D("98.5"),
        take_profit=D("102.0"),
    )
    s.pump()
    entry, sl, tp = (s.om.order(c) for c in (b.entry, b.stop_loss, b.take_profit))
    assert entry.status is OrderStatus.FILLED  # 1 @ 100.0 taker, fee 0.05
    assert (sl.quantity, tp.quantity, sl.status, tp.status) == (
        D("1"),
        D("1"),
        OrderStatus.ACCEPTED,
        OrderStatus.ACCEPTED,
    )
    s.trade(3_000, "102.0", "0.4", aggressor="buy")  # TP: 0.4 @ 102.0 maker, fee 0.00816
    assert s.fills(tp.client_order_id) == [(D("102.0"), D("0.4"), D("0.00816"), "MAKER")]
    assert sl.quantity == D("0.6")  # resized to what is still open

    s.diff(4_000, bids=[("98.4", "5"), ("99.9", "0")], asks=[("100.0", "0"), ("98.6", "5")])
    s.trade(5_000, "98.4", "0.1", aggressor="sell")  # last <= 98.5: the stop fires
    assert s.fills(sl.client_order_id) == [(D("98.4"), D("0.6"), D("0.02952"), "TAKER")]
    assert (sl.status, tp.status) == (OrderStatus.FILLED, OrderStatus.CANCELED)
    assert s.om.bracket(b.bracket_id).state is BracketState.DONE
    pos = s.portfolio.position(SYMBOL)
    # 0.4 x (102.0 - 100.0) + 0.6 x (98.4 - 100.0) = 0.8 - 0.96 = -0.16;
    # fees 0.05 + 0.00816 + 0.02952 = 0.08768; realized = -0.24768.
    assert (pos.quantity, pos.realized_pnl) == (D(0), D("-0.24768"))


def test_an_order_below_min_notional_is_denied_with_its_reason() -> None:
    s = Stack()
    s.snapshot(1_000, bids=[("99.9", "5")], asks=[("100.0", "5")])
    o = s.submit(side=BUY, order_type=OrderType.LIMIT, quantity=D("0.001"), price=D("100.0"))
    assert o.status is OrderStatus.DENIED
    assert o.events[-1].reason == "NOTIONAL_BELOW_MIN: notional=0.1 min=5"
    assert s.venue.drain() == [] and s.portfolio.position(SYMBOL).quantity == 0


def test_a_cancel_that_loses_the_race_to_a_fill() -> None:
    s = Stack(settings=SimSettings(cancel_latency_ns=5_000))
    s.snapshot(1_000, bids=[("99.9", "5")], asks=[("100.1", "5")])
    s.clock.now = 2_000
    o = s.submit(side=BUY, order_type=OrderType.LIMIT, quantity=D("1"), price=D("100.0"))
    assert o.status is OrderStatus.ACCEPTED
    s.at(3_000)
    assert s.om.cancel(o.client_order_id)  # sent at 3_000, arrives at 8_000
    s.trade(5_000, "100.0", "1", aggressor="sell")  # fills us first
    assert o.status is OrderStatus.FILLED
    s.at(8_000)
    late = [a.event for a in s.om.anomalies]
    assert len(late) == 1 and isinstance(late[0], OrderCancelRejected) and late[0].ts_event == 8_000
    assert o.status is OrderStatus.FILLED
    assert s.fills(o.client_order_id) == [(D("100.0"), D("1"), D("0.02"), "MAKER")]
    assert s.portfolio.position(SYMBOL).quantity == D("1")
