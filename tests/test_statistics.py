"""Performance statistics: the Rust core against an independent numpy/pure-Python model.

`reference` below is written from the definitions (rust/stats/mod.rs) without calling the
core and, where it can, by a different route: a dense grid built with `searchsorted`
(the core walks the samples sparsely), exact `math.fsum` sums (the core compensates),
powers for CAGR and the per-period risk-free rate in 40-digit decimal arithmetic (the core
uses expm1/log1p; a float `pow(..) - 1` would lose digits to cancellation near 0), drawdown
durations read off the indices at the running peak, exposure cut at every position time.
Agreement is required to a relative 1e-9; `abs_tol` 1e-12 only covers figures that are
zero up to rounding (a Sharpe whose mean return cancels).
"""

from __future__ import annotations

import decimal
import itertools
import math
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import _core
from engine.domain.errors import ValidationError
from engine.services.statistics import (
    DAY_NS,
    DEFAULT_PARAMS,
    Statistics,
    StatisticsParams,
    compute,
)

HOUR = 3_600_000_000_000
YEAR_NS = 31_557_600_000_000_000  # 365.25 days
_WIDE = decimal.Context(prec=40, Emax=decimal.MAX_EMAX, Emin=decimal.MIN_EMIN)
ZERO_RISK = 1e-12
INT_KEYS = {"max_drawdown_duration_ns", "trade_count", "periods"}
KEYS = [
    "total_return", "cagr", "volatility", "sharpe", "sortino", "calmar", "max_drawdown",
    "max_drawdown_duration_ns", "win_rate", "profit_factor", "expectancy", "avg_win",
    "avg_loss", "trade_count", "exposure", "turnover", "fees_paid", "periods",
]  # fmt: skip

F64 = npt.NDArray[np.float64]
I64 = npt.NDArray[np.int64]


# --- the independent model ------------------------------------------------------------
def power_minus_one(base: Decimal, exponent: Decimal) -> float:
    """base^exponent - 1 in 40 digits, rounded once to a float (inf beyond its range)."""
    return float(_WIDE.subtract(_WIDE.power(base, exponent), 1))


def reference(
    ts: I64,
    equity: F64,
    pnl: F64,
    pos_ts: I64 | None = None,
    pos: F64 | None = None,
    *,
    fees: float = 0.0,
    notional: float = 0.0,
    interval: int = DAY_NS,
    ppy: float = 365.0,
    rf: float = 0.0,
    ddof: int = 1,
) -> dict[str, float | int]:
    out: dict[str, float | int] = {k: (0 if k in INT_KEYS else 0.0) for k in KEYS}
    out["fees_paid"] = fees
    out.update(_trades(pnl))
    if len(ts) == 0:
        return out
    t0, t_end = int(ts[0]), int(ts[-1])
    span = t_end - t0
    out["total_return"] = float(equity[-1] / equity[0] - 1)
    if span > 0:
        # The ratio is a float division by definition; only the power is taken wide.
        ratio = Decimal(float(equity[-1] / equity[0]))
        out["cagr"] = power_minus_one(ratio, _WIDE.divide(YEAR_NS, span))

    # Dense grid: every point looks up the last sample at or before it.
    grid = t0 + np.arange(span // interval + 1, dtype=np.int64) * interval
    values = equity[np.searchsorted(ts, grid, side="right") - 1]
    r = values[1:] / values[:-1] - 1
    out["periods"] = len(r)
    if len(r):
        mean = math.fsum(r) / len(r)
        rf_period = power_minus_one(_WIDE.add(1, Decimal(rf)), _WIDE.divide(1, Decimal(ppy)))
        if len(r) > ddof:
            std = float(np.std(r, ddof=ddof))
            if std >= ZERO_RISK:
                out["volatility"] = std * math.sqrt(ppy)
                out["sharpe"] = (mean - rf_period) / std * math.sqrt(ppy)
        downside = math.sqrt(math.fsum(np.minimum(r - rf_period, 0.0) ** 2) / len(r))
        if downside >= ZERO_RISK:
            out["sortino"] = (mean - rf_period) / downside * math.sqrt(ppy)

    peak = np.maximum.accumulate(equity)
    out["max_drawdown"] = float(np.max(1 - equity / peak))
    # Indices at the running peak; a gap between two of them is an underwater stretch.
    at_peak = np.flatnonzero(equity >= peak)
    longest = 0
    for a, b in itertools.pairwise(at_peak):
        if b > a + 1:
            longest = max(longest, int(ts[b]) - int(ts[a]))
    if at_peak[-1] < len(ts) - 1:
        longest = max(longest, t_end - int(ts[at_peak[-1]]))
    out["max_drawdown_duration_ns"] = longest
    if out["max_drawdown"] > 0:
        out["calmar"] = out["cagr"] / out["max_drawdown"]

    if span > 0 and pos_ts is not None and pos is not None and len(pos_ts):
        inside = pos_ts[(pos_ts > t0) & (pos_ts < t_end)]
        cuts = np.unique(np.concatenate([[t0, t_end], inside]))
        which = np.searchsorted(pos_ts, cuts[:-1], side="right") - 1
        held = (which >= 0) & (pos[np.maximum(which, 0)] != 0)
        out["exposure"] = int(np.sum(np.diff(cuts)[held])) / span
    if span == 0:
        average = float(equity[-1])
    else:
        average = math.fsum(equity[:-1] * np.diff(ts).astype(np.float64)) / span
    out["turnover"] = notional / average
    return out


def _trades(pnl: F64) -> dict[str, float | int]:
    wins, losses = pnl[pnl > 0], pnl[pnl < 0]
    n = len(pnl)
    gross_win, gross_loss = math.fsum(wins), -math.fsum(losses)
    # No losses: infinite with wins, 0.0 with neither.
    no_loss = math.inf if len(wins) else 0.0
    profit_factor = gross_win / gross_loss if len(losses) else no_loss
    return {
        "trade_count": n,
        "win_rate": len(wins) / n if n else 0.0,
        "expectancy": math.fsum(pnl) / n if n else 0.0,
        "avg_win": gross_win / len(wins) if len(wins) else 0.0,
        "avg_loss": -gross_loss / len(losses) if len(losses) else 0.0,
        "profit_factor": profit_factor,
    }


def assert_matches(got: dict[str, float | int], want: dict[str, float | int]) -> None:
    assert list(got) == KEYS
    for key in KEYS:
        g, w = got[key], want[key]
        if key in INT_KEYS:
            assert type(g) is int and g == w, (key, g, w)
        else:
            assert type(g) is float, (key, g)
            assert math.isclose(g, w, rel_tol=1e-9, abs_tol=1e-12), (key, g, w)


def core(ts: I64, equity: F64, pnl: F64, **kwargs: Any) -> dict[str, float | int]:
    return _core.compute_stats(ts, equity, pnl, **kwargs)


# --- strategies -----------------------------------------------------------------------
@st.composite
def times(draw: st.DrawFn, n: int) -> I64:
    """n sorted timestamps from a random start, gaps of 0..72 hours (ties allowed)."""
    start = draw(st.integers(0, 2**52))
    gaps = draw(st.lists(st.integers(0, 72), min_size=n, max_size=n))
    gaps[0] = 0
    return start + np.cumsum(np.array(gaps, dtype=np.int64)) * HOUR


@st.composite
def bps_curves(draw: st.DrawFn) -> tuple[I64, F64]:
    """Equity moving by whole basis points: returns are equal or >= 1bp apart, so the
    zero-risk threshold never sits next to a real deviation."""
    n = draw(st.integers(1, 80))
    steps = draw(st.lists(st.integers(-3000, 3000), min_size=n, max_size=n))
    equity = np.empty(n)
    e = 100.0
    for i, s in enumerate(steps):
        if i:
            e *= 1 + s / 10_000
        equity[i] = e
    return draw(times(n)), equity


@st.composite
def float_curves(draw: st.DrawFn) -> tuple[I64, F64]:
    """Any positive equity; half the values from a few integers so ties are common."""
    n = draw(st.integers(1, 80))
    value = st.one_of(st.integers(1, 5).map(float), st.floats(1e-3, 1e9))
    equity = np.array(draw(st.lists(value, min_size=n, max_size=n)), dtype=np.float64)
    return draw(times(n)), equity


pnls = st.lists(st.floats(-1e6, 1e6), max_size=60).map(lambda v: np.array(v, dtype=np.float64))
params = st.fixed_dictionaries(
    {
        "interval_ns": st.sampled_from([HOUR, 6 * HOUR, DAY_NS, 3 * DAY_NS]),
        "periods_per_year": st.floats(1.0, 400.0),
        "risk_free_rate": st.floats(-0.5, 0.5),
        "ddof": st.integers(0, 2),
    }
)


@st.composite
def positions(draw: st.DrawFn, ts: I64) -> tuple[I64, F64]:
    """Position changes around and inside the curve's span, quantities -2..2."""
    lo, hi = int(ts[0]) - 10 * HOUR, int(ts[-1]) + 10 * HOUR
    n = draw(st.integers(0, 12))
    at = sorted(draw(st.lists(st.integers(lo, hi), min_size=n, max_size=n)))
    qty = draw(st.lists(st.integers(-2, 2), min_size=n, max_size=n))
    return np.array(at, dtype=np.int64), np.array(qty, dtype=np.float64)


def _ref_kwargs(p: dict[str, Any]) -> dict[str, Any]:
    return {
        "interval": p["interval_ns"],
        "ppy": p["periods_per_year"],
        "rf": p["risk_free_rate"],
        "ddof": p["ddof"],
    }


# --- random curves --------------------------------------------------------------------
@given(curve=bps_curves(), pnl=pnls, p=params, data=st.data())
def test_every_figure_matches_the_reference_on_basis_point_curves(
    curve: tuple[I64, F64], pnl: F64, p: dict[str, Any], data: st.DataObject
) -> None:
    ts, equity = curve
    pos_ts, pos = data.draw(positions(ts))
    notional = data.draw(st.floats(0, 1e9))
    fees = data.draw(st.floats(-1e3, 1e6))
    got = core(
        ts, equity, pnl, position_ts=pos_ts, position=pos, fees_paid=fees,
        traded_notional=notional, **p,
    )  # fmt: skip
    want = reference(ts, equity, pnl, pos_ts, pos, fees=fees, notional=notional, **_ref_kwargs(p))
    assert_matches(got, want)


@given(curve=float_curves(), p=params, data=st.data())
def test_every_figure_matches_the_reference_on_arbitrary_curves(
    curve: tuple[I64, F64], p: dict[str, Any], data: st.DataObject
) -> None:
    ts, equity = curve
    pos_ts, pos = data.draw(positions(ts))
    got = core(ts, equity, np.array([]), position_ts=pos_ts, position=pos, **p)
    assert_matches(got, reference(ts, equity, np.array([]), pos_ts, pos, **_ref_kwargs(p)))


@given(curve=bps_curves(), pnl=st.lists(st.integers(-(10**6), 10**6), max_size=30))
def test_the_service_converts_decimals_and_agrees(curve: tuple[I64, F64], pnl: list[int]) -> None:
    ts, equity = curve
    # Each equity as the shortest decimal that reads back as the same float: the service's
    # conversion must give exactly the floats the reference gets.
    eq_dec = [Decimal(repr(float(e))) for e in equity]
    pnl_dec = [Decimal(x) / 100 for x in pnl]
    stats = compute(list(zip(ts.tolist(), eq_dec, strict=True)), pnl_dec)
    want = reference(
        ts,
        np.array([float(e) for e in eq_dec]),
        np.array([float(x) for x in pnl_dec], dtype=np.float64),
    )
    assert_matches(stats.as_dict(), want)


def test_realistic_curve() -> None:
    """Two years of hourly equity (a missing hour here and there, fat-tailed moves), 600
    round trips, a position curve and fees; checked with the defaults and with an equity
    calendar (252 periods, 4% risk-free, 4-hour grid, population std)."""
    rng = np.random.default_rng(20240808)
    hours = np.arange(2 * 365 * 24)
    hours = hours[rng.random(len(hours)) > 0.02]
    ts = 1_704_067_200_000_000_000 + hours.astype(np.int64) * HOUR
    moves = rng.standard_t(4, len(ts)) * 0.004 + 0.00005
    equity = 10_000 * np.exp(np.cumsum(moves))
    pnl = np.round(rng.standard_t(3, 600) * 25 + 2, 2)
    opens = np.sort(rng.choice(ts, 400, replace=False))
    pos = np.where(np.arange(400) % 2 == 0, rng.choice([-3.0, 1.0, 2.0], 400), 0.0)
    kwargs = {"fees_paid": 1234.56, "traded_notional": 8.5e6}
    got = core(ts, equity, pnl, position_ts=opens, position=pos, **kwargs)
    want = reference(ts, equity, pnl, opens, pos, fees=1234.56, notional=8.5e6)
    assert_matches(got, want)
    assert got["periods"] == 729 and got["trade_count"] == 600
    assert 0.3 < got["exposure"] < 0.7 and got["max_drawdown"] > 0.05
    other = {"interval_ns": 4 * HOUR, "periods_per_year": 252.0, "risk_free_rate": 0.04}
    got = core(ts, equity, pnl, position_ts=opens, position=pos, ddof=0, **other, **kwargs)
    want = reference(
        ts, equity, pnl, opens, pos, fees=1234.56, notional=8.5e6, interval=4 * HOUR,
        ppy=252.0, rf=0.04, ddof=0,
    )  # fmt: skip
    assert_matches(got, want)
    # Strided views are read as they are, not as the buffer underneath.
    got = core(ts[::3], equity[::3], pnl[::2])
    assert_matches(got, reference(ts[::3].copy(), equity[::3].copy(), pnl[::2].copy()))


# --- small cases by hand, through the service -----------------------------------------
def _curve(days: list[int], values: list[str]) -> list[tuple[int, Decimal]]:
    return [(d * DAY_NS, Decimal(v)) for d, v in zip(days, values, strict=True)]


def test_daily_curve_by_hand() -> None:
    # Equity 100 120 90 90 108 on days 0..4: r = 0.2, -0.25, 0, 0.2, mean 0.0375.
    # Squared deviations 0.1625² + 0.2875² + 0.0375² + 0.1625² = 0.136875; ddof 1 gives
    # var 0.045625, and 365 / 0.045625 = 8000, so Sharpe = 0.0375 * sqrt(8000).
    # Downside min(0, r) = 0, -0.25, 0, 0: dd = sqrt(0.0625 / 4) = 0.125,
    # Sortino = 0.0375 / 0.125 * sqrt(365) = 0.3 * sqrt(365).
    # Drawdown: peak 120 (day 1) to 90: 25%; still below 120 at day 4: 3 days.
    # CAGR = 1.08^(365.25 / 4) - 1 = 1126.2147756128; Calmar = that / 0.25.
    # Average equity (100 + 120 + 90 + 90) / 4 = 100: turnover 1000 / 100 = 10.
    # Trades 10 -5 0 20 -15: win rate 2/5, profit factor 30/20, expectancy 10/5,
    # average win 15, average loss -10. Long from day 0 to day 2 of 4: exposure 0.5.
    s = compute(
        _curve([0, 1, 2, 3, 4], ["100", "120", "90", "90", "108"]),
        [Decimal(x) for x in ("10", "-5", "0", "20", "-15")],
        positions=[(0, Decimal("0.5")), (2 * DAY_NS, Decimal(0))],
        fees_paid=Decimal("3.25"),
        traded_notional=Decimal(1000),
    )
    want = Statistics(
        total_return=0.08, cagr=1126.2147756128236, volatility=math.sqrt(0.045625 * 365),
        sharpe=0.0375 * math.sqrt(8000), sortino=0.3 * math.sqrt(365),
        calmar=1126.2147756128236 / 0.25, max_drawdown=0.25,
        max_drawdown_duration_ns=3 * DAY_NS, win_rate=0.4, profit_factor=1.5, expectancy=2.0,
        avg_win=15.0, avg_loss=-10.0, trade_count=5, exposure=0.5, turnover=10.0,
        fees_paid=3.25, periods=4,
    )  # fmt: skip
    assert_matches(s.as_dict(), want.as_dict())


def test_risk_free_rate_and_population_std_by_hand() -> None:
    # Same returns, 4 periods a year, rf = 1.05^4 - 1: 5% per period, excess mean -0.0125.
    # ddof 0: std = sqrt(0.136875 / 4); Sharpe = -0.0125 / std * 2.
    # min(0, r - 0.05) = 0, -0.3, -0.05, 0: dd = sqrt(0.0925 / 4), Sortino = -0.0125 / dd * 2.
    p = StatisticsParams(periods_per_year=4, risk_free_rate=0.21550625, ddof=0)
    s = compute(_curve([0, 1, 2, 3, 4], ["100", "120", "90", "90", "108"]), [], params=p)
    std = math.sqrt(0.136875 / 4)
    assert math.isclose(s.volatility, std * 2, rel_tol=1e-12)
    assert math.isclose(s.sharpe, -0.0125 / std * 2, rel_tol=1e-12)
    assert math.isclose(s.sortino, -0.0125 / math.sqrt(0.0925 / 4) * 2, rel_tol=1e-12)


def test_irregular_samples_by_hand() -> None:
    # Samples at 0h 5h 30h 47h 49h 50h on a daily grid anchored at 0h: points 0h, 24h, 48h
    # see 100 (0h), 110 (5h), 99 (47h): returns 0.1 and -0.1, so 2 periods; 49h and 50h
    # are a partial day and only count for the total return and the drawdown:
    # peak 121 (30h) → 90 (49h) = 1 - 90/121, back above at 50h: 20 hours.
    curve = [(h * HOUR, Decimal(v)) for h, v in
             [(0, 100), (5, 110), (30, 121), (47, 99), (49, 90), (50, 200)]]  # fmt: skip
    s = compute(curve, [])
    assert s.periods == 2
    assert math.isclose(s.volatility, math.sqrt(0.02 * 365), rel_tol=1e-12)
    assert abs(s.sharpe) < 1e-12
    assert math.isclose(s.max_drawdown, 1 - 90 / 121, rel_tol=1e-12)
    assert s.max_drawdown_duration_ns == 20 * HOUR
    assert s.total_return == 1.0


def test_edge_cases() -> None:
    # Flat equity: no risk, every ratio 0.0 (not NaN, not inf).
    flat = compute(_curve([0, 1, 2], ["50", "50", "50"]), [])
    assert (flat.volatility, flat.sharpe, flat.sortino, flat.calmar) == (0.0, 0.0, 0.0, 0.0)
    assert (flat.max_drawdown, flat.total_return, flat.periods) == (0.0, 0.0, 2)
    # 1% a day exactly: returns differ only by float noise, which counts as no risk.
    steady = [(d * DAY_NS, Decimal(100) * Decimal("1.01") ** d) for d in range(20)]
    s = compute(steady, [])
    assert (s.volatility, s.sharpe, s.sortino) == (0.0, 0.0, 0.0)
    assert math.isclose(s.total_return, 1.01**19 - 1, rel_tol=1e-12)
    # Empty curve: curve figures 0, trades still summarised. All wins: profit factor inf.
    empty = compute([], [Decimal(2), Decimal(4)], fees_paid=Decimal("0.5"))
    assert empty.as_dict() == {
        **dict.fromkeys(KEYS, 0.0), "max_drawdown_duration_ns": 0, "periods": 0,
        "trade_count": 2, "win_rate": 1.0, "expectancy": 3.0, "avg_win": 3.0,
        "profit_factor": math.inf, "fees_paid": 0.5,
    }  # fmt: skip
    # One point: no returns, no span; turnover over that equity.
    one = compute([(5, Decimal(250))], [], traded_notional=Decimal(500))
    assert one.as_dict() == {
        **dict.fromkeys(KEYS, 0.0), "max_drawdown_duration_ns": 0, "periods": 0,
        "trade_count": 0, "turnover": 2.0,
    }  # fmt: skip
    # All losses and no trades.
    losses = compute([], [Decimal(-1), Decimal(-3)])
    assert (losses.profit_factor, losses.win_rate, losses.avg_loss) == (0.0, 0.0, -2.0)
    none = compute([], [])
    assert (none.trade_count, none.profit_factor, none.expectancy) == (0, 0.0, 0.0)
    # Types in the dict: ints stay ints, inf is float('inf').
    d = empty.as_dict()
    assert type(d["trade_count"]) is int and d["profit_factor"] == float("inf")


def test_params_defaults_and_validation() -> None:
    defaults = StatisticsParams(
        interval_ns=86_400_000_000_000, periods_per_year=365.0, risk_free_rate=0.0, ddof=1
    )
    assert defaults == DEFAULT_PARAMS
    cases: list[tuple[dict[str, Any], str]] = [
        ({"interval_ns": 0}, "interval_ns 0 is out of range (rule: int, 0 < ns < 2^63)"),
        ({"interval_ns": 1.5}, "interval_ns 1.5 is out of range (rule: int, 0 < ns < 2^63)"),
        ({"periods_per_year": 0.0}, "periods_per_year 0.0 is out of range (rule: finite and > 0)"),
        ({"periods_per_year": math.inf}, "periods_per_year inf is out of range"),
        ({"risk_free_rate": -1.0}, "risk_free_rate -1.0 is out of range (rule: finite and > -1)"),
        ({"risk_free_rate": math.nan}, "risk_free_rate nan is out of range"),
        ({"ddof": -1}, "ddof -1 is out of range (rule: int, 0 <= ddof < 2^32)"),
    ]
    for kwargs, message in cases:
        with pytest.raises(ValidationError) as info:
            StatisticsParams(**kwargs)
        assert str(info.value).startswith(message)


def test_service_refuses_non_decimal_and_bad_times() -> None:
    good = Decimal(1)
    cases: list[tuple[Any, str]] = [
        (lambda: compute([(0, 1.5)], []), "equity[0] 1.5 is a float (rule: Decimal, never float)"),
        (lambda: compute([(0, Decimal("NaN"))], []), "equity[0] NaN is not finite"),
        (lambda: compute([], [Decimal("Infinity")]), "trade_pnl[0] Infinity is not finite"),
        (lambda: compute([(-1, good)], []), "equity[0].ts -1 is negative"),
        (lambda: compute([(2**63, good)], []), f"equity[0].ts {2**63} is out of range"),
        (lambda: compute([], [], positions=[(0, 1)]), "positions[0] 1 is a int"),
        (lambda: compute([], [], fees_paid=0.5), "fees_paid 0.5 is a float"),
    ]
    for call, message in cases:
        with pytest.raises(ValidationError) as info:
            call()
        assert str(info.value).startswith(message)
    # The core's own rules come back as ValueError naming the core's argument.
    with pytest.raises(ValueError, match=r"ts\[1\] = 0 is before ts\[0\] = 5"):
        compute([(5, good), (0, good)], [])
    with pytest.raises(ValueError, match=r"equity\[0\] = 0 is not positive \(rule: equity > 0"):
        compute([(0, Decimal(0))], [])


# --- the binding's validation ---------------------------------------------------------
def _ts(*values: int) -> I64:
    return np.array(values, dtype=np.int64)


def _f(*values: float) -> F64:
    return np.array(values, dtype=np.float64)


@pytest.mark.parametrize(
    ("args", "kwargs", "error", "message"),
    [
        ((_ts(0, 1), _f(1.0), _f()), {}, ValueError,
         "ts has 2 elements but equity has 1 (rule: one ts value per equity value)"),
        ((_ts(0, 2, 1), _f(1, 1, 1), _f()), {}, ValueError,
         "ts[2] = 1 is before ts[1] = 2 (rule: sorted ascending, ties allowed)"),
        ((_ts(0, 1), _f(1, math.nan), _f()), {}, ValueError,
         "equity[1] = NaN is not finite (rule: no NaN or infinity)"),
        ((_ts(0, 1), _f(1, -2), _f()), {}, ValueError,
         "equity[1] = -2 is not positive (rule: equity > 0, returns divide by it)"),
        ((_ts(0), _f(1), _f(1, math.inf)), {}, ValueError,
         "trade_pnl[1] = inf is not finite (rule: no NaN or infinity)"),
        ((_ts(0), _f(1), _f()), {"position_ts": _ts(3, 2), "position": _f(1, 0)}, ValueError,
         "position_ts[1] = 2 is before position_ts[0] = 3 (rule: sorted ascending, ties allowed)"),
        ((_ts(0), _f(1), _f()), {"position_ts": _ts(3)}, ValueError,
         "position_ts is given but position is None (rule: both or neither)"),
        ((_ts(0), _f(1), _f()), {"position_ts": _ts(3), "position": _f()}, ValueError,
         "position_ts has 1 elements but position has 0"),
        ((_ts(0), _f(1), _f()), {"interval_ns": 0}, ValueError,
         "interval_ns 0 is out of range (rule: interval_ns > 0)"),
        ((_ts(0), _f(1), _f()), {"interval_ns": -5}, ValueError,
         "interval_ns -5 is out of range (rule: interval_ns > 0)"),
        ((_ts(0), _f(1), _f()), {"periods_per_year": math.nan}, ValueError,
         "periods_per_year NaN is out of range (rule: finite and > 0)"),
        ((_ts(0), _f(1), _f()), {"risk_free_rate": -2.0}, ValueError,
         "risk_free_rate -2 is out of range (rule: finite and > -1)"),
        ((_ts(0), _f(1), _f()), {"ddof": -1}, ValueError,
         "ddof -1 is out of range (rule: 0 <= ddof < 2^32)"),
        ((_ts(0), _f(1), _f()), {"fees_paid": math.inf}, ValueError,
         "fees_paid inf is out of range (rule: finite)"),
        ((_ts(0), _f(1), _f()), {"traded_notional": -1.0}, ValueError,
         "traded_notional -1 is out of range (rule: finite and >= 0)"),
        ((_f(0.0), _f(1), _f()), {}, TypeError,
         "ts: a 1-D array of float64 is not a 1-D numpy array of int64"),
        ((_ts(0), [1.0], _f()), {}, TypeError,
         "equity: a list is not a 1-D numpy array of float64"),
        ((_ts(0), _f(1), _f()), {"position_ts": _ts(0).astype(np.int32), "position": _f(1)},
         TypeError, "position_ts: a 1-D array of int32 is not a 1-D numpy array of int64"),
    ],
)  # fmt: skip
def test_binding_errors_name_the_argument_the_value_and_the_rule(
    args: tuple[Any, ...], kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error) as info:
        _core.compute_stats(*args, **kwargs)
    assert str(info.value).startswith(message)
