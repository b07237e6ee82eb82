//! Criterion bench of the performance statistics: one `compute` (validation included) over
//! 1,000,000 equity samples a minute apart (about 694 days), 100,000 trade P&Ls and a
//! position curve of 100,000 changes.
//!
//! Two grids: daily (the default, 694 returns: the cost is the passes over the samples)
//! and one minute (every sample is a grid point: 1,000,000 returns to keep and sum).

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use quantx_core::stats::{compute, StatsInput, StatsParams};

const POINTS: usize = 1_000_000;
const TRADES: usize = 100_000;
const MINUTE_NS: i64 = 60_000_000_000;

/// splitmix64: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [-1, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 52) as f64 - 1.0
    }
}

struct Run {
    ts: Vec<i64>,
    equity: Vec<f64>,
    pnl: Vec<f64>,
    position_ts: Vec<i64>,
    position: Vec<f64>,
}

fn run() -> Run {
    let mut rng = Rng(20240808);
    let start = 1_704_067_200_000_000_000i64;
    let ts: Vec<i64> = (0..POINTS as i64).map(|i| start + i * MINUTE_NS).collect();
    let mut e = 10_000.0;
    let equity = (0..POINTS)
        .map(|_| {
            e *= 1.0 + 0.0005 * rng.unit();
            e
        })
        .collect();
    let pnl = (0..TRADES).map(|_| (25.0 * rng.unit() * 100.0).round() / 100.0).collect();
    let position_ts: Vec<i64> = (0..TRADES as i64).map(|i| start + i * 10 * MINUTE_NS).collect();
    let position = (0..TRADES).map(|i| if i % 2 == 0 { 1.5 } else { 0.0 }).collect();
    Run { ts, equity, pnl, position_ts, position }
}

fn bench(c: &mut Criterion) {
    let r = run();
    let input = StatsInput {
        ts: &r.ts,
        equity: &r.equity,
        trade_pnl: &r.pnl,
        position_ts: &r.position_ts,
        position: &r.position,
        fees_paid: 1234.5,
        traded_notional: 5.0e7,
    };
    let mut g = c.benchmark_group("stats");
    g.sample_size(30);
    g.throughput(Throughput::Elements(POINTS as u64));
    let daily = StatsParams::default();
    g.bench_function("compute_1m_points_100k_trades_daily_grid", |b| {
        b.iter(|| black_box(compute(black_box(&input), &daily).unwrap()))
    });
    let minute =
        StatsParams { interval_ns: MINUTE_NS, periods_per_year: 525_960.0, ..StatsParams::default() };
    g.bench_function("compute_1m_points_100k_trades_minute_grid", |b| {
        b.iter(|| black_box(compute(black_box(&input), &minute).unwrap()))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
