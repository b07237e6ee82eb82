"""The fake's matching (no network) against a plain ledger model: random orders, prints, forced
fills and cancels; money must add up exactly (Decimal) after every step."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from fakex.errors import BinanceError
from fakex.markets import Market
from fakex.matching import Clock, Event, Venue

D = Decimal
ops = st.lists(
    st.one_of(
        st.tuples(
            st.just("order"),
            st.sampled_from(["BUY", "SELL"]),
            st.sampled_from(["LIMIT", "MARKET"]),
            st.sampled_from(["GTC", "IOC", "FOK"]),
            st.integers(59_990, 60_010),  # price in whole USDT
            st.integers(1, 15),  # quantity in 0.001
        ),
        st.tuples(st.just("print"), st.integers(59_985, 60_015), st.integers(1, 8)),
        st.tuples(st.just("cancel"), st.integers(0, 30)),
        st.tuples(st.just("fill"), st.integers(0, 30), st.integers(1, 8)),
    ),
    min_size=3,
    max_size=40,
)


def _venue(market: Market) -> tuple[Venue, list[Event]]:
    events: list[Event] = []
    v = Venue(market, Clock(), lambda _m, e: events.append(e))
    book = v.books["BTCUSDT"]
    book.bids = {D(60_000 - i): D("0.01") for i in range(1, 6)}
    book.asks = {D(60_000 + i): D("0.01") for i in range(0, 5)}
    return v, events


def _apply(v: Venue, op: tuple[Any, ...]) -> None:
    ids = sorted(v.orders)
    try:
        if op[0] == "order":
            _, side, otype, tif, price, lots = op
            p = {
                "symbol": "BTCUSDT",
                "side": str(side),
                "type": str(otype),
                "quantity": str(D(lots) / 1000),
            }
            if otype == "LIMIT":
                p |= {"price": str(price), "timeInForce": str(tif)}
            v.create(p)
        elif op[0] == "print":
            v.on_print("BTCUSDT", D(op[1]), D(op[2]) / 1000)
        elif op[0] == "cancel" and ids:
            o = v.orders[ids[int(op[1]) % len(ids)]]
            v.cancel("BTCUSDT", str(o.order_id), None)
        elif op[0] == "fill" and v.resting:
            rest = list(v.resting.values())
            o = rest[int(op[1]) % len(rest)]
            v.fill(o.order_id, min(o.remaining, D(op[2]) / 1000))
    except BinanceError:
        pass


@given(ops)
def test_spot_ledger_adds_up(steps: list[tuple[Any, ...]]) -> None:
    v, _ = _venue("spot")
    v.set_balance("USDT", D(3000))
    v.set_balance("BTC", D("0.05"))
    for op in steps:
        before = {o.order_id: o.executed_qty for o in v.orders.values()}
        _apply(v, op)
        usdt, btc = D(3000), D("0.05")
        for f in v.fills:
            q = f.price * f.qty
            if f.side == "BUY":
                usdt, btc = usdt - q - f.commission, btc + f.qty
            else:
                usdt, btc = usdt + q - f.commission, btc - f.qty
            assert f.commission == q * (D("0.001"))
        assert sum(v.balances["USDT"]) == usdt
        assert sum(v.balances["BTC"]) == btc
        # locks are exactly what the resting orders still hold
        lock_q = sum((o.price * o.remaining for o in v.resting.values() if o.side == "BUY"), D(0))
        lock_b = sum((o.remaining for o in v.resting.values() if o.side == "SELL"), D(0))
        assert v.balances["USDT"][1] == lock_q and v.balances["BTC"][1] == lock_b
        for o in v.orders.values():
            assert D(0) <= o.executed_qty <= o.orig_qty
            assert o.executed_qty >= before.get(o.order_id, D(0))
            assert (o.order_id in v.resting) == o.is_open
            assert o.executed_qty == sum((f.qty for f in v.fills if f.order_id == o.order_id), D(0))
            if o.tif in ("IOC", "FOK") or o.type == "MARKET":
                assert not o.is_open
            if o.tif == "FOK":
                assert o.executed_qty in (D(0), o.orig_qty)


@given(ops)
def test_futures_wallet_and_position_add_up(steps: list[tuple[Any, ...]]) -> None:
    v, _ = _venue("futures")
    v.set_balance("USDT", D(100_000))
    for op in steps:
        _apply(v, op)
    pos, cost, wallet = D(0), D(0), D(100_000)
    for f in v.fills:
        signed = f.qty if f.side == "BUY" else -f.qty
        rate = D("0.0002") if f.maker else D("0.0005")
        assert f.commission == f.price * f.qty * rate
        wallet -= f.commission
        pos += signed
        cost += signed * f.price
    # cash flow view: wallet + open position marked at its entry = start - fees - net cash paid
    p = v.positions["BTCUSDT"]
    assert p.amount == pos
    realized = sum((f.realized_pnl for f in v.fills), D(0))
    assert v.balances["USDT"][0] == wallet + realized
    # realized = cash received (-cost) + the open position valued at its entry price, up to the
    # 1e-8 rounding of each realised PnL (and the 28-digit entry quotient)
    assert (realized + cost - p.amount * p.entry).copy_abs() <= D("1e-8") * (len(v.fills) + 1)
