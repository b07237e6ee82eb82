//! Property tests: each figure against a deliberately naive model (O(n²) drawdown, a dense
//! grid built by linear search, exposure summed over every elementary interval), and the
//! invariances the definitions promise (scaling equity, shifting time).

use proptest::prelude::*;

use super::*;

const H: i64 = 3_600_000_000_000;

/// Sample times with gaps of 0..=72 hours (ties included) from a random start.
fn times(start: i64, gaps: &[i64]) -> Vec<i64> {
    let mut t = start;
    gaps.iter()
        .enumerate()
        .map(|(i, g)| {
            if i > 0 {
                t += g * H;
            }
            t
        })
        .collect()
}

/// A curve whose steps are whole basis points: either exactly equal returns or returns
/// at least 1bp apart, so the zero-risk threshold is never near a real deviation.
fn bps_curve() -> impl Strategy<Value = (Vec<i64>, Vec<f64>)> {
    (-1_000_000_000i64..1_000_000_000, prop::collection::vec((0i64..=72, -3000i32..=3000), 1..40)).prop_map(
        |(start, steps)| {
            let gaps: Vec<i64> = steps.iter().map(|s| s.0).collect();
            let mut e = 100.0;
            let equity = steps
                .iter()
                .enumerate()
                .map(|(i, s)| {
                    if i > 0 {
                        e *= 1.0 + f64::from(s.1) / 10_000.0;
                    }
                    e
                })
                .collect();
            (times(start * 1000, &gaps), equity)
        },
    )
}

/// Any positive equity values, for the figures that only compare samples; half of them
/// from a few small integers so that ties (a recovery exactly at the peak) are common.
fn raw_curve() -> impl Strategy<Value = (Vec<i64>, Vec<f64>)> {
    let value = prop_oneof![(1u8..6).prop_map(f64::from), 0.01f64..1e6];
    prop::collection::vec((0i64..=72, value), 1..40).prop_map(|steps| {
        let gaps: Vec<i64> = steps.iter().map(|s| s.0).collect();
        (times(0, &gaps), steps.iter().map(|s| s.1).collect())
    })
}

fn near(a: f64, b: f64) -> bool {
    a == b || (a - b).abs() <= 1e-9 * a.abs().max(b.abs()).max(1.0)
}

/// max over i <= j of 1 - e_j / e_i, and for every sample at a running high followed by a
/// lower one, the time until the first sample back at or above it (or the end).
fn naive_drawdown(ts: &[i64], e: &[f64]) -> (f64, i64) {
    let n = e.len();
    let mut depth = 0.0f64;
    for i in 0..n {
        for j in i..n {
            depth = depth.max(1.0 - e[j] / e[i]);
        }
    }
    let mut longest = 0;
    for i in 0..n.saturating_sub(1) {
        let at_high = e[..i].iter().all(|&x| x <= e[i]);
        if at_high && e[i + 1] < e[i] {
            let back = (i + 1..n).find(|&j| e[j] >= e[i]).map_or(ts[n - 1], |j| ts[j]);
            longest = longest.max(back - ts[i]);
        }
    }
    (depth, longest)
}

/// Every grid return, the grid built point by point with a linear search.
fn dense_returns(ts: &[i64], e: &[f64], step: i64) -> Vec<f64> {
    let last_k = (ts[ts.len() - 1] - ts[0]) / step;
    let values: Vec<f64> = (0..=last_k)
        .map(|k| {
            let g = ts[0] + k * step;
            e[ts.iter().rposition(|&t| t <= g).unwrap()]
        })
        .collect();
    values.windows(2).map(|w| w[1] / w[0] - 1.0).collect()
}

/// (volatility, sharpe, sortino) from plain sums over the dense returns.
fn naive_ratios(r: &[f64], p: &StatsParams) -> (f64, f64, f64) {
    if r.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    let n = r.len() as f64;
    let mean = r.iter().sum::<f64>() / n;
    let rf = (1.0 + p.risk_free_rate).powf(1.0 / p.periods_per_year) - 1.0;
    let annual = p.periods_per_year.sqrt();
    let (mut vol, mut sharpe, mut sortino) = (0.0, 0.0, 0.0);
    if r.len() > p.ddof as usize {
        let std = (r.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - f64::from(p.ddof))).sqrt();
        if std >= ZERO_RISK {
            (vol, sharpe) = (std * annual, (mean - rf) / std * annual);
        }
    }
    let dd = (r.iter().map(|x| (x - rf).min(0.0).powi(2)).sum::<f64>() / n).sqrt();
    if dd >= ZERO_RISK {
        sortino = (mean - rf) / dd * annual;
    }
    (vol, sharpe, sortino)
}

/// Exposure by brute force: cut the span at every position time and look the position up.
fn naive_exposure(t0: i64, t_end: i64, pts: &[i64], q: &[f64]) -> f64 {
    if t_end <= t0 {
        return 0.0;
    }
    let mut cuts: Vec<i64> = pts.iter().copied().filter(|&t| t > t0 && t < t_end).collect();
    cuts.push(t0);
    cuts.push(t_end);
    cuts.sort_unstable();
    cuts.dedup();
    let held: i64 = cuts
        .windows(2)
        .filter(|w| pts.iter().rposition(|&t| t <= w[0]).is_some_and(|i| q[i] != 0.0))
        .map(|w| w[1] - w[0])
        .sum();
    held as f64 / (t_end - t0) as f64
}

fn params() -> impl Strategy<Value = StatsParams> {
    (prop::sample::select(vec![H, 6 * H, 24 * H, 3 * 24 * H]), 1.0f64..400.0, -0.5f64..0.5, 0u32..3).prop_map(
        |(interval_ns, periods_per_year, risk_free_rate, ddof)| StatsParams {
            interval_ns,
            periods_per_year,
            risk_free_rate,
            ddof,
        },
    )
}

fn stats(ts: &[i64], equity: &[f64], notional: f64, p: &StatsParams) -> Stats {
    compute(&StatsInput { ts, equity, traded_notional: notional, ..StatsInput::default() }, p).unwrap()
}

proptest! {
    #[test]
    fn drawdown_matches_the_quadratic_model((ts, e) in raw_curve()) {
        let s = stats(&ts, &e, 0.0, &StatsParams::default());
        let (depth, longest) = naive_drawdown(&ts, &e);
        prop_assert_eq!(s.max_drawdown, depth);
        prop_assert_eq!(s.max_drawdown_duration_ns, longest);
        prop_assert!((0.0..1.0).contains(&s.max_drawdown));
    }

    #[test]
    fn sparse_returns_match_the_dense_grid(
        (ts, e) in raw_curve(),
        step in prop::sample::select(vec![H, 5 * H, 24 * H]),
    ) {
        let dense = dense_returns(&ts, &e, step);
        let sparse = resample(&ts, &e, step);
        prop_assert_eq!(sparse.periods, dense.len() as u64);
        let moved: Vec<f64> = dense.iter().copied().filter(|&r| r != 0.0).collect();
        let kept: Vec<f64> = sparse.moves.iter().copied().filter(|&r| r != 0.0).collect();
        prop_assert_eq!(moved, kept);
    }

    #[test]
    fn ratios_match_plain_sums_over_the_dense_grid((ts, e) in bps_curve(), p in params()) {
        let s = stats(&ts, &e, 0.0, &p);
        let (vol, sharpe, sortino) = naive_ratios(&dense_returns(&ts, &e, p.interval_ns), &p);
        prop_assert!(near(s.volatility, vol), "volatility {} vs {}", s.volatility, vol);
        prop_assert!(near(s.sharpe, sharpe), "sharpe {} vs {}", s.sharpe, sharpe);
        prop_assert!(near(s.sortino, sortino), "sortino {} vs {}", s.sortino, sortino);
        let total = e[e.len() - 1] / e[0] - 1.0;
        prop_assert_eq!(s.total_return, total);
        let span = (ts[ts.len() - 1] - ts[0]) as f64;
        let cagr = if span > 0.0 { (e[e.len() - 1] / e[0]).powf(YEAR_NS / span) - 1.0 } else { 0.0 };
        prop_assert!(near(s.cagr, cagr) || (cagr > 1e300 && s.cagr > 1e300), "cagr {} vs {}", s.cagr, cagr);
    }

    #[test]
    fn exposure_matches_the_brute_force_model(
        (ts, e) in raw_curve(),
        pos in prop::collection::vec((-30i64..3000, -2i8..=2), 0..12),
    ) {
        let mut pos = pos;
        pos.sort_by_key(|p| p.0);
        let pts: Vec<i64> = pos.iter().map(|p| p.0 * H / 10).collect();
        let q: Vec<f64> = pos.iter().map(|p| f64::from(p.1)).collect();
        let input =
            StatsInput { ts: &ts, equity: &e, position_ts: &pts, position: &q, ..StatsInput::default() };
        let s = compute(&input, &StatsParams::default()).unwrap();
        prop_assert_eq!(s.exposure, naive_exposure(ts[0], ts[ts.len() - 1], &pts, &q));
    }

    #[test]
    fn trade_figures_match_filters_and_sums(pnl in prop::collection::vec(-1000i32..1000, 0..60)) {
        let pnl: Vec<f64> = pnl.iter().map(|&x| f64::from(x) / 8.0).collect();
        let input = StatsInput { trade_pnl: &pnl, ..StatsInput::default() };
        let s = compute(&input, &StatsParams::default()).unwrap();
        let wins: Vec<f64> = pnl.iter().copied().filter(|&x| x > 0.0).collect();
        let losses: Vec<f64> = pnl.iter().copied().filter(|&x| x < 0.0).collect();
        // Multiples of 1/8 below 2^10: every sum here is exact, so equality is exact.
        let (w, l): (f64, f64) = (wins.iter().sum(), losses.iter().sum());
        let mean = |sum: f64, n: usize| if n == 0 { 0.0 } else { sum / n as f64 };
        prop_assert_eq!(s.trade_count, pnl.len() as u64);
        prop_assert_eq!(s.win_rate, mean(wins.len() as f64, pnl.len()));
        prop_assert_eq!(s.expectancy, mean(pnl.iter().sum(), pnl.len()));
        prop_assert_eq!(s.avg_win, mean(w, wins.len()));
        prop_assert_eq!(s.avg_loss, mean(l, losses.len()));
        let pf = if l < 0.0 { w / -l } else if w > 0.0 { f64::INFINITY } else { 0.0 };
        prop_assert_eq!(s.profit_factor, pf);
    }

    #[test]
    fn scaling_by_a_power_of_two_changes_nothing((ts, e) in raw_curve(), k in -20i32..20, p in params()) {
        // Multiplying by 2^k is exact, so every ratio must come out bit for bit the same.
        let c = 2f64.powi(k);
        let scaled: Vec<f64> = e.iter().map(|x| x * c).collect();
        prop_assert_eq!(stats(&ts, &e, 1000.0, &p), stats(&ts, &scaled, 1000.0 * c, &p));
    }

    #[test]
    fn scaling_by_any_constant_changes_ratios_only_by_rounding(
        (ts, e) in bps_curve(),
        c in 1e-3f64..1e3,
        p in params(),
    ) {
        let a = stats(&ts, &e, 1000.0, &p);
        let scaled: Vec<f64> = e.iter().map(|x| x * c).collect();
        let b = stats(&ts, &scaled, 1000.0 * c, &p);
        for (name, x, y) in [
            ("total_return", a.total_return, b.total_return),
            ("cagr", a.cagr, b.cagr),
            ("volatility", a.volatility, b.volatility),
            ("sharpe", a.sharpe, b.sharpe),
            ("sortino", a.sortino, b.sortino),
            ("calmar", a.calmar, b.calmar),
            ("max_drawdown", a.max_drawdown, b.max_drawdown),
            ("turnover", a.turnover, b.turnover),
        ] {
            prop_assert!(near(x, y) || (x > 1e300 && y > 1e300), "{} {} vs {}", name, x, y);
        }
        prop_assert_eq!(a.max_drawdown_duration_ns, b.max_drawdown_duration_ns);
        prop_assert_eq!(a.periods, b.periods);
    }

    #[test]
    fn shifting_time_changes_nothing(
        (ts, e) in raw_curve(),
        shift in -1_000_000_000_000_000i64..1_000_000_000_000_000,
        p in params(),
    ) {
        // The grid is anchored at the first sample, so only time differences matter.
        let moved: Vec<i64> = ts.iter().map(|t| t + shift).collect();
        let pts = [ts[0] - 5, ts[0] + H];
        let q = [1.0, 0.0];
        let input =
            StatsInput { ts: &ts, equity: &e, position_ts: &pts, position: &q, ..StatsInput::default() };
        let pts_moved = [pts[0] + shift, pts[1] + shift];
        let shifted = StatsInput { ts: &moved, position_ts: &pts_moved, ..input };
        prop_assert_eq!(compute(&input, &p).unwrap(), compute(&shifted, &p).unwrap());
    }

    #[test]
    fn an_unsorted_timestamp_is_refused_by_index((ts, e) in raw_curve(), at in any::<prop::sample::Index>()) {
        prop_assume!(ts.len() >= 2);
        let i = 1 + at.index(ts.len() - 1);
        let mut bad = ts.clone();
        bad[i] = bad[i - 1] - 1;
        // Later entries may now be out of order relative to the changed one only at i.
        let input = StatsInput { ts: &bad, equity: &e, ..StatsInput::default() };
        let err = compute(&input, &StatsParams::default());
        let first = bad.windows(2).position(|w| w[1] < w[0]).unwrap() + 1;
        prop_assert_eq!(
            err.unwrap_err(),
            StatsError::Unsorted { field: "ts", index: first, value: bad[first], previous: bad[first - 1] }
        );
    }
}
