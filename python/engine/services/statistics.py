"""Statistics: the performance figures of a backtest or paper run, computed by the Rust core.

The definitions (resampling grid, annualisation, risk-free rate, drawdown, every edge case)
are written once, in `rust/stats/mod.rs`, and summarised on `Statistics`. This service is
the one edge where money leaves exact arithmetic: the equity curve, trade P&L, fees and
traded notional arrive as `Decimal` and are converted here with `float(Decimal)`, which
rounds to the nearest double (relative error <= 1.1e-16, far below anything a ratio
resolves). Nothing computed here is booked or fed back into accounting.

Pure: no I/O, no clock. Inputs that are not Decimals, not finite or not int timestamps
raise `ValidationError` here; the core refuses the rest (unsorted times, equity <= 0,
negative traded notional) with a `ValueError` naming the argument, the index, the value and
the rule (its `ts[i]`/`equity[i]` are `equity[i]` here, `position_ts[i]`/`position[i]` are
`positions[i]`). The parameters are checked when `StatisticsParams` is built.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal

import numpy as np
import numpy.typing as npt

from engine import _core
from engine.domain import _checks
from engine.domain.errors import ValidationError

__all__ = [
    "DAY_NS",
    "DEFAULT_PARAMS",
    "Statistics",
    "StatisticsParams",
    "compute",
    "exposure_curve",
]

DAY_NS = 86_400_000_000_000
_INT64_MAX = 2**63 - 1


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True, slots=True, kw_only=True)
class StatisticsParams:
    """How returns are sampled and annualised.

    - `interval_ns`: grid step for returns (default one day). The grid is anchored at the
      first equity sample, and each point takes the last equity at or before it.
    - `periods_per_year`: annualisation factor for volatility, Sharpe and Sortino, and the
      root taken of the risk-free rate (default 365: crypto trades every day; use 252 with
      daily sampling of an exchange calendar).
    - `risk_free_rate`: annual, as a fraction; per period `(1 + rf)^(1 / periods) - 1`.
    - `ddof`: delta degrees of freedom of the standard deviation (default 1, sample std).
    """

    interval_ns: int = DAY_NS
    periods_per_year: float = 365.0
    risk_free_rate: float = 0.0
    ddof: int = 1

    def __post_init__(self) -> None:
        if not _is_int(self.interval_ns) or not 0 < self.interval_ns <= _INT64_MAX:
            rule = "is out of range (rule: int, 0 < ns < 2^63)"
            raise ValidationError("interval_ns", self.interval_ns, rule)
        ppy = self.periods_per_year
        if not _is_real(ppy) or not (math.isfinite(ppy) and ppy > 0):
            raise ValidationError("periods_per_year", ppy, "is out of range (rule: finite and > 0)")
        rf = self.risk_free_rate
        if not _is_real(rf) or not (math.isfinite(rf) and rf > -1):
            raise ValidationError("risk_free_rate", rf, "is out of range (rule: finite and > -1)")
        if not _is_int(self.ddof) or not 0 <= self.ddof < 2**32:
            rule = "is out of range (rule: int, 0 <= ddof < 2^32)"
            raise ValidationError("ddof", self.ddof, rule)


@dataclass(frozen=True, slots=True, kw_only=True)
class Statistics:
    """Every figure of a run. Fractions are plain (0.25 = 25%).

    - `total_return`: last equity / first - 1. `cagr`: annualised over calendar time
      (years of 365.25 days, whatever `periods_per_year` is); 0.0 for a zero span.
    - `volatility`, `sharpe`, `sortino`: annualised, over the simple returns of the
      resampled curve (`periods` of them); Sortino's downside deviation is the root mean
      square of min(0, r - rf per period) over all periods. A risk figure below 1e-12 per
      period (flat or steadily growing equity) counts as zero: volatility and the ratio
      over it are then 0.0.
    - `max_drawdown`: deepest fall below the running peak over every raw sample, a positive
      fraction. `max_drawdown_duration_ns`: the longest time from the last sample at a
      peak to the first back at or above it, or to the end. `calmar`: cagr / max_drawdown,
      0.0 without a drawdown.
    - Trades (break-even ones count in `trade_count` only): `win_rate`, `profit_factor`
      (gross wins / |gross losses|; `inf` with wins and no losses; 0.0 with neither),
      `expectancy` (mean P&L), `avg_win`, `avg_loss` (negative); 0.0 when empty.
    - `exposure`: fraction of the curve's time span with a non-zero position.
      `turnover`: traded notional / time-weighted average equity, whole run.
      `fees_paid`: as given.
    """

    total_return: float
    cagr: float
    volatility: float
    sharpe: float
    sortino: float
    calmar: float
    max_drawdown: float
    max_drawdown_duration_ns: int
    win_rate: float
    profit_factor: float
    expectancy: float
    avg_win: float
    avg_loss: float
    trade_count: int
    exposure: float
    turnover: float
    fees_paid: float
    periods: int

    def as_dict(self) -> dict[str, float | int]:
        """The figures by name, in declaration order (ints stay ints)."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


DEFAULT_PARAMS = StatisticsParams()
"""Daily returns, 365 periods a year, no risk-free rate, sample standard deviation."""


def compute(
    equity: Sequence[tuple[int, Decimal]],
    trade_pnl: Sequence[Decimal],
    *,
    positions: Sequence[tuple[int, Decimal]] = (),
    fees_paid: Decimal = Decimal(0),
    traded_notional: Decimal = Decimal(0),
    params: StatisticsParams = DEFAULT_PARAMS,
) -> Statistics:
    """The figures of a run.

    `equity`: (ts_ns, equity) sorted by time, equity > 0 (marks included). `trade_pnl`:
    each closed trade's net P&L, fees included. `positions`: (ts_ns, signed quantity)
    sorted by time, each held until the next (flat before the first). `fees_paid` and
    `traded_notional` (>= 0) in the same currency as the equity.
    """
    ts = _times("equity", [t for t, _ in equity])
    values = _floats("equity", [e for _, e in equity])
    position_ts = _times("positions", [t for t, _ in positions])
    position = _floats("positions", [q for _, q in positions])
    figures = _core.compute_stats(
        ts,
        values,
        _floats("trade_pnl", trade_pnl),
        position_ts=position_ts,
        position=position,
        fees_paid=_float("fees_paid", fees_paid),
        traded_notional=_float("traded_notional", traded_notional),
        interval_ns=params.interval_ns,
        periods_per_year=float(params.periods_per_year),
        risk_free_rate=float(params.risk_free_rate),
        ddof=params.ddof,
    )
    return Statistics(
        total_return=float(figures["total_return"]),
        cagr=float(figures["cagr"]),
        volatility=float(figures["volatility"]),
        sharpe=float(figures["sharpe"]),
        sortino=float(figures["sortino"]),
        calmar=float(figures["calmar"]),
        max_drawdown=float(figures["max_drawdown"]),
        max_drawdown_duration_ns=int(figures["max_drawdown_duration_ns"]),
        win_rate=float(figures["win_rate"]),
        profit_factor=float(figures["profit_factor"]),
        expectancy=float(figures["expectancy"]),
        avg_win=float(figures["avg_win"]),
        avg_loss=float(figures["avg_loss"]),
        trade_count=int(figures["trade_count"]),
        exposure=float(figures["exposure"]),
        turnover=float(figures["turnover"]),
        fees_paid=float(figures["fees_paid"]),
        periods=int(figures["periods"]),
    )


def exposure_curve(
    changes: Iterable[tuple[int, Hashable, Decimal]],
) -> list[tuple[int, Decimal]]:
    """`compute`'s `positions` for a run over any number of positions.

    `changes`: (ts_ns, position key, signed quantity after the change) in journal order,
    one per position snapshot (key: the symbol, or account and symbol). Returns (ts_ns,
    sum of |quantity| over every position) after each change, sorted by time: non-zero
    exactly when some position is open, which is all that exposure measures. Changes are
    sorted by time first (stably, so each position keeps its own order): with several
    instruments, the journal may hold a fill of one instrument after a slightly later
    fill of another (see `adapters.backtest`)."""
    held: dict[Hashable, Decimal] = {}
    out: list[tuple[int, Decimal]] = []
    for ts, key, quantity in sorted(changes, key=lambda change: change[0]):
        held[key] = abs(quantity)
        out.append((ts, sum(held.values(), Decimal(0))))
    return out


def _float(field: str, value: object) -> float:
    """The one Decimal-to-float conversion (nearest double)."""
    return float(_checks.decimal(field, value))


def _floats(field: str, values: Sequence[object]) -> npt.NDArray[np.float64]:
    out = np.empty(len(values), dtype=np.float64)
    for i, value in enumerate(values):
        out[i] = _float(f"{field}[{i}]", value)
    return out


def _times(field: str, values: Sequence[object]) -> npt.NDArray[np.int64]:
    for i, t in enumerate(values):
        _checks.timestamp_ns(f"{field}[{i}].ts", t)
        if isinstance(t, int) and t > _INT64_MAX:
            raise ValidationError(f"{field}[{i}].ts", t, "is out of range (rule: < 2^63 ns)")
    return np.array(values, dtype=np.int64)
