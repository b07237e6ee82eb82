//! Criterion benches of accounting: ns per fill applied to a Position, per spot balance
//! update and per linear-perpetual fill (position + collateral).
//!
//! Each timed block applies a batch of 1,000 pre-generated fills (a random walk of buys
//! and sells, so adds, partial reduces, closes and flips all occur); divide the time by
//! 1,000, or read the throughput line, for the per-fill figure.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use quantx_core::accounting::{
    Asset, Balances, Contract, ContractFees, FeeSchedule, Fill, Liquidity, Position, SpotMarket,
};
use quantx_core::fixed::Grid;
use quantx_core::money::Money;
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

fn contract() -> Contract {
    Contract::new(&Grid::new("0.01", "0.001").unwrap()).unwrap()
}

fn fills(c: &Contract) -> Vec<Fill> {
    let fees = FeeSchedule::new("0.0002", "0.00055", 8).unwrap();
    let mut rng = Rng(42);
    let mut price: i64 = 6_000_000;
    (0..BATCH)
        .map(|_| {
            price += rng.below(201) as i64 - 100;
            let qty = 1 + rng.below(2_000) as i64;
            let side = if rng.below(2) == 0 { Side::Bid } else { Side::Ask };
            let liq = if rng.below(3) == 0 { Liquidity::Taker } else { Liquidity::Maker };
            let fee = fees.fee(c.notional(price, qty).unwrap(), liq).unwrap();
            Fill { side, price, qty, fee }
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let contract = contract();
    let fills = fills(&contract);
    let mut g = c.benchmark_group("accounting");
    g.throughput(Throughput::Elements(BATCH as u64));

    g.bench_function("position_apply_x1000", |b| {
        b.iter(|| {
            let mut p = Position::new(&contract);
            for f in &fills {
                black_box(p.apply(black_box(f)).unwrap());
            }
            black_box(p)
        })
    });

    let fees = FeeSchedule::new("0.0002", "0.00055", 8).unwrap();
    g.bench_function("general_fee_and_position_apply_x1000", |b| {
        b.iter(|| {
            let mut p = Position::new(&contract);
            for f in &fills {
                let n = contract.notional(f.price, f.qty).unwrap();
                let fee = fees.fee(n, Liquidity::Maker).unwrap();
                black_box(p.apply(&Fill { fee, ..*black_box(f) }).unwrap());
            }
            black_box(p)
        })
    });

    let cfees = ContractFees::new(fees, &contract);
    g.bench_function("contract_fee_and_position_apply_x1000", |b| {
        b.iter(|| {
            let mut p = Position::new(&contract);
            for (i, f) in fills.iter().enumerate() {
                let liq = if i % 3 == 0 { Liquidity::Taker } else { Liquidity::Maker };
                let f = black_box(f);
                let fee = cfees.fee(f.price, f.qty, liq).unwrap();
                black_box(p.apply(&Fill { fee, ..*f }).unwrap());
            }
            black_box(p)
        })
    });

    let (btc, usdt, bnb) = (
        Asset::new("BTC").unwrap(),
        Asset::new("USDT").unwrap(),
        Asset::new("BNB").unwrap(),
    );
    let mkt = SpotMarket { base: btc, quote: usdt, contract };
    let mut bal = Balances::new();
    bal.credit(usdt, Money::from_int(1_000_000)).unwrap();
    bal.credit(bnb, Money::from_int(10)).unwrap();
    g.bench_function("spot_balance_update_x1000", |b| {
        b.iter(|| {
            for (i, f) in fills.iter().enumerate() {
                let fee_asset = if i % 2 == 0 { usdt } else { bnb };
                bal.apply_spot_fill(&mkt, black_box(f), fee_asset).unwrap();
            }
        })
    });
    black_box(&bal);

    let mut col = Balances::new();
    col.credit(usdt, Money::from_int(1_000_000)).unwrap();
    g.bench_function("linear_fill_x1000", |b| {
        b.iter(|| {
            let mut p = Position::new(&contract);
            for f in &fills {
                black_box(col.apply_linear_fill(usdt, &mut p, black_box(f)).unwrap());
            }
            black_box(p)
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
