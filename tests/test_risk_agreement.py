"""The Rust risk gate agrees with the pure-Python reference on random instruments,
orders, positions, balances, states and timestamps: same decision, same reason string,
and every denial carries a code in the one format."""

from __future__ import annotations

import re
from typing import Any

import pytest
from hypothesis import event, given, note
from hypothesis import strategies as st

import hypothesis_profiles  # noqa: F401  (registers and loads the settings profile)
from reference.risk import RefRiskGate, fmt_money

core: Any = pytest.importorskip("engine._core")

REASON = re.compile(r"^[A-Z_]+: [a-z_]+=\S+( [a-z_]+=\S+)*$")
STEPS = ["1", "0.5", "0.1", "0.01", "0.001", "0.00001", "5", "0.25"]
RATES = ["0", "0.0002", "0.00055", "0.001", "-0.0001", "0.01"]


def money(draw: st.DrawFn, scale: int) -> str:
    """A money string of moderate size with up to 8 decimals (sometimes huge)."""
    units = draw(
        st.one_of(
            st.integers(0, scale * 10**8),
            st.integers(0, 10**27),
            st.just(0),
        )
    )
    return fmt_money(units * 10**10)


def roomy(draw: st.DrawFn, scale: int) -> str:
    """Mostly a value large enough for the check to pass, sometimes a tight one."""
    return draw(st.sampled_from([money(draw, scale), "100000000000000", "1000000000"]))


@st.composite
def limits(draw: st.DrawFn) -> dict[str, Any]:
    min_qty = draw(st.integers(1, 50))
    min_notional = draw(st.sampled_from(["0", "5", money(draw, 50)]))
    extra = draw(st.sampled_from([0, 10, 1_000, 10**6, 10**12, 10**19]))
    max_notional = fmt_money(_units(min_notional) + extra * 10**18)
    return {
        "tick_size": draw(st.sampled_from(STEPS)),
        "lot_size": draw(st.sampled_from(STEPS)),
        "kind": draw(st.sampled_from(["spot", "perp"])),
        "min_qty": min_qty,
        "max_qty": min_qty + draw(st.integers(0, 5_000)),
        "min_notional": min_notional,
        "max_notional": max_notional,
        "max_position": draw(st.sampled_from([0, 100, 10**6, draw(st.integers(0, 10_000))])),
        "max_gross_exposure": roomy(draw, 10**6),
        "band_bps": draw(st.sampled_from([0, 1, 50, 500, 10_000, 10**9])),
        "maker_fee_rate": draw(st.sampled_from(RATES)),
        "taker_fee_rate": draw(st.sampled_from(RATES)),
        "fee_decimals": draw(st.integers(0, 18)),
        "rate_capacity": draw(st.integers(1, 5)),
        "rate_refill_per_s": draw(st.integers(0, 3)),
        "leverage": draw(st.integers(1, 125)),
    }


def _units(text: str) -> int:
    whole, _, frac = text.partition(".")
    return int(whole) * 10**18 + int(frac.ljust(18, "0") or "0")


@st.composite
def order_and_account(draw: st.DrawFn, lim: dict[str, Any]) -> tuple[Any, ...]:
    """Biased so that most orders get deep into the checks (and some all the way)."""
    mid = draw(st.one_of(st.integers(1, 20_000), st.integers(1, 20_000), st.integers(-1, 2)))
    band = min(max(mid, 0) * lim["band_bps"] // 10_000, 10**6)
    price = draw(
        st.one_of(
            st.integers(max(1, mid - band), max(1, mid + band)),
            st.integers(max(1, mid - band), max(1, mid + band)),
            st.integers(-2, 2),
            st.integers(max(1, mid - 600), max(1, mid + 600)),
            st.integers(1, 2**63 - 1),
        )
    )
    qty = draw(
        st.one_of(
            st.integers(lim["min_qty"], lim["max_qty"]),
            st.integers(lim["min_qty"], lim["max_qty"]),
            st.integers(-1, 60),
            st.just(2**63 - 1),
        )
    )
    position = draw(st.one_of(st.just(0), st.integers(-10_000, 10_000), st.integers(-60, 60)))
    return (
        draw(st.sampled_from([0, 1])),
        draw(st.sampled_from(["market", "limit"])),
        price,
        qty,
        position,
        mid,
        draw(st.sampled_from(["0", money(draw, 10**6)])),
        roomy(draw, 10**6),
        roomy(draw, 10**3),
        draw(st.integers(0, 3 * 10**9)),
        draw(st.sampled_from([False, False, False, True])),
        draw(st.sampled_from(["active"] * 6 + ["reducing", "halted"])),
    )


@given(limits(), st.data())
def test_rust_and_reference_agree(lim: dict[str, Any], data: st.DataObject) -> None:
    calls = data.draw(st.lists(order_and_account(lim), min_size=1, max_size=12))
    tick, lot, kind = lim.pop("tick_size"), lim.pop("lot_size"), lim.pop("kind")
    rust = core.RiskGate(tick, lot, kind, **lim)
    ref = RefRiskGate(tick, lot, kind, **lim)
    now = 0
    for call in calls:
        # Timestamps mostly move forward, sometimes stand still or go back.
        now += call[9] - 10**8
        args = (*call[:9], now, *call[10:])
        note(repr(args))
        got, want = rust.check(*args), ref.check(*args)
        assert got == want
        assert got is None or REASON.match(got), got
        assert rust.tokens == ref.tokens
        event(got.split(":")[0] if got else "ALLOWED")
