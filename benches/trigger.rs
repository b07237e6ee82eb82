//! Criterion bench of the trigger book: ns per observation and ns per fire.
//!
//! - `observe_no_fire/*`: a book of 1,000 resting entries (a quarter each of sell stops,
//!   buy stops, sell take-profits and buy take-profits, levels 1,000 to 10,000 ticks away
//!   from the price) and 1,000 pre-generated observations inside a band that fires
//!   nothing. `mixed` swaps 16 of the plain entries for trailing stops (scanned and
//!   ratcheted on every observation, offsets too wide to fire). Each timed block is
//!   1,000 observations: read the throughput line, or divide by 1,000.
//! - `fire/*`: 1,000 sell stops at distinct levels; `sweep` fires all of them with one
//!   observation, `one_by_one` with 1,000 observations that fire one each. The book is
//!   rebuilt outside the timing; per-fire cost = time / 1,000.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use quantx_core::trigger::{TrailOffset, TriggerBook, TriggerKind, TriggerSource, TriggerSpec};
use quantx_core::Side;

const N: usize = 1_000;
const PRICE: i64 = 100_000;
const BAND: u64 = 500;

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

fn plain(id: u64, side: Side, kind: TriggerKind, source: TriggerSource, trigger: i64) -> TriggerSpec {
    TriggerSpec {
        id,
        side,
        kind,
        source,
        trigger_price: Some(trigger),
        offset: None,
        user_stop: None,
        reference: None,
    }
}

/// `N` entries none of which fire for prices within `BAND` of `PRICE`; the first
/// `trailing` of them are trailing stops with offsets wider than any move in the band.
fn resting(source: TriggerSource, trailing: usize, rng: &mut Rng) -> TriggerBook {
    let mut book = TriggerBook::new();
    for i in 0..N {
        let id = i as u64;
        let away = 1_000 + rng.below(9_000) as i64;
        let spec = if i < trailing {
            let side = if i % 2 == 0 { Side::Ask } else { Side::Bid };
            TriggerSpec {
                id,
                side,
                kind: TriggerKind::TrailingStop,
                source,
                trigger_price: None,
                offset: Some(TrailOffset::Ticks(away)),
                user_stop: None,
                reference: Some(PRICE),
            }
        } else {
            match i % 4 {
                0 => plain(id, Side::Ask, TriggerKind::Stop, source, PRICE - away),
                1 => plain(id, Side::Bid, TriggerKind::Stop, source, PRICE + away),
                2 => plain(id, Side::Ask, TriggerKind::TakeProfit, source, PRICE + away),
                _ => plain(id, Side::Bid, TriggerKind::TakeProfit, source, PRICE - away),
            }
        };
        book.add(&spec).unwrap();
    }
    book
}

fn prices(rng: &mut Rng) -> Vec<i64> {
    (0..N).map(|_| PRICE - BAND as i64 + rng.below(2 * BAND + 1) as i64).collect()
}

fn bench_observe(c: &mut Criterion) {
    let mut rng = Rng(11);
    let ps = prices(&mut rng);
    let mut g = c.benchmark_group("trigger/observe_no_fire");
    g.throughput(Throughput::Elements(N as u64));
    let mut out = Vec::new();
    for (name, trailing) in [("last_plain_1000", 0), ("last_mixed_1000", 16)] {
        let mut book = resting(TriggerSource::Last, trailing, &mut rng);
        g.bench_function(name, |b| {
            b.iter(|| {
                for &p in &ps {
                    book.on_last(black_box(p), &mut out).unwrap();
                }
                assert!(out.is_empty());
            })
        });
        assert_eq!(book.len(), N);
    }
    let mut book = resting(TriggerSource::BidAsk, 0, &mut rng);
    g.bench_function("bid_ask_plain_1000", |b| {
        b.iter(|| {
            for &p in &ps {
                book.on_bid_ask(black_box(Some(p)), black_box(Some(p + 1)), &mut out).unwrap();
            }
            assert!(out.is_empty());
        })
    });
    g.finish();
}

fn stops() -> TriggerBook {
    let mut book = TriggerBook::new();
    for i in 0..N {
        let spec = plain(i as u64, Side::Ask, TriggerKind::Stop, TriggerSource::Last, PRICE - i as i64);
        book.add(&spec).unwrap();
    }
    book
}

fn bench_fire(c: &mut Criterion) {
    let mut g = c.benchmark_group("trigger/fire");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("sweep_1000", |b| {
        b.iter_batched_ref(
            || (stops(), Vec::with_capacity(N)),
            |(book, out)| {
                book.on_last(black_box(PRICE - N as i64), out).unwrap();
                assert_eq!(out.len(), N);
            },
            BatchSize::SmallInput,
        )
    });
    g.bench_function("one_by_one_1000", |b| {
        b.iter_batched_ref(
            || (stops(), Vec::with_capacity(N)),
            |(book, out)| {
                for i in 0..N as i64 {
                    book.on_last(black_box(PRICE - i), out).unwrap();
                }
                assert_eq!(out.len(), N);
            },
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench_observe, bench_fire);
criterion_main!(benches);
