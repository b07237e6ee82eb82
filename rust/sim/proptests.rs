//! Properties over random order and market sequences.

use std::collections::HashMap;

use proptest::prelude::*;

use super::tests::{trade, venue, Feed};
use crate::l2::Rule;
use crate::trigger::{TrailOffset, TriggerKind, TriggerSource};
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

// ------------------------------- latency, amend, reduce-only and conditional orders

#[derive(Debug, Clone)]
enum Cmd {
    Market { buy: bool, qty: i64, bps: Option<u32>, fok: bool, ro: bool },
    Limit { buy: bool, qty: i64, off: i64, tif: u8, post: bool, ro: bool },
    /// kind: 0 stop market, 1 stop limit, 2 take-profit market, 3 take-profit limit,
    /// 4 trailing stop (trail: 1..6 ticks, or 6.. as bps - 5).
    Cond { kind: u8, buy: bool, qty: i64, trig: i64, lim: i64, source: u8, trail: u32, tif: u8, ro: bool },
    Trade { aggr_buy: bool, off: i64, qty: i64 },
    Diff { bid: bool, off: i64, qty: i64 },
    Mark { off: i64 },
    Cancel { back: u64 },
    Modify { back: u64, off: Option<i64>, qty: Option<i64> },
    ModifyTrigger { back: u64, off: i64 },
    Advance,
    Tick,
}

fn market_data() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        3 => (any::<bool>(), -6i64..6, 1i64..20)
            .prop_map(|(aggr_buy, off, qty)| Cmd::Trade { aggr_buy, off, qty }),
        2 => (any::<bool>(), 0i64..8, 0i64..6).prop_map(|(bid, off, qty)| Cmd::Diff { bid, off, qty }),
        1 => (-8i64..8).prop_map(|off| Cmd::Mark { off }),
        1 => Just(Cmd::Tick),
    ]
}

fn cmd() -> impl Strategy<Value = Cmd> {
    prop_oneof![
        2 => (any::<bool>(), 1i64..15, proptest::option::of(0u32..30), any::<bool>(), any::<bool>())
            .prop_map(|(buy, qty, bps, fok, ro)| Cmd::Market { buy, qty, bps, fok, ro }),
        4 => (any::<bool>(), 1i64..15, -6i64..6, 0u8..4, any::<bool>(), any::<bool>())
            .prop_map(|(buy, qty, off, tif, post, ro)| Cmd::Limit { buy, qty, off, tif, post, ro }),
        3 => (0u8..5, any::<bool>(), 1i64..12, -8i64..8, -6i64..6, 0u8..3, 1u32..20, 0u8..4, any::<bool>())
            .prop_map(|(kind, buy, qty, trig, lim, source, trail, tif, ro)| Cmd::Cond {
                kind, buy, qty, trig, lim, source, trail, tif, ro
            }),
        7 => market_data(),
        1 => (0u64..6).prop_map(|back| Cmd::Cancel { back }),
        2 => (0u64..6, proptest::option::of(-6i64..6), proptest::option::of(-1i64..15))
            .prop_map(|(back, off, qty)| Cmd::Modify { back, off, qty }),
        1 => (0u64..6, -8i64..8).prop_map(|(back, off)| Cmd::ModifyTrigger { back, off }),
        1 => Just(Cmd::Advance),
    ]
}

/// What the test knows about one order, from its own requests and the reports.
#[derive(Debug, Default)]
struct Known {
    /// Current total quantity (changes with `Modified`).
    qty: i64,
    filled: i64,
    terminal: u32,
    after_terminal: bool,
    side: Option<Side>,
    /// Current limit price (never the trigger price).
    limit: Option<i64>,
    /// Market orders: slippage bps and the time they met the book (the cap is computed
    /// from the touch as it was then). Conditional market kinds get it when they fire.
    market: Option<(u32, i64)>,
    bps: u32,
    reduce_only: bool,
    /// When the submit arrives.
    arrival: i64,
    /// Conditional orders: (kind, trigger price), whether a trigger amend was sent, and
    /// whether it fired.
    trigger: Option<(TriggerKind, Option<i64>)>,
    trigger_amended: bool,
    triggered: bool,
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]
    #[test]
    fn venue_invariants_with_latency_amend_reduce_only_and_triggers(
        bids in proptest::collection::vec(0i64..6, 8),
        asks in proptest::collection::vec(0i64..6, 8),
        lat in (0i64..25, 0i64..25, 0i64..25),
        start in -12i64..12,
        cmds in proptest::collection::vec(cmd(), 1..80),
    ) {
        const MID: i64 = 10_000;
        const BPS: u32 = 20;
        let mut v = SimVenue::new(SimConfig {
            submit_latency_ns: lat.0,
            cancel_latency_ns: lat.1,
            modify_latency_ns: lat.2,
            ..SimConfig::new(Rule::Futures, BPS, super::tests::fees())
        });
        let mut f = Feed::new();
        let mut lv = Vec::new();
        for (i, (&b, &a)) in bids.iter().zip(&asks).enumerate() {
            lv.push((Side::Bid, MID - 1 - i as i64, b));
            lv.push((Side::Ask, MID + i as i64, a));
        }
        let mut ts = 1_000i64;
        v.on_events(&f.snapshot(ts, &lv), 0);
        v.set_position(start);
        // The touch after every step: (ts, best bid, best ask).
        let touch = |v: &SimVenue| {
            let book = v.book();
            (book.side(Side::Bid).best_price(), book.side(Side::Ask).best_price())
        };
        let mut touches = vec![(ts, touch(&v).0, touch(&v).1)];
        let mut known: HashMap<OrderId, Known> = HashMap::new();
        let mut last_id: OrderId = 0;
        let mut position = start;
        let mut last_ts = i64::MIN;
        let n = cmds.len();
        for (k, c) in cmds.into_iter().enumerate() {
            ts += 10;
            match c {
                Cmd::Market { buy, qty, bps, fok, ro } => {
                    let side = if buy { Side::Bid } else { Side::Ask };
                    let mut req = OrderRequest::market(side, qty);
                    req.slippage_bps = bps;
                    req.reduce_only = ro;
                    if fok { req.tif = TimeInForce::Fok; }
                    last_id = v.submit(ts, req);
                    let b = bps.unwrap_or(BPS);
                    known.insert(last_id, Known {
                        qty, side: Some(side), market: Some((b, ts + lat.0)), bps: b,
                        reduce_only: ro, arrival: ts + lat.0, ..Known::default()
                    });
                }
                Cmd::Limit { buy, qty, off, tif, post, ro } => {
                    let side = if buy { Side::Bid } else { Side::Ask };
                    let tif = match tif {
                        0 => TimeInForce::Gtc,
                        1 => TimeInForce::Ioc,
                        2 => TimeInForce::Fok,
                        _ => TimeInForce::Gtd { expiry: ts + 45 },
                    };
                    let mut req = OrderRequest::limit(side, qty, MID + off, tif);
                    req.post_only = post;
                    req.reduce_only = ro;
                    last_id = v.submit(ts, req);
                    known.insert(last_id, Known {
                        qty, side: Some(side), limit: Some(MID + off), reduce_only: ro,
                        arrival: ts + lat.0, ..Known::default()
                    });
                }
                Cmd::Cond { kind, buy, qty, trig, lim, source, trail, tif, ro } => {
                    let side = if buy { Side::Bid } else { Side::Ask };
                    let tif = match tif {
                        0 => TimeInForce::Gtc,
                        1 => TimeInForce::Ioc,
                        2 => TimeInForce::Fok,
                        _ => TimeInForce::Gtd { expiry: ts + 75 },
                    };
                    let (trigger, limit) = (MID + trig, MID + lim);
                    let offset =
                        if trail < 6 { TrailOffset::Ticks(trail as i64) } else { TrailOffset::Bps(trail - 5) };
                    let mut req = match kind {
                        0 => OrderRequest::stop_market(side, qty, trigger),
                        1 => OrderRequest::stop_limit(side, qty, trigger, limit, tif),
                        2 => OrderRequest::take_profit_market(side, qty, trigger),
                        3 => OrderRequest::take_profit_limit(side, qty, trigger, limit, tif),
                        _ => OrderRequest::trailing_stop_market(side, qty, offset),
                    };
                    req.trigger_source = [TriggerSource::Last, TriggerSource::BidAsk, TriggerSource::Mark]
                        [source as usize];
                    req.reduce_only = ro;
                    let tk = match kind {
                        0 | 1 => TriggerKind::Stop,
                        2 | 3 => TriggerKind::TakeProfit,
                        _ => TriggerKind::TrailingStop,
                    };
                    last_id = v.submit(ts, req.clone());
                    known.insert(last_id, Known {
                        qty, side: Some(side), limit: req.order_type.limit_price(), bps: BPS,
                        reduce_only: ro, arrival: ts + lat.0,
                        trigger: Some((tk, req.trigger_price)), ..Known::default()
                    });
                }
                Cmd::Trade { aggr_buy, off, qty } => {
                    let s = if aggr_buy { Side::Bid } else { Side::Ask };
                    v.on_events(&trade(ts, s, MID + off, qty), 0);
                }
                Cmd::Diff { bid, off, qty } => {
                    let l = if bid { (Side::Bid, MID - 1 - off, qty) } else { (Side::Ask, MID + off, qty) };
                    v.on_events(&f.diff(ts, &[l]), 0);
                }
                Cmd::Mark { off } => {
                    v.on_mark(ts, MID + off).unwrap();
                }
                Cmd::Cancel { back } => {
                    v.cancel(ts, last_id.saturating_sub(back));
                }
                Cmd::Modify { back, off, qty } => {
                    v.modify(ts, last_id.saturating_sub(back), off.map(|o| MID + o), qty);
                }
                Cmd::ModifyTrigger { back, off } => {
                    let id = last_id.saturating_sub(back);
                    if let Some(t) = known.get_mut(&id) {
                        t.trigger_amended = true;
                    }
                    v.amend(ts, id, Amend { trigger_price: Some(MID + off), ..Amend::default() });
                }
                Cmd::Advance => {
                    v.advance_to(ts);
                }
                Cmd::Tick => {
                    v.on_events(&f.diff(ts, &[]), 0);
                }
            }
            if k + 1 == n {
                // Let every command in flight arrive.
                ts += 100;
                v.advance_to(ts);
            }
            touches.push((ts, touch(&v).0, touch(&v).1));
            for r in v.drain_reports() {
                prop_assert!(r.ts >= last_ts, "report at {} after one at {}", r.ts, last_ts);
                last_ts = r.ts;
                let Some(t) = known.get_mut(&r.order) else { continue };
                match r.kind {
                    ReportKind::CancelRejected { .. } | ReportKind::ModifyRejected { .. } => continue,
                    ReportKind::Accepted | ReportKind::Rejected { .. } => {
                        prop_assert_eq!(r.ts, t.arrival, "order {} answered at {}", r.order, r.ts);
                    }
                    ReportKind::Modified { price, qty } => {
                        prop_assert!(qty > t.filled);
                        t.qty = qty;
                        if t.limit.is_some() {
                            t.limit = Some(price);
                        }
                    }
                    ReportKind::Triggered { price } => {
                        let first = !t.triggered && t.filled == 0;
                        prop_assert!(first, "order {} fired twice or after fills", r.order);
                        t.triggered = true;
                        let (kind, trigger) = t.trigger.unwrap();
                        if t.limit.is_none() {
                            t.market = Some((t.bps, r.ts));
                        }
                        if let (false, Some(trigger)) = (t.trigger_amended, trigger) {
                            // The observation that fired it is at or through the trigger.
                            let rises = (t.side == Some(Side::Bid)) == (kind == TriggerKind::Stop);
                            let through = if rises { price >= trigger } else { price <= trigger };
                            if kind != TriggerKind::TrailingStop {
                                prop_assert!(through, "order {} fired at {} for {}", r.order, price, trigger);
                            }
                        }
                    }
                    _ => {}
                }
                if t.terminal > 0 {
                    t.after_terminal = true;
                }
                if let ReportKind::Filled { price, qty, leaves, .. } = r.kind {
                    let side = t.side.unwrap();
                    prop_assert!(qty > 0);
                    let live = t.trigger.is_none() || t.triggered;
                    prop_assert!(live, "order {} filled before it fired", r.order);
                    t.filled += qty;
                    prop_assert!(t.filled <= t.qty);
                    prop_assert_eq!(t.filled + leaves, t.qty);
                    if let Some(limit) = t.limit {
                        prop_assert!(!side.better(price, limit), "fill {} beyond limit {}", price, limit);
                    }
                    if let Some((bps, at)) = t.market {
                        // The touch the order met: after the last step at or before that
                        // time (a row at the same time goes first).
                        let &(_, b, a) = touches.iter().rev().find(|x| x.0 <= at).unwrap();
                        let r = if side == Side::Bid { a } else { b }.unwrap();
                        let cap = slippage_cap(side, r, bps);
                        prop_assert!(!side.better(price, cap), "market fill {} beyond cap {}", price, cap);
                    }
                    let before = position;
                    position = super::reduce::add_signed(position, side, qty);
                    if t.reduce_only {
                        let shrinks =
                            position.abs() <= before.abs() && position.signum() * before.signum() >= 0;
                        prop_assert!(shrinks, "reduce-only fill took position {} to {}", before, position);
                    }
                }
                if r.is_terminal() {
                    t.terminal += 1;
                }
            }
            prop_assert_eq!(v.position(), position);
        }
        prop_assert_eq!(v.pending_commands(), 0);
        for (id, t) in &known {
            prop_assert!(t.terminal <= 1, "order {} has {} terminal reports", id, t.terminal);
            prop_assert!(!t.after_terminal, "order {} reported after its terminal report", id);
            let waiting = v.conditional_order(*id).is_some();
            prop_assert_eq!(waiting, v.triggers().contains(*id));
            match v.order(*id) {
                Some(o) => {
                    prop_assert!(!waiting);
                    prop_assert_eq!(t.terminal, 0);
                    prop_assert_eq!(o.filled, t.filled);
                    prop_assert_eq!(o.qty, t.qty);
                    prop_assert!(o.remaining() > 0);
                    if o.reduce_only {
                        prop_assert!(o.remaining() <= super::reduce::reducible(o.side, v.position()));
                    }
                }
                None if waiting => {
                    prop_assert_eq!(t.terminal, 0);
                    prop_assert!(!t.triggered);
                }
                None => prop_assert_eq!(t.terminal, 1, "order {} is gone without a terminal report", id),
            }
        }
    }
}
