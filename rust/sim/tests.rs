//! Hand-computed scenarios for the simulated venue.
//!
//! Instrument for every test: tick 0.1, lot 0.001 (so 10000 ticks = 1000.0 and 1 lot =
//! 0.001), maker fee 0.0002, taker fee 0.0005, fees charged to 6 decimals and rounded
//! toward +inf (accounting rule 2).

use super::*;
use crate::accounting::{Contract, FeeSchedule};
use crate::event::{FLAG_BEGIN, FLAG_EMPTY, FLAG_END};
use crate::fixed::Grid;

pub(super) fn fees() -> ContractFees {
    let c = Contract::new(&Grid::new("0.1", "0.001").unwrap()).unwrap();
    ContractFees::new(FeeSchedule::new("0.0002", "0.0005", 6).unwrap(), &c)
}

pub(super) fn venue(default_bps: u32) -> SimVenue {
    SimVenue::new(SimConfig::new(Rule::Futures, default_bps, fees()))
}

/// Builds event rows for a futures stream whose ids chain.
pub(super) struct Feed {
    pub last: i64,
}

fn rows(kind: u8, ts: i64, ids: (i64, i64, i64), levels: &[(Side, i64, i64)]) -> Vec<Event> {
    let base = Event {
        ts_event: ts,
        ts_recv: ts,
        seq_first: ids.0,
        seq_last: ids.1,
        seq_prev: ids.2,
        kind,
        ..Event::default()
    };
    if levels.is_empty() {
        return vec![Event {
            flags: FLAG_BEGIN | FLAG_END | FLAG_EMPTY,
            ..base
        }];
    }
    let n = levels.len();
    levels
        .iter()
        .enumerate()
        .map(|(i, &(side, price, qty))| Event {
            side: side as u8,
            price,
            qty,
            flags: if i == 0 { FLAG_BEGIN } else { 0 } | if i + 1 == n { FLAG_END } else { 0 },
            ..base
        })
        .collect()
}

impl Feed {
    pub fn new() -> Feed {
        Feed { last: 100 }
    }
    pub fn snapshot(&mut self, ts: i64, levels: &[(Side, i64, i64)]) -> Vec<Event> {
        self.last = 100;
        rows(KIND_SNAPSHOT, ts, (0, 100, -1), levels)
    }
    pub fn diff(&mut self, ts: i64, levels: &[(Side, i64, i64)]) -> Vec<Event> {
        let ids = (self.last, self.last + 1, self.last);
        self.last += 1;
        rows(KIND_DIFF, ts, ids, levels)
    }
}

pub(super) fn trade(ts: i64, aggressor: Side, price: i64, qty: i64) -> Vec<Event> {
    vec![Event {
        ts_event: ts,
        ts_recv: ts,
        seq_prev: -1,
        price,
        qty,
        kind: KIND_TRADE,
        side: aggressor as u8,
        flags: FLAG_BEGIN | FLAG_END,
        ..Event::default()
    }]
}

use Side::{Ask, Bid};

pub(super) fn m(s: &str) -> Money {
    Money::parse(s).unwrap()
}

pub(super) fn taker(price: i64, qty: i64, fee: &str, leaves: i64) -> ReportKind {
    ReportKind::Filled { price, qty, liquidity: Liquidity::Taker, fee: m(fee), leaves }
}

pub(super) fn maker(price: i64, qty: i64, fee: &str, leaves: i64) -> ReportKind {
    ReportKind::Filled { price, qty, liquidity: Liquidity::Maker, fee: m(fee), leaves }
}

pub(super) fn kinds(v: &mut SimVenue) -> Vec<(i64, OrderId, ReportKind)> {
    v.drain_reports().map(|r| (r.ts, r.order, r.kind)).collect()
}

/// Asks 10000x2, 10005x3, 10010x1, 10011x5; bids 9995x4.
fn cap_book() -> (SimVenue, Feed) {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(
        &f.snapshot(1_000, &[(Bid, 9995, 4), (Ask, 10000, 2), (Ask, 10005, 3), (Ask, 10010, 1), (Ask, 10011, 5)]),
        0,
    );
    (v, f)
}

#[test]
fn market_buy_stops_at_the_slippage_cap() {
    let (mut v, _) = cap_book();
    // ref = best ask 10000; 10 bps -> cap = 10000 + floor(10000 × 10 / 10000) = 10010.
    assert_eq!(slippage_cap(Bid, 10000, 10), 10010);
    let id = v.submit(2_000, OrderRequest::market(Bid, 10).with_slippage_bps(10));
    // Fees (taker 0.0005, 6 dp, toward +inf):
    //   2 @ 1000.0: notional 2.0      -> 0.001
    //   3 @ 1000.5: notional 3.0015   -> 0.00150075 -> 0.001501
    //   1 @ 1001.0: notional 1.001    -> 0.0005005  -> 0.000501
    assert_eq!(
        kinds(&mut v),
        vec![
            (2_000, id, ReportKind::Accepted),
            (2_000, id, taker(10000, 2, "0.001", 8)),
            (2_000, id, taker(10005, 3, "0.001501", 5)),
            (2_000, id, taker(10010, 1, "0.000501", 4)),
            (2_000, id, ReportKind::Canceled { reason: Reason::SlippageCap }),
        ]
    );
    assert_eq!(v.open_order_count(), 0);
    assert_eq!(Reason::SlippageCap.as_str(), "SLIPPAGE_CAP");
}

#[test]
fn market_sell_cap_rounds_toward_the_reference_and_default_applies() {
    let (mut v, _) = cap_book();
    // 9995 × 10 / 10000 = 9.995 -> offset 9 -> cap 9986 (never beyond 10 bps).
    assert_eq!(slippage_cap(Ask, 9995, 10), 9986);
    // Default 50 bps: cap = 10000 + 50 = 10050, the whole side (11 lots) fits; 12 asked.
    let id = v.submit(2_000, OrderRequest::market(Bid, 12));
    let r = kinds(&mut v);
    let filled: i64 = r
        .iter()
        .filter_map(|(_, _, k)| match k {
            ReportKind::Filled { qty, .. } => Some(*qty),
            _ => None,
        })
        .sum();
    assert_eq!(filled, 11);
    assert_eq!(r.last().unwrap(), &(2_000, id, ReportKind::Canceled { reason: Reason::NoLiquidity }));
}

#[test]
fn market_order_without_reference_price_is_rejected() {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1, &[(Bid, 9995, 4)]), 0);
    let id = v.submit(2, OrderRequest::market(Bid, 1));
    assert_eq!(kinds(&mut v), vec![(2, id, ReportKind::Rejected { reason: Reason::NoReferencePrice })]);
}

#[test]
fn limit_fills_as_taker_then_rests_as_maker() {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 7), (Ask, 10000, 2), (Ask, 10001, 3), (Ask, 10003, 4)]), 0);
    let id = v.submit(2_000, OrderRequest::limit(Bid, 8, 10001, TimeInForce::Gtc));
    // Taker: 2 @ 1000.0 -> 2.0 × 0.0005 = 0.001; 3 @ 1000.1 -> 3.0003 × 0.0005 =
    // 0.00150015 -> 0.001501. Rest: 3 lots at 10001, nothing of the market ahead.
    assert_eq!(
        kinds(&mut v),
        vec![
            (2_000, id, ReportKind::Accepted),
            (2_000, id, taker(10000, 2, "0.001", 6)),
            (2_000, id, taker(10001, 3, "0.001501", 3)),
        ]
    );
    let o = v.order(id).unwrap();
    assert_eq!((o.price, o.remaining(), o.filled, o.queue_ahead), (10001, 3, 5, 0));
    // A seller hits 2 lots at 10001: maker fill, 2 @ 1000.1 = 2.0002 × 0.0002 =
    // 0.00040004 -> 0.000401.
    v.on_events(&trade(3_000, Ask, 10001, 2), 0);
    assert_eq!(kinds(&mut v), vec![(3_000, id, maker(10001, 2, "0.000401", 1))]);
    // A buyer's print at 10001 does not touch our bid.
    v.on_events(&trade(3_500, Bid, 10001, 5), 0);
    assert!(kinds(&mut v).is_empty());
    // A seller trading through at 10000 fills the last lot: 1000.1 × 0.001 × 0.0002 =
    // 0.00020002 -> 0.000201.
    v.on_events(&trade(4_000, Ask, 10000, 9), 0);
    assert_eq!(kinds(&mut v), vec![(4_000, id, maker(10001, 1, "0.000201", 0))]);
    assert_eq!(v.open_order_count(), 0);
}

#[test]
fn post_only_that_would_cross_is_rejected() {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 7), (Ask, 10000, 2)]), 0);
    let a = v.submit(2_000, OrderRequest::limit(Bid, 1, 10000, TimeInForce::Gtc).post_only());
    let b = v.submit(2_000, OrderRequest::limit(Bid, 1, 10002, TimeInForce::Gtc).post_only());
    let c = v.submit(2_000, OrderRequest::limit(Bid, 1, 9999, TimeInForce::Gtc).post_only());
    let d = v.submit(2_000, OrderRequest::limit(Ask, 1, 9990, TimeInForce::Gtc).post_only());
    let e = v.submit(2_000, OrderRequest::limit(Bid, 1, 9999, TimeInForce::Ioc).post_only());
    assert_eq!(
        kinds(&mut v),
        vec![
            (2_000, a, ReportKind::Rejected { reason: Reason::PostOnlyWouldCross }),
            (2_000, b, ReportKind::Rejected { reason: Reason::PostOnlyWouldCross }),
            (2_000, c, ReportKind::Accepted),
            (2_000, d, ReportKind::Rejected { reason: Reason::PostOnlyWouldCross }),
            (2_000, e, ReportKind::Rejected { reason: Reason::PostOnlyNeedsGtcOrGtd }),
        ]
    );
    assert_eq!(v.order(c).unwrap().remaining(), 1);
    assert_eq!(v.book().side(Ask).get(10000), 2);
}

#[test]
fn ioc_fills_what_it_can_and_cancels_the_rest() {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 7), (Ask, 10000, 2), (Ask, 10001, 3)]), 0);
    let id = v.submit(2_000, OrderRequest::limit(Bid, 5, 10000, TimeInForce::Ioc));
    assert_eq!(
        kinds(&mut v),
        vec![
            (2_000, id, ReportKind::Accepted),
            (2_000, id, taker(10000, 2, "0.001", 3)),
            (2_000, id, ReportKind::Canceled { reason: Reason::IocRemainder }),
        ]
    );
    assert_eq!(v.open_order_count(), 0);
}

#[test]
fn fok_fills_completely_or_not_at_all() {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 7), (Ask, 10000, 2), (Ask, 10001, 3), (Ask, 10002, 9)]), 0);
    // 6 lots up to 10001: only 5 there -> canceled, nothing filled, nothing consumed.
    let a = v.submit(2_000, OrderRequest::limit(Bid, 6, 10001, TimeInForce::Fok));
    assert_eq!(
        kinds(&mut v),
        vec![
            (2_000, a, ReportKind::Accepted),
            (2_000, a, ReportKind::Canceled { reason: Reason::FokUnfillable }),
        ]
    );
    assert_eq!(v.consumed_at(Ask, 10000), 0);
    // 5 lots up to 10001: filled at once.
    let b = v.submit(2_000, OrderRequest::limit(Bid, 5, 10001, TimeInForce::Fok));
    assert_eq!(
        kinds(&mut v),
        vec![
            (2_000, b, ReportKind::Accepted),
            (2_000, b, taker(10000, 2, "0.001", 3)),
            (2_000, b, taker(10001, 3, "0.001501", 0)),
        ]
    );
    // Market FOK, 1 lot inside a 1 bp cap (10001): 10000 and 10001 were consumed by b
    // in this event, 10002 is beyond the cap -> canceled.
    let c = v.submit(2_000, OrderRequest {
        tif: TimeInForce::Fok,
        ..OrderRequest::market(Bid, 1).with_slippage_bps(1)
    });
    assert_eq!(
        kinds(&mut v),
        vec![
            (2_000, c, ReportKind::Accepted),
            (2_000, c, ReportKind::Canceled { reason: Reason::FokUnfillable }),
        ]
    );
}

#[test]
fn gtd_expires_on_the_clock() {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 7), (Ask, 10000, 2)]), 0);
    let past = v.submit(1_500, OrderRequest::limit(Bid, 1, 9990, TimeInForce::Gtd { expiry: 1_500 }));
    let id = v.submit(1_500, OrderRequest::limit(Bid, 1, 9995, TimeInForce::Gtd { expiry: 2_000 }));
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_500, past, ReportKind::Rejected { reason: Reason::ExpiryInPast }),
            (1_500, id, ReportKind::Accepted),
        ]
    );
    v.on_events(&f.diff(1_999, &[(Ask, 10001, 1)]), 0);
    assert!(kinds(&mut v).is_empty());
    assert!(v.order(id).is_some());
    // The print at exactly the expiry comes after the expiry: no fill.
    v.on_events(&trade(2_000, Ask, 9995, 5), 0);
    assert_eq!(kinds(&mut v), vec![(2_000, id, ReportKind::Expired)]);
    assert!(v.order(id).is_none());
    // A cancel of an expired order is refused.
    assert!(!v.cancel(2_100, id));
    assert_eq!(kinds(&mut v), vec![(2_100, id, ReportKind::CancelRejected { reason: Reason::UnknownOrder })]);
}

#[test]
fn queue_position_conservative_model() {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    let id = v.submit(1_100, OrderRequest::limit(Bid, 3, 9990, TimeInForce::Gtc));
    assert_eq!(kinds(&mut v), vec![(1_100, id, ReportKind::Accepted)]);
    assert_eq!(v.order(id).unwrap().queue_ahead, 5);
    // 3 lots traded at 9990: all from the 5 ahead of us.
    v.on_events(&trade(1_200, Ask, 9990, 3), 0);
    assert!(kinds(&mut v).is_empty());
    assert_eq!(v.order(id).unwrap().queue_ahead, 2);
    // The level shrinks 5 -> 4 (the book has not printed the trades yet): off the back,
    // queue_ahead stays 2; it grows to 9: new size goes behind us.
    v.on_events(&f.diff(1_300, &[(Bid, 9990, 4)]), 0);
    v.on_events(&f.diff(1_350, &[(Bid, 9990, 9)]), 0);
    assert_eq!(v.order(id).unwrap().queue_ahead, 2);
    // 2 more lots: exactly the 5 ahead are gone, still nothing for us.
    v.on_events(&trade(1_400, Ask, 9990, 2), 0);
    assert!(kinds(&mut v).is_empty());
    assert_eq!(v.order(id).unwrap().queue_ahead, 0);
    // Beyond 5 lots: 2 of the next print are ours (partial). 999.0 × 0.002 × 0.0002 =
    // 0.0003996 -> 0.0004.
    v.on_events(&trade(1_500, Ask, 9990, 2), 0);
    assert_eq!(kinds(&mut v), vec![(1_500, id, maker(9990, 2, "0.0004", 1))]);
    // A buyer's print at our price is on our side: nothing.
    v.on_events(&trade(1_600, Bid, 9990, 9), 0);
    assert!(kinds(&mut v).is_empty());
    assert_eq!(v.order(id).unwrap().remaining(), 1);
}

#[test]
fn queue_ahead_is_clamped_to_the_level_size() {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    let a = v.submit(1_100, OrderRequest::limit(Bid, 3, 9990, TimeInForce::Gtc));
    v.on_events(&f.diff(1_200, &[(Bid, 9990, 1)]), 0);
    assert_eq!(v.order(a).unwrap().queue_ahead, 1);
    // A second order at the same price: 1 market lot ahead of both, then order a.
    let b = v.submit(1_250, OrderRequest::limit(Bid, 2, 9990, TimeInForce::Gtc));
    assert_eq!(v.order(b).unwrap().queue_ahead, 1);
    kinds(&mut v);
    // A print of 3: 1 market lot, then 2 to a (a has 1 left), b gets nothing.
    v.on_events(&trade(1_300, Ask, 9990, 3), 0);
    assert_eq!(kinds(&mut v), vec![(1_300, a, maker(9990, 2, "0.0004", 1))]);
    assert_eq!(v.order(b).unwrap().queue_ahead, 0);
    // A print of 2: a's last lot, then 1 to b. 999.0 × 0.001 × 0.0002 = 0.0001998 -> 0.0002.
    v.on_events(&trade(1_400, Ask, 9990, 2), 0);
    assert_eq!(
        kinds(&mut v),
        vec![(1_400, a, maker(9990, 1, "0.0002", 0)), (1_400, b, maker(9990, 1, "0.0002", 1))]
    );
    // A snapshot clamps every resting order.
    v.on_events(&f.snapshot(1_500, &[(Bid, 9989, 5), (Ask, 10000, 2)]), 0);
    assert_eq!(v.order(b).unwrap().queue_ahead, 0);
}

#[test]
fn consumed_liquidity_is_not_reused_within_one_event() {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2), (Ask, 10001, 3)]), 0);
    let a = v.submit(1_100, OrderRequest::market(Bid, 2));
    let b = v.submit(1_100, OrderRequest::market(Bid, 2));
    // 3 @ 1000.1 would be 0.00150015; 2 @ 1000.1 = 2.0002 × 0.0005 = 0.0010001 -> 0.001001.
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, a, ReportKind::Accepted),
            (1_100, a, taker(10000, 2, "0.001", 0)),
            (1_100, b, ReportKind::Accepted),
            (1_100, b, taker(10001, 2, "0.001001", 0)),
        ]
    );
    assert_eq!(v.consumed_at(Ask, 10000), 2);
    assert_eq!(v.consumed_at(Ask, 10001), 2);
    // A third with a 1 bp cap (10001): 1 lot left inside it, then the cap.
    let c = v.submit(1_100, OrderRequest::market(Bid, 3).with_slippage_bps(1));
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, c, ReportKind::Accepted),
            (1_100, c, taker(10001, 1, "0.000501", 2)),
            (1_100, c, ReportKind::Canceled { reason: Reason::NoLiquidity }),
        ]
    );
    // A trade print does not reset it; the next book message does.
    v.on_events(&trade(1_150, Bid, 10000, 1), 0);
    assert_eq!(v.consumed_at(Ask, 10000), 2);
    v.on_events(&f.diff(1_200, &[(Bid, 9989, 1)]), 0);
    assert_eq!(v.consumed_at(Ask, 10000), 0);
    let d = v.submit(1_300, OrderRequest::market(Bid, 1));
    assert_eq!(kinds(&mut v)[1], (1_300, d, taker(10000, 1, "0.0005", 0)));
}

#[test]
fn cancels_client_ids_and_stale_book() {
    let mut v = venue(50);
    let mut f = Feed::new();
    let early = v.submit(10, OrderRequest::limit(Bid, 1, 9990, TimeInForce::Gtc));
    assert_eq!(kinds(&mut v), vec![(10, early, ReportKind::Rejected { reason: Reason::BookStale })]);
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    let a = v.submit(1_100, OrderRequest::limit(Bid, 1, 9980, TimeInForce::Gtc).with_client_id("c1"));
    let dup = v.submit(1_100, OrderRequest::limit(Bid, 1, 9981, TimeInForce::Gtc).with_client_id("c1"));
    let bad = v.submit(1_100, OrderRequest::limit(Bid, 0, 9981, TimeInForce::Gtc));
    assert_eq!(v.order_by_client_id("c1"), Some(a));
    assert!(v.cancel_client(1_200, "c1"));
    assert!(v.order_by_client_id("c1").is_none());
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, a, ReportKind::Accepted),
            (1_100, dup, ReportKind::Rejected { reason: Reason::DuplicateClientId }),
            (1_100, bad, ReportKind::Rejected { reason: Reason::BadQty }),
            (1_200, a, ReportKind::Canceled { reason: Reason::UserCancel }),
        ]
    );
    // The client id is free again.
    let again = v.submit(1_300, OrderRequest::limit(Bid, 1, 9980, TimeInForce::Gtc).with_client_id("c1"));
    assert_eq!(v.order_by_client_id("c1"), Some(again));
    // A gap makes the book stale: new orders are refused.
    f.last += 5;
    v.on_events(&f.diff(1_400, &[(Bid, 9989, 1)]), 0);
    assert!(v.book().is_stale());
    assert_eq!(v.stats().gaps, 1);
    kinds(&mut v);
    let late = v.submit(1_500, OrderRequest::market(Bid, 1));
    assert_eq!(kinds(&mut v), vec![(1_500, late, ReportKind::Rejected { reason: Reason::BookStale })]);
    // A command in the past is handled at the clock's time.
    assert!(v.cancel(1_000, again));
    assert_eq!(kinds(&mut v)[0].0, 1_500);
}
