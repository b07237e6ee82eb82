"""The Portfolio service over the Rust accounting: hand-computed scenarios with the working
in comments, and Hypothesis properties against a small Decimal model."""

from __future__ import annotations

import itertools
from decimal import ROUND_CEILING, Context, Decimal, localcontext
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine.domain import (
    Fill,
    Instrument,
    InstrumentKind,
    Liquidity,
    OrderSide,
    PrecisionError,
    ValidationError,
)
from engine.services.portfolio import DEFAULT_ACCOUNT, Portfolio, PortfolioError

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL
MAKER, TAKER = Liquidity.MAKER, Liquidity.TAKER
_trade_ids = itertools.count(1)


def instrument(
    symbol: str,
    base: str,
    quote: str,
    kind: InstrumentKind,
    tick: str,
    lot: str,
    maker: str = "0.0002",
    taker: str = "0.0005",
) -> Instrument:
    return Instrument(
        symbol=symbol,
        base=base,
        quote=quote,
        kind=kind,
        tick_size=D(tick),
        lot_size=D(lot),
        min_quantity=D(lot),
        max_quantity=D("100000"),
        min_notional=D("0"),
        maker_fee_rate=D(maker),
        taker_fee_rate=D(taker),
        price_precision=len(tick.partition(".")[2]),
        quantity_precision=len(lot.partition(".")[2]),
    )


ETH_PERP = instrument(
    "ETHUSDT-PERP", "ETH", "USDT", InstrumentKind.LINEAR_PERPETUAL, "0.01", "0.001"
)
BTC_SPOT = instrument(
    "BTCUSDT", "BTC", "USDT", InstrumentKind.SPOT, "0.01", "0.00001", "0.001", "0.001"
)
BNB_SPOT = instrument(
    "BNBUSDT", "BNB", "USDT", InstrumentKind.SPOT, "0.01", "0.001", "0.001", "0.001"
)

BNB_PRICES = {"BNB": D("629.27"), "FREE": D("0")}


def bnb_price(asset: str, quote: str, ts_event: int) -> Decimal:
    """A fixed table, as a test's stand-in for a ticker cache."""
    assert quote == "USDT"
    return BNB_PRICES[asset]


def fill(
    symbol: str,
    side: OrderSide,
    price: str,
    qty: str,
    fee: str,
    fee_currency: str = "USDT",
    liquidity: Liquidity = TAKER,
    ts_event: int = 1_000,
) -> Fill:
    return Fill(
        trade_id=f"t{next(_trade_ids)}",
        client_order_id="o-1",
        symbol=symbol,
        side=side,
        price=D(price),
        quantity=D(qty),
        fee=D(fee),
        fee_currency=fee_currency,
        liquidity=liquidity,
        ts_event=ts_event,
    )


def state(p: Portfolio) -> tuple[Any, ...]:
    """Everything observable, to compare before and after a refused fill."""
    return (
        tuple(p.position(s) for s in ("ETHUSDT-PERP", "BTCUSDT", "BNBUSDT") if _has(p, s)),
        tuple(sorted((a, tuple(p.balances(a).items())) for a in (DEFAULT_ACCOUNT, "futures"))),
    )


def _has(p: Portfolio, symbol: str) -> bool:
    try:
        p.position(symbol)
    except ValidationError:
        return False
    return True


# --- hand-computed scenarios ----------------------------------------------------------------


def test_three_partial_buys_with_maker_and_taker_fees_then_one_sell() -> None:
    """Linear perpetual ETH, tick 0.01, lot 0.001; maker 0.0002, taker 0.0005; the venue
    charges fees in USDT rounded up at 8 decimals. Collateral 5000 USDT.

      fill  qty    price     notional      fee exact      -> charged
      B1    0.737  3150.27   2321.74899    0.464349798    -> 0.46434980  (maker)
      B2    0.951  3150.83   2996.43933    0.599287866    -> 0.59928787  (maker)
      B3    0.312  3151.49    983.26488    0.491632440    -> 0.49163244  (taker)
      S     2.000  3187.93   6375.86       3.18793        -> 3.18793     (taker)

      cost = 2321.74899 + 2996.43933 + 983.26488 = 6301.4532 for 2.000: avg 3150.7266
      unrealized at 3170.00 before the sell: 6340 - 6301.4532 = 38.5468
      gross = 6375.86 - 6301.4532 = 74.4068; the sell's own P&L 74.4068 - 3.18793 = 71.21887
      fees = 0.46434980 + 0.59928787 + 0.49163244 + 3.18793 = 4.74320011
      realized = 74.4068 - 4.74320011 = 69.66359989; collateral 5069.66359989
    """
    p = Portfolio([ETH_PERP])
    p.credit("USDT", D("5000"))
    s = ETH_PERP.symbol
    assert p.apply_fill(fill(s, BUY, "3150.27", "0.737", "0.46434980", liquidity=MAKER)) == D(
        "-0.4643498"
    )
    assert p.apply_fill(fill(s, BUY, "3150.83", "0.951", "0.59928787", liquidity=MAKER)) == D(
        "-0.59928787"
    )
    assert p.apply_fill(fill(s, BUY, "3151.49", "0.312", "0.49163244", ts_event=7)) == D(
        "-0.49163244"
    )
    pos = p.position(s)
    assert (pos.quantity, pos.avg_entry_price, pos.ts_event) == (D("2.000"), D("3150.7266"), 7)
    assert pos.fees == D("1.55527011")
    assert p.unrealized_pnl(s, D("3170.00")) == D("38.5468")
    # Leverage defaults to 1: the margin is the whole entry notional, 2.000 x 3150.7266.
    assert p.used_margin(s) == D("6301.4532")

    assert p.apply_fill(fill(s, SELL, "3187.93", "2.000", "3.18793", ts_event=9)) == D("71.21887")
    pos = p.position(s)
    assert (pos.quantity, pos.avg_entry_price, pos.is_flat) == (D("0.000"), D(0), True)
    assert pos.realized_pnl == D("69.66359989")
    assert pos.fees == D("4.74320011")
    assert (pos.currency, pos.ts_event) == ("USDT", 9)
    assert p.balances() == {"USDT": D("5069.66359989")}
    assert p.unrealized_pnl(s, D("1.00")) == 0
    assert p.used_margin(s) == 0


def test_flip_long_to_short_in_one_fill() -> None:
    """Perpetual ETH. Long 1.500 @ 2000.00, maker fee 0.0002 x 3000 = 0.6. One taker sell
    of 4.000 @ 2010.50 (notional 8042, fee 0.0005 x 8042 = 4.021) closes the long and
    opens a 2.500 short.

      closed part: (2010.50 - 2000.00) x 1.500 = 15.75 realized
      fee rule (rust/accounting, rule 6): the flip's whole fee 4.021 is realized now,
      none of it is carried into the short's basis, so the short's entry is exactly 2010.50
      this fill's P&L = 15.75 - 4.021 = 11.729; realized = 11.729 - 0.6 = 11.129
      collateral 10000 - 0.6 + 11.729 = 10011.129
      unrealized at 2000.00: (2010.50 - 2000.00) x 2.5 = 26.25
      used margin at 5x: 2.5 x 2010.50 / 5 = 1005.25
    """
    p = Portfolio()
    p.add_instrument(ETH_PERP, leverage=5)
    p.credit("USDT", D("10000"))
    s = ETH_PERP.symbol
    assert p.apply_fill(fill(s, BUY, "2000.00", "1.500", "0.6", liquidity=MAKER)) == D("-0.6")
    assert p.used_margin(s) == D("600")  # 1.5 x 2000 / 5
    assert p.apply_fill(fill(s, SELL, "2010.50", "4.000", "4.021")) == D("11.729")
    pos = p.position(s)
    assert (pos.quantity, pos.avg_entry_price, pos.is_short) == (D("-2.500"), D("2010.5"), True)
    assert (pos.realized_pnl, pos.fees) == (D("11.129"), D("4.621"))
    assert p.unrealized_pnl(s, D("2000.00")) == D("26.25")
    assert p.used_margin(s) == D("1005.25")
    assert p.balances() == {"USDT": D("10011.129")}
    # Equity = collateral + unrealized: 10011.129 + 26.25.
    assert p.equity({s: D("2000.00")}) == D("10037.379")


def test_spot_fees_in_base_in_quote_and_in_a_third_asset() -> None:
    """Spot BTC/USDT, tick 0.01, lot 0.00001; BNB at 629.27 USDT. Start 50000 USDT, 2 BNB.

    (1) buy 0.25000 @ 64000.00, fee 0.00025 BTC (base): BTC +0.24975, USDT -16000 = 34000;
        the position's fee is 0.00025 x 64000 = 16 USDT: realized -16.
    (2) buy 0.10000 @ 64100.00, fee 6.41 USDT: BTC 0.34975, USDT 34000 - 6410 - 6.41 =
        27583.59; realized -22.41. Cost 16000 + 6410 = 22410 for 0.35 BTC.
    (3) sell 0.20000 @ 64500.00, fee 0.0205 BNB = 0.0205 x 629.27 = 12.900035 USDT:
        BTC 0.14975, USDT 27583.59 + 12900 = 40483.59, BNB 2 - 0.0205 = 1.9795.
        Closing 0.2 of 0.35 removes cost 22410 x 4/7 = 12805.7142857142… rounded up in
        tick·lots (1e-7 USDT): 12805.7142858 (rule 3), so gross = 12900 - 12805.7142858
        = 94.2857142 and this fill's P&L = 94.2857142 - 12.900035 = 81.3856792;
        realized = -22.41 + 81.3856792 = 58.9756792. The remaining cost 9604.2857142
        for 0.15 BTC: average 64028.571428 exactly.
        Unrealized at 64500: 9675 - 9604.2857142 = 70.7142858; with realized 129.689965
        = cash (-16000 - 6410 + 12900) + 0.15 x 64500 - fees (16 + 6.41 + 12.900035).
    Equity at BTC 64500, BNB 629.27: 40483.59 + 0.14975 x 64500 (9658.875)
        + 1.9795 x 629.27 (1245.639965) = 51388.104965.
    """
    p = Portfolio([BTC_SPOT, BNB_SPOT], fee_price=bnb_price)
    p.credit("USDT", D("50000"))
    p.credit("BNB", D("2"))
    s = BTC_SPOT.symbol
    assert p.apply_fill(fill(s, BUY, "64000.00", "0.25000", "0.00025", "BTC")) == D("-16")
    assert p.balances() == {"BNB": D("2"), "BTC": D("0.24975"), "USDT": D("34000")}
    assert p.apply_fill(fill(s, BUY, "64100.00", "0.10000", "6.41", "USDT")) == D("-6.41")
    assert p.balances() == {"BNB": D("2"), "BTC": D("0.34975"), "USDT": D("27583.59")}
    assert p.apply_fill(fill(s, SELL, "64500.00", "0.20000", "0.0205", "BNB")) == D("81.3856792")
    assert p.balances() == {"BNB": D("1.9795"), "BTC": D("0.14975"), "USDT": D("40483.59")}
    pos = p.position(s)
    assert (pos.quantity, pos.avg_entry_price) == (D("0.15000"), D("64028.571428"))
    assert (pos.realized_pnl, pos.fees) == (D("58.9756792"), D("35.310035"))
    assert p.unrealized_pnl(s, D("64500.00")) == D("70.7142858")
    assert p.used_margin(s) == 0  # spot is fully paid
    marks = {s: D("64500.00"), "BNBUSDT": D("629.27")}
    assert p.equity(marks) == D("51388.104965")
    with pytest.raises(ValidationError, match=r"asset BNB has no mark"):
        p.equity({s: D("64500.00")})


def test_a_base_fee_is_valued_rounded_up_at_the_last_unit() -> None:
    """Rule 5: 0.000000000000000001 BTC at 64000.01 is 0.00000000000006400001 USDT, a
    fraction of the 10^-18 unit: the position is charged 0.000000000000064001 (up)."""
    p = Portfolio([BTC_SPOT])
    p.apply_fill(fill("BTCUSDT", BUY, "64000.01", "0.00001", "0.000000000000000001", "BTC"))
    assert p.position("BTCUSDT").fees == D("0.000000000000064001")
    assert p.balances()["BTC"] == D("0.000009999999999999")


def test_third_asset_fee_without_a_price_is_refused_and_changes_nothing() -> None:
    p = Portfolio([BTC_SPOT])
    p.credit("USDT", D("100"))
    before = state(p)
    with pytest.raises(ValidationError) as err:
        p.apply_fill(fill("BTCUSDT", BUY, "64000.00", "0.00100", "0.0001", "BNB"))
    assert err.value.field == "fee_currency"
    assert "BNB is neither base BTC nor quote USDT" in str(err.value)
    assert state(p) == before


def test_linear_fee_in_a_third_asset_leaves_the_collateral_gross() -> None:
    """Perp fee 0.001 BNB at 629.27 = 0.62927 USDT: buy 1.000 ETH @ 2000.00 then sell
    @ 2010.00 (fee 0.001 BNB again). Collateral gets the gross +10; BNB pays 0.002;
    realized = 10 - 2 x 0.62927 = 8.74146."""
    p = Portfolio(fee_price=bnb_price)
    p.add_instrument(ETH_PERP, account="futures")
    s = ETH_PERP.symbol
    p.apply_fill(fill(s, BUY, "2000.00", "1.000", "0.001", "BNB"))
    assert p.apply_fill(fill(s, SELL, "2010.00", "1.000", "0.001", "BNB")) == D("9.37073")
    assert p.balances("futures") == {"BNB": D("-0.002"), "USDT": D("10")}
    assert p.balances() == {}
    assert p.position(s).realized_pnl == D("8.74146")


def test_refused_fills_name_the_field_and_change_nothing() -> None:
    p = Portfolio([BTC_SPOT, ETH_PERP], fee_price=bnb_price)
    p.credit("USDT", D("1000"))
    p.apply_fill(fill("BTCUSDT", BUY, "64000.00", "0.01000", "0.64"))
    before = state(p)
    cases: list[tuple[Fill, type[Exception], str]] = [
        (fill("BTCUSDT", BUY, "64000.005", "0.01000", "0.1"), PrecisionError, "price"),
        (fill("BTCUSDT", BUY, "64000.00", "0.010005", "0.1"), PrecisionError, "quantity"),
        (
            fill("BTCUSDT", BUY, "64000.00", "0.01000", "0.0000000000000000001"),
            PrecisionError,
            "fee",
        ),
        (fill("BTCUSDT", BUY, "64000.00", "0.01000", "0.1", "FREE"), ValidationError, "fee_price"),
        (
            fill("BTCUSDT", BUY, "64000.00", "0.01000", "0.1", "ÜSD"),
            ValidationError,
            "fee_currency",
        ),
        (fill("XRPUSDT", BUY, "1.00", "1", "0"), ValidationError, "symbol"),
        (fill("BTCUSDT", BUY, "64000.00", "0.01000", "1" + "0" * 21), PortfolioError, "fill"),
    ]
    for bad, kind, field in cases:
        with pytest.raises(kind) as err:
            p.apply_fill(bad)
        assert getattr(err.value, "field", None) == field, str(err.value)
        assert state(p) == before, field
    # Zeros beyond the 18th decimal are not extra precision.
    p.apply_fill(fill("BTCUSDT", SELL, "64000.00", "0.01000", "0.6400000000000000000000"))
    assert p.position("BTCUSDT").realized_pnl == D("-1.28")


def test_an_overflowing_balance_refuses_the_whole_fill() -> None:
    """USDT at 170141183460469231731 (just under the core's 2^127 x 10^-18): a sell's
    proceeds would overflow the quote balance, so neither the balance nor the position
    moves, though the position alone could have taken the fill."""
    p = Portfolio([BTC_SPOT])
    p.credit("USDT", D("170141183460469231731"))
    p.credit("BTC", D("1"))
    before = state(p)
    with pytest.raises(PortfolioError, match=r"quote balance overflows") as err:
        p.apply_fill(fill("BTCUSDT", SELL, "64000.00", "0.50000", "0"))
    assert err.value.field == "fill"
    assert state(p) == before
    assert p.position("BTCUSDT").quantity == 0
    with pytest.raises(PortfolioError, match=r"amount 1 refused"):
        p.credit("USDT", D("1"))
    assert state(p) == before


def test_set_up_and_query_errors() -> None:
    p = Portfolio([BTC_SPOT])
    with pytest.raises(ValidationError, match="already in the portfolio"):
        p.add_instrument(BTC_SPOT)
    with pytest.raises(ValidationError, match="leverage 0 is not an int >= 1"):
        p.add_instrument(ETH_PERP, leverage=0)
    fine = instrument("FINE", "F", "USDT", InstrumentKind.SPOT, "0.0000000001", "0.000000001")
    with pytest.raises(PrecisionError, match=r"grid 0.0000000001/0.000000001 refused: .* = 19"):
        p.add_instrument(fine)
    with pytest.raises(ValidationError, match="symbol ETHUSDT-PERP is not in the portfolio"):
        p.position("ETHUSDT-PERP")
    with pytest.raises(ValidationError) as err:
        p.credit("BAD ASSET", D("1"))
    assert (err.value.field, err.value.value) == ("asset", "BAD ASSET")
    assert "1..=16 printable ASCII" in str(err.value)
    with pytest.raises(ValidationError, match="rule: Decimal, never float"):
        p.credit("USDT", 1.5)  # type: ignore[arg-type]
    with pytest.raises(PrecisionError, match=r"price 64000\.001 refused by the grid"):
        p.unrealized_pnl("BTCUSDT", D("64000.001"))
    flat = p.position("BTCUSDT")
    assert (flat.quantity, flat.avg_entry_price, flat.ts_event) == (D("0.00000"), D(0), 0)
    assert p.balances("nobody") == {}
    # Equity: one quote per account unless told; a perp needs its mark.
    q = Portfolio(
        [ETH_PERP, instrument("ETHBTC", "ETH", "BTC", InstrumentKind.SPOT, "0.00001", "0.001")]
    )
    with pytest.raises(ValidationError, match=r"currency None must be given"):
        q.equity({})
    q.apply_fill(fill("ETHUSDT-PERP", BUY, "2000.00", "1.000", "0"))
    with pytest.raises(ValidationError, match="marks ETHUSDT-PERP has no mark"):
        q.equity({}, currency="USDT")
    with pytest.raises(ValidationError, match="settles in USDT, not BTC"):
        q.equity({"ETHUSDT-PERP": D("2000.00")}, currency="BTC")
    assert q.equity({"ETHUSDT-PERP": D("2001.00")}, currency="USDT") == D("1")


# --- properties -----------------------------------------------------------------------------

_EXACT = Context(prec=200)
_UNIT = D("1e-18")
SPOT_ASSETS = ("BTC", "USDT", "BNB")
TICK, LOT = D("0.01"), D("0.00001")


def fee_value(fee: Decimal, asset: str, price: Decimal) -> Decimal:
    """The model of rule 5: quote as is; base at the fill price, third asset at its
    table price, both rounded up at 10^-18."""
    if asset == "USDT":
        return fee
    rate = price if asset == "BTC" else BNB_PRICES[asset]
    with localcontext(_EXACT):
        return (fee * rate).quantize(_UNIT, rounding=ROUND_CEILING)


good_fill = st.tuples(
    st.booleans(),  # buy
    st.integers(1, 10_000_000),  # price ticks
    st.integers(1, 100_000),  # qty lots
    st.sampled_from(SPOT_ASSETS),  # fee asset
    st.integers(-1_000, 10_000_000),  # fee count (negative: rebate)
    st.sampled_from([8, 18]),  # fee decimals: 18 makes the rule-5 valuation round
)
bad_kind = st.sampled_from(["price", "quantity", "fee", "fee_price", "symbol"])
step = st.one_of(good_fill.map(lambda g: ("ok", g)), st.tuples(bad_kind, good_fill))


def make_fill(g: tuple[bool, int, int, str, int, int], bad: str | None = None) -> Fill:
    buy, ticks, lots, asset, fee_count, fee_decimals = g
    price, qty, fee = ticks * TICK, lots * LOT, D(fee_count).scaleb(-fee_decimals)
    symbol = "BTCUSDT"
    if bad == "price":
        price += TICK / 2
    elif bad == "quantity":
        qty += LOT / 3
    elif bad == "fee":
        fee += D("1e-19") if fee_decimals == 8 else D("1e-20")
    elif bad == "fee_price":
        asset = "FREE"
    elif bad == "symbol":
        symbol = "BTCEUR"
    return Fill(
        trade_id=f"t{next(_trade_ids)}",
        client_order_id="p-1",
        symbol=symbol,
        side=BUY if buy else SELL,
        price=price,
        quantity=qty,
        fee=fee,
        fee_currency=asset,
        liquidity=TAKER,
        ts_event=1,
    )


@given(steps=st.lists(step, min_size=1, max_size=25), mark=st.integers(1, 10_000_000))
def test_spot_fills_against_the_model(steps: list[tuple[str, Any]], mark: int) -> None:
    """Position quantity == signed sum of fills; realized + unrealized(mark) == signed
    cash flows + qty x mark - fee values, exactly; each asset's balance == start + its
    flows from fills and fees, whichever asset the fee is in; a refused fill (off-grid
    price or qty, a fee finer than 10^-18, a non-positive fee price, an unknown symbol)
    raises and leaves everything unchanged."""
    p = Portfolio([BTC_SPOT], fee_price=bnb_price)
    start = {"BTC": D("3"), "USDT": D("100000"), "BNB": D("10")}
    for asset, amount in start.items():
        p.credit(asset, amount)
    lots, cash, fees = 0, D(0), D(0)
    balances = dict(start)
    mark_price = mark * TICK
    for kind, g in steps:
        if kind != "ok":
            before = state(p)
            with pytest.raises(ValueError):
                p.apply_fill(make_fill(g, kind))
            assert state(p) == before
            continue
        f = make_fill(g)
        realized_before = p.position("BTCUSDT").realized_pnl
        delta = p.apply_fill(f)
        with localcontext(_EXACT):
            sign = 1 if f.side is BUY else -1
            lots += sign * g[2]
            cash -= sign * f.price * f.quantity
            value = fee_value(f.fee, f.fee_currency, f.price)
            fees += value
            balances["BTC"] += sign * f.quantity
            balances["USDT"] -= sign * f.price * f.quantity
            balances[f.fee_currency] -= f.fee
            pos = p.position("BTCUSDT")
            assert pos.realized_pnl == realized_before + delta
            assert pos.quantity == lots * LOT
            assert pos.fees == fees
            total = pos.realized_pnl + p.unrealized_pnl("BTCUSDT", mark_price)
            assert total == cash + lots * LOT * mark_price - fees
        assert p.balances() == balances


@given(fills=st.lists(good_fill, min_size=1, max_size=25))
def test_perp_collateral_gets_realized_plus_third_asset_fees(
    fills: list[tuple[bool, int, int, str, int, int]],
) -> None:
    """Linear perpetual, fees in USDT, ETH (base) or BNB: nothing but the collateral and
    the fee assets moves; USDT == realized P&L + the quote value of fees paid elsewhere
    (they left other assets), and each other asset == minus its fees."""
    p = Portfolio(fee_price=bnb_price)
    perp = instrument("BTCUSDT", "BTC", "USDT", InstrumentKind.LINEAR_PERPETUAL, "0.01", "0.00001")
    p.add_instrument(perp)
    paid_elsewhere = D(0)
    other = {"BTC": D(0), "BNB": D(0)}
    lots = 0
    for g in fills:
        f = make_fill(g)
        p.apply_fill(f)
        lots += g[2] if g[0] else -g[2]
        if f.fee_currency != "USDT":
            paid_elsewhere += fee_value(f.fee, f.fee_currency, f.price)
            other[f.fee_currency] -= f.fee
        pos = p.position("BTCUSDT")
        assert pos.quantity == lots * LOT
        got = p.balances()
        assert got["USDT"] == pos.realized_pnl + paid_elsewhere
        assert {a: got.get(a, D(0)) for a in other} == other
