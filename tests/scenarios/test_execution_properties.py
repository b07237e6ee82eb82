"""Hypothesis properties over random order and market sequences, through the whole
execution core (order manager, risk gate, simulated venue, portfolio) on a spot
instrument, checked after every step:
- filled + leaves = quantity, and no order's fills exceed its quantity;
- the position equals the signed sum of all fills, and the venue agrees with it;
- spot balances are conserved per asset: base moves by the signed fill quantities,
  quote by minus the signed notionals, and the fee leaves the asset it is charged in;
- no order reaches two terminal states (in its history or in the journal);
- every denial and rejection carries a reason code."""

from __future__ import annotations

import re
from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st
from stack import SYMBOL, Stack, instrument

from adapters.venues.simulated import SimSettings
from engine.domain import (
    InstrumentKind,
    OrderDenied,
    OrderRejected,
    OrderSide,
    OrderType,
    TimeInForce,
)
from engine.domain.errors import DomainError

D = Decimal
TICK, LOT = D("0.1"), D("0.001")
REASON = re.compile(r"^[A-Z][A-Z_]*(: .+)?$")
TERMINAL = {"OrderDenied", "OrderRejected", "OrderCanceled", "OrderExpired"}
CASH, BASE = D("100000"), D("10")

sides = st.sampled_from([OrderSide.BUY, OrderSide.SELL])
lots = st.integers(1, 3_000)
offsets = st.integers(1, 12)
actions = st.one_of(
    st.tuples(st.just("diff"), offsets, st.integers(0, 5), offsets, st.integers(0, 5)),
    st.tuples(st.just("trade"), st.integers(-12, 12), lots, sides),
    st.tuples(
        st.just("limit"),
        sides,
        st.integers(-12, 12),
        lots,
        st.booleans(),
        st.sampled_from(list(TimeInForce)[:3]),
    ),
    st.tuples(st.just("market"), sides, lots, st.sampled_from([None, 5, 20])),
    st.tuples(st.just("stop"), sides, offsets, lots, st.booleans()),
    st.tuples(st.just("cancel"), st.integers(0, 30)),
    st.tuples(st.just("modify"), st.integers(0, 30), lots, st.integers(-12, 12)),
    st.tuples(st.just("time"), st.integers(1, 5_000)),
)


def px(offset: int) -> Decimal:
    return D("100.0") + offset * TICK


def run(s: Stack, action: tuple[object, ...]) -> None:
    kind = action[0]
    ts = s.clock.now + 100
    s.at(ts)
    if kind == "diff":
        _, b, bq, a, aq = action
        s.diff(ts, bids=[(str(px(-b)), str(bq))], asks=[(str(px(a)), str(aq))])
    elif kind == "trade":
        _, off, q, side = action
        s.trade(ts, str(px(off)), str(q * LOT), "buy" if side is OrderSide.BUY else "sell")
    elif kind == "limit":
        _, side, off, q, reduce_only, tif = action
        s.om.submit(
            symbol=SYMBOL,
            side=side,
            order_type=OrderType.LIMIT,
            quantity=q * LOT,
            price=px(off),
            reduce_only=reduce_only,
            time_in_force=tif,
        )
    elif kind == "market":
        _, side, q, bps = action
        s.om.submit(
            symbol=SYMBOL,
            side=side,
            order_type=OrderType.MARKET,
            quantity=q * LOT,
            max_slippage_bps=bps,
        )
    elif kind == "stop":
        _, side, off, q, reduce_only = action
        trigger = px(-off) if side is OrderSide.SELL else px(off)
        s.om.submit(
            symbol=SYMBOL,
            side=side,
            order_type=OrderType.STOP_MARKET,
            quantity=q * LOT,
            trigger_price=trigger,
            reduce_only=reduce_only,
        )
    elif kind in ("cancel", "modify"):
        open_ = s.om.open_orders()
        if not open_:
            return
        order = open_[action[1] % len(open_)]
        if kind == "cancel":
            s.om.cancel(order.client_order_id)
        else:
            _, _, q, off = action
            try:
                if order.order_type is OrderType.LIMIT:
                    s.om.modify(
                        order.client_order_id, quantity=order.filled_qty + q * LOT, price=px(off)
                    )
                else:
                    s.om.modify(order.client_order_id, quantity=order.filled_qty + q * LOT)
            except DomainError:
                pass  # refused requests (in flight, denied) change nothing: checked below
    else:
        s.at(ts + action[1])
    s.pump()


def check(s: Stack) -> None:
    signed_qty = D(0)
    signed_notional = D(0)
    fees = D(0)
    for order in s.om.orders():
        fills = order.fills
        assert sum((f.quantity for f in fills), D(0)) == order.filled_qty <= order.quantity
        assert order.filled_qty + order.leaves_qty == order.quantity
        terminal = [type(e).__name__ for e in order.events if type(e).__name__ in TERMINAL]
        full = order.filled_qty == order.quantity and order.filled_qty > 0
        assert len(terminal) + int(full) <= 1, (order, terminal)
        for e in order.events:
            if isinstance(e, OrderDenied | OrderRejected):
                assert REASON.match(e.reason), e.reason
        for f in fills:
            sign = 1 if f.side is OrderSide.BUY else -1
            signed_qty += sign * f.quantity
            signed_notional += sign * f.price * f.quantity
            assert f.fee_currency == "USDT"
            fees += f.fee
    assert s.portfolio.position(SYMBOL).quantity == signed_qty
    assert s.venue.position(SYMBOL) == signed_qty
    balances = s.portfolio.balances()
    assert balances.get("BTC", D(0)) == BASE + signed_qty
    assert balances.get("USDT", D(0)) == CASH - signed_notional - fees
    terminal_in_journal: dict[str, int] = {}
    for _, record in s.store.records():
        if type(record).__name__ in TERMINAL:
            cid = record.client_order_id
            terminal_in_journal[cid] = terminal_in_journal.get(cid, 0) + 1
    assert all(n == 1 for n in terminal_in_journal.values())


@given(
    steps=st.lists(actions, min_size=1, max_size=40),
    latency=st.sampled_from([(0, 0, 0), (300, 1_000, 500)]),
)
def test_random_sequences_keep_every_invariant(
    steps: list[tuple[object, ...]], latency: tuple[int, int, int]
) -> None:
    settings = SimSettings(
        submit_latency_ns=latency[0], cancel_latency_ns=latency[1], modify_latency_ns=latency[2]
    )
    s = Stack(
        inst=instrument(InstrumentKind.SPOT, min_notional=D("1")),
        settings=settings,
        cash=CASH,
        base=BASE,
    )
    s.snapshot(
        100,
        bids=[(str(px(-i)), "2") for i in range(1, 6)],
        asks=[(str(px(i)), "2") for i in range(1, 6)],
    )
    for step in steps:
        run(s, step)
        check(s)
    unexpected = [a for a in s.om.anomalies if "already" not in a.why]
    assert unexpected == []
