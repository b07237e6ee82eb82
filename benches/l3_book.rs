//! Criterion benches of the L3 book's hot paths, on a book of ~10k resting orders.
//!
//! Each timed block runs a batch of operations back to back; the book is put back to
//! its starting size outside the timed block, so the book stays ~10k orders and the
//! figures are per operation.

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion};
use quantx_core::l3::{Fill, L3Book};
use quantx_core::Side;

const MID: i64 = 1_000_000;
const RESTING: usize = 10_000;
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
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[derive(Clone, Copy)]
struct Order {
    id: u64,
    side: Side,
    price: i64,
    qty: i64,
}

/// A realistic order: either side, `min_off` ticks or more from the mid with an
/// exponential fall-off (mean ~15 ticks, so ~100+ levels per side), 1..=100 lots.
fn order(rng: &mut Rng, id: u64, min_off: i64) -> Order {
    let side = if rng.next() & 1 == 0 {
        Side::Bid
    } else {
        Side::Ask
    };
    let off = min_off + (-(1.0 - rng.unit()).ln() * 15.0) as i64;
    let price = match side {
        Side::Bid => MID - off,
        Side::Ask => MID + off,
    };
    Order {
        id,
        side,
        price,
        qty: 1 + rng.below(100) as i64,
    }
}

/// The background book and its live orders.
struct Fixture {
    book: L3Book,
    live: Vec<Order>,
    rng: Rng,
    next_id: u64,
    min_off: i64,
}

impl Fixture {
    fn new(min_off: i64) -> Self {
        let mut f = Fixture {
            book: L3Book::new(),
            live: Vec::with_capacity(RESTING + BATCH),
            rng: Rng(0x5eed),
            next_id: 1,
            min_off,
        };
        for _ in 0..RESTING {
            f.add_one();
        }
        f
    }

    fn fresh(&mut self) -> Order {
        let o = order(&mut self.rng, self.next_id, self.min_off);
        self.next_id += 1;
        o
    }

    fn add_one(&mut self) {
        let o = self.fresh();
        self.book.add(o.id, o.side, o.price, o.qty).unwrap();
        self.live.push(o);
    }

    /// Takes `n` random live orders out of `live` (they still rest in the book).
    fn pick(&mut self, n: usize) -> Vec<Order> {
        (0..n)
            .map(|_| {
                let i = self.rng.below(self.live.len() as u64) as usize;
                self.live.swap_remove(i)
            })
            .collect()
    }
}

/// Runs `iters` operations in timed blocks of up to `BATCH`; `block(n)` returns the
/// time of `n` operations (its own untimed set-up and clean-up excluded).
fn blocks(iters: u64, mut block: impl FnMut(usize) -> Duration) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(BATCH as u64) as usize;
        total += block(n);
        left -= n as u64;
    }
    total
}

fn bench_add_cancel_modify(c: &mut Criterion) {
    let mut g = c.benchmark_group("l3");

    g.bench_function("add", |b| {
        let mut f = Fixture::new(1);
        b.iter_custom(|iters| {
            blocks(iters, |n| {
                let orders: Vec<Order> = (0..n).map(|_| f.fresh()).collect();
                let t = Instant::now();
                for o in &orders {
                    black_box(f.book.add(o.id, o.side, o.price, o.qty)).unwrap();
                }
                let d = t.elapsed();
                for o in &orders {
                    f.book.cancel(o.id).unwrap();
                }
                d
            })
        });
    });

    g.bench_function("cancel", |b| {
        let mut f = Fixture::new(1);
        b.iter_custom(|iters| {
            blocks(iters, |n| {
                let victims = f.pick(n);
                let t = Instant::now();
                for o in &victims {
                    black_box(f.book.cancel(black_box(o.id))).unwrap();
                }
                let d = t.elapsed();
                for _ in 0..n {
                    f.add_one();
                }
                d
            })
        });
    });

    g.bench_function("modify_reduce", |b| {
        let mut f = Fixture::new(1);
        b.iter_custom(|iters| {
            blocks(iters, |n| {
                let mut targets = f.pick(n);
                // Orders of 1 lot cannot be reduced: replace them first (untimed).
                for o in targets.iter_mut() {
                    while o.qty < 2 {
                        f.book.cancel(o.id).unwrap();
                        f.add_one();
                        *o = f.live.swap_remove(f.live.len() - 1);
                    }
                }
                let t = Instant::now();
                for o in &targets {
                    black_box(f.book.modify(o.id, o.price, black_box(o.qty - 1))).unwrap();
                }
                let d = t.elapsed();
                for o in targets {
                    f.live.push(Order {
                        qty: o.qty - 1,
                        ..o
                    });
                }
                // Keep sizes from wearing down to 1 lot over many blocks.
                for _ in 0..n / 10 {
                    let o = f.pick(1)[0];
                    f.book.cancel(o.id).unwrap();
                    f.add_one();
                }
                d
            })
        });
    });

    g.finish();
}

const FILL_QTY: i64 = 10;
const KS: [usize; 5] = [1, 2, 4, 8, 16];

/// Incoming buys that each fill `k` resting asks of one level (the touch, 1024 orders
/// deep), on top of the 10k-order background book.
fn bench_match_same_level(c: &mut Criterion) {
    const DEPTH: usize = 1_024;
    let mut g = c.benchmark_group("l3/match_same_level");
    for k in KS {
        g.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, &k| {
            let mut f = Fixture::new(2);
            let touch = MID + 1;
            let mut queue = std::collections::VecDeque::new();
            // Spare orders so the level never empties within a block.
            for _ in 0..DEPTH + 16 {
                f.book.add(f.next_id, Side::Ask, touch, FILL_QTY).unwrap();
                queue.push_back(f.next_id);
                f.next_id += 1;
            }
            let mut fills: Vec<Fill> = Vec::with_capacity(64);
            let per_block = DEPTH / k;
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(per_block as u64) as usize;
                    let t = Instant::now();
                    for _ in 0..n {
                        fills.clear();
                        let filled = f.book.match_order(
                            Side::Bid,
                            black_box(k as i64 * FILL_QTY),
                            Some(black_box(touch)),
                            &mut fills,
                        );
                        black_box(filled);
                    }
                    total += t.elapsed();
                    for _ in 0..n * k {
                        queue.pop_front();
                        f.book.add(f.next_id, Side::Ask, touch, FILL_QTY).unwrap();
                        queue.push_back(f.next_id);
                        f.next_id += 1;
                    }
                    left -= n as u64;
                }
                total
            });
            assert_eq!(f.book.orders_at(Side::Ask, touch).len(), DEPTH + 16);
        });
    }
    g.finish();
}

/// Incoming buys that each sweep `k` levels of one resting ask each (removing k levels),
/// on top of the background book (whose asks start 300 ticks out).
fn bench_match_across_levels(c: &mut Criterion) {
    const LEVELS: i64 = 256;
    let mut g = c.benchmark_group("l3/match_across_levels");
    for k in KS {
        g.bench_with_input(BenchmarkId::from_parameter(k), &k, |b, &k| {
            let mut f = Fixture::new(300);
            let refill = |f: &mut Fixture| {
                for p in (MID + 1..=MID + LEVELS).rev() {
                    f.book.add(f.next_id, Side::Ask, p, FILL_QTY).unwrap();
                    f.next_id += 1;
                }
            };
            refill(&mut f);
            let mut fills: Vec<Fill> = Vec::with_capacity(64);
            let per_block = LEVELS as usize / k;
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                let mut left = iters;
                while left > 0 {
                    let n = left.min(per_block as u64) as usize;
                    let t = Instant::now();
                    for _ in 0..n {
                        fills.clear();
                        let filled = f.book.match_order(
                            Side::Bid,
                            black_box(k as i64 * FILL_QTY),
                            None,
                            &mut fills,
                        );
                        black_box(filled);
                    }
                    total += t.elapsed();
                    // Clear what is left of the sweep levels, then lay them again.
                    fills.clear();
                    f.book
                        .match_order(Side::Bid, i64::MAX, Some(MID + LEVELS), &mut fills);
                    refill(&mut f);
                    left -= n as u64;
                }
                total
            });
        });
    }
    g.finish();
}

criterion_group!(
    benches,
    bench_add_cancel_modify,
    bench_match_same_level,
    bench_match_across_levels
);
criterion_main!(benches);
