"""The Rust risk gate, one hand-written test per rule, with the exact reason strings.

Instrument: tick 0.01, lot 0.001, so price 100.00 is 10_000 ticks and one lot at 100.00
is worth 0.1 quote."""

from __future__ import annotations

import re
from typing import Any

import pytest

core: Any = pytest.importorskip("engine._core")

BUY, SELL = 0, 1
REASON = re.compile(r"^[A-Z_]+: [a-z_]+=\S+( [a-z_]+=\S+)*$")


def make(kind: str = "spot", **over: Any) -> Any:
    args: dict[str, Any] = {
        "min_qty": 5,
        "max_qty": 1_000,
        "min_notional": "5",
        "max_notional": "10000",
        "max_position": 2_000,
        "max_gross_exposure": "50000",
        "band_bps": 500,
        "maker_fee_rate": "0.0002",
        "taker_fee_rate": "0.001",
        "fee_decimals": 8,
        "rate_capacity": 100,
        "rate_refill_per_s": 10,
        "leverage": 10,
    }
    args.update(over)
    return core.RiskGate("0.01", "0.001", kind, **args)


def check(gate: Any, side: int = BUY, price: int = 10_000, qty: int = 100, **over: Any) -> Any:
    acct: dict[str, Any] = {
        "position": 0,
        "mid": 10_000,
        "gross_exposure": "0",
        "available_quote": "100000",
        "available_base": "100",
        "now_ns": 0,
    }
    order_type = over.pop("order_type", "limit")
    acct.update(over)
    result = gate.check(side, order_type, price, qty, **acct)
    assert result is None or REASON.match(result), result
    return result


def test_allowed_order_returns_none_and_takes_a_token() -> None:
    gate = make()
    assert check(gate) is None
    assert gate.tokens == 99


def test_halted_denies_everything_even_reducing_orders() -> None:
    gate = make()
    reason = check(gate, SELL, qty=10, position=50, reduce_only=True, state="halted")
    assert reason == "TRADING_HALTED: state=halted"


def test_bad_price() -> None:
    assert check(make(), price=0) == "BAD_PRICE: price=0"
    assert check(make(), price=-3, order_type="market") == "BAD_PRICE: price=-3"


def test_qty_below_min_and_above_max() -> None:
    assert check(make(), qty=3) == "QTY_BELOW_MIN: qty=3 min=5"
    assert check(make(), qty=0) == "QTY_BELOW_MIN: qty=0 min=5"
    assert check(make(), qty=1_001) == "QTY_ABOVE_MAX: qty=1001 max=1000"
    assert check(make(), qty=1_000, gross_exposure="0") is None


def test_order_below_min_notional_is_denied_with_its_reason() -> None:
    # 49 lots * 0.001 * 100.00 = 4.9 < 5; 50 lots = exactly 5 is allowed.
    assert check(make(), qty=49) == "NOTIONAL_BELOW_MIN: notional=4.9 min=5"
    assert check(make(), qty=50) is None


def test_max_notional() -> None:
    assert check(make(max_notional="10"), qty=101) == "MAX_NOTIONAL: notional=10.1 max=10"
    assert check(make(max_notional="10"), qty=100) is None


def test_reduce_only_that_would_increase_or_flip_is_denied() -> None:
    gate = make("perp")
    assert (
        check(gate, BUY, qty=10, reduce_only=True)
        == "REDUCE_ONLY_INCREASES: position=0 side=buy qty=10"
    )
    assert (
        check(gate, BUY, qty=10, position=50, reduce_only=True)
        == "REDUCE_ONLY_INCREASES: position=50 side=buy qty=10"
    )
    assert (
        check(gate, SELL, qty=60, position=50, reduce_only=True)
        == "REDUCE_ONLY_INCREASES: position=50 side=sell qty=60"
    )
    # Closing exactly, or part of, the position is allowed, with no margin needed.
    assert check(gate, SELL, qty=50, position=50, reduce_only=True, available_quote="0") is None
    assert check(gate, BUY, qty=50, position=-80, reduce_only=True, available_quote="0") is None


def test_reducing_state_allows_only_reducing_orders() -> None:
    gate = make("perp")
    assert (
        check(gate, BUY, qty=10, position=50, state="reducing")
        == "TRADING_REDUCING: position=50 side=buy qty=10"
    )
    assert (
        check(gate, SELL, qty=60, position=50, state="reducing")
        == "TRADING_REDUCING: position=50 side=sell qty=60"
    )
    assert check(gate, BUY, qty=10, state="reducing") == (
        "TRADING_REDUCING: position=0 side=buy qty=10"
    )
    assert check(gate, SELL, qty=50, position=50, state="reducing") is None


def test_price_band_and_missing_mid() -> None:
    gate = make()
    assert check(gate, price=10_501) == "PRICE_BAND: price=10501 mid=10000 band_bps=500"
    assert check(gate, SELL, price=9_499) == "PRICE_BAND: price=9499 mid=10000 band_bps=500"
    assert check(gate, price=10_500) is None  # exactly on the band edge
    assert check(gate, price=10_000, mid=0) == "NO_MID: mid=0"
    reason = check(gate, price=20_000, order_type="market")
    assert reason == "PRICE_BAND: price=20000 mid=10000 band_bps=500"


def test_max_position() -> None:
    gate = make()
    assert check(gate, qty=100, position=1_950) == "MAX_POSITION: position=1950 new=2050 max=2000"
    assert check(gate, SELL, qty=100, position=-1_950, available_base="1000") == (
        "MAX_POSITION: position=-1950 new=-2050 max=2000"
    )
    # Above the limit already, an order that shrinks the position is still allowed.
    assert check(gate, SELL, qty=100, position=2_500) is None


def test_max_gross_exposure() -> None:
    gate = make()
    reason = check(gate, qty=100, gross_exposure="49995")
    assert reason == "MAX_GROSS_EXPOSURE: gross=49995 add=10 max=50000"
    assert check(gate, qty=100, gross_exposure="49990") is None
    # An order that only reduces adds no exposure.
    assert check(gate, SELL, qty=100, position=100, gross_exposure="60000") is None


def test_insufficient_balance_spot_and_perp() -> None:
    gate = make()
    # Spot buy: 10 quote + 0.1% fee (the larger of maker and taker) = 10.01.
    assert check(gate, qty=100, available_quote="10.00999999") == (
        "INSUFFICIENT_BALANCE: asset=quote need=10.01 available=10.00999999"
    )
    assert check(gate, qty=100, available_quote="10.01") is None
    # Spot sell: 100 lots = 0.1 base.
    assert check(gate, SELL, qty=100, available_base="0.099") == (
        "INSUFFICIENT_BALANCE: asset=base need=0.1 available=0.099"
    )
    # Perp flip +50 -> -50: opening part 50 lots = 5 quote, margin 0.5 + fee 0.005.
    perp = make("perp")
    assert check(perp, SELL, qty=100, position=50, available_quote="0.504") == (
        "INSUFFICIENT_BALANCE: asset=quote need=0.505 available=0.504"
    )
    assert check(perp, SELL, qty=100, position=50, available_quote="0.505") is None


def test_token_bucket_exhaustion_and_refill_with_explicit_timestamps() -> None:
    gate = make(rate_capacity=2, rate_refill_per_s=1)
    t0 = 1_700_000_000_000_000_000
    assert check(gate, now_ns=t0) is None
    assert check(gate, now_ns=t0) is None
    assert gate.tokens == 0
    assert check(gate, now_ns=t0) == (
        "RATE_LIMIT: capacity=2 refill_per_s=1 retry_after_ns=1000000000"
    )
    # Denied for another reason: no token taken, and rate is checked last.
    assert check(gate, qty=1, now_ns=t0 + 500_000_000) == "QTY_BELOW_MIN: qty=1 min=5"
    assert check(gate, now_ns=t0 + 500_000_000) == (
        "RATE_LIMIT: capacity=2 refill_per_s=1 retry_after_ns=500000000"
    )
    # Time going backwards adds nothing.
    assert check(gate, now_ns=t0 - 10**12) is not None
    assert check(gate, now_ns=t0 + 1_000_000_000) is None
    assert check(gate, now_ns=t0 + 1_000_000_000) is not None
    # A long pause refills up to the capacity only.
    later = t0 + 3_600 * 10**9
    assert check(gate, now_ns=later) is None
    assert check(gate, now_ns=later) is None
    assert check(gate, now_ns=later) is not None
    gate.reset_bucket()
    assert gate.tokens == 2


def test_zero_refill_never() -> None:
    gate = make(rate_capacity=1, rate_refill_per_s=0)
    assert check(gate) is None
    assert (
        check(gate, now_ns=10**15) == "RATE_LIMIT: capacity=1 refill_per_s=0 retry_after_ns=never"
    )


def test_check_order_first_failure_wins() -> None:
    gate = make()
    # Too small, off the band, reduce-only increase and no balance all at once.
    reason = check(gate, price=20_000, qty=1, reduce_only=True, available_quote="0")
    assert reason == "QTY_BELOW_MIN: qty=1 min=5"
    reason = check(gate, price=20_000, qty=10, reduce_only=True, available_quote="0")
    assert reason == "REDUCE_ONLY_INCREASES: position=0 side=buy qty=10"
    assert check(gate, price=20_000, qty=10, available_quote="0").startswith("PRICE_BAND:")


def test_decimal_edge_tick_and_lot_step() -> None:
    gate = make()
    acct = ("0", "100000", "100", 0)
    assert gate.check_decimal(BUY, "limit", "100.005", "0.1", 0, 10_000, *acct) == (
        "TICK_STEP: price=100.005 tick=0.01"
    )
    assert gate.check_decimal(BUY, "limit", "100.00", "0.1005", 0, 10_000, *acct) == (
        "LOT_STEP: qty=0.1005 lot=0.001"
    )
    assert gate.check_decimal(BUY, "limit", "100.00", "0.1", 0, 10_000, *acct) is None
    with pytest.raises(core.FixedPointError, match="price"):
        gate.check_decimal(BUY, "limit", "abc", "0.1", 0, 10_000, *acct)


def test_bad_arguments_raise_naming_the_field() -> None:
    gate = make()
    with pytest.raises(ValueError, match="side"):
        check(gate, side=2)
    with pytest.raises(ValueError, match="state"):
        check(gate, state="paused")
    with pytest.raises(ValueError, match="order_type"):
        check(gate, order_type="stop")
    with pytest.raises(ValueError, match="available_quote"):
        check(gate, available_quote="1e5")
    with pytest.raises(ValueError, match="min_qty"):
        make(min_qty=0)
    with pytest.raises(ValueError, match="leverage"):
        make(leverage=0)
    with pytest.raises(ValueError, match="kind"):
        make("option")


def test_notional_overflow_is_a_denial() -> None:
    gate = make(max_qty=2**63 - 1, max_notional="100000000000000000000", band_bps=2**62)
    big = 2**62
    reason = check(gate, price=big, qty=big, mid=big)
    assert reason == f"NOTIONAL_OVERFLOW: price={big} qty={big}"
