//! Performance statistics of a run: returns, risk-adjusted ratios, drawdowns, trade figures.
//!
//! Plain `f64` on purpose: these are ratios and summaries for reports, never stored or
//! booked. The money inputs (equity, trade P&L, fees, traded notional) are converted from
//! exact [`Money`](crate::money::Money)/`Decimal` to `f64` once, by the caller, at the edge
//! (the Python service `engine.services.statistics` does it); nothing here feeds back into
//! accounting. Sums use compensated (Neumaier) summation so a figure does not depend on the
//! order of thousands of small terms more than it must.
//!
//! # Inputs
//!
//! - Equity curve: `ts` (ns, sorted ascending, ties allowed: the later row is the later
//!   observation) and `equity` (finite, > 0). Between samples equity is a step function:
//!   each value holds until the next sample.
//! - Closed trades' net P&L (fees included), finite, any order.
//! - Position curve: `position_ts` (sorted, ties allowed) and the signed `position` held
//!   from that time until the next sample (flat before the first sample). Empty: flat.
//! - `fees_paid` (finite; passed through to the report) and `traded_notional` (finite, >= 0).
//!
//! # Definitions (every figure; "the span" is `[ts[0], ts[last]]`)
//!
//! - **Resampling.** Returns are taken on a regular grid anchored at the first sample:
//!   `g_k = ts[0] + k * interval_ns` for `k = 0..=K`, `K = floor(span / interval_ns)`. The
//!   value at `g_k` is the equity of the last sample with `ts <= g_k` (the last row among
//!   ties). Samples after `g_K` (a partial last period) enter no return, but do enter
//!   the total return, CAGR, drawdown, turnover and exposure. Anchor the curve at a
//!   calendar boundary (00:00 UTC) to get calendar-day returns.
//! - **Returns**: simple, `r_k = v_k / v_(k-1) - 1`, `k = 1..=K`; `periods = K`. Grid steps
//!   with no new sample have `r_k = 0` exactly, so the cost is O(samples), not O(K).
//! - **Per-period risk-free rate**: `rf_p = (1 + risk_free_rate)^(1 / periods_per_year) - 1`
//!   (computed as `expm1(ln_1p(risk_free_rate) / periods_per_year)`).
//! - **volatility** = `std(r, ddof) * sqrt(periods_per_year)`, with
//!   `std = sqrt(sum((r - mean(r))^2) / (periods - ddof))`; 0.0 when `periods <= ddof`.
//! - **sharpe** = `(mean(r) - rf_p) / std(r, ddof) * sqrt(periods_per_year)`.
//! - **sortino** = `(mean(r) - rf_p) / dd * sqrt(periods_per_year)`, downside deviation
//!   `dd = sqrt(sum(min(0, r_k - rf_p)^2) / periods)` over ALL periods (gains count as 0
//!   below the target, not dropped), no `ddof`.
//! - **Zero risk.** A per-period `std` or `dd` below [`ZERO_RISK`] (1e-12) is float noise
//!   (a curve growing by the same factor every period leaves ~1e-17) and counts as 0; then
//!   `volatility` is 0.0 and the ratio over it (Sharpe, Sortino) is 0.0, not NaN or
//!   infinity: no risk was measured, so there is no risk-adjusted figure to report.
//! - **total_return** = `equity[last] / equity[0] - 1`.
//! - **cagr** = `(equity[last] / equity[0])^(1 / years) - 1`, `years = span / 365.25 days`
//!   (calendar time, independent of `periods_per_year`, so it is right for a 252-day
//!   equity calendar too); 0.0 for a zero span. Not capped: a short run extrapolates wildly
//!   and may overflow to `inf`.
//! - **max_drawdown** = `max(1 - equity[i] / peak_i)`, `peak_i = max(equity[..=i])`, over
//!   every raw sample (not the grid, so intraday dips count): a POSITIVE fraction in
//!   `[0, 1)`, 0.25 meaning 25% below the peak.
//! - **max_drawdown_duration_ns**: for each underwater stretch (samples below the running
//!   peak), the time from the last sample at the peak before it to the first sample back at
//!   or above that peak, or to `ts[last]` if it never recovers; the longest of these.
//! - **calmar** = `cagr / max_drawdown`; 0.0 when `max_drawdown` is 0 (as for Sharpe).
//! - **Trades** (break-even trades, P&L exactly 0, count in `trade_count` only):
//!   `win_rate` = wins / trade_count; `profit_factor` = sum of wins / |sum of losses|,
//!   `f64::INFINITY` when there are wins and no losses, 0.0 with neither; `expectancy` =
//!   mean P&L; `avg_win` = mean winning P&L; `avg_loss` = mean losing P&L (negative). Each
//!   is 0.0 when its denominator is empty.
//! - **exposure** = time with a non-zero position inside the span / span (0.0 for a zero
//!   span).
//! - **turnover** = `traded_notional` / time-weighted average equity over the span (the
//!   step function above; for a zero span, the last sample's equity). Whole run, not
//!   annualised.
//! - **Empty curve**: every curve figure is 0 (trades are still summarised); **one point**
//!   (or a zero span): returns, CAGR, drawdown and exposure are 0, turnover uses that
//!   equity.

mod error;

pub use error::StatsError;

/// One day in nanoseconds: the default sampling interval.
pub const DAY_NS: i64 = 86_400_000_000_000;
/// The calendar year of CAGR: 365.25 days in nanoseconds.
pub const YEAR_NS: f64 = 365.25 * 86_400e9;
/// A per-period standard or downside deviation below this is float noise and counts as 0.
pub const ZERO_RISK: f64 = 1e-12;

/// How returns are sampled and annualised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StatsParams {
    /// Grid step of the resampled curve, ns, > 0. Default one day.
    pub interval_ns: i64,
    /// Periods in a year, for annualising volatility, Sharpe and Sortino, and for the
    /// per-period risk-free rate. Finite, > 0. Default 365 (crypto trades every day).
    pub periods_per_year: f64,
    /// Annual risk-free rate as a fraction (0.05 = 5%), finite, > -1. Default 0.
    pub risk_free_rate: f64,
    /// Delta degrees of freedom of the standard deviation. Default 1 (sample std).
    pub ddof: u32,
}

impl Default for StatsParams {
    fn default() -> Self {
        StatsParams { interval_ns: DAY_NS, periods_per_year: 365.0, risk_free_rate: 0.0, ddof: 1 }
    }
}

impl StatsParams {
    pub fn validate(&self) -> Result<(), StatsError> {
        let param = |field, value: String, rule| Err(StatsError::Param { field, value, rule });
        if self.interval_ns <= 0 {
            return param("interval_ns", self.interval_ns.to_string(), "interval_ns > 0");
        }
        let ppy = self.periods_per_year;
        if !(ppy.is_finite() && ppy > 0.0) {
            return param("periods_per_year", ppy.to_string(), "finite and > 0");
        }
        let rf = self.risk_free_rate;
        if !(rf.is_finite() && rf > -1.0) {
            return param("risk_free_rate", rf.to_string(), "finite and > -1");
        }
        Ok(())
    }

    /// `(1 + rf)^(1 / periods_per_year) - 1`.
    pub fn risk_free_per_period(&self) -> f64 {
        (self.risk_free_rate.ln_1p() / self.periods_per_year).exp_m1()
    }
}

/// The run to summarise; see the module docs for each field's rule. Empty slices are
/// allowed (`Default` gives an empty run).
#[derive(Debug, Clone, Copy, Default)]
pub struct StatsInput<'a> {
    pub ts: &'a [i64],
    pub equity: &'a [f64],
    pub trade_pnl: &'a [f64],
    pub position_ts: &'a [i64],
    pub position: &'a [f64],
    pub fees_paid: f64,
    pub traded_notional: f64,
}

impl StatsInput<'_> {
    pub fn validate(&self) -> Result<(), StatsError> {
        same_len("ts", self.ts.len(), "equity", self.equity.len())?;
        same_len("position_ts", self.position_ts.len(), "position", self.position.len())?;
        sorted("ts", self.ts)?;
        // One pass for both equity rules; the first bad value is reported.
        if let Some(i) = self.equity.iter().position(|&e| !(e.is_finite() && e > 0.0)) {
            let value = self.equity[i];
            return Err(if value.is_finite() {
                StatsError::NotPositive { field: "equity", index: i, value }
            } else {
                StatsError::NotFinite { field: "equity", index: i, value }
            });
        }
        finite("trade_pnl", self.trade_pnl)?;
        sorted("position_ts", self.position_ts)?;
        finite("position", self.position)?;
        if !self.fees_paid.is_finite() {
            let value = self.fees_paid.to_string();
            return Err(StatsError::Param { field: "fees_paid", value, rule: "finite" });
        }
        let notional = self.traded_notional;
        if !(notional.is_finite() && notional >= 0.0) {
            let value = notional.to_string();
            return Err(StatsError::Param { field: "traded_notional", value, rule: "finite and >= 0" });
        }
        if let (Some(&first), Some(&last)) = (self.ts.first(), self.ts.last()) {
            if last.checked_sub(first).is_none() {
                return Err(StatsError::Span { first, last });
            }
        }
        Ok(())
    }
}

fn same_len(field: &'static str, len: usize, other: &'static str, other_len: usize)
    -> Result<(), StatsError> {
    if len == other_len {
        return Ok(());
    }
    Err(StatsError::LengthMismatch { field, len, other, other_len })
}

fn sorted(field: &'static str, ts: &[i64]) -> Result<(), StatsError> {
    match ts.windows(2).position(|w| w[1] < w[0]) {
        Some(i) => Err(StatsError::Unsorted { field, index: i + 1, value: ts[i + 1], previous: ts[i] }),
        None => Ok(()),
    }
}

fn finite(field: &'static str, values: &[f64]) -> Result<(), StatsError> {
    match values.iter().position(|v| !v.is_finite()) {
        Some(i) => Err(StatsError::NotFinite { field, index: i, value: values[i] }),
        None => Ok(()),
    }
}

/// Every figure of a run (definitions in the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct Stats {
    pub total_return: f64,
    pub cagr: f64,
    pub volatility: f64,
    pub sharpe: f64,
    pub sortino: f64,
    pub calmar: f64,
    pub max_drawdown: f64,
    pub max_drawdown_duration_ns: i64,
    pub win_rate: f64,
    pub profit_factor: f64,
    pub expectancy: f64,
    pub avg_win: f64,
    pub avg_loss: f64,
    pub trade_count: u64,
    pub exposure: f64,
    pub turnover: f64,
    pub fees_paid: f64,
    /// Number of returns on the grid (`K`), the sample size behind the ratios.
    pub periods: u64,
}

/// Checks the inputs and computes every figure; on error nothing is computed.
pub fn compute(input: &StatsInput<'_>, params: &StatsParams) -> Result<Stats, StatsError> {
    params.validate()?;
    input.validate()?;
    Ok(figures(input, params))
}

fn figures(input: &StatsInput<'_>, params: &StatsParams) -> Stats {
    let mut s = Stats { fees_paid: input.fees_paid, ..Stats::default() };
    trade_figures(input.trade_pnl, &mut s);
    let (ts, equity) = (input.ts, input.equity);
    let (Some(&t0), Some(&t_end)) = (ts.first(), ts.last()) else {
        return s;
    };
    let (first, last) = (equity[0], equity[equity.len() - 1]);
    let span = t_end - t0;
    s.total_return = last / first - 1.0;
    if span > 0 {
        let years = span as f64 / YEAR_NS;
        s.cagr = ((last / first).ln() / years).exp_m1();
    }
    (s.max_drawdown, s.max_drawdown_duration_ns) = drawdown(ts, equity);
    if s.max_drawdown > 0.0 {
        s.calmar = s.cagr / s.max_drawdown;
    }
    return_figures(&resample(ts, equity, params.interval_ns), params, &mut s);
    s.exposure = exposure(t0, t_end, input.position_ts, input.position);
    s.turnover = input.traded_notional / average_equity(ts, equity);
    s
}

/// Neumaier's compensated sum: error independent of the number of terms for our sizes.
#[derive(Debug, Clone, Copy, Default)]
struct Sum {
    sum: f64,
    carry: f64,
}

impl Sum {
    fn add(&mut self, x: f64) {
        let t = self.sum + x;
        if self.sum.abs() >= x.abs() {
            self.carry += (self.sum - t) + x;
        } else {
            self.carry += (x - t) + self.sum;
        }
        self.sum = t;
    }

    fn value(&self) -> f64 {
        self.sum + self.carry
    }
}

fn trade_figures(pnl: &[f64], s: &mut Stats) {
    let (mut total, mut wins, mut losses) = (Sum::default(), Sum::default(), Sum::default());
    let (mut n_wins, mut n_losses) = (0u64, 0u64);
    for &p in pnl {
        total.add(p);
        if p > 0.0 {
            wins.add(p);
            n_wins += 1;
        } else if p < 0.0 {
            losses.add(p);
            n_losses += 1;
        }
    }
    let n = pnl.len() as u64;
    s.trade_count = n;
    if n == 0 {
        return;
    }
    let (gross_win, gross_loss) = (wins.value(), losses.value());
    s.win_rate = n_wins as f64 / n as f64;
    s.expectancy = total.value() / n as f64;
    if n_wins > 0 {
        s.avg_win = gross_win / n_wins as f64;
    }
    if n_losses > 0 {
        s.avg_loss = gross_loss / n_losses as f64;
        s.profit_factor = gross_win / -gross_loss;
    } else if n_wins > 0 {
        s.profit_factor = f64::INFINITY;
    }
}

/// The grid returns, stored sparsely: `moves` are the returns at grid steps where a new
/// sample became visible (some may be 0.0); the other `periods - moves.len()` are 0.0.
#[derive(Debug, Clone, PartialEq, Default)]
pub(crate) struct Returns {
    pub moves: Vec<f64>,
    pub periods: u64,
}

pub(crate) fn resample(ts: &[i64], equity: &[f64], interval_ns: i64) -> Returns {
    let (Some(&t0), Some(&t_end)) = (ts.first(), ts.last()) else {
        return Returns::default();
    };
    // Offsets from t0 fit in i64 (the span is checked), so no i128 is needed.
    let step = interval_ns;
    let last_k = (t_end - t0) / step;
    // At most one move per later sample and per period.
    let mut moves = Vec::with_capacity((ts.len() - 1).min(usize::try_from(last_k).unwrap_or(usize::MAX)));
    // A sample is first seen at grid point k = ceil((ts - t0) / step); consecutive samples
    // with the same k collapse to the last of them. `bound` = seen_k * step: a sample at
    // or before it belongs to the current point, one step past it to the next; only a
    // longer jump pays for a division.
    let (mut seen_k, mut bound, mut seen_value) = (0i64, 0i64, equity[0]);
    let mut previous: Option<f64> = None;
    for (&t, &e) in ts.iter().zip(equity).skip(1) {
        let offset = t - t0;
        if offset > bound {
            let k = if offset <= bound.saturating_add(step) {
                seen_k + 1
            } else {
                offset / step + i64::from(offset % step != 0)
            };
            if k > last_k {
                break;
            }
            if let Some(p) = previous {
                moves.push(seen_value / p - 1.0);
            }
            previous = Some(seen_value);
            (seen_k, bound) = (k, k * step);
        }
        seen_value = e;
    }
    if let Some(p) = previous {
        moves.push(seen_value / p - 1.0);
    }
    Returns { moves, periods: last_k as u64 }
}

fn return_figures(r: &Returns, params: &StatsParams, s: &mut Stats) {
    s.periods = r.periods;
    if r.periods == 0 {
        return;
    }
    let n = r.periods as f64;
    let zeros = (r.periods - r.moves.len() as u64) as f64;
    let rf = params.risk_free_per_period();
    let mut total = Sum::default();
    r.moves.iter().for_each(|&x| total.add(x));
    let mean = total.value() / n;
    let (mut squares, mut downside) = (Sum::default(), Sum::default());
    for &x in &r.moves {
        squares.add((x - mean) * (x - mean));
        let below = (x - rf).min(0.0);
        downside.add(below * below);
    }
    squares.add(zeros * mean * mean);
    let below = (-rf).min(0.0);
    downside.add(zeros * below * below);

    let annual = params.periods_per_year.sqrt();
    let excess = mean - rf;
    let ddof = u64::from(params.ddof);
    if r.periods > ddof {
        let std = (squares.value() / (r.periods - ddof) as f64).sqrt();
        if std >= ZERO_RISK {
            s.volatility = std * annual;
            s.sharpe = excess / std * annual;
        }
    }
    let dd = (downside.value() / n).sqrt();
    if dd >= ZERO_RISK {
        s.sortino = excess / dd * annual;
    }
}

/// (deepest fall below the running peak as a fraction, longest time below a peak in ns).
pub(crate) fn drawdown(ts: &[i64], equity: &[f64]) -> (f64, i64) {
    let (mut peak, mut peak_ts) = (equity[0], ts[0]);
    let (mut depth, mut longest, mut underwater) = (0.0f64, 0i64, false);
    for (&t, &e) in ts.iter().zip(equity).skip(1) {
        if e >= peak {
            if underwater {
                longest = longest.max(t - peak_ts);
                underwater = false;
            }
            (peak, peak_ts) = (e, t);
        } else {
            underwater = true;
            depth = depth.max(1.0 - e / peak);
        }
    }
    if underwater {
        longest = longest.max(ts[ts.len() - 1] - peak_ts);
    }
    (depth, longest)
}

/// Fraction of `[t0, t_end]` with a non-zero position.
pub(crate) fn exposure(t0: i64, t_end: i64, position_ts: &[i64], position: &[f64]) -> f64 {
    if t_end <= t0 {
        return 0.0;
    }
    let mut held = 0i64;
    for (i, (&t, &q)) in position_ts.iter().zip(position).enumerate() {
        if t >= t_end {
            break;
        }
        let until = position_ts.get(i + 1).map_or(t_end, |&next| next.min(t_end));
        let from = t.max(t0);
        if q != 0.0 && until > from {
            held += until - from;
        }
    }
    held as f64 / (t_end - t0) as f64
}

/// Time-weighted mean of the equity step function over the span; the last value if the
/// span is zero.
pub(crate) fn average_equity(ts: &[i64], equity: &[f64]) -> f64 {
    let span = ts[ts.len() - 1] - ts[0];
    if span == 0 {
        return equity[equity.len() - 1];
    }
    let mut area = Sum::default();
    for (w, &e) in ts.windows(2).zip(equity) {
        area.add(e * (w[1] - w[0]) as f64);
    }
    area.value() / span as f64
}

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;
