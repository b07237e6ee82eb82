//! Hand-computed scenarios for conditional orders (same instrument as `tests.rs`: tick
//! 0.1, lot 0.001, maker 0.0002, taker 0.0005, fees to 6 decimals toward +inf; default
//! slippage cap 50 bps).

use super::tests::{kinds, maker, taker, trade, venue, Feed};
use super::*;
use crate::trigger::{TrailOffset, TriggerSource};

use Side::{Ask, Bid};
use TriggerSource::{BidAsk, Mark};

fn triggered(price: i64) -> ReportKind {
    ReportKind::Triggered { price }
}

fn rejected(reason: Reason) -> ReportKind {
    ReportKind::Rejected { reason }
}

/// Bids 9995x3, 9990x5; asks 10000x2, 10004x4; one print at 9998 (the last price).
fn book() -> (SimVenue, Feed) {
    let mut v = venue(50);
    let mut f = Feed::new();
    v.on_events(&f.snapshot(1_000, &[(Bid, 9995, 3), (Bid, 9990, 5), (Ask, 10000, 2), (Ask, 10004, 4)]), 0);
    v.on_events(&trade(1_001, Bid, 9998, 1), 0);
    (v, f)
}

#[test]
fn a_stop_market_sell_fires_on_the_last_price_and_sells_at_market() {
    let (mut v, _) = book();
    let id = v.submit(1_100, OrderRequest::stop_market(Ask, 4, 9996));
    assert_eq!(kinds(&mut v), vec![(1_100, id, ReportKind::Accepted)]);
    assert_eq!(v.conditional_order(id).unwrap().req.trigger_price, Some(9996));
    // 9997 is above the stop: nothing.
    v.on_events(&trade(1_200, Ask, 9997, 1), 0);
    assert!(kinds(&mut v).is_empty());
    // 9996 = the stop (equality fires). A market sell of 4 from the bid 9995 (cap 9995 -
    // floor(9995 × 50 / 10000) = 9946): 3 @ 999.5 (2.9985 × 0.0005 = 0.00149925 ->
    // 0.0015) and 1 @ 999.0 (0.999 × 0.0005 = 0.0004995 -> 0.0005).
    v.on_events(&trade(1_300, Ask, 9996, 1), 0);
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_300, id, triggered(9996)),
            (1_300, id, taker(9995, 3, "0.0015", 1)),
            (1_300, id, taker(9990, 1, "0.0005", 0)),
        ]
    );
    assert_eq!(v.position(), -4);
    assert!(v.conditional_order(id).is_none());
    assert!(v.triggers().is_empty());
}

#[test]
fn a_stop_limit_buy_fires_on_the_ask_and_its_trigger_is_not_its_limit() {
    let (mut v, mut f) = book();
    // Fires when the best ask reaches 10002; then a buy limit at 10006.
    let id = v.submit(
        1_100,
        OrderRequest::stop_limit(Bid, 3, 10002, 10006, TimeInForce::Gtc).with_trigger_source(BidAsk),
    );
    // The ask goes from 10000 to 10001: below the trigger.
    v.on_events(&f.diff(1_200, &[(Ask, 10000, 0), (Ask, 10001, 1)]), 0);
    assert_eq!(kinds(&mut v), vec![(1_100, id, ReportKind::Accepted)]);
    // The ask 10001 goes: best ask 10004 >= 10002. Fills 3 @ 1000.4, above the trigger
    // price and within the limit: 3.0012 × 0.0005 = 0.0015006 -> 0.001501.
    v.on_events(&f.diff(1_300, &[(Ask, 10001, 0)]), 0);
    assert_eq!(
        kinds(&mut v),
        vec![(1_300, id, triggered(10004)), (1_300, id, taker(10004, 3, "0.001501", 0))]
    );
    assert_eq!(v.position(), 3);
}

#[test]
fn a_stop_limit_that_cannot_fill_rests_at_its_limit_not_its_trigger() {
    let (mut v, _) = book();
    // Sell stop at 9997, limit 10001: above the bid, so it rests at 10001 once fired.
    let id = v.submit(1_100, OrderRequest::stop_limit(Ask, 2, 9997, 10001, TimeInForce::Gtc));
    v.on_events(&trade(1_200, Ask, 9997, 1), 0);
    assert_eq!(kinds(&mut v), vec![(1_100, id, ReportKind::Accepted), (1_200, id, triggered(9997))]);
    let o = v.order(id).unwrap();
    assert_eq!((o.side, o.price, o.qty, o.filled, o.queue_ahead), (Ask, 10001, 2, 0, 0));
    // A buyer at 10001 fills it as maker: 2.0002 × 0.0002 = 0.00040004 -> 0.000401.
    v.on_events(&trade(1_300, Bid, 10001, 2), 0);
    assert_eq!(kinds(&mut v), vec![(1_300, id, maker(10001, 2, "0.000401", 0))]);
}

#[test]
fn take_profits_fire_on_the_mark_and_on_the_last_price() {
    let (mut v, _) = book();
    v.set_position(5);
    // Sell take-profit at mark >= 10010.
    let tp = v.submit(
        1_100,
        OrderRequest::take_profit_market(Ask, 2, 10010).with_trigger_source(Mark).reduce_only(),
    );
    // Buy take-profit at last <= 9992, then a buy limit at 9993: rests behind nothing.
    let tpl = v.submit(1_100, OrderRequest::take_profit_limit(Bid, 1, 9992, 9993, TimeInForce::Gtc));
    v.on_mark(1_200, 10009).unwrap();
    assert!(v.on_mark(1_200, 1 << 62).is_err());
    v.on_events(&trade(1_250, Ask, 9993, 1), 0);
    assert_eq!(kinds(&mut v), vec![(1_100, tp, ReportKind::Accepted), (1_100, tpl, ReportKind::Accepted)]);
    // Mark 10010: sells 2 at the bid: 2 @ 999.5 = 1.999 × 0.0005 = 0.0009995 -> 0.001.
    v.on_mark(1_300, 10010).unwrap();
    assert_eq!(
        kinds(&mut v),
        vec![(1_300, tp, triggered(10010)), (1_300, tp, taker(9995, 2, "0.001", 0))]
    );
    assert_eq!(v.position(), 3);
    // Last 9992: the buy limit at 9993 rests (the ask is far above).
    v.on_events(&trade(1_400, Ask, 9992, 1), 0);
    assert_eq!(kinds(&mut v), vec![(1_400, tpl, triggered(9992))]);
    assert_eq!(v.order(tpl).unwrap().price, 9993);
}

#[test]
fn a_stop_already_through_its_trigger_is_refused() {
    let (mut v, _) = book();
    // Last is 9998: a sell stop at 9998 or above, a buy stop at 9998 or below, and a
    // sell take-profit at 9998 or below would all fire at once.
    let a = v.submit(1_100, OrderRequest::stop_market(Ask, 1, 9998));
    let b = v.submit(1_100, OrderRequest::stop_market(Bid, 1, 9990));
    let c = v.submit(1_100, OrderRequest::take_profit_market(Ask, 1, 9998));
    let d = v.submit(1_100, OrderRequest::stop_market(Ask, 1, 9997));
    // On the touch: a buy stop at or below the ask 10000.
    let e = v.submit(1_100, OrderRequest::stop_market(Bid, 1, 10000).with_trigger_source(BidAsk));
    // No mark seen yet: nothing to be through.
    let g = v.submit(1_100, OrderRequest::stop_market(Bid, 1, 1).with_trigger_source(Mark));
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, a, rejected(Reason::WouldTriggerImmediately)),
            (1_100, b, rejected(Reason::WouldTriggerImmediately)),
            (1_100, c, rejected(Reason::WouldTriggerImmediately)),
            (1_100, d, ReportKind::Accepted),
            (1_100, e, rejected(Reason::WouldTriggerImmediately)),
            (1_100, g, ReportKind::Accepted),
        ]
    );
    assert_eq!(Reason::WouldTriggerImmediately.as_str(), "WOULD_TRIGGER_IMMEDIATELY");
}

#[test]
fn a_trailing_stop_ratchets_up_and_never_down() {
    let (mut v, _) = book();
    // Sell trailing stop 10 ticks behind the highest last price, from 9998 at placement:
    // stop 9988.
    let id = v.submit(1_100, OrderRequest::trailing_stop_market(Ask, 2, TrailOffset::Ticks(10)));
    assert_eq!(v.triggers().effective_stop(id), Some(9988));
    let mut stops = Vec::new();
    for (ts, p) in [(1_200, 10005), (1_300, 10001), (1_400, 10012), (1_500, 10004), (1_600, 10003)] {
        v.on_events(&trade(ts, Bid, p, 1), 0);
        stops.push(v.triggers().effective_stop(id));
    }
    // New highs raise it (9995, 10002); pullbacks leave it.
    assert_eq!(stops, vec![Some(9995), Some(9995), Some(10002), Some(10002), Some(10002)]);
    assert_eq!(kinds(&mut v), vec![(1_100, id, ReportKind::Accepted)]);
    // 10002 fires it; sells 2 at the bid 9995: 1.999 × 0.0005 = 0.0009995 -> 0.001.
    v.on_events(&trade(1_700, Ask, 10002, 1), 0);
    assert_eq!(
        kinds(&mut v),
        vec![(1_700, id, triggered(10002)), (1_700, id, taker(9995, 2, "0.001", 0))]
    );
}

#[test]
fn a_bps_trailing_stop_buy_ratchets_down() {
    let (mut v, _) = book();
    // Buy trailing stop 25 bps above the lowest last price: from 9998, floor(9998 × 25
    // / 10000) = floor(24.995) = 24 -> stop 10022.
    let id = v.submit(1_100, OrderRequest::trailing_stop_market(Bid, 1, TrailOffset::Bps(25)));
    assert_eq!(v.triggers().effective_stop(id), Some(10022));
    // Low 9960: floor(9960 × 25 / 10000) = floor(24.9) = 24 -> 9984. A bounce to 9983
    // does not fire; 9984 does (1 @ 1000.0 = 0.0005).
    v.on_events(&trade(1_200, Ask, 9960, 1), 0);
    assert_eq!(v.triggers().effective_stop(id), Some(9984));
    v.on_events(&trade(1_300, Bid, 9983, 1), 0);
    assert_eq!(v.triggers().effective_stop(id), Some(9984));
    v.on_events(&trade(1_400, Bid, 9984, 1), 0);
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, id, ReportKind::Accepted),
            (1_400, id, triggered(9984)),
            (1_400, id, taker(10000, 1, "0.0005", 0)),
        ]
    );
}

#[test]
fn conditional_fields_are_checked_at_arrival() {
    let (mut v, _) = book();
    let stop = OrderRequest::stop_market(Ask, 1, 1);
    let limit = OrderRequest::limit(Bid, 1, 9990, TimeInForce::Gtc);
    let trailing = OrderRequest::trailing_stop_market(Ask, 1, TrailOffset::Ticks(5));
    let no_trigger = v.submit(1_100, OrderRequest { trigger_price: None, ..stop });
    let limit_with_trigger = v.submit(1_100, OrderRequest { trigger_price: Some(9000), ..limit });
    let no_offset = v.submit(1_100, OrderRequest { trail_offset: None, ..trailing });
    let bad_bps = v.submit(1_100, OrderRequest::trailing_stop_market(Ask, 1, TrailOffset::Bps(10_000)));
    let offset_on_stop = v.submit(
        1_100,
        OrderRequest { trail_offset: Some(TrailOffset::Ticks(3)), ..OrderRequest::stop_market(Ask, 1, 9000) },
    );
    let post_only_market = v.submit(1_100, OrderRequest::stop_market(Ask, 1, 9000).post_only());
    let reduce_flat = v.submit(1_100, OrderRequest::stop_market(Ask, 1, 9000).reduce_only());
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, no_trigger, rejected(Reason::BadTriggerPrice)),
            (1_100, limit_with_trigger, rejected(Reason::BadTriggerPrice)),
            (1_100, no_offset, rejected(Reason::BadTrailOffset)),
            (1_100, bad_bps, rejected(Reason::BadTrailOffset)),
            (1_100, offset_on_stop, rejected(Reason::BadTrailOffset)),
            (1_100, post_only_market, rejected(Reason::PostOnlyMarket)),
            (1_100, reduce_flat, rejected(Reason::ReduceOnlyWouldIncrease)),
        ]
    );
    assert!(v.triggers().is_empty());
    assert_eq!(Reason::BadTriggerPrice.as_str(), "BAD_TRIGGER_PRICE");
    assert_eq!(Reason::BadTrailOffset.as_str(), "BAD_TRAIL_OFFSET");
}

#[test]
fn waiting_orders_can_be_canceled_amended_and_expire() {
    let (mut v, _) = book();
    let a = v.submit(1_100, OrderRequest::stop_market(Ask, 1, 9990).with_client_id("a"));
    let b = v.submit(1_100, OrderRequest::stop_limit(Ask, 2, 9990, 9985, TimeInForce::Gtd { expiry: 1_500 }));
    let t = v.submit(1_100, OrderRequest::trailing_stop_market(Ask, 1, TrailOffset::Ticks(10)));
    kinds(&mut v);
    assert!(v.cancel_client(1_200, "a"));
    // b: trigger 9990 -> 9994, limit 9985 -> 9986, qty 2 -> 3.
    assert!(v.amend(1_200, b, Amend { price: Some(9986), qty: Some(3), trigger_price: Some(9994) }));
    // Through the last price 9998: refused. A market kind has no limit price.
    assert!(!v.amend(1_200, b, Amend { trigger_price: Some(9998), ..Amend::default() }));
    assert!(!v.modify(1_200, t, Some(9990), None));
    // The trailing stop (at 9988) may tighten to 9990, never loosen back to 9980.
    assert!(v.amend(1_200, t, Amend { trigger_price: Some(9990), ..Amend::default() }));
    assert!(!v.amend(1_200, t, Amend { trigger_price: Some(9980), ..Amend::default() }));
    // A resting limit order has no trigger price.
    let l = v.submit(1_200, OrderRequest::limit(Bid, 1, 9980, TimeInForce::Gtc));
    assert!(!v.amend(1_200, l, Amend { trigger_price: Some(9000), ..Amend::default() }));
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_200, a, ReportKind::Canceled { reason: Reason::UserCancel }),
            (1_200, b, ReportKind::Modified { price: 9986, qty: 3 }),
            (1_200, b, ReportKind::ModifyRejected { reason: Reason::WouldTriggerImmediately }),
            (1_200, t, ReportKind::ModifyRejected { reason: Reason::BadPrice }),
            (1_200, t, ReportKind::Modified { price: 0, qty: 1 }),
            (1_200, t, ReportKind::ModifyRejected { reason: Reason::TriggerWouldLoosen }),
            (1_200, l, ReportKind::Accepted),
            (1_200, l, ReportKind::ModifyRejected { reason: Reason::BadTriggerPrice }),
        ]
    );
    assert_eq!(v.triggers().effective_stop(b), Some(9994));
    assert_eq!(v.triggers().effective_stop(t), Some(9990));
    // a is gone: a print through 9990 fires only t (b expires first at 1500).
    v.advance_to(1_500);
    v.on_events(&trade(1_600, Ask, 9989, 1), 0);
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_500, b, ReportKind::Expired),
            (1_600, t, triggered(9989)),
            (1_600, t, taker(9995, 1, "0.0005", 0)),
        ]
    );
    assert_eq!(Reason::TriggerWouldLoosen.as_str(), "TRIGGER_WOULD_LOOSEN");
}

#[test]
fn a_reduce_only_stop_with_no_position_left_is_canceled_when_it_fires() {
    let (mut v, _) = book();
    v.set_position(3);
    let id = v.submit(1_100, OrderRequest::stop_market(Ask, 3, 9990).reduce_only());
    // The position goes away before the stop fires.
    v.set_position(0);
    v.on_events(&trade(1_200, Ask, 9990, 1), 0);
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, id, ReportKind::Accepted),
            (1_200, id, triggered(9990)),
            (1_200, id, ReportKind::Canceled { reason: Reason::ReduceOnlyWouldIncrease }),
        ]
    );
    assert_eq!(v.position(), 0);
}

#[test]
fn a_fired_market_order_meets_the_cap_from_the_touch_at_trigger_time() {
    let (mut v, mut f) = book();
    // 5 bps: cap = 10000 + floor(10000 × 5 / 10000) = 10005 from the ask at trigger time.
    let id = v.submit(1_100, OrderRequest::stop_market(Bid, 9, 10000).with_slippage_bps(5));
    v.on_events(&f.diff(1_150, &[(Ask, 10010, 7)]), 0);
    // 2 @ 1000.0 (0.001), 4 @ 1000.4 (4.0016 × 0.0005 = 0.0020008 -> 0.002001), then
    // 10010 is beyond the cap.
    v.on_events(&trade(1_200, Bid, 10000, 1), 0);
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, id, ReportKind::Accepted),
            (1_200, id, triggered(10000)),
            (1_200, id, taker(10000, 2, "0.001", 7)),
            (1_200, id, taker(10004, 4, "0.002001", 3)),
            (1_200, id, ReportKind::Canceled { reason: Reason::SlippageCap }),
        ]
    );
}
