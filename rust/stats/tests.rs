//! Hand-computed examples (the working is in the comments) and the edge cases.

use super::*;

const H: i64 = 3_600_000_000_000;

fn close(got: f64, want: f64) -> bool {
    (got - want).abs() <= 1e-12 * want.abs().max(1.0)
}

macro_rules! assert_close {
    ($got:expr, $want:expr) => {{
        let (got, want) = ($got, $want);
        assert!(close(got, want), "{} = {got:?}, want {want:?}", stringify!($got));
    }};
}

fn days(d: &[i64]) -> Vec<i64> {
    d.iter().map(|x| x * DAY_NS).collect()
}

fn run(ts: &[i64], equity: &[f64], params: &StatsParams) -> Stats {
    compute(&StatsInput { ts, equity, ..StatsInput::default() }, params).unwrap()
}

#[test]
fn daily_curve_by_hand() {
    // Days 0..4, equity 100 120 90 90 108; one sample per grid point.
    // r = 0.2, -0.25, 0, 0.2; mean = 0.15 / 4 = 0.0375.
    // Squared deviations 0.1625² + 0.2875² + 0.0375² + 0.1625² = 0.136875;
    // ddof 1: var = 0.136875 / 3 = 0.045625, and 365 / 0.045625 = 8000, so
    // Sharpe = 0.0375 * sqrt(8000) = 3.35410196624968; volatility = sqrt(0.045625 * 365).
    // Downside: min(0, r) = 0, -0.25, 0, 0 → dd = sqrt(0.0625 / 4) = 0.125 and
    // Sortino = 0.0375 / 0.125 * sqrt(365) = 0.3 * sqrt(365) = 5.73149195236284.
    // Peak 120 on day 1, trough 90: drawdown 1 - 90/120 = 0.25, still under 120 at the end
    // (108), so the duration is day 4 - day 1 = 3 days.
    // CAGR: 1.08^(365.25 / 4) - 1 = 1126.21477561282; Calmar = that / 0.25.
    // Time-weighted average equity = (100 + 120 + 90 + 90) / 4 = 100; turnover 1000/100.
    let ts = days(&[0, 1, 2, 3, 4]);
    let equity = [100.0, 120.0, 90.0, 90.0, 108.0];
    let (traded_notional, fees_paid) = (1000.0, 3.5);
    let input = StatsInput { ts: &ts, equity: &equity, traded_notional, fees_paid, ..StatsInput::default() };
    let s = compute(&input, &StatsParams::default()).unwrap();
    assert_eq!(s.periods, 4);
    assert_close!(s.total_return, 0.08);
    assert_close!(s.volatility, 4.080824058937116);
    assert_close!(s.sharpe, 3.3541019662496847);
    assert_close!(s.sortino, 5.731491952362839);
    assert_close!(s.max_drawdown, 0.25);
    assert_eq!(s.max_drawdown_duration_ns, 3 * DAY_NS);
    assert_close!(s.cagr, 1126.2147756128236);
    assert_close!(s.calmar, 1126.2147756128236 / 0.25);
    assert_close!(s.turnover, 10.0);
    assert_eq!(s.fees_paid, 3.5);
    assert_eq!(s.exposure, 0.0);
}

#[test]
fn risk_free_rate_and_ddof() {
    // Same returns 0.2, -0.25, 0, 0.2 with 4 periods a year and rf = 1.05^4 - 1, so the
    // per-period rate is exactly 5%: excess mean = 0.0375 - 0.05 = -0.0125.
    // Sharpe = -0.0125 / sqrt(0.045625) * sqrt(4) = -0.117041147196131.
    // min(0, r - 0.05) = 0, -0.3, -0.05, 0 → dd² = (0.09 + 0.0025) / 4 = 0.023125,
    // Sortino = -0.0125 / sqrt(0.023125) * 2 = -0.164398987305357.
    // ddof 0: std = sqrt(0.136875 / 4), volatility = that * 2.
    let ts = days(&[0, 1, 2, 3, 4]);
    let equity = [100.0, 120.0, 90.0, 90.0, 108.0];
    let params = StatsParams { periods_per_year: 4.0, risk_free_rate: 0.21550625, ..StatsParams::default() };
    assert_close!(params.risk_free_per_period(), 0.05);
    let s = run(&ts, &equity, &params);
    assert_close!(s.sharpe, -0.11704114719613057);
    assert_close!(s.sortino, -0.16439898730535732);
    assert_close!(s.volatility, 0.045625f64.sqrt() * 2.0);
    let s0 = run(&ts, &equity, &StatsParams { ddof: 0, ..params });
    assert_close!(s0.volatility, (0.136875f64 / 4.0).sqrt() * 2.0);
    // ddof >= periods leaves no degrees of freedom: volatility and Sharpe are 0.
    let s4 = run(&ts, &equity, &StatsParams { ddof: 4, ..params });
    assert_eq!((s4.volatility, s4.sharpe), (0.0, 0.0));
    assert_close!(s4.sortino, -0.16439898730535732);
}

#[test]
fn irregular_samples_resample_to_last_value_at_or_before_each_grid_point() {
    // Samples at 0h 5h 30h 47h 49h 50h, daily grid anchored at 0h: K = floor(50/24) = 2,
    // grid 0h → 100 (0h), 24h → 110 (5h), 48h → 99 (47h). Returns 0.1 and -0.1; the
    // samples at 49h and 50h are a partial period and enter no return.
    // Drawdown over every sample: peak 121 at 30h, trough 90 at 49h: 1 - 90/121;
    // back above 121 at 50h (200): duration 50h - 30h = 20h. Total return 200/100 - 1 = 1.
    // mean ≈ 0, std (ddof 1) = sqrt(0.1² + 0.1²) = sqrt(0.02).
    let ts: Vec<i64> = [0, 5, 30, 47, 49, 50].iter().map(|h| h * H).collect();
    let equity = [100.0, 110.0, 121.0, 99.0, 90.0, 200.0];
    let s = run(&ts, &equity, &StatsParams::default());
    assert_eq!(s.periods, 2);
    assert_eq!(resample(&ts, &equity, DAY_NS).moves.len(), 2);
    assert_close!(s.volatility, 0.02f64.sqrt() * 365f64.sqrt());
    assert!(s.sharpe.abs() < 1e-12, "{}", s.sharpe);
    assert_close!(s.max_drawdown, 1.0 - 90.0 / 121.0);
    assert_eq!(s.max_drawdown_duration_ns, 20 * H);
    assert_close!(s.total_return, 1.0);
}

#[test]
fn grid_steps_without_a_sample_are_zero_returns() {
    // Two samples 3 days apart: grid values 100, 100, 100, 133.1 → returns 0, 0, 0.331.
    // mean = 0.331/3; squares: 2 * (0.331/3)² + (0.331 * 2/3)² = 0.331² * 6/9,
    // ddof 1 → var = 0.331² / 3.
    let ts = days(&[0, 3]);
    let s = run(&ts, &[100.0, 133.1], &StatsParams::default());
    assert_eq!(s.periods, 3);
    let std = 0.331 / 3f64.sqrt();
    assert_close!(s.volatility, std * 365f64.sqrt());
    assert_close!(s.sharpe, 0.331 / 3.0 / std * 365f64.sqrt());
    // Nothing falls below zero: no downside, Sortino 0 by the zero-risk rule.
    assert_eq!(s.sortino, 0.0);
    let r = resample(&ts, &[100.0, 133.1], DAY_NS);
    assert_eq!(r.periods, 3);
    assert_eq!(r.moves.len(), 1);
}

#[test]
fn ties_take_the_last_row() {
    // Two rows at 0 and two at day 1: the grid sees 50 then 80, return 0.6; the first rows
    // still count as samples for the drawdown (peak 100 at 0 → 50 at 0: 50%).
    let ts = days(&[0, 0, 1, 1]);
    let equity = [100.0, 50.0, 70.0, 80.0];
    let r = resample(&ts, &equity, DAY_NS);
    assert_eq!(r.periods, 1);
    assert_close!(r.moves[0], 0.6);
    let s = run(&ts, &equity, &StatsParams::default());
    assert_close!(s.max_drawdown, 0.5);
    assert_eq!(s.max_drawdown_duration_ns, DAY_NS);
    assert_close!(s.total_return, -0.2);
    // Average equity: the rows at 0 hold for 0 ns and 1 day: (100*0 + 50*1 + 70*0) / 1.
    let s = compute(
        &StatsInput { ts: &ts, equity: &equity, traded_notional: 100.0, ..StatsInput::default() },
        &StatsParams::default(),
    )
    .unwrap();
    assert_close!(s.turnover, 2.0);
}

#[test]
fn drawdown_durations_take_the_longest_stretch() {
    // 100 (day 0) → 90 (day 1) → 100 (day 5): recovered after 5 days from the peak at day 0.
    // 100 (day 5) → 80 (day 6) → 120 (day 7): 2 days. Deepest 1 - 80/100 = 0.2.
    let ts = days(&[0, 1, 5, 6, 7]);
    let s = run(&ts, &[100.0, 90.0, 100.0, 80.0, 120.0], &StatsParams::default());
    assert_eq!(s.max_drawdown_duration_ns, 5 * DAY_NS);
    assert_close!(s.max_drawdown, 0.2);
    // The stretch starts at the LAST sample at the peak: flat at 100 until day 4.
    let ts = days(&[0, 4, 5, 6]);
    let s = run(&ts, &[100.0, 100.0, 99.0, 100.0], &StatsParams::default());
    assert_eq!(s.max_drawdown_duration_ns, 2 * DAY_NS);
}

#[test]
fn trade_figures_by_hand() {
    // P&L 10, -5, 0, 20, -15: wins 10 + 20 = 30 (2), losses -20 (2), one break-even.
    // win rate 2/5, profit factor 30/20, expectancy 10/5, avg win 15, avg loss -10.
    let pnl = [10.0, -5.0, 0.0, 20.0, -15.0];
    let input = StatsInput { trade_pnl: &pnl, ..StatsInput::default() };
    let s = compute(&input, &StatsParams::default()).unwrap();
    assert_eq!(s.trade_count, 5);
    assert_close!(s.win_rate, 0.4);
    assert_close!(s.profit_factor, 1.5);
    assert_close!(s.expectancy, 2.0);
    assert_close!(s.avg_win, 15.0);
    assert_close!(s.avg_loss, -10.0);
}

#[test]
fn all_wins_all_losses_no_trades() {
    let params = StatsParams::default();
    let wins = compute(&StatsInput { trade_pnl: &[1.0, 3.0], ..StatsInput::default() }, &params).unwrap();
    assert_eq!(wins.profit_factor, f64::INFINITY);
    assert_eq!((wins.win_rate, wins.avg_win, wins.avg_loss, wins.expectancy), (1.0, 2.0, 0.0, 2.0));
    let losses = compute(&StatsInput { trade_pnl: &[-1.0, -3.0], ..StatsInput::default() }, &params).unwrap();
    assert_eq!((losses.profit_factor, losses.win_rate), (0.0, 0.0));
    assert_eq!((losses.avg_win, losses.avg_loss, losses.expectancy), (0.0, -2.0, -2.0));
    let even = compute(&StatsInput { trade_pnl: &[0.0], ..StatsInput::default() }, &params).unwrap();
    assert_eq!((even.trade_count, even.profit_factor, even.win_rate), (1, 0.0, 0.0));
    let none = compute(&StatsInput::default(), &params).unwrap();
    assert_eq!(none, Stats::default());
}

#[test]
fn exposure_is_time_weighted_inside_the_span() {
    // Span [0, 10]; position 1 from -5 (clipped to 0) until 2, flat 2..4, -3 from 4 until 12
    // (clipped to 10): held 2 + 6 = 8 of 10.
    let (ts, equity) = ([0, 10], [1.0, 1.0]);
    let input = StatsInput {
        ts: &ts,
        equity: &equity,
        position_ts: &[-5, 2, 4, 12],
        position: &[1.0, 0.0, -3.0, 0.0],
        ..StatsInput::default()
    };
    assert_close!(compute(&input, &StatsParams::default()).unwrap().exposure, 0.8);
    // Held since before the span and never closed: 1. Opened after it ends: 0.
    let always = StatsInput { position_ts: &[-1], position: &[2.0], ..input };
    assert_eq!(compute(&always, &StatsParams::default()).unwrap().exposure, 1.0);
    let later = StatsInput { position_ts: &[10, 11], position: &[2.0, 0.0], ..input };
    assert_eq!(compute(&later, &StatsParams::default()).unwrap().exposure, 0.0);
}

#[test]
fn turnover_uses_time_weighted_average_equity() {
    // 100 for 1 ns, 200 for 2 ns: average (100 + 400) / 3; 1000 traded → turnover 6.
    let input = StatsInput {
        ts: &[0, 1, 3],
        equity: &[100.0, 200.0, 50.0],
        traded_notional: 1000.0,
        ..StatsInput::default()
    };
    assert_close!(compute(&input, &StatsParams::default()).unwrap().turnover, 6.0);
}

#[test]
fn flat_and_steadily_growing_curves_have_no_risk() {
    let ts = days(&[0, 1, 2, 3]);
    let flat = run(&ts, &[100.0; 4], &StatsParams::default());
    assert_eq!(
        (flat.volatility, flat.sharpe, flat.sortino, flat.calmar, flat.max_drawdown, flat.total_return),
        (0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    );
    assert_eq!((flat.cagr, flat.max_drawdown_duration_ns, flat.periods), (0.0, 0, 3));
    // 1% a day: the returns differ only by float noise (~1e-17), which counts as no risk.
    let ts: Vec<i64> = (0..=30).map(|d| d * DAY_NS).collect();
    let equity: Vec<f64> = (0..=30).map(|d| 100.0 * 1.01f64.powi(d)).collect();
    let steady = run(&ts, &equity, &StatsParams::default());
    assert_eq!((steady.volatility, steady.sharpe, steady.sortino), (0.0, 0.0, 0.0));
    // Below a 2%-a-day risk-free rate every period falls short by 1%: dd = 0.01 and
    // Sortino = (0.01 - 0.02) / 0.01 * sqrt(365) = -sqrt(365), while Sharpe stays 0.
    let rf = 1.02f64.powi(365) - 1.0;
    let s = run(&ts, &equity, &StatsParams { risk_free_rate: rf, ..StatsParams::default() });
    assert_eq!(s.sharpe, 0.0);
    assert!((s.sortino + 365f64.sqrt()).abs() < 1e-9, "{}", s.sortino);
}

#[test]
fn empty_curve_and_one_point() {
    let params = StatsParams::default();
    let empty = compute(
        &StatsInput { trade_pnl: &[5.0], fees_paid: 1.25, traded_notional: 9.0, ..StatsInput::default() },
        &params,
    )
    .unwrap();
    assert_eq!(
        empty,
        Stats {
            trade_count: 1,
            win_rate: 1.0,
            expectancy: 5.0,
            avg_win: 5.0,
            profit_factor: f64::INFINITY,
            fees_paid: 1.25,
            ..Stats::default()
        }
    );
    let one = StatsInput { ts: &[7], equity: &[250.0], traded_notional: 500.0, ..StatsInput::default() };
    let one = compute(&one, &params).unwrap();
    assert_eq!(one, Stats { turnover: 2.0, ..Stats::default() });
}

#[test]
fn time_span_is_calendar_years() {
    // Exactly one 365.25-day year doubling: CAGR 100%, whatever periods_per_year says.
    let ts = [0, YEAR_NS as i64];
    for ppy in [365.0, 252.0, 12.0] {
        let s = run(&ts, &[10.0, 20.0], &StatsParams { periods_per_year: ppy, ..StatsParams::default() });
        assert_close!(s.cagr, 1.0);
    }
    // A 10% gain in one hour extrapolates to an overflow: reported as infinity, not capped.
    let s = run(&[0, H], &[1.0, 1.1], &StatsParams::default());
    assert_eq!(s.cagr, f64::INFINITY);
}

#[test]
fn errors_name_the_field_the_value_and_the_rule() {
    let p = StatsParams::default();
    let err = |input: StatsInput<'_>, params: StatsParams| compute(&input, &params).unwrap_err().to_string();
    let base = StatsInput { ts: &[0, 1, 2], equity: &[1.0, 2.0, 3.0], ..StatsInput::default() };
    assert_eq!(
        err(StatsInput { equity: &[1.0, 2.0], ..base }, p),
        "ts has 3 elements but equity has 2 (rule: one ts value per equity value)"
    );
    assert_eq!(
        err(StatsInput { ts: &[0, 2, 1], ..base }, p),
        "ts[2] = 1 is before ts[1] = 2 (rule: sorted ascending, ties allowed)"
    );
    assert_eq!(
        err(StatsInput { equity: &[1.0, f64::NAN, 3.0], ..base }, p),
        "equity[1] = NaN is not finite (rule: no NaN or infinity)"
    );
    assert_eq!(
        err(StatsInput { equity: &[1.0, 0.0, 3.0], ..base }, p),
        "equity[1] = 0 is not positive (rule: equity > 0, returns divide by it)"
    );
    assert_eq!(
        err(StatsInput { trade_pnl: &[f64::INFINITY], ..base }, p),
        "trade_pnl[0] = inf is not finite (rule: no NaN or infinity)"
    );
    assert_eq!(
        err(StatsInput { position_ts: &[5], ..base }, p),
        "position_ts has 1 elements but position has 0 (rule: one position_ts value per position value)"
    );
    assert_eq!(
        err(StatsInput { position_ts: &[5, 4], position: &[1.0, 0.0], ..base }, p),
        "position_ts[1] = 4 is before position_ts[0] = 5 (rule: sorted ascending, ties allowed)"
    );
    assert_eq!(
        err(StatsInput { position_ts: &[5], position: &[f64::NEG_INFINITY], ..base }, p),
        "position[0] = -inf is not finite (rule: no NaN or infinity)"
    );
    assert_eq!(
        err(StatsInput { fees_paid: f64::NAN, ..base }, p),
        "fees_paid NaN is out of range (rule: finite)"
    );
    assert_eq!(
        err(StatsInput { traded_notional: -1.0, ..base }, p),
        "traded_notional -1 is out of range (rule: finite and >= 0)"
    );
    assert_eq!(
        err(StatsInput { ts: &[i64::MIN, 0, i64::MAX], ..base }, p),
        format!(
            "ts spans {}..{}, more than 2^63-1 ns (rule: last - first must fit in an i64)",
            i64::MIN,
            i64::MAX
        )
    );
    assert_eq!(
        err(base, StatsParams { interval_ns: 0, ..p }),
        "interval_ns 0 is out of range (rule: interval_ns > 0)"
    );
    assert_eq!(
        err(base, StatsParams { periods_per_year: 0.0, ..p }),
        "periods_per_year 0 is out of range (rule: finite and > 0)"
    );
    assert_eq!(
        err(base, StatsParams { periods_per_year: f64::INFINITY, ..p }),
        "periods_per_year inf is out of range (rule: finite and > 0)"
    );
    assert_eq!(
        err(base, StatsParams { risk_free_rate: -1.0, ..p }),
        "risk_free_rate -1 is out of range (rule: finite and > -1)"
    );
}
