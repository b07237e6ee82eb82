//! Simulated venue replay on the real Binance USDⓈ-M futures capture: depth messages and
//! trade prints in capture order, 100 resting orders kept around the touch, and a
//! marketable (market) order every `EVERY` messages. Throughput is level updates (depth
//! level rows) per second; the target is >= 2 M/s.

use std::hint::black_box;
use std::io::{BufRead, BufReader};

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use quantx_core::accounting::{Contract, ContractFees, FeeSchedule};
use quantx_core::builder::EventBuilder;
use quantx_core::event::Event;
use quantx_core::fixed::Grid;
use quantx_core::l2::Rule;
use quantx_core::sim::{OrderRequest, QueueModel, SimConfig, SimVenue, TimeInForce};
use quantx_core::Side;
use serde_json::Value;

#[path = "capture.rs"]
mod capture;

const FILE: &str = "usdm-btcusdt-20240808.gz";
const RESTING: usize = 100;
/// A marketable order every this many messages.
const EVERY: usize = 20;
/// Resting orders further than this from the touch (ticks) are canceled and replaced.
const FAR: i64 = 100;

/// Trade prints of the capture, as (receive ns, event rows).
fn load_trades() -> Vec<Event> {
    let f = std::fs::File::open(capture::capture_path(FILE)).expect("open capture");
    let r = BufReader::new(flate2::read::GzDecoder::new(f));
    let mut b = EventBuilder::new(Grid::new("0.1", "0.001").unwrap());
    for line in r.lines() {
        let line = line.expect("gzip line");
        let Some((ts, js)) = line.split_once(' ') else { continue };
        if !js.contains("@trade") {
            continue;
        }
        let ts: i64 = ts.parse().unwrap_or(0);
        let Ok(v) = serde_json::from_str::<Value>(js) else { continue };
        let d = &v["data"];
        let (p, q) = (d["p"].as_str().unwrap_or(""), d["q"].as_str().unwrap_or(""));
        let id = d["t"].as_u64().unwrap_or(0);
        let _ = b.trade(ts, 0, id, p, q, d["m"].as_bool().unwrap_or(false));
    }
    b.finish()
}

/// Depth messages and trades merged by receive time (depth first on ties).
fn load() -> Vec<Event> {
    let depth = capture::load_depth(FILE, "0.1", "0.001");
    let trades = load_trades();
    let mut out = Vec::with_capacity(depth.len() + trades.len());
    let mut t = 0;
    for (s, n) in capture::messages(&depth) {
        let ts = depth[s].ts_recv;
        while t < trades.len() && trades[t].ts_recv < ts {
            out.push(trades[t]);
            t += 1;
        }
        out.extend_from_slice(&depth[s..s + n]);
    }
    out.extend_from_slice(&trades[t..]);
    out
}

fn venue() -> SimVenue {
    venue_with(QueueModel::Conservative)
}

/// The same venue with the probabilistic queue model, power 2.
fn venue_probabilistic() -> SimVenue {
    venue_with(QueueModel::probabilistic(2).unwrap())
}

fn venue_with(queue_model: QueueModel) -> SimVenue {
    let c = Contract::new(&Grid::new("0.1", "0.001").unwrap()).unwrap();
    let fees = ContractFees::new(FeeSchedule::new("0.0002", "0.0005", 8).unwrap(), &c);
    let mut cfg = SimConfig::new(Rule::Futures, 10, fees);
    cfg.queue_model = queue_model;
    SimVenue::new(cfg)
}

/// Replays every message; returns (fills, orders) so the work cannot be optimised away.
fn replay(events: &[Event], msgs: &[(usize, usize)], mut v: SimVenue) -> (u64, u64) {
    let mut k: i64 = 0;
    let mut far = Vec::with_capacity(RESTING);
    for (i, &(s, n)) in msgs.iter().enumerate() {
        let msg = &events[s..s + n];
        v.on_events(msg, s as u64);
        let ts = msg[0].ts_recv;
        if v.book().is_stale() {
            v.clear_reports();
            continue;
        }
        let (Some(bid), Some(ask)) = (v.book().side(Side::Bid).best_price(), v.book().side(Side::Ask).best_price())
        else {
            continue;
        };
        if i % EVERY == 0 {
            let side = if (i / EVERY) % 2 == 0 { Side::Bid } else { Side::Ask };
            v.submit(ts, OrderRequest::market(side, 1 + (i as i64 % 7)));
        }
        if i % 200 == 0 {
            far.clear();
            far.extend(
                v.open_orders()
                    .filter(|o| (o.price - if o.side == Side::Bid { bid } else { ask }).abs() > FAR)
                    .map(|o| o.id),
            );
            for &id in &far {
                v.cancel(ts, id);
            }
        }
        while v.open_order_count() < RESTING {
            k += 1;
            let off = k % 20;
            let req = if k % 2 == 0 {
                OrderRequest::limit(Side::Bid, 1 + k % 5, bid - off, TimeInForce::Gtc)
            } else {
                OrderRequest::limit(Side::Ask, 1 + k % 5, ask + off, TimeInForce::Gtc)
            };
            v.submit(ts, req);
        }
        v.clear_reports();
    }
    (v.stats().fills, v.stats().orders)
}

fn bench(c: &mut Criterion) {
    let events = load();
    let msgs = capture::messages(&events);
    let levels = events.iter().filter(|e| e.kind <= 2 && !e.is_empty()).count() as u64;
    // One untimed run for the figures.
    {
        let mut v = venue();
        let t0 = std::time::Instant::now();
        let (fills, orders) = replay(&events, &msgs, venue());
        let dt = t0.elapsed();
        v.on_events(&events, 0);
        println!(
            "sim replay: {} messages, {} level rows, {} trades, {} orders, {} fills, {:.2} M level updates/s (one run)",
            msgs.len(),
            levels,
            v.stats().trades,
            orders,
            fills,
            levels as f64 / dt.as_secs_f64() / 1e6
        );
        let t0 = std::time::Instant::now();
        let (fills, orders) = replay(&events, &msgs, venue_probabilistic());
        let dt = t0.elapsed();
        println!(
            "sim replay, probabilistic queue (power 2): {} orders, {} fills, {:.2} M level updates/s (one run)",
            orders,
            fills,
            levels as f64 / dt.as_secs_f64() / 1e6
        );
    }
    let mut g = c.benchmark_group("sim_replay_usdm");
    g.throughput(Throughput::Elements(levels));
    g.sample_size(20);
    g.bench_function("100_resting_market_every_20", |b| {
        b.iter_batched(venue, |v| replay(black_box(&events), &msgs, v), BatchSize::LargeInput)
    });
    g.bench_function("100_resting_market_every_20_probabilistic", |b| {
        b.iter_batched(venue_probabilistic, |v| replay(black_box(&events), &msgs, v), BatchSize::LargeInput)
    });
    g.bench_function("no_orders_baseline", |b| {
        b.iter_batched(
            venue,
            |mut v| {
                v.on_events(black_box(&events), 0);
                v
            },
            BatchSize::LargeInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
