//! Hand-computed scenarios for restoring orders after a restart (same instrument as
//! `tests.rs`: tick 0.1, lot 0.001, maker 0.0002, taker 0.0005, fees to 6 decimals
//! rounded toward +inf).

use super::tests::{kinds, maker, taker, trade, venue, Feed};
use super::*;
use crate::trigger::{TrailOffset, TriggerSource};

use Side::{Ask, Bid};

fn gtc(side: Side, qty: i64, price: i64) -> OrderRequest {
    OrderRequest::limit(side, qty, price, TimeInForce::Gtc)
}

#[test]
fn a_restored_order_says_nothing_and_fills_from_the_back_of_the_queue() {
    // A fresh venue (stale book): bid 5 lots at 999.5 of which 2 filled before the restart.
    let mut v = venue(50);
    v.restore(7, gtc(Bid, 5, 9995).with_client_id("qx-3"), 2).unwrap();
    assert!(kinds(&mut v).is_empty());
    let o = v.order(7).unwrap();
    assert_eq!((o.qty, o.filled, o.remaining(), o.queue_ahead), (5, 2, 3, i64::MAX));
    assert_eq!(v.order_by_client_id("qx-3"), Some(7));
    // The first snapshot puts it behind the 4 lots at its level.
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 4), (Ask, 10000, 2)]), 0);
    assert_eq!(v.order(7).unwrap().queue_ahead, 4);
    // A sell print of 5 eats the 4 ahead, then fills 1: 0.9995 × 0.0002 = 0.0001999 ->
    // 0.0002; leaves 5 - 2 - 1 = 2.
    v.on_events(&trade(1_100, Ask, 9995, 5), 0);
    assert_eq!(kinds(&mut v), vec![(1_100, 7, maker(9995, 1, "0.0002", 2))]);
    // 2 more: 1.999 × 0.0002 = 0.0003998 -> 0.0004; done, its client id is free again.
    v.on_events(&trade(1_200, Ask, 9995, 3), 0);
    assert_eq!(kinds(&mut v), vec![(1_200, 7, maker(9995, 2, "0.0004", 0))]);
    assert_eq!(v.open_order_count(), 0);
    assert_eq!(v.order_by_client_id("qx-3"), None);
    assert_eq!(v.position(), 3);
}

#[test]
fn on_a_live_book_a_restored_order_queues_behind_its_level() {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 4), (Ask, 10000, 2)]), 0);
    v.restore(3, gtc(Bid, 2, 9995), 0).unwrap();
    v.restore(4, gtc(Ask, 1, 10005), 0).unwrap();
    assert_eq!(v.order(3).unwrap().queue_ahead, 4);
    assert_eq!(v.order(4).unwrap().queue_ahead, 0);
    // Restored orders at one price keep the order they were restored in.
    v.restore(2, gtc(Bid, 1, 9995), 0).unwrap();
    v.on_events(&trade(1_100, Ask, 9995, 6), 0);
    assert_eq!(
        kinds(&mut v),
        vec![(1_100, 3, maker(9995, 2, "0.0004", 0))],
        "4 ahead, then order 3 (restored first); nothing left for order 2"
    );
    assert_eq!(v.order(2).unwrap().remaining(), 1);
}

#[test]
fn the_counter_never_hands_out_a_used_id_again() {
    let mut v = venue(50);
    assert_eq!(v.next_order_id(), 1);
    v.restore(5, gtc(Bid, 1, 9990), 0).unwrap();
    assert_eq!(v.next_order_id(), 6);
    v.reserve_ids(9);
    v.reserve_ids(3); // never back
    assert_eq!(v.next_order_id(), 9);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 4), (Ask, 10000, 2)]), 0);
    let id = v.submit(1_100, gtc(Bid, 1, 9980));
    assert_eq!(id, 9);
    assert_eq!(kinds(&mut v), vec![(1_100, 9, ReportKind::Accepted)]);
}

#[test]
fn refused_restores_change_nothing_and_name_the_rule() {
    let mut v = venue(50);
    v.restore(5, gtc(Bid, 1, 9990).with_client_id("a"), 0).unwrap();
    let stop = OrderRequest::stop_market(Ask, 2, 9990);
    let cases: Vec<(OrderId, OrderRequest, i64, RestoreError)> = vec![
        (0, gtc(Bid, 1, 9990), 0, RestoreError::Id(0)),
        (5, gtc(Bid, 1, 9990), 0, RestoreError::Id(5)),
        (6, gtc(Bid, 1, 9990).with_client_id("a"), 0, RestoreError::DuplicateClientId("a".into())),
        (6, gtc(Bid, 2, 9990), 2, RestoreError::Quantity { qty: 2, filled: 2 }),
        (6, gtc(Bid, 2, 9990), -1, RestoreError::Quantity { qty: 2, filled: -1 }),
        (6, gtc(Bid, 0, 9990), 0, RestoreError::Quantity { qty: 0, filled: 0 }),
        (6, OrderRequest::market(Bid, 1), 0, RestoreError::NeverRests("market")),
        (6, OrderRequest::limit(Bid, 1, 9990, TimeInForce::Ioc), 0, RestoreError::NeverRests("limit IOC")),
        (6, gtc(Bid, 1, PRICE_LIMIT), 0, RestoreError::Price(PRICE_LIMIT)),
        (6, stop.clone(), 1, RestoreError::FilledConditional(1)),
        (6, stop.clone().post_only(), 0, RestoreError::Refused(Reason::PostOnlyMarket)),
        (
            6,
            OrderRequest { trigger_price: Some(9990), ..gtc(Bid, 1, 9990) },
            0,
            RestoreError::Refused(Reason::BadTriggerPrice),
        ),
        (
            6,
            OrderRequest { trail_offset: None, ..OrderRequest::trailing_stop_market(Ask, 1, TrailOffset::Ticks(5)) },
            0,
            RestoreError::Refused(Reason::BadTrailOffset),
        ),
    ];
    for (id, req, filled, want) in cases {
        assert_eq!(v.restore(id, req.clone(), filled), Err(want.clone()), "{req:?}");
        assert_eq!(v.open_order_count(), 1);
        assert!(v.triggers().is_empty());
        assert_eq!(v.next_order_id(), 6);
        assert!(kinds(&mut v).is_empty());
    }
    assert_eq!(
        RestoreError::Quantity { qty: 2, filled: 2 }.to_string(),
        "filled 2 of qty 2 is not allowed (rule: 0 <= filled < qty)"
    );
    assert_eq!(
        RestoreError::Id(5).to_string(),
        "order_id 5 is 0 or already in use (rule: the id of an order that is not live)"
    );
    assert_eq!(
        RestoreError::Refused(Reason::PostOnlyMarket).to_string(),
        "order is refused: POST_ONLY_MARKET (rule: the checks of a submit)"
    );
    // A submit still in flight owns its id.
    let mut lat = SimVenue::new(SimConfig { submit_latency_ns: 100, ..SimConfig::new(Rule::Futures, 50, super::tests::fees()) });
    let id = lat.submit(1_000, gtc(Bid, 1, 9990));
    assert_eq!(lat.restore(id, gtc(Bid, 1, 9990), 0), Err(RestoreError::Id(id)));
}

#[test]
fn a_restored_stop_waits_and_fires_without_a_second_accept() {
    let mut v = venue(50);
    v.restore(4, OrderRequest::stop_market(Ask, 3, 9996).with_client_id("qx-9"), 0).unwrap();
    assert!(kinds(&mut v).is_empty());
    assert_eq!(v.order_by_client_id("qx-9"), Some(4));
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 3), (Bid, 9990, 5), (Ask, 10000, 2)]), 0);
    v.on_events(&trade(1_100, Bid, 9997, 1), 0); // above the stop: nothing
    assert!(kinds(&mut v).is_empty());
    // 9996 fires it: a market sell of 3 from the bid 999.5: 2.9985 × 0.0005 = 0.00149925
    // -> 0.0015.
    v.on_events(&trade(1_200, Ask, 9996, 1), 0);
    assert_eq!(
        kinds(&mut v),
        vec![(1_200, 4, ReportKind::Triggered { price: 9996 }), (1_200, 4, taker(9995, 3, "0.0015", 0))]
    );
    assert_eq!(v.position(), -3);
}

#[test]
fn a_restored_stop_already_through_its_trigger_fires_at_the_next_observation() {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 3), (Ask, 10000, 2)]), 0);
    v.on_events(&trade(1_001, Bid, 9990, 1), 0); // last 9990: below a sell stop at 9996
    // A new order would be refused (WOULD_TRIGGER_IMMEDIATELY); a restored one waits.
    v.restore(2, OrderRequest::stop_market(Ask, 1, 9996).with_trigger_source(TriggerSource::Last), 0)
        .unwrap();
    assert!(kinds(&mut v).is_empty());
    v.on_events(&trade(1_100, Bid, 9991, 1), 0);
    // 0.9995 × 0.0005 = 0.00049975 -> 0.0005.
    assert_eq!(
        kinds(&mut v),
        vec![(1_100, 2, ReportKind::Triggered { price: 9991 }), (1_100, 2, taker(9995, 1, "0.0005", 0))]
    );
}

#[test]
fn a_past_expiry_and_a_reduce_only_excess_act_at_the_next_step() {
    let mut v = venue(50);
    v.restore(2, OrderRequest::limit(Bid, 2, 9990, TimeInForce::Gtd { expiry: 500 }), 0).unwrap();
    v.set_position(3);
    v.restore(5, gtc(Ask, 5, 10010).reduce_only(), 1).unwrap();
    assert!(kinds(&mut v).is_empty(), "restores report nothing");
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 3), (Ask, 10000, 2)]), 0);
    assert_eq!(kinds(&mut v), vec![(1_000, 2, ReportKind::Expired)]);
    // The next print settles reduce-only: remaining 4 > position 3 -> total 1 + 3 = 4.
    v.on_events(&trade(1_100, Bid, 10000, 1), 0);
    assert_eq!(kinds(&mut v), vec![(1_100, 5, ReportKind::Modified { price: 10010, qty: 4 })]);
}

#[test]
fn a_restored_order_is_amended_and_canceled_as_before() {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 3), (Ask, 10000, 2)]), 0);
    v.restore(3, gtc(Bid, 5, 9990).with_client_id("qx-1"), 2).unwrap();
    // A new total of 2 is not above the 2 filled before the restart.
    assert!(!v.modify(1_100, 3, None, Some(2)));
    assert!(v.modify(1_200, 3, None, Some(4)));
    assert!(v.cancel_client(1_300, "qx-1"));
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, 3, ReportKind::ModifyRejected { reason: Reason::QtyBelowFilled }),
            (1_200, 3, ReportKind::Modified { price: 9990, qty: 4 }),
            (1_300, 3, ReportKind::Canceled { reason: Reason::UserCancel }),
        ]
    );
}
