//! L2 book on the real Binance futures capture: level updates per second applied in
//! Rust, by the batch path and by one call per diff; plus single updates at the touch.

use std::hint::black_box;

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use quantx_core::event::{Event, KIND_SNAPSHOT};
use quantx_core::l2::{L2Book, Rule};
use quantx_core::query::{BookQueries, LevelSource};
use quantx_core::Side;

#[path = "capture.rs"]
mod capture;

/// One message prepared for the per-call path: kind, (U, u, pu), levels.
type Prepared = (u8, (i64, i64, i64), Vec<(Side, i64, i64)>);

fn level_rows(events: &[Event]) -> u64 {
    events.iter().filter(|e| !e.is_empty()).count() as u64
}

fn replay(c: &mut Criterion) {
    let events = capture::load_depth("usdm-btcusdt-20240808.gz", "0.1", "0.001");
    let msgs = capture::messages(&events);
    // Per-call inputs prepared up front so only the book's work is timed.
    let prepared: Vec<Prepared> = msgs
        .iter()
        .map(|&(s, n)| {
            let m = &events[s..s + n];
            let lv = m
                .iter()
                .filter(|e| !e.is_empty())
                .map(|e| (Side::from_u8(e.side).unwrap(), e.price, e.qty))
                .collect();
            (m[0].kind, (m[0].seq_first, m[0].seq_last, m[0].seq_prev), lv)
        })
        .collect();
    let mut g = c.benchmark_group("l2_replay_usdm");
    g.throughput(Throughput::Elements(level_rows(&events)));
    g.sample_size(20);
    g.bench_function("batch_apply_events", |b| {
        b.iter_batched(
            || L2Book::new(Rule::Futures),
            |mut book| {
                let st = book.apply_events(black_box(&events), false, 0);
                assert_eq!(st.gaps, 0);
                book
            },
            BatchSize::LargeInput,
        )
    });
    g.bench_function("per_diff_apply_diff", |b| {
        b.iter_batched(
            || L2Book::new(Rule::Futures),
            |mut book| {
                for (kind, ids, lv) in &prepared {
                    if *kind == KIND_SNAPSHOT {
                        book.apply_snapshot(ids.1, lv, false).unwrap();
                    } else {
                        let _ = book.apply_diff(ids.0, ids.1, ids.2, black_box(lv), 0).unwrap();
                    }
                }
                book
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();

    // Single updates near the touch on the book the capture ends with.
    let mut book = L2Book::new(Rule::Futures);
    book.apply_events(&events, false, 0);
    let (bid, _) = book.best_bid().unwrap();
    let mut g = c.benchmark_group("l2_touch");
    g.throughput(Throughput::Elements(2));
    let mut k = 0i64;
    g.bench_function("set_then_remove_near_touch", |b| {
        b.iter(|| {
            k = (k + 7) % 50;
            let p = bid - k;
            let old = book.volume_at(Side::Bid, p);
            book.set_level(Side::Bid, p, old + 1).unwrap();
            book.set_level(Side::Bid, p, old).unwrap();
        })
    });
    g.bench_function("walk_10_levels", |b| b.iter(|| black_box(book.walk(Side::Ask, black_box(5_000)))));
    g.finish();
}

criterion_group!(benches, replay);
criterion_main!(benches);
