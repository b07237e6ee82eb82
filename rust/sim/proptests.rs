//! Properties over random order and market sequences.

use std::collections::HashMap;

use proptest::prelude::*;

use super::tests::{trade, venue, Feed};
use super::*;
use crate::query::BookQueries;

#[derive(Debug, Clone)]
enum Op {
    Market { buy: bool, qty: i64, bps: Option<u32>, fok: bool },
    Limit { buy: bool, qty: i64, off: i64, tif: u8, post: bool },
    Trade { aggr_buy: bool, off: i64, qty: i64 },
    Diff { bid: bool, off: i64, qty: i64 },
    Cancel { back: u64 },
    Tick,
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        (any::<bool>(), 1i64..15, proptest::option::of(0u32..30), any::<bool>())
            .prop_map(|(buy, qty, bps, fok)| Op::Market { buy, qty, bps, fok }),
        (any::<bool>(), 1i64..15, -6i64..6, 0u8..4, any::<bool>())
            .prop_map(|(buy, qty, off, tif, post)| Op::Limit { buy, qty, off, tif, post }),
        (any::<bool>(), -6i64..6, 1i64..12).prop_map(|(aggr_buy, off, qty)| Op::Trade { aggr_buy, off, qty }),
        (any::<bool>(), 0i64..8, 0i64..6).prop_map(|(bid, off, qty)| Op::Diff { bid, off, qty }),
        (0u64..6).prop_map(|back| Op::Cancel { back }),
        Just(Op::Tick),
    ]
}

#[derive(Debug, Default)]
struct Track {
    qty: i64,
    filled: i64,
    terminal: u32,
    after_terminal: bool,
    /// Market orders: the cap computed independently at submission.
    cap: Option<(Side, i64)>,
    limit: Option<(Side, i64)>,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn venue_invariants(
        bids in proptest::collection::vec(0i64..6, 8),
        asks in proptest::collection::vec(0i64..6, 8),
        ops in proptest::collection::vec(op(), 1..80),
    ) {
        const MID: i64 = 10_000;
        let mut v = venue(20);
        let mut f = Feed::new();
        let mut lv = Vec::new();
        for (i, (&b, &a)) in bids.iter().zip(&asks).enumerate() {
            lv.push((Side::Bid, MID - 1 - i as i64, b));
            lv.push((Side::Ask, MID + i as i64, a));
        }
        let mut ts = 1_000i64;
        v.on_events(&f.snapshot(ts, &lv), 0);
        let mut track: HashMap<OrderId, Track> = HashMap::new();
        let mut last_id: OrderId = 0;
        for op in ops {
            ts += 10;
            match op {
                Op::Market { buy, qty, bps, fok } => {
                    let side = if buy { Side::Bid } else { Side::Ask };
                    let touch = v.book().best(side.opposite()).map(|l| l.0);
                    let b = bps.unwrap_or(20);
                    let mut req = OrderRequest::market(side, qty);
                    req.slippage_bps = bps;
                    if fok { req.tif = TimeInForce::Fok; }
                    let id = v.submit(ts, req);
                    last_id = id;
                    track.insert(id, Track {
                        qty,
                        cap: touch.map(|t| (side, slippage_cap(side, t, b))),
                        ..Track::default()
                    });
                }
                Op::Limit { buy, qty, off, tif, post } => {
                    let side = if buy { Side::Bid } else { Side::Ask };
                    let price = MID + off;
                    let tif = match tif {
                        0 => TimeInForce::Gtc,
                        1 => TimeInForce::Ioc,
                        2 => TimeInForce::Fok,
                        _ => TimeInForce::Gtd { expiry: ts + 35 },
                    };
                    let mut req = OrderRequest::limit(side, qty, price, tif);
                    req.post_only = post;
                    let id = v.submit(ts, req);
                    last_id = id;
                    track.insert(id, Track { qty, limit: Some((side, price)), ..Track::default() });
                }
                Op::Trade { aggr_buy, off, qty } => {
                    let s = if aggr_buy { Side::Bid } else { Side::Ask };
                    v.on_events(&trade(ts, s, MID + off, qty), 0);
                }
                Op::Diff { bid, off, qty } => {
                    let l = if bid { (Side::Bid, MID - 1 - off, qty) } else { (Side::Ask, MID + off, qty) };
                    v.on_events(&f.diff(ts, &[l]), 0);
                }
                Op::Cancel { back } => {
                    v.cancel(ts, last_id.saturating_sub(back));
                }
                Op::Tick => {
                    v.on_events(&f.diff(ts, &[]), 0);
                }
            }
            for r in v.drain_reports() {
                let Some(t) = track.get_mut(&r.order) else { continue };
                if matches!(r.kind, ReportKind::CancelRejected { .. }) {
                    continue;
                }
                if t.terminal > 0 {
                    t.after_terminal = true;
                }
                if let ReportKind::Filled { price, qty, leaves, .. } = r.kind {
                    prop_assert!(qty > 0);
                    t.filled += qty;
                    // filled + remaining = qty; never beyond qty.
                    prop_assert_eq!(t.filled + leaves, t.qty);
                    prop_assert!(t.filled <= t.qty);
                    if let Some((side, cap)) = t.cap {
                        prop_assert!(!side.better(price, cap), "market fill {} beyond cap {}", price, cap);
                    }
                    if let Some((side, limit)) = t.limit {
                        prop_assert!(!side.better(price, limit), "fill {} beyond limit {}", price, limit);
                    }
                }
                if r.is_terminal() {
                    t.terminal += 1;
                }
            }
        }
        for (id, t) in &track {
            prop_assert!(t.terminal <= 1, "order {} has {} terminal reports", id, t.terminal);
            prop_assert!(!t.after_terminal, "order {} reported after its terminal report", id);
            match v.order(*id) {
                Some(o) => {
                    prop_assert_eq!(t.terminal, 0);
                    prop_assert_eq!(o.filled, t.filled);
                    prop_assert_eq!(o.filled + o.remaining(), o.qty);
                    prop_assert!(o.remaining() > 0);
                    prop_assert!(o.queue_ahead >= 0);
                }
                None => prop_assert_eq!(t.terminal, 1, "order {} is gone without a terminal report", id),
            }
        }
    }
}
