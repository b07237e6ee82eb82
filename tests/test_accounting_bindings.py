"""`engine._core.Position` and `Balances`: hand-computed numbers through the bindings, the
exact money text format, and errors that name the field and change nothing."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import _core

BUY, SELL = 0, 1
I128_MIN, I128_MAX = -(2**127), 2**127 - 1


def pos_state(p: _core.Position) -> tuple[Any, ...]:
    return (p.qty, p.cost_basis, p.realized_pnl, p.fees_paid, p.snapshots())


# --- Position -------------------------------------------------------------------------------


def test_position_on_an_odd_grid_by_hand() -> None:
    """Tick 0.5, lot 0.25: one tick x lot is 0.125 quote.

    buy 3 lots @ 200 ticks (0.75 @ 100.0), fee 0.0375     cost 600
    buy 1 lot  @ 203 ticks (0.25 @ 101.5), fee 0.0127     cost 803, avg 200.75 ticks = 100.375
    sell 2 lots @ 210 ticks (105.0), fee 0.0525:
        removed = ceil(803 x 2 / 4) = ceil(401.5) = 402 (rule 3: never better than average)
        P&L = 420 - 402 = 18 tick.lots = 2.25; net of fee 2.1975
        cost 401 for 2 lots (avg 200.5 ticks = 100.25)
    realized = -0.0375 - 0.0127 + 2.1975 = 2.1473; fees 0.1027
    unrealized at 206: (412 - 401) x 0.125 = 1.375
      check: cash -600 - 203 + 420 = -383, + 2 x 206 = 29 tick.lots = 3.625, - 0.1027
      = 3.5223 = 2.1473 + 1.375
    sell 2 @ 206, no fee: 412 - 401 = 11 tick.lots = 1.375; realized 3.5223, flat.
    """
    p = _core.Position("0.5", "0.25")
    assert (p.tick_size, p.lot_size) == ("0.5", "0.25")
    assert p.apply(BUY, 200, 3, "0.0375", ts=10) == "-0.0375"
    assert p.apply(BUY, 203, 1, "0.0127", ts=11) == "-0.0127"
    assert (p.qty, p.cost_basis, p.avg_entry_ticks()) == (4, 803, (803, 4))
    assert p.avg_entry_price() == "100.375"
    assert p.apply(SELL, 210, 2, "0.0525") == "2.1975"  # no ts: no snapshot
    assert (p.qty, p.cost_basis) == (2, 401)
    assert (p.realized_pnl, p.fees_paid) == ("2.1473", "0.1027")
    assert p.avg_entry_price() == "100.25"
    assert p.unrealized_pnl(206) == "1.375"
    assert p.apply(SELL, 206, 2, "0", ts=13) == "1.375"
    assert (p.qty, p.cost_basis, p.realized_pnl, p.avg_entry_ticks()) == (0, 0, "3.5223", None)
    assert p.avg_entry_price() is None
    assert p.unrealized_pnl(999) == "0"
    assert p.snapshots() == [
        (10, 3, 600, "-0.0375", "0.0375"),
        (11, 4, 803, "-0.0502", "0.0502"),
        (13, 0, 0, "3.5223", "0.1027"),
    ]
    assert repr(p).startswith('Position(tick_size="0.5", lot_size="0.25", qty=0')


def test_average_entry_rounding_modes() -> None:
    """Tick 0.01: 1 lot @ 10000 + 2 lots @ 10001 ticks = cost 30002 for 3 lots, average
    10000.666... ticks = 100.00666... quote. At 18 decimals the last digit is 6 toward
    zero or -inf and 7 away from zero, toward +inf or to nearest. A short of the same
    fills has the same (positive) average."""
    for side in (BUY, SELL):
        p = _core.Position("0.01", "0.001")
        p.apply(side, 10_000, 1, "0")
        p.apply(side, 10_001, 2, "0")
        low, high = "100.006666666666666666", "100.006666666666666667"
        assert p.avg_entry_price("down") == low
        assert p.avg_entry_price("floor") == low
        assert p.avg_entry_price("up") == high
        assert p.avg_entry_price("ceiling") == high
        assert p.avg_entry_price("half_even") == high
        assert p.avg_entry_price() == high


def test_used_margin_and_quote_value() -> None:
    """Tick 0.01, lot 0.001. Short 3 lots @ 10001 ticks: entry notional 0.30003; at 7x
    0.30003 / 7 = 0.042861428571428571428... -> 0.042861428571428572 (up).
    quote_value: 0.000000000000000001 base at 100.01 = 100.01 units of 10^-18 -> 101 up,
    100 down."""
    p = _core.Position("0.01", "0.001")
    assert p.used_margin(3) == "0"
    p.apply(SELL, 10_001, 3, "0")
    assert p.used_margin(1) == "0.30003"
    assert p.used_margin(7) == "0.042861428571428572"
    with pytest.raises(ValueError, match=r"leverage 0: leverage 0 is below 1"):
        p.used_margin(0)
    assert p.quote_value("0.0005", 6_000_000) == "30"
    assert p.quote_value("0.000000000000000001", 10_001) == "0.000000000000000101"
    assert p.quote_value("0.000000000000000001", 10_001, "down") == "0.0000000000000001"


def test_position_errors_name_the_field_and_change_nothing() -> None:
    with pytest.raises(_core.FixedPointError, match="tick_size"):
        _core.Position("0.0x", "1")
    with pytest.raises(_core.FixedPointError, match="lot_size"):
        _core.Position("0.01", "-1")
    with pytest.raises(ValueError, match=r"tick scale 10 \+ lot scale 9 = 19"):
        _core.Position("0.0000000001", "0.000000001")
    p = _core.Position("0.01", "0.001")
    p.apply(BUY, 100, 5, "0.1", ts=1)
    before = pos_state(p)
    bad: list[tuple[tuple[Any, ...], str]] = [
        ((2, 100, 1, "0"), "side 2 is not 0 (bid) or 1 (ask)"),
        ((BUY, 100, 0, "0"), "fill side=0 price=100 qty=0 fee=0: fill qty 0 lots is not positive"),
        ((SELL, 100, -1, "0"), "qty -1 lots is not positive"),
        ((BUY, 100, 1, "0.0000000000000000001"), 'fee: value "0.0000000000000000001" has more'),
        ((BUY, 100, 1, "1e3"), 'fee: value "1e3" is not a decimal number'),
        ((BUY, 100, 2**63 - 1, "0"), "position qty overflows"),
        ((BUY, 100, 1, "-170141183460469231731.687303715884105728"), "money sub overflows"),
    ]
    for args, message in bad:
        with pytest.raises(ValueError) as err:
            p.apply(*args, ts=2)
        assert message in str(err.value)
        assert pos_state(p) == before
    with pytest.raises(ValueError, match=r'rounding "nearest" is not "down", "up"'):
        p.avg_entry_price("nearest")  # type: ignore[arg-type]
    # (0 - (2^63 - 1) x 10^9) tick.lots x 10^13 units each is beyond 2^127 units.
    big = _core.Position("0.01", "0.001")
    big.apply(BUY, 2**63 - 1, 1_000_000_000, "0")
    with pytest.raises(ValueError, match=r"mark 0: unrealized P&L overflows"):
        big.unrealized_pnl(0)
    with pytest.raises(ValueError, match=r"amount: value"):
        p.quote_value("x", 1)


# --- Balances -------------------------------------------------------------------------------


def test_balances_credit_get_and_sorted_dict() -> None:
    b = _core.Balances()
    assert b.get("USDT") == "0"
    assert b.as_dict() == {}
    assert b.credit("USDT", "100.50") == "100.5"
    assert b.credit("BNB", "-0.25") == "-0.25"
    assert b.credit("USDT", "-100.5") == "0"
    assert list(b.as_dict().items()) == [("BNB", "-0.25"), ("USDT", "0")]
    assert repr(b) == "Balances(BNB=-0.25, USDT=0)"


def test_spot_fill_fee_in_quote_base_and_third_asset() -> None:
    """ETH/USDT, tick 0.01, lot 0.0001. Each case: buy 0.5000 ETH @ 3000.00 (300000
    ticks, 5000 lots), notional 1500, fee 0.1%.
    - quote: fee 1.5 USDT: ETH +0.5, USDT -1501.5; position P&L -1.5.
    - base: fee 0.0005 ETH: ETH +0.4995, USDT -1500; fee valued 0.0005 x 3000 = 1.5.
    - third: fee 0.0025 BNB at 600.5: ETH +0.5, USDT -1500, BNB -0.0025; valued
      0.0025 x 600.5 = 1.50125.
    Then sell it all @ 3010.00 with the fee in quote 1.505: P&L 0.5 x 10 - 1.505 = 3.495."""
    cases = [
        ("USDT", "1.5", None, {"ETH": "0.5", "USDT": "-1501.5"}, "-1.5"),
        ("ETH", "0.0005", None, {"ETH": "0.4995", "USDT": "-1500"}, "-1.5"),
        ("BNB", "0.0025", "600.5", {"BNB": "-0.0025", "ETH": "0.5", "USDT": "-1500"}, "-1.50125"),
    ]
    for fee_asset, fee, fee_price, balances, pnl in cases:
        b, p = _core.Balances(), _core.Position("0.01", "0.0001")
        got = b.apply_spot_fill(p, "ETH", "USDT", BUY, 300_000, 5000, fee, fee_asset, fee_price)
        assert (got, b.as_dict(), p.realized_pnl, p.qty) == (pnl, balances, pnl, 5000)
        assert b.apply_spot_fill(p, "ETH", "USDT", SELL, 301_000, 5000, "1.505", "USDT") == "3.495"
        assert p.qty == 0
    # A fee price is only read for a third asset.
    b, p = _core.Balances(), _core.Position("0.01", "0.0001")
    b.apply_spot_fill(p, "ETH", "USDT", BUY, 300_000, 5000, "1.5", "USDT", "999", ts=5)
    assert (p.realized_pnl, p.snapshots()) == ("-1.5", [(5, 5000, 1_500_000_000, "-1.5", "1.5")])


def test_linear_fill_moves_only_the_collateral_and_the_fee_asset() -> None:
    """BTC perp, tick 0.01, lot 0.001, collateral 1000 USDT.
    buy 1.000 @ 100.00 (fee 0.02 USDT): USDT 999.98, P&L -0.02.
    sell 1.000 @ 110.00 (fee 0.0001 BNB at 500 = 0.05): USDT 999.98 + 10 = 1009.98,
    BNB -0.0001, P&L 10 - 0.05 = 9.95; realized 9.93."""
    b, p = _core.Balances(), _core.Position("0.01", "0.001")
    b.credit("USDT", "1000")
    assert b.apply_linear_fill(p, "BTC", "USDT", BUY, 10_000, 1000, "0.02", "USDT") == "-0.02"
    assert b.as_dict() == {"USDT": "999.98"}
    got = b.apply_linear_fill(p, "BTC", "USDT", SELL, 11_000, 1000, "0.0001", "BNB", "500", ts=3)
    assert got == "9.95"
    assert b.as_dict() == {"BNB": "-0.0001", "USDT": "1009.98"}
    assert (p.qty, p.realized_pnl, p.fees_paid) == (0, "9.93", "0.07")
    assert p.snapshots() == [(3, 0, 0, "9.93", "0.07")]


def test_balance_errors_name_the_field_and_change_nothing() -> None:
    b, p = _core.Balances(), _core.Position("0.01", "0.001")
    b.credit("USDT", "170141183460469231731")
    b.credit("BNB", "1")
    p.apply(BUY, 100, 1, "0")
    before = (b.as_dict(), pos_state(p))
    spot: list[tuple[tuple[Any, ...], str]] = [
        (("BTC", "USDT", SELL, 100_000, 1000, "0", "USDT"), "quote balance overflows"),
        (("BTC", "USDT", BUY, 100, 1, "0.1", "BNB"), "fee asset BNB is neither base nor quote"),
        (("BTC", "USDT", BUY, 100, 1, "0.1", "BNB", "0"), "fee price 0 of BNB is not positive"),
        (("BTC", "USDT", BUY, 100, 1, "0.1", "BNB", "1.2.3"), 'fee_price: value "1.2.3"'),
        (("BTC", "USDT", BUY, 100, 1, "0.1", "B N B"), 'fee_asset: asset "B N B" is invalid'),
        (("", "USDT", BUY, 100, 1, "0.1", "USDT"), 'base: asset "" is invalid'),
        (("BTC", "X" * 17, BUY, 100, 1, "0.1", "USDT"), "quote: asset"),
        (("BTC", "USDT", 3, 100, 1, "0.1", "USDT"), "side 3"),
        (("BTC", "USDT", BUY, 100, 0, "0.1", "USDT"), "qty 0 lots is not positive"),
    ]
    for args, message in spot:
        for method in (b.apply_spot_fill, b.apply_linear_fill):
            if method == b.apply_linear_fill and "quote balance" in message:
                continue  # a perp fill moves no notional, so it cannot overflow this way
            with pytest.raises(ValueError) as err:
                method(p, *args)
            assert message in str(err.value), str(err.value)
            assert (b.as_dict(), pos_state(p)) == before
    with pytest.raises(ValueError, match=r"credit 1 USDT: money add overflows"):
        b.credit("USDT", "1")
    with pytest.raises(ValueError, match=r'amount: value "0.1e1"'):
        b.credit("USDT", "0.1e1")
    with pytest.raises(ValueError, match=r'asset: asset "" is invalid'):
        b.get("")
    assert (b.as_dict(), pos_state(p)) == before


# --- money text -----------------------------------------------------------------------------


def canonical(units: int) -> str:
    """The expected text, built independently: plain digits, fraction zeros trimmed."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), 10**18)
    text = f"{whole}.{frac:018d}".rstrip("0").rstrip(".")
    return sign + text if units else "0"


@given(units=st.integers(I128_MIN, I128_MAX))
def test_money_text_is_canonical_and_round_trips_through_decimal(units: int) -> None:
    exact = Decimal(f"{units}e-18")  # from text: exact, no context rounding
    b = _core.Balances()
    text = b.credit("X", format(exact, "f"))
    assert text == canonical(units)
    assert Decimal(text) == exact
    assert format(Decimal(text), "f") == text
    again = _core.Balances()
    assert again.credit("X", text) == text
