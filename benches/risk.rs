//! Criterion bench of the pre-trade risk gate: ns per check.
//!
//! Each timed block runs 1,000 pre-generated checks (mostly allowed orders that go
//! through all 15 checks, plus denials at various depths); divide by 1,000, or read the
//! throughput line, for the per-check figure. The bucket refills fast enough that the
//! rate limit rarely denies, so the full path is what is measured.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use quantx_core::accounting::FeeSchedule;
use quantx_core::fixed::Grid;
use quantx_core::money::Money;
use quantx_core::risk::{
    Account, InstrumentKind, Order, OrderType, RiskGate, RiskLimits, TradingState,
};
use quantx_core::Side;

const BATCH: usize = 1_000;

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
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn gate(kind: InstrumentKind) -> RiskGate {
    let limits = RiskLimits {
        kind,
        min_qty: 1,
        max_qty: 100_000,
        min_notional: Money::parse("5").unwrap(),
        max_notional: Money::parse("1000000").unwrap(),
        max_position: 200_000,
        max_gross_exposure: Money::parse("10000000").unwrap(),
        band_bps: 300,
        leverage: 20,
        fees: FeeSchedule::new("0.0002", "0.00055", 8).unwrap(),
        rate_capacity: 1_000_000,
        rate_refill_per_s: 1_000_000_000,
    };
    RiskGate::new(&Grid::new("0.1", "0.001").unwrap(), limits).unwrap()
}

fn cases() -> Vec<(Order, Account)> {
    let mut rng = Rng(7);
    (0..BATCH)
        .map(|_| {
            let mid = 600_000 + rng.below(1_000) as i64;
            let price = mid - 1_000 + rng.below(2_000) as i64;
            let side = if rng.below(2) == 0 {
                Side::Bid
            } else {
                Side::Ask
            };
            let order = Order {
                side,
                order_type: if rng.below(4) == 0 {
                    OrderType::Market
                } else {
                    OrderType::Limit
                },
                price,
                qty: 1 + rng.below(5_000) as i64,
                reduce_only: rng.below(10) == 0,
            };
            let acct = Account {
                position: rng.below(20_000) as i64 - 10_000,
                mid,
                gross_exposure: Money::from_int(rng.below(1_000_000) as i64),
                available_quote: Money::from_int(rng.below(1_000_000) as i64),
                available_base: Money::from_int(rng.below(100) as i64),
                state: if rng.below(50) == 0 {
                    TradingState::Reducing
                } else {
                    TradingState::Active
                },
            };
            (order, acct)
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let cases = cases();
    let mut g = c.benchmark_group("risk");
    g.throughput(Throughput::Elements(BATCH as u64));
    for (name, kind) in [
        ("check_spot", InstrumentKind::Spot),
        ("check_perp", InstrumentKind::LinearPerpetual),
    ] {
        let mut gate = gate(kind);
        let allowed = {
            let mut g2 = gate;
            cases
                .iter()
                .filter(|(o, a)| g2.check(o, a, 0).is_ok())
                .count()
        };
        eprintln!("{name}: {allowed}/{BATCH} allowed");
        let mut now: i64 = 0;
        g.bench_function(name, |b| {
            b.iter(|| {
                let mut ok = 0u32;
                for (o, a) in &cases {
                    now += 1_000;
                    ok += gate.check(black_box(o), black_box(a), now).is_ok() as u32;
                }
                black_box(ok)
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
