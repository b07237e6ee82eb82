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
    assert_eq!(e, ConfigError { field: "cancel_latency_ns", value: -5, rule: "latency >= 0" });
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
