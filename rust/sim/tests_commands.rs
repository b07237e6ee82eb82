//! Hand-computed scenarios for latency, amend and reduce-only (same instrument as
//! `tests.rs`: tick 0.1, lot 0.001, maker 0.0002, taker 0.0005, fees to 6 decimals
//! rounded toward +inf).

use super::tests::{fees, kinds, maker, taker, trade, Feed};
use super::*;

use Side::{Ask, Bid};

/// A venue with the given (submit, cancel, modify) latencies and a 50 bp default cap.
fn lat_venue(submit: i64, cancel: i64, modify: i64) -> SimVenue {
    SimVenue::new(SimConfig {
        submit_latency_ns: submit,
        cancel_latency_ns: cancel,
        modify_latency_ns: modify,
        ..SimConfig::new(Rule::Futures, 50, fees())
    })
}

// ---------------------------------------------------------------------------- latency

#[test]
fn negative_latency_is_refused_with_field_value_and_rule() {
    let cfg = SimConfig { cancel_latency_ns: -5, ..SimConfig::new(Rule::Futures, 50, fees()) };
    let e = SimVenue::try_new(cfg).unwrap_err();
    assert_eq!(e, ConfigError::Latency { field: "cancel_latency_ns", value: -5 });
    assert_eq!(e.to_string(), "cancel_latency_ns -5 is not allowed (rule: latency >= 0)");
}

#[test]
fn a_cancel_that_loses_the_race_to_a_fill() {
    // Submit latency 100 ns, cancel latency 300 ns.
    let mut v = lat_venue(100, 300, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    // Issued at 1100, arrives at 1200: a bid for 3 at 9995, an empty level (nothing ahead).
    let id = v.submit(1_100, OrderRequest::limit(Bid, 3, 9995, TimeInForce::Gtc));
    assert!(kinds(&mut v).is_empty());
    assert_eq!(v.pending_commands(), 1);
    // A print at 1150 comes before the order exists: it fills nothing.
    v.on_events(&trade(1_150, Ask, 9995, 4), 0);
    assert!(kinds(&mut v).is_empty());
    // The print at 1250 first lets the order arrive (1200 < 1250), then fills 1 lot:
    // 999.5 × 0.001 × 0.0002 = 0.0001999 -> 0.0002.
    v.on_events(&trade(1_250, Ask, 9995, 1), 0);
    assert_eq!(
        kinds(&mut v),
        vec![(1_200, id, ReportKind::Accepted), (1_250, id, maker(9995, 1, "0.0002", 2))]
    );
    // The cancel, issued at 1300, arrives at 1600. A print at exactly 1600 goes first
    // (tie: market first) and fills the last 2 lots: 999.5 × 0.002 × 0.0002 = 0.0003998
    // -> 0.0004.
    assert!(!v.cancel(1_300, id));
    v.on_events(&trade(1_600, Ask, 9995, 2), 0);
    assert_eq!(kinds(&mut v), vec![(1_600, id, maker(9995, 2, "0.0004", 0))]);
    // The cancel is still in flight until something moves the clock to 1600 or beyond;
    // then it finds the order done. The fills stand.
    assert_eq!(v.pending_commands(), 1);
    v.advance_to(1_700);
    assert_eq!(
        kinds(&mut v),
        vec![(1_600, id, ReportKind::CancelRejected { reason: Reason::UnknownOrder })]
    );
    assert_eq!(v.clock(), 1_700);
    assert!(v.order(id).is_none());
}

#[test]
fn a_cancel_that_wins_the_race_by_one_nanosecond() {
    let mut v = lat_venue(100, 300, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    let id = v.submit(1_100, OrderRequest::limit(Bid, 3, 9995, TimeInForce::Gtc));
    v.on_events(&trade(1_250, Ask, 9995, 1), 0);
    kinds(&mut v);
    v.cancel(1_300, id);
    // The cancel arrives at 1600, before the print at 1601: 2 lots canceled, no fill.
    v.on_events(&trade(1_601, Ask, 9995, 2), 0);
    assert_eq!(kinds(&mut v), vec![(1_600, id, ReportKind::Canceled { reason: Reason::UserCancel })]);
}

#[test]
fn a_cancel_that_arrives_before_its_order_is_refused() {
    let mut v = lat_venue(100, 10, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    // Order arrives at 1100; the cancel issued at 1050 arrives at 1060.
    let id = v.submit(1_000, OrderRequest::limit(Bid, 1, 9980, TimeInForce::Gtc));
    v.cancel(1_050, id);
    v.advance_to(1_100);
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_060, id, ReportKind::CancelRejected { reason: Reason::UnknownOrder }),
            (1_100, id, ReportKind::Accepted),
        ]
    );
    assert_eq!(v.order(id).unwrap().remaining(), 1);
}

#[test]
fn a_market_order_meets_the_book_as_it_is_at_arrival() {
    let mut v = lat_venue(100, 0, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    // Issued at 1000, arrives at 1100.
    let a = v.submit(1_000, OrderRequest::market(Bid, 2));
    let b = v.submit(1_000, OrderRequest::market(Bid, 1).with_slippage_bps(1));
    // 10000 is taken away at 1050; at 1100 (tie: the diff goes first) 10003x2 appears.
    v.on_events(&f.diff(1_050, &[(Ask, 10000, 0), (Ask, 10010, 9)]), 0);
    v.on_events(&f.diff(1_100, &[(Ask, 10003, 2)]), 0);
    assert!(kinds(&mut v).is_empty());
    v.advance_to(1_100);
    // a: 2 @ 1000.3: 2.0006 × 0.0005 = 0.0010003 -> 0.001001. b (same arrival, issued
    // later): cap from the touch at arrival, 10003 + floor(10003 × 1 / 10000) = 10004; the
    // 2 lots at 10003 are consumed by a within this event, 10010 is beyond the cap.
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, a, ReportKind::Accepted),
            (1_100, a, taker(10003, 2, "0.001001", 0)),
            (1_100, b, ReportKind::Accepted),
            (1_100, b, ReportKind::Canceled { reason: Reason::SlippageCap }),
        ]
    );
}

#[test]
fn pending_commands_apply_in_arrival_order_then_issue_order() {
    // Submits take 100 ns, cancels 20 ns.
    let mut v = lat_venue(100, 20, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    let a = v.submit(1_000, OrderRequest::limit(Bid, 1, 9980, TimeInForce::Gtc)); // 1100
    let b = v.submit(1_050, OrderRequest::limit(Bid, 1, 9981, TimeInForce::Gtc)); // 1150
    let c = v.submit(1_050, OrderRequest::limit(Bid, 1, 9982, TimeInForce::Gtc)); // 1150
    v.cancel(1_090, a); // 1110
    v.cancel(1_130, b); // 1150, issued after b and c
    // A diff at 1150: everything before 1150 goes first; b, c and b's cancel (all 1150)
    // wait for the row.
    v.on_events(&f.diff(1_150, &[(Bid, 9980, 7)]), 0);
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, a, ReportKind::Accepted),
            (1_110, a, ReportKind::Canceled { reason: Reason::UserCancel }),
        ]
    );
    assert_eq!(v.pending_commands(), 3);
    // The next row (1151) lets them in, in issue order.
    v.on_events(&f.diff(1_151, &[]), 0);
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_150, b, ReportKind::Accepted),
            (1_150, c, ReportKind::Accepted),
            (1_150, b, ReportKind::Canceled { reason: Reason::UserCancel }),
        ]
    );
    assert_eq!(v.clock(), 1_151);
    assert_eq!(v.open_order_count(), 1);
}

#[test]
fn expiry_comes_before_a_command_arriving_at_the_same_time() {
    let mut v = lat_venue(0, 500, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    let id = v.submit(1_000, OrderRequest::limit(Bid, 1, 9980, TimeInForce::Gtd { expiry: 1_500 }));
    // Issued at 1000, arrives at 1500 = the expiry: the order expires first.
    v.cancel(1_000, id);
    // advance_to expires without market data.
    v.advance_to(1_499);
    assert_eq!(kinds(&mut v), vec![(1_000, id, ReportKind::Accepted)]);
    v.advance_to(1_500);
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_500, id, ReportKind::Expired),
            (1_500, id, ReportKind::CancelRejected { reason: Reason::UnknownOrder }),
        ]
    );
}

#[test]
fn a_gtd_expiring_in_flight_is_refused_at_arrival() {
    let mut v = lat_venue(100, 0, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    // Valid when issued (1050 > 1000), past when it arrives at 1100.
    let id = v.submit(1_000, OrderRequest::limit(Bid, 1, 9980, TimeInForce::Gtd { expiry: 1_050 }));
    // A command issued in the past is issued at the clock (1000): still arrives at 1100.
    v.advance_to(900);
    assert_eq!(v.clock(), 1_000);
    v.advance_to(1_100);
    assert_eq!(kinds(&mut v), vec![(1_100, id, ReportKind::Rejected { reason: Reason::ExpiryInPast })]);
}

// ---------------------------------------------------------------------------- amend

fn modified(price: i64, qty: i64) -> ReportKind {
    ReportKind::Modified { price, qty }
}

fn modify_rejected(reason: Reason) -> ReportKind {
    ReportKind::ModifyRejected { reason }
}

#[test]
fn a_decrease_keeps_the_queue_place_an_increase_goes_to_the_back() {
    let mut v = lat_venue(0, 0, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    let a = v.submit(1_100, OrderRequest::limit(Bid, 3, 9990, TimeInForce::Gtc));
    let b = v.submit(1_100, OrderRequest::limit(Bid, 2, 9990, TimeInForce::Gtc));
    // 3 -> 2: a stays first, still 5 market lots ahead.
    assert!(v.modify(1_200, a, None, Some(2)));
    assert_eq!(v.order(a).unwrap().queue_ahead, 5);
    // A print of 6: the 5 market lots, then 1 to a. 999.0 × 0.001 × 0.0002 = 0.0001998
    // -> 0.0002. b is now at the front of what is left (nothing ahead).
    v.on_events(&trade(1_300, Ask, 9990, 6), 0);
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, a, ReportKind::Accepted),
            (1_100, b, ReportKind::Accepted),
            (1_200, a, modified(9990, 2)),
            (1_300, a, maker(9990, 1, "0.0002", 1)),
        ]
    );
    assert_eq!(v.order(b).unwrap().queue_ahead, 0);
    // 2 -> 4 (1 filled, 3 open): to the back, behind b and the book's 5 lots at 9990.
    assert!(v.modify(1_400, a, None, Some(4)));
    let o = v.order(a).unwrap();
    assert_eq!((o.qty, o.filled, o.remaining(), o.queue_ahead), (4, 1, 3, 5));
    // A print of 3: b's 2 lots (999.0 × 0.002 × 0.0002 = 0.0003996 -> 0.0004), then 1
    // market lot ahead of a.
    v.on_events(&trade(1_500, Ask, 9990, 3), 0);
    assert_eq!(
        kinds(&mut v),
        vec![(1_400, a, modified(9990, 4)), (1_500, b, maker(9990, 2, "0.0004", 0))]
    );
    assert_eq!(v.order(a).unwrap().queue_ahead, 4);
}

#[test]
fn a_new_price_goes_to_the_back_of_the_new_level() {
    let mut v = lat_venue(0, 0, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Bid, 9989, 7), (Ask, 10000, 2)]), 0);
    let a = v.submit(1_100, OrderRequest::limit(Bid, 3, 9990, TimeInForce::Gtc));
    v.on_events(&trade(1_150, Ask, 9990, 5), 0);
    assert_eq!(v.order(a).unwrap().queue_ahead, 0);
    // Down one tick: behind the 7 lots at 9989, the front place at 9990 is lost.
    assert!(v.modify(1_200, a, Some(9989), None));
    let o = v.order(a).unwrap();
    assert_eq!((o.price, o.qty, o.queue_ahead), (9989, 3, 7));
    v.on_events(&trade(1_300, Ask, 9990, 2), 0);
    assert_eq!(kinds(&mut v), vec![(1_100, a, ReportKind::Accepted), (1_200, a, modified(9989, 3))]);
}

#[test]
fn a_crossing_new_price_takes_then_rests_the_rest() {
    let mut v = lat_venue(0, 0, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2), (Ask, 10001, 3), (Ask, 10002, 4)]), 0);
    let a = v.submit(1_100, OrderRequest::limit(Bid, 3, 9995, TimeInForce::Gtc));
    kinds(&mut v);
    // To 10001 and 7 lots: 2 @ 1000.0 (2.0 × 0.0005 = 0.001), 3 @ 1000.1 (3.0003 ×
    // 0.0005 = 0.00150015 -> 0.001501), 2 rest at 10001 with no bid there.
    assert!(v.modify(1_200, a, Some(10001), Some(7)));
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_200, a, modified(10001, 7)),
            (1_200, a, taker(10000, 2, "0.001", 5)),
            (1_200, a, taker(10001, 3, "0.001501", 2)),
        ]
    );
    let o = v.order(a).unwrap();
    assert_eq!((o.price, o.qty, o.filled, o.queue_ahead), (10001, 7, 5, 0));
    assert_eq!(v.consumed_at(Ask, 10001), 3);
    // Through the whole remaining: 2 @ 1000.2 = 2.0004 × 0.0005 = 0.0010002 -> 0.001001.
    assert!(v.modify(1_200, a, Some(10002), None));
    assert_eq!(
        kinds(&mut v),
        vec![(1_200, a, modified(10002, 7)), (1_200, a, taker(10002, 2, "0.001001", 0))]
    );
    assert!(v.order(a).is_none());
    assert_eq!(v.open_order_count(), 0);
}

#[test]
fn rejected_modifies_leave_the_order_unchanged() {
    let mut v = lat_venue(0, 0, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    let a = v.submit(1_100, OrderRequest::limit(Bid, 4, 9995, TimeInForce::Gtc).post_only());
    v.on_events(&trade(1_150, Ask, 9995, 1), 0);
    kinds(&mut v);
    let before = v.order(a).unwrap().clone();
    assert_eq!((before.qty, before.filled), (4, 1));
    assert!(!v.modify(1_200, a, Some(10000), None)); // post-only at the ask: crosses
    assert!(!v.modify(1_200, a, None, Some(1))); // = filled
    assert!(!v.modify(1_200, a, None, Some(0)));
    assert!(!v.modify(1_200, a, None, None));
    assert!(!v.modify(1_200, a, Some(1 << 62), None));
    assert!(!v.modify(1_200, 99, None, Some(2)));
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_200, a, modify_rejected(Reason::PostOnlyWouldCross)),
            (1_200, a, modify_rejected(Reason::QtyBelowFilled)),
            (1_200, a, modify_rejected(Reason::BadQty)),
            (1_200, a, modify_rejected(Reason::NothingToModify)),
            (1_200, a, modify_rejected(Reason::BadPrice)),
            (1_200, 99, modify_rejected(Reason::UnknownOrder)),
        ]
    );
    assert_eq!(v.order(a).unwrap(), &before);
    // A stale book refuses a new price or more lots, not a decrease.
    f.last += 5;
    v.on_events(&f.diff(1_300, &[(Bid, 9989, 1)]), 0);
    assert!(v.book().is_stale());
    assert!(!v.modify(1_400, a, Some(9994), None));
    assert!(!v.modify(1_400, a, None, Some(5)));
    assert!(v.modify(1_400, a, None, Some(3)));
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_400, a, modify_rejected(Reason::BookStale)),
            (1_400, a, modify_rejected(Reason::BookStale)),
            (1_400, a, modified(9995, 3)),
        ]
    );
    assert_eq!(Reason::QtyBelowFilled.as_str(), "QTY_BELOW_FILLED");
    assert_eq!(Reason::NothingToModify.as_str(), "NOTHING_TO_MODIFY");
}

#[test]
fn a_decrease_that_arrives_after_fills_is_checked_against_them() {
    // Modify latency 200 ns.
    let mut v = lat_venue(0, 0, 200);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    let a = v.submit(1_000, OrderRequest::limit(Bid, 5, 9995, TimeInForce::Gtc));
    // 5 -> 3 issued at 1000, arrives at 1200; 4 lots fill at 1100 meanwhile:
    // 999.5 × 0.004 × 0.0002 = 0.0007996 -> 0.0008.
    assert!(!v.modify(1_000, a, None, Some(3)));
    v.on_events(&trade(1_100, Ask, 9995, 4), 0);
    v.advance_to(1_200);
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_000, a, ReportKind::Accepted),
            (1_100, a, maker(9995, 4, "0.0008", 1)),
            (1_200, a, modify_rejected(Reason::QtyBelowFilled)),
        ]
    );
    let o = v.order(a).unwrap();
    assert_eq!((o.qty, o.filled), (5, 4));
}

// ---------------------------------------------------------------------------- reduce-only

fn canceled(reason: Reason) -> ReportKind {
    ReportKind::Canceled { reason }
}

#[test]
fn reduce_only_is_refused_when_it_would_increase_the_position() {
    let mut v = lat_venue(0, 0, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 5), (Ask, 10000, 5)]), 0);
    let flat = v.submit(1_100, OrderRequest::market(Ask, 1).reduce_only());
    v.set_position(3);
    let same_side = v.submit(1_100, OrderRequest::limit(Bid, 1, 9990, TimeInForce::Gtc).reduce_only());
    let ok = v.submit(1_100, OrderRequest::limit(Ask, 2, 10010, TimeInForce::Gtc).reduce_only());
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, flat, ReportKind::Rejected { reason: Reason::ReduceOnlyWouldIncrease }),
            (1_100, same_side, ReportKind::Rejected { reason: Reason::ReduceOnlyWouldIncrease }),
            (1_100, ok, ReportKind::Accepted),
        ]
    );
    assert_eq!(v.position(), 3);
    assert_eq!(Reason::ReduceOnlyWouldIncrease.as_str(), "REDUCE_ONLY_WOULD_INCREASE");
    assert_eq!(Reason::ReduceOnlyExceedsPosition.as_str(), "REDUCE_ONLY_EXCEEDS_POSITION");
}

#[test]
fn a_reduce_only_market_order_stops_at_the_position() {
    let mut v = lat_venue(0, 0, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 2), (Bid, 9994, 4), (Ask, 10000, 5)]), 0);
    v.set_position(3);
    // Sell 5 against a long of 3: 2 @ 999.5 (1.999 × 0.0005 = 0.0009995 -> 0.001), 1 @
    // 999.4 (0.9994 × 0.0005 = 0.0004997 -> 0.0005), the other 2 canceled.
    let id = v.submit(1_100, OrderRequest::market(Ask, 5).reduce_only());
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, id, ReportKind::Accepted),
            (1_100, id, taker(9995, 2, "0.001", 3)),
            (1_100, id, taker(9994, 1, "0.0005", 2)),
            (1_100, id, canceled(Reason::ReduceOnlyExceedsPosition)),
        ]
    );
    assert_eq!(v.position(), 0);
    assert_eq!(v.consumed_at(Bid, 9994), 1);
}

#[test]
fn a_reduce_only_fok_larger_than_the_position_fills_nothing() {
    let mut v = lat_venue(0, 0, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 9), (Ask, 10000, 9)]), 0);
    v.set_position(-2);
    let big = v.submit(1_100, OrderRequest::limit(Bid, 3, 10000, TimeInForce::Fok).reduce_only());
    // 2 lots fit: 2 @ 1000.0 = 2.0 × 0.0005 = 0.001.
    let fits = v.submit(1_100, OrderRequest::limit(Bid, 2, 10000, TimeInForce::Fok).reduce_only());
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, big, ReportKind::Accepted),
            (1_100, big, canceled(Reason::ReduceOnlyExceedsPosition)),
            (1_100, fits, ReportKind::Accepted),
            (1_100, fits, taker(10000, 2, "0.001", 0)),
        ]
    );
    assert_eq!(v.position(), 0);
}

#[test]
fn a_resting_reduce_only_order_follows_the_position_down() {
    let mut v = lat_venue(0, 0, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 9), (Ask, 10000, 9)]), 0);
    v.set_position(3);
    // Sell 5 reduce-only at 10005 against a long of 3: rests, cut to 3 at once.
    let ro = v.submit(1_100, OrderRequest::limit(Ask, 5, 10005, TimeInForce::Gtc).reduce_only());
    // A plain market sell of 1: 999.5 × 0.001 × 0.0005 = 0.00049975 -> 0.0005; long 2 ->
    // the reduce-only order is cut to 2.
    let mkt = v.submit(1_200, OrderRequest::market(Ask, 1));
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, ro, ReportKind::Accepted),
            (1_100, ro, ReportKind::Modified { price: 10005, qty: 3 }),
            (1_200, mkt, ReportKind::Accepted),
            (1_200, mkt, taker(9995, 1, "0.0005", 0)),
            (1_200, ro, ReportKind::Modified { price: 10005, qty: 2 }),
        ]
    );
    // A buyer lifts 10005 for 4 lots: our 2 (1000.5 × 0.002 × 0.0002 = 0.0004002 ->
    // 0.000401), flat.
    v.on_events(&trade(1_300, Bid, 10005, 4), 0);
    assert_eq!(kinds(&mut v), vec![(1_300, ro, maker(10005, 2, "0.000401", 0))]);
    assert_eq!(v.position(), 0);
    assert_eq!(v.open_order_count(), 0);
}

#[test]
fn a_print_skips_a_reduce_only_order_with_nothing_left_to_reduce() {
    let mut v = lat_venue(0, 0, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 9), (Ask, 10000, 9)]), 0);
    v.set_position(5);
    let a = v.submit(1_100, OrderRequest::limit(Ask, 5, 10005, TimeInForce::Gtc).reduce_only());
    let b = v.submit(1_100, OrderRequest::limit(Ask, 5, 10005, TimeInForce::Gtc).reduce_only());
    let c = v.submit(1_100, OrderRequest::limit(Ask, 4, 10005, TimeInForce::Gtc));
    kinds(&mut v);
    // A buyer takes 8 at 10005. a: 5 (5.0025 × 0.0002 = 0.0010005 -> 0.001001), flat;
    // b has nothing to reduce and passes; c: the other 3 (3.0015 × 0.0002 = 0.0006003 ->
    // 0.000601). After the print, short 3: b is canceled.
    v.on_events(&trade(1_200, Bid, 10005, 8), 0);
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_200, a, maker(10005, 5, "0.001001", 0)),
            (1_200, c, maker(10005, 3, "0.000601", 1)),
            (1_200, b, canceled(Reason::ReduceOnlyExceedsPosition)),
        ]
    );
    assert_eq!(v.position(), -3);
}

#[test]
fn a_flipped_position_cancels_and_amends_are_held_to_the_position() {
    let mut v = lat_venue(0, 0, 0);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 9), (Ask, 10000, 9)]), 0);
    v.set_position(4);
    let a = v.submit(1_100, OrderRequest::limit(Ask, 3, 10005, TimeInForce::Gtc).reduce_only());
    assert!(!v.modify(1_200, a, None, Some(5)));
    assert!(v.modify(1_200, a, None, Some(4)));
    v.set_position(-2);
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, a, ReportKind::Accepted),
            (1_200, a, ReportKind::ModifyRejected { reason: Reason::ReduceOnlyExceedsPosition }),
            (1_200, a, ReportKind::Modified { price: 10005, qty: 4 }),
            (1_200, a, canceled(Reason::ReduceOnlyExceedsPosition)),
        ]
    );
    assert!(v.order(a).is_none());
}
