//! Loads a Binance capture (gzip lines `<ns> <json>`) into normalized events for the
//! Rust benches. Not timed; mirrors the Python reader closely enough for benchmarking.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use quantx_core::builder::EventBuilder;
use quantx_core::event::{Event, KIND_DIFF, KIND_SNAPSHOT};
use quantx_core::fixed::Grid;
use quantx_core::Side;
use serde_json::Value;

/// The bundled capture, or the shared copy when run outside the project tree.
pub fn capture_path(name: &str) -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in ["python/adapters/data/binance", "../shared/data/binance"] {
        let p = root.join(dir).join(name);
        if p.exists() {
            return p;
        }
    }
    panic!("capture {name} not found under python/adapters/data/binance");
}

fn levels(b: &mut EventBuilder, side: Side, v: &Value) {
    for l in v.as_array().into_iter().flatten() {
        let (p, q) = (l[0].as_str().unwrap_or(""), l[1].as_str().unwrap_or(""));
        b.level(side, p, q).expect("level on grid");
    }
}

/// Depth snapshot and diff events of a capture (trades and tickers skipped).
pub fn load_depth(name: &str, tick: &str, lot: &str) -> Vec<Event> {
    let f = std::fs::File::open(capture_path(name)).expect("open capture");
    let r = BufReader::new(flate2::read::GzDecoder::new(f));
    let mut b = EventBuilder::new(Grid::new(tick, lot).unwrap());
    for line in r.lines() {
        let line = line.expect("gzip line");
        let Some((ts, js)) = line.split_once(' ') else { continue };
        let ts: i64 = ts.parse().unwrap_or(0);
        let Ok(v) = serde_json::from_str::<Value>(js) else { continue };
        if let Some(id) = v.get("lastUpdateId").and_then(Value::as_i64) {
            b.begin(KIND_SNAPSHOT, ts, 0, (0, id, -1));
            levels(&mut b, Side::Bid, &v["bids"]);
            levels(&mut b, Side::Ask, &v["asks"]);
            b.commit();
            continue;
        }
        let stream = v["stream"].as_str().unwrap_or("");
        if !stream.contains("@depth") {
            continue;
        }
        let d = &v["data"];
        let id = |k: &str| d.get(k).and_then(Value::as_i64).unwrap_or(-1);
        b.begin(KIND_DIFF, ts, 0, (id("U"), id("u"), id("pu")));
        levels(&mut b, Side::Bid, &d["b"]);
        levels(&mut b, Side::Ask, &d["a"]);
        b.commit();
    }
    b.finish()
}

/// Groups rows into messages: (first row, rows) per message.
pub fn messages(events: &[Event]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = 0;
    for (i, e) in events.iter().enumerate() {
        if e.begins() {
            start = i;
        }
        if e.ends() {
            out.push((start, i + 1 - start));
        }
    }
    out
}
