//! The venue on the L3 feed: exact queue positions and fills from EXECUTE rows, by hand
//! and against a naive FIFO model. Instrument and fees as in `tests.rs` (maker 0.0002,
//! taker 0.0005, 6 dp toward +inf).

use std::collections::BTreeMap;

use proptest::prelude::*;

use super::tests::{fees, trade, Feed as Rows};
use super::*;
use crate::event::{FLAG_BEGIN, FLAG_END, KIND_L3_CANCEL, KIND_L3_MODIFY};

use Side::{Ask, Bid};

fn l3_venue() -> SimVenue {
    let mut cfg = SimConfig::new(Rule::Futures, 20, fees());
    cfg.feed = Feed::L3;
    SimVenue::new(cfg)
}

fn row(kind: u8, ts: i64, id: u64, side: Side, price: i64, qty: i64) -> Vec<Event> {
    vec![Event {
        ts_event: ts,
        ts_recv: ts,
        price,
        qty,
        order_id: id,
        kind,
        side: side as u8,
        flags: FLAG_BEGIN | FLAG_END,
        ..Event::default()
    }]
}

fn add(ts: i64, id: u64, side: Side, price: i64, qty: i64) -> Vec<Event> {
    row(KIND_L3_ADD, ts, id, side, price, qty)
}

fn modify(ts: i64, id: u64, price: i64, qty: i64) -> Vec<Event> {
    row(KIND_L3_MODIFY, ts, id, Bid, price, qty)
}

fn cancel(ts: i64, id: u64) -> Vec<Event> {
    row(KIND_L3_CANCEL, ts, id, Bid, 0, 0)
}

fn exec(ts: i64, id: u64, qty: i64) -> Vec<Event> {
    row(KIND_L3_EXECUTE, ts, id, Bid, 0, qty)
}

fn maker(price: i64, qty: i64, fee: &str, leaves: i64) -> ReportKind {
    ReportKind::Filled { price, qty, liquidity: Liquidity::Maker, fee: Money::parse(fee).unwrap(), leaves }
}

fn taker(price: i64, qty: i64, fee: &str, leaves: i64) -> ReportKind {
    ReportKind::Filled { price, qty, liquidity: Liquidity::Taker, fee: Money::parse(fee).unwrap(), leaves }
}

fn kinds(v: &mut SimVenue) -> Vec<(i64, OrderId, ReportKind)> {
    v.drain_reports().map(|r| (r.ts, r.order, r.kind)).collect()
}

fn ahead_ids(v: &SimVenue, id: OrderId) -> Vec<u64> {
    let mut ids = v.l3_ahead_ids(id).unwrap();
    ids.sort_unstable();
    ids
}

#[test]
fn exact_queue_position_by_hand() {
    let mut v = l3_venue();
    v.on_events(&[add(1_000, 1, Bid, 9990, 2), add(1_000, 2, Bid, 9990, 3), add(1_000, 9, Ask, 10000, 5)].concat(), 0);
    let id = v.submit(1_100, OrderRequest::limit(Bid, 4, 9990, TimeInForce::Gtc));
    assert_eq!(kinds(&mut v), vec![(1_100, id, ReportKind::Accepted)]);
    // Everyone at 9990 came first: 2 + 3 ahead.
    assert_eq!(v.order(id).unwrap().queue_ahead, 5);
    assert_eq!(v.l3_ahead_ids(id), None, "taken at the first row touching the level");
    // A newcomer is behind us; its cancel changes nothing.
    v.on_events(&add(1_200, 3, Bid, 9990, 4), 0);
    assert_eq!((v.order(id).unwrap().queue_ahead, ahead_ids(&v, id)), (5, vec![1, 2]));
    v.on_events(&cancel(1_300, 3), 0);
    assert_eq!(v.order(id).unwrap().queue_ahead, 5);
    // Order 1 shrinks 2 -> 1 in place: 4 ahead.
    v.on_events(&modify(1_400, 1, 9990, 1), 0);
    assert_eq!(v.order(id).unwrap().queue_ahead, 4);
    // Order 4 arrives behind us; order 2 grows 3 -> 5 and loses its place: 1 ahead.
    v.on_events(&add(1_500, 4, Bid, 9990, 2), 0);
    v.on_events(&modify(1_600, 2, 9990, 5), 0);
    assert_eq!((v.order(id).unwrap().queue_ahead, ahead_ids(&v, id)), (1, vec![1]));
    // Order 1 executes: nothing ahead.
    v.on_events(&exec(1_700, 1, 1), 0);
    assert_eq!((v.order(id).unwrap().queue_ahead, ahead_ids(&v, id)), (0, vec![]));
    assert!(kinds(&mut v).is_empty());
    // 2 lots of order 2 (behind us) execute: they are ours. 999.0 * 0.002 * 0.0002 =
    // 0.0003996 -> 0.0004.
    v.on_events(&exec(1_800, 2, 2), 0);
    assert_eq!(kinds(&mut v), vec![(1_800, id, maker(9990, 2, "0.0004", 2))]);
    // A trade print is only an observation on the L3 feed.
    v.on_events(&trade(1_900, Ask, 9990, 10), 0);
    assert!(kinds(&mut v).is_empty());
    assert_eq!(v.stats().trades, 1);
    // Order 4 executes 2: our last 2 lots.
    v.on_events(&exec(2_000, 4, 2), 0);
    assert_eq!(kinds(&mut v), vec![(2_000, id, maker(9990, 2, "0.0004", 0))]);
    assert!(v.order(id).is_none());
    // The market book is as the rows made it: order 2 has 3 left, order 4 is gone.
    let b = v.l3_book().unwrap();
    assert_eq!(b.orders_at(Bid, 9990), vec![(2, 3)]);
    assert_eq!(v.stats().book_errors, 0);
}

#[test]
fn a_requeued_order_gets_a_new_set() {
    let mut v = l3_venue();
    v.on_events(&[add(1_000, 1, Bid, 9990, 2), add(1_000, 2, Bid, 9990, 3)].concat(), 0);
    let id = v.submit(1_100, OrderRequest::limit(Bid, 1, 9990, TimeInForce::Gtc));
    v.on_events(&add(1_200, 3, Bid, 9990, 4), 0);
    assert_eq!((v.order(id).unwrap().queue_ahead, ahead_ids(&v, id)), (5, vec![1, 2]));
    // As an amend that loses priority would: behind 1, 2 and 3 (2 + 3 + 4 = 9), and
    // ahead of 4.
    v.queue_requeued(id);
    v.on_events(&add(1_300, 4, Bid, 9990, 1), 0);
    assert_eq!((v.order(id).unwrap().queue_ahead, ahead_ids(&v, id)), (9, vec![1, 2, 3]));
}

#[test]
fn through_fills_and_executes_out_of_fifo_order() {
    let mut v = l3_venue();
    v.on_events(&[add(1_000, 1, Bid, 9990, 5), add(1_000, 9, Ask, 10000, 5)].concat(), 0);
    let a = v.submit(1_100, OrderRequest::limit(Bid, 3, 9995, TimeInForce::Gtc));
    let b = v.submit(1_100, OrderRequest::limit(Bid, 2, 9990, TimeInForce::Gtc));
    kinds(&mut v);
    assert_eq!((v.order(a).unwrap().queue_ahead, v.order(b).unwrap().queue_ahead), (0, 5));
    // 4 lots of order 1 at 9990 trade: the seller went through our 9995 bid first (3 lots,
    // 999.5 * 0.003 * 0.0002 = 0.0005997 -> 0.0006); at 9990 order 1 is ahead of b,
    // which moves up by the 4 lots and does not fill.
    v.on_events(&exec(1_200, 1, 4), 0);
    assert_eq!(kinds(&mut v), vec![(1_200, a, maker(9995, 3, "0.0006", 0))]);
    assert_eq!(v.order(b).unwrap().queue_ahead, 1);
    // Order 2 arrives behind b and executes while order 1 (1 lot) is still ahead of b:
    // not FIFO, so b neither fills nor moves.
    v.on_events(&add(1_300, 2, Bid, 9990, 1), 0);
    v.on_events(&exec(1_400, 2, 1), 0);
    assert!(kinds(&mut v).is_empty());
    assert_eq!(v.order(b).unwrap().queue_ahead, 1);
    // Order 1 moves to 9989: it leaves b's queue (re-queued at another price).
    v.on_events(&modify(1_500, 1, 9989, 1), 0);
    assert_eq!((v.order(b).unwrap().queue_ahead, ahead_ids(&v, b)), (0, vec![]));
    // Now an execute at 9989 goes through b: 1 lot (999.0 * 0.001 * 0.0002 = 0.0001998
    // -> 0.0002).
    v.on_events(&exec(1_600, 1, 1), 0);
    assert_eq!(kinds(&mut v), vec![(1_600, b, maker(9990, 1, "0.0002", 1))]);
}

#[test]
fn taking_walks_the_l3_levels_and_l2_rows_are_ignored() {
    let mut v = l3_venue();
    v.on_events(&[add(1_000, 9, Ask, 10000, 5), add(1_000, 10, Ask, 10002, 3), add(1_000, 1, Bid, 9990, 1)].concat(), 0);
    // L2 rows are counted and ignored: the L2 book stays stale, the market is the L3 book.
    let mut rows = Rows::new();
    v.on_events(&rows.snapshot(1_050, &[(Bid, 9000, 1), (Ask, 11000, 1)]), 0);
    assert_eq!(v.stats().ignored_rows, 2);
    assert!(v.book().is_stale());
    assert!(!v.market().is_stale());
    assert_eq!(v.market().best_price(Ask), Some(10000));
    // Cap 10000 + 20 = 10020. Taker: 5 @ 1000.0 = 5.0 * 0.0005 = 0.0025; 2 @ 1000.2 =
    // 2.0004 * 0.0005 = 0.0010002 -> 0.001001.
    let id = v.submit(1_100, OrderRequest::market(Bid, 7));
    assert_eq!(
        kinds(&mut v),
        vec![
            (1_100, id, ReportKind::Accepted),
            (1_100, id, taker(10000, 5, "0.0025", 2)),
            (1_100, id, taker(10002, 2, "0.001001", 0)),
        ]
    );
    // The market book is untouched; what we took is remembered until the next L3 row.
    assert_eq!(v.l3_book().unwrap().orders_at(Ask, 10000), vec![(9, 5)]);
    assert_eq!((v.consumed_at(Ask, 10000), v.consumed_at(Ask, 10002)), (5, 2));
    v.on_events(&add(1_200, 11, Ask, 10005, 1), 0);
    assert_eq!(v.consumed_at(Ask, 10000), 0);
    // Refused rows count as book errors and change nothing.
    v.on_events(&[cancel(1_300, 77), exec(1_300, 9, 6), add(1_300, 12, Bid, 10000, 1)].concat(), 0);
    assert_eq!(v.stats().book_errors, 3);
    assert_eq!(v.l3_book().unwrap().order_count(), 4);
    // The queue model setting is not used on the L3 feed; the feed is chosen by name.
    assert_eq!(Feed::parse("l3"), Ok(Feed::L3));
    assert_eq!(Feed::parse("l4").unwrap_err().to_string(), "feed \"l4\" must be \"l2\" or \"l3\"");
}

// ---------------------------------------------------------------- naive FIFO model

#[derive(Debug, Clone, Copy, PartialEq)]
enum Entry {
    Market { id: u64, qty: i64 },
    Ours { id: OrderId, left: i64 },
}

/// Every level a Vec in FIFO order, our orders in it like any other.
#[derive(Debug, Default)]
struct Naive {
    levels: BTreeMap<(u8, i64), Vec<Entry>>,
    market: BTreeMap<u64, (Side, i64)>,
    fills: Vec<(OrderId, i64, i64, i64)>,
}

impl Naive {
    fn level(&mut self, side: Side, price: i64) -> &mut Vec<Entry> {
        self.levels.entry((side as u8, price)).or_default()
    }

    fn remove_market(&mut self, id: u64) -> (Side, i64, i64, usize) {
        let (side, price) = self.market.remove(&id).unwrap();
        let q = self.level(side, price);
        let pos = q.iter().position(|e| matches!(e, Entry::Market { id: m, .. } if *m == id)).unwrap();
        let Entry::Market { qty, .. } = q.remove(pos) else { unreachable!() };
        (side, price, qty, pos)
    }

    fn add(&mut self, id: u64, side: Side, price: i64, qty: i64) {
        self.market.insert(id, (side, price));
        self.level(side, price).push(Entry::Market { id, qty });
    }

    fn modify(&mut self, id: u64, price: i64, qty: i64) {
        let (side, old_price) = self.market[&id];
        let q = self.level(side, old_price);
        let pos = q.iter().position(|e| matches!(e, Entry::Market { id: m, .. } if *m == id)).unwrap();
        let Entry::Market { qty: old, .. } = q[pos] else { unreachable!() };
        if price == old_price && qty <= old {
            q[pos] = Entry::Market { id, qty };
        } else {
            self.remove_market(id);
            self.add(id, side, price, qty);
        }
    }

    /// Fills first: our orders at better prices, then ours at px with no market order
    /// ahead of them and ahead of the executed order.
    fn execute(&mut self, id: u64, qty: i64) {
        let (side, px) = self.market[&id];
        let mut budget = qty;
        let better: Vec<i64> = self
            .levels
            .keys()
            .filter(|(s, p)| *s == side as u8 && side.better(*p, px))
            .map(|k| k.1)
            .collect();
        let ordered: Vec<i64> = match side {
            Side::Bid => better.into_iter().rev().collect(),
            Side::Ask => better,
        };
        let mut fills = Vec::new();
        for p in ordered {
            for e in self.level(side, p).iter_mut() {
                if let Entry::Ours { id, left } = e {
                    let f = (*left).min(budget);
                    if f > 0 {
                        *left -= f;
                        budget -= f;
                        fills.push((*id, p, f, *left));
                    }
                }
            }
        }
        let mut market_ahead = false;
        for e in self.level(side, px).iter_mut() {
            match e {
                Entry::Market { id: m, .. } if *m == id => break,
                Entry::Market { .. } => market_ahead = true,
                Entry::Ours { id, left } => {
                    let f = (*left).min(budget);
                    if !market_ahead && f > 0 {
                        *left -= f;
                        budget -= f;
                        fills.push((*id, px, f, *left));
                    }
                }
            }
        }
        let q = self.level(side, px);
        let pos = q.iter().position(|e| matches!(e, Entry::Market { id: m, .. } if *m == id)).unwrap();
        let Entry::Market { qty: rest, .. } = &mut q[pos] else { unreachable!() };
        *rest -= qty;
        if *rest == 0 {
            self.remove_market(id);
        }
        for q in self.levels.values_mut() {
            q.retain(|e| !matches!(e, Entry::Ours { left: 0, .. }));
        }
        self.fills.extend(fills);
    }

    fn cancel_ours(&mut self, id: OrderId) {
        for q in self.levels.values_mut() {
            q.retain(|e| !matches!(e, Entry::Ours { id: o, .. } if *o == id));
        }
    }

    /// (our id, queue_ahead, left) of every order of ours.
    fn ours(&self) -> Vec<(OrderId, i64, i64)> {
        let mut out = Vec::new();
        for q in self.levels.values() {
            let mut ahead = 0;
            for e in q {
                match *e {
                    Entry::Market { qty, .. } => ahead += qty,
                    Entry::Ours { id, left } => out.push((id, ahead, left)),
                }
            }
        }
        out.sort_unstable();
        out
    }
}

#[derive(Debug, Clone)]
enum Op {
    Add { bid: bool, off: i64, qty: i64 },
    Cancel { pick: usize },
    Modify { pick: usize, off: i64, qty: i64 },
    Execute { pick: usize, frac: i64 },
    Submit { bid: bool, off: i64, qty: i64 },
    CancelOurs { pick: usize },
    Print { off: i64 },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        4 => (any::<bool>(), 0i64..4, 1i64..6).prop_map(|(bid, off, qty)| Op::Add { bid, off, qty }),
        1 => any::<usize>().prop_map(|pick| Op::Cancel { pick }),
        2 => (any::<usize>(), 0i64..4, 1i64..7).prop_map(|(pick, off, qty)| Op::Modify { pick, off, qty }),
        4 => (any::<usize>(), 0i64..100).prop_map(|(pick, frac)| Op::Execute { pick, frac }),
        2 => (any::<bool>(), 0i64..4, 1i64..6).prop_map(|(bid, off, qty)| Op::Submit { bid, off, qty }),
        1 => any::<usize>().prop_map(|pick| Op::CancelOurs { pick }),
        1 => (0i64..4).prop_map(|off| Op::Print { off }),
    ]
}

/// Bids at 9999 - off, asks at 10000 + off: no row can cross.
fn price(bid: bool, off: i64) -> (Side, i64) {
    if bid {
        (Bid, 9999 - off)
    } else {
        (Ask, 10000 + off)
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn l3_queue_and_fills_match_a_naive_fifo(ops in proptest::collection::vec(op(), 1..120)) {
        let mut v = l3_venue();
        let mut n = Naive::default();
        let mut next_id = 1u64;
        let mut ts = 1_000i64;
        for op in ops {
            ts += 10;
            match op {
                Op::Add { bid, off, qty } => {
                    let (side, p) = price(bid, off);
                    v.on_events(&add(ts, next_id, side, p, qty), 0);
                    n.add(next_id, side, p, qty);
                    next_id += 1;
                }
                Op::Cancel { pick } | Op::Modify { pick, .. } | Op::Execute { pick, .. }
                    if n.market.is_empty() => { let _ = pick; }
                Op::Cancel { pick } => {
                    let id = *n.market.keys().nth(pick % n.market.len()).unwrap();
                    v.on_events(&cancel(ts, id), 0);
                    n.remove_market(id);
                }
                Op::Modify { pick, off, qty } => {
                    let id = *n.market.keys().nth(pick % n.market.len()).unwrap();
                    let (side, _) = n.market[&id];
                    let (_, p) = price(side == Bid, off);
                    v.on_events(&modify(ts, id, p, qty), 0);
                    n.modify(id, p, qty);
                }
                Op::Execute { pick, frac } => {
                    let id = *n.market.keys().nth(pick % n.market.len()).unwrap();
                    let (side, p) = n.market[&id];
                    let resting = n.levels[&(side as u8, p)]
                        .iter()
                        .find_map(|e| match *e { Entry::Market { id: m, qty } if m == id => Some(qty), _ => None })
                        .unwrap();
                    let q = 1 + frac % resting;
                    v.on_events(&exec(ts, id, q), 0);
                    n.execute(id, q);
                }
                Op::Submit { bid, off, qty } => {
                    let (side, p) = price(bid, off);
                    let id = v.submit(ts, OrderRequest::limit(side, qty, p, TimeInForce::Gtc));
                    n.level(side, p).push(Entry::Ours { id, left: qty });
                }
                Op::CancelOurs { pick } => {
                    let ours = n.ours();
                    if !ours.is_empty() {
                        let id = ours[pick % ours.len()].0;
                        prop_assert!(v.cancel(ts, id));
                        n.cancel_ours(id);
                    }
                }
                Op::Print { off } => {
                    v.on_events(&trade(ts, Ask, 9999 - off, 5), 0);
                }
            }
            let fills: Vec<_> = v
                .drain_reports()
                .filter_map(|r| match r.kind {
                    ReportKind::Filled { price, qty, leaves, liquidity, .. } => {
                        assert_eq!(liquidity, Liquidity::Maker);
                        Some((r.order, price, qty, leaves))
                    }
                    _ => None,
                })
                .collect();
            prop_assert_eq!(&fills, &n.fills);
            n.fills.clear();
            let mut got: Vec<_> = v.open_orders().map(|o| (o.id, o.queue_ahead, o.remaining())).collect();
            got.sort_unstable();
            prop_assert_eq!(got, n.ours());
            prop_assert_eq!(v.stats().book_errors, 0);
        }
    }
}
