//! Unit tests: one or more per rule of the L3 book.

use super::*;
use crate::event::{FLAG_BEGIN, FLAG_END, KIND_DIFF, KIND_SNAPSHOT};
use crate::query::{BookQueries, Walk};

use Side::{Ask, Bid};

/// Everything observable: levels with their FIFO queues, per side, best first.
type State = Vec<Vec<(i64, i64, Vec<(u64, i64)>)>>;

fn state(b: &L3Book) -> State {
    [Bid, Ask]
        .iter()
        .map(|&side| {
            b.levels_from_touch(side)
                .map(|(p, q)| (p, q, b.orders_at(side, p)))
                .collect()
        })
        .collect()
}

/// A small book: bids 99 [1:5, 2:3], 98 [3:4]; asks 101 [4:2, 5:6], 103 [6:1].
fn book() -> L3Book {
    let mut b = L3Book::new();
    b.add(1, Bid, 99, 5).unwrap();
    b.add(2, Bid, 99, 3).unwrap();
    b.add(3, Bid, 98, 4).unwrap();
    b.add(4, Ask, 101, 2).unwrap();
    b.add(5, Ask, 101, 6).unwrap();
    b.add(6, Ask, 103, 1).unwrap();
    b.check_invariants();
    b
}

/// Applies `op`, which must fail with `err`, and checks nothing changed.
fn refused<T: std::fmt::Debug>(
    b: &mut L3Book,
    err: L3Error,
    op: impl FnOnce(&mut L3Book) -> Result<T, L3Error>,
) {
    let before = state(b);
    let count = b.order_count();
    assert_eq!(op(b).unwrap_err(), err);
    assert_eq!(state(b), before, "book changed by a refused operation");
    assert_eq!(b.order_count(), count);
    b.check_invariants();
}

#[test]
fn add_builds_fifo_levels() {
    let b = book();
    assert_eq!(b.order_count(), 6);
    assert_eq!(b.best_bid(), Some((99, 8)));
    assert_eq!(b.best_ask(), Some((101, 8)));
    assert_eq!(b.depth(Bid, 5), vec![(99, 8), (98, 4)]);
    assert_eq!(b.depth(Ask, 5), vec![(101, 8), (103, 1)]);
    assert_eq!(b.orders_at(Bid, 99), vec![(1, 5), (2, 3)]);
    assert_eq!(b.orders_at(Ask, 101), vec![(4, 2), (5, 6)]);
    assert_eq!(b.orders_at(Ask, 102), vec![]);
    assert_eq!(b.order(2), Some((Bid, 99, 3)));
    assert_eq!(b.order(6), Some((Ask, 103, 1)));
    assert_eq!(b.order(42), None);
    assert_eq!(b.level_count(Bid), 2);
    assert_eq!(b.volume_at(Ask, 103), 1);
    assert_eq!(b.volume_at(Ask, 102), 0);
    assert_eq!(b.volume_at(Bid, 101), 0);
    assert_eq!(b.spread(), Some(2));
    assert_eq!(b.mid_x2(), Some(200));
    assert!(!b.is_crossed());
}

#[test]
fn add_better_and_worse_levels_keep_order() {
    let mut b = book();
    b.add(7, Bid, 100, 1).unwrap(); // new best
    b.add(8, Bid, 90, 1).unwrap(); // new worst
    b.add(9, Bid, 95, 1).unwrap(); // in between
    b.add(10, Ask, 150, 1).unwrap();
    b.add(11, Ask, 102, 1).unwrap();
    b.check_invariants();
    let bids: Vec<i64> = b.levels_from_touch(Bid).map(|l| l.0).collect();
    let asks: Vec<i64> = b.levels_from_touch(Ask).map(|l| l.0).collect();
    assert_eq!(bids, vec![100, 99, 98, 95, 90]);
    assert_eq!(asks, vec![101, 102, 103, 150]);
}

#[test]
fn add_rejects_duplicate_id() {
    let mut b = book();
    refused(&mut b, L3Error::DuplicateId(3), |b| b.add(3, Bid, 97, 1));
    // Also when the other side / price would be fine.
    refused(&mut b, L3Error::DuplicateId(4), |b| b.add(4, Ask, 110, 1));
}

#[test]
fn add_rejects_non_positive_qty() {
    let mut b = book();
    for q in [0, -3, i64::MIN] {
        refused(
            &mut b,
            L3Error::NonPositiveQty {
                field: "qty",
                value: q,
            },
            |b| b.add(50, Bid, 97, q),
        );
    }
}

#[test]
fn add_rejects_crossing_and_locking() {
    let mut b = book();
    for p in [101, 102, 200] {
        refused(
            &mut b,
            L3Error::Crosses {
                id: 50,
                side: Bid,
                price: p,
                opposite: 101,
            },
            |b| b.add(50, Bid, p, 1),
        );
    }
    for p in [99, 98, -5] {
        refused(
            &mut b,
            L3Error::Crosses {
                id: 51,
                side: Ask,
                price: p,
                opposite: 99,
            },
            |b| b.add(51, Ask, p, 1),
        );
    }
    // Inside the spread is fine on both sides.
    b.add(50, Bid, 100, 1).unwrap();
    refused(
        &mut b,
        L3Error::Crosses {
            id: 51,
            side: Ask,
            price: 100,
            opposite: 100,
        },
        |b| b.add(51, Ask, 100, 1),
    );
}

#[test]
fn add_without_opposite_side_accepts_any_price_in_range() {
    let (hi, lo) = ((1i64 << 62) - 1, -(1i64 << 62) + 1);
    let mut b = L3Book::new();
    b.add(1, Bid, hi, 1).unwrap();
    b.add(2, Bid, lo, 1).unwrap();
    b.check_invariants();
    assert_eq!(b.depth(Bid, 3), vec![(hi, 1), (lo, 1)]);
    let mut a = L3Book::new();
    a.add(1, Ask, lo, 1).unwrap();
    a.add(2, Ask, hi, 1).unwrap();
    a.add(3, Ask, 0, 1).unwrap();
    a.check_invariants();
    assert_eq!(a.depth(Ask, 3), vec![(lo, 1), (0, 1), (hi, 1)]);
}

#[test]
fn cancel_from_head_middle_tail_and_last() {
    let mut b = L3Book::new();
    for id in 1..=4 {
        b.add(id, Bid, 10, id as i64).unwrap();
    }
    assert_eq!(b.cancel(2), Ok(2)); // middle
    b.check_invariants();
    assert_eq!(b.orders_at(Bid, 10), vec![(1, 1), (3, 3), (4, 4)]);
    assert_eq!(b.cancel(1), Ok(1)); // head
    assert_eq!(b.orders_at(Bid, 10), vec![(3, 3), (4, 4)]);
    assert_eq!(b.cancel(4), Ok(4)); // tail
    assert_eq!(b.orders_at(Bid, 10), vec![(3, 3)]);
    assert_eq!(b.volume_at(Bid, 10), 3);
    assert_eq!(b.cancel(3), Ok(3)); // last: level goes
    b.check_invariants();
    assert_eq!(b.level_count(Bid), 0);
    assert_eq!(b.best_bid(), None);
    assert_eq!(b.order_count(), 0);
    refused(&mut b, L3Error::UnknownId(3), |b| b.cancel(3));
}

#[test]
fn cancel_unknown_is_refused() {
    let mut b = book();
    refused(&mut b, L3Error::UnknownId(77), |b| b.cancel(77));
}

#[test]
fn cancelled_id_can_be_reused() {
    let mut b = book();
    b.cancel(1).unwrap();
    b.add(1, Ask, 102, 9).unwrap();
    b.check_invariants();
    assert_eq!(b.order(1), Some((Ask, 102, 9)));
}

#[test]
fn modify_reduce_keeps_priority() {
    let mut b = book();
    b.modify(1, 99, 2).unwrap();
    b.check_invariants();
    assert_eq!(b.orders_at(Bid, 99), vec![(1, 2), (2, 3)]);
    assert_eq!(b.volume_at(Bid, 99), 5);
    assert_eq!(b.queue_ahead(2), Some(2));
}

#[test]
fn modify_same_qty_same_price_is_a_no_op() {
    let mut b = book();
    let before = state(&b);
    b.modify(1, 99, 5).unwrap();
    assert_eq!(state(&b), before);
    b.check_invariants();
}

#[test]
fn modify_increase_loses_priority() {
    let mut b = book();
    b.add(7, Bid, 99, 1).unwrap();
    b.modify(1, 99, 6).unwrap(); // head to tail
    b.check_invariants();
    assert_eq!(b.orders_at(Bid, 99), vec![(2, 3), (7, 1), (1, 6)]);
    assert_eq!(b.volume_at(Bid, 99), 10);
    b.modify(7, 99, 2).unwrap(); // middle to tail
    b.check_invariants();
    assert_eq!(b.orders_at(Bid, 99), vec![(2, 3), (1, 6), (7, 2)]);
    b.modify(7, 99, 3).unwrap(); // already the tail
    b.check_invariants();
    assert_eq!(b.orders_at(Bid, 99), vec![(2, 3), (1, 6), (7, 3)]);
    b.modify(3, 98, 10).unwrap(); // alone at its level
    b.check_invariants();
    assert_eq!(b.orders_at(Bid, 98), vec![(3, 10)]);
}

#[test]
fn modify_price_change_goes_to_back_of_new_level() {
    let mut b = book();
    b.modify(1, 98, 5).unwrap();
    b.check_invariants();
    assert_eq!(b.orders_at(Bid, 99), vec![(2, 3)]);
    assert_eq!(b.orders_at(Bid, 98), vec![(3, 4), (1, 5)]);
    // Even a reduction loses priority when the price changes.
    b.modify(3, 99, 1).unwrap();
    assert_eq!(b.orders_at(Bid, 99), vec![(2, 3), (3, 1)]);
    // To a new level (which empties the old one).
    b.modify(1, 100, 2).unwrap();
    b.check_invariants();
    assert_eq!(b.depth(Bid, 5), vec![(100, 2), (99, 4)]);
    assert_eq!(b.order(1), Some((Bid, 100, 2)));
    // Away from the touch on the ask side.
    b.modify(4, 104, 2).unwrap();
    b.check_invariants();
    assert_eq!(b.depth(Ask, 5), vec![(101, 6), (103, 1), (104, 2)]);
}

#[test]
fn modify_and_back_restores_nothing_of_priority() {
    let mut b = book();
    b.modify(1, 98, 5).unwrap();
    b.modify(1, 99, 5).unwrap();
    assert_eq!(b.orders_at(Bid, 99), vec![(2, 3), (1, 5)]);
}

#[test]
fn modify_refusals_leave_book_unchanged() {
    let mut b = book();
    refused(&mut b, L3Error::UnknownId(9), |b| b.modify(9, 99, 1));
    refused(
        &mut b,
        L3Error::NonPositiveQty {
            field: "qty",
            value: 0,
        },
        |b| b.modify(1, 99, 0),
    );
    refused(
        &mut b,
        L3Error::NonPositiveQty {
            field: "qty",
            value: -1,
        },
        |b| b.modify(1, 97, -1),
    );
    refused(
        &mut b,
        L3Error::Crosses {
            id: 1,
            side: Bid,
            price: 101,
            opposite: 101,
        },
        |b| b.modify(1, 101, 5),
    );
    refused(
        &mut b,
        L3Error::Crosses {
            id: 6,
            side: Ask,
            price: 90,
            opposite: 99,
        },
        |b| b.modify(6, 90, 1),
    );
}

#[test]
fn execute_partial_keeps_priority_full_removes() {
    let mut b = book();
    assert_eq!(b.execute(1, 2), Ok(3));
    b.check_invariants();
    assert_eq!(b.orders_at(Bid, 99), vec![(1, 3), (2, 3)]);
    assert_eq!(b.volume_at(Bid, 99), 6);
    assert_eq!(b.execute(1, 3), Ok(0));
    b.check_invariants();
    assert_eq!(b.order(1), None);
    assert_eq!(b.orders_at(Bid, 99), vec![(2, 3)]);
    assert_eq!(b.execute(6, 1), Ok(0)); // last order of a level
    b.check_invariants();
    assert_eq!(b.level_count(Ask), 1);
}

#[test]
fn execute_refusals_leave_book_unchanged() {
    let mut b = book();
    refused(&mut b, L3Error::UnknownId(9), |b| b.execute(9, 1));
    refused(
        &mut b,
        L3Error::NonPositiveQty {
            field: "qty",
            value: 0,
        },
        |b| b.execute(1, 0),
    );
    refused(
        &mut b,
        L3Error::ExecuteExceeds {
            id: 1,
            qty: 6,
            resting: 5,
        },
        |b| b.execute(1, 6),
    );
}

#[test]
fn queue_ahead_counts_size_in_front() {
    let mut b = L3Book::new();
    for id in 1..=5 {
        b.add(id, Ask, 7, id as i64).unwrap();
    }
    for id in 1..=5u64 {
        let expect: i64 = (1..id as i64).sum();
        assert_eq!(b.queue_ahead(id), Some(expect), "id {id}");
    }
    assert_eq!(b.queue_ahead(99), None);
    b.cancel(2).unwrap();
    assert_eq!(b.queue_ahead(5), Some(1 + 3 + 4));
}

#[test]
fn match_buy_takes_asks_fifo_best_first() {
    let mut b = book();
    let mut fills = Vec::new();
    assert_eq!(b.match_order(Bid, 9, None, &mut fills), 9);
    b.check_invariants();
    assert_eq!(
        fills,
        vec![
            Fill {
                maker_id: 4,
                price: 101,
                qty: 2
            },
            Fill {
                maker_id: 5,
                price: 101,
                qty: 6
            },
            Fill {
                maker_id: 6,
                price: 103,
                qty: 1
            },
        ]
    );
    assert_eq!(b.best_ask(), None);
    assert_eq!(b.order_count(), 3);
    assert_eq!(b.order(4), None);
}

#[test]
fn match_partial_fill_keeps_maker_at_head() {
    let mut b = book();
    let mut fills = Vec::new();
    assert_eq!(b.match_order(Ask, 6, None, &mut fills), 6);
    b.check_invariants();
    assert_eq!(
        fills,
        vec![
            Fill {
                maker_id: 1,
                price: 99,
                qty: 5
            },
            Fill {
                maker_id: 2,
                price: 99,
                qty: 1
            },
        ]
    );
    assert_eq!(b.orders_at(Bid, 99), vec![(2, 2)]);
    assert_eq!(b.queue_ahead(2), Some(0));
    assert_eq!(b.best_bid(), Some((99, 2)));
}

#[test]
fn match_respects_limit() {
    let mut b = book();
    let mut fills = Vec::new();
    // A buy limited at 102 takes the 101 level only.
    assert_eq!(b.match_order(Bid, 100, Some(102), &mut fills), 8);
    assert_eq!(fills.len(), 2);
    assert_eq!(b.best_ask(), Some((103, 1)));
    // A buy limited below the best ask takes nothing.
    fills.clear();
    assert_eq!(b.match_order(Bid, 5, Some(102), &mut fills), 0);
    assert!(fills.is_empty());
    // A sell limited at exactly the best bid takes it (inclusive).
    assert_eq!(b.match_order(Ask, 100, Some(99), &mut fills), 8);
    assert_eq!(b.best_bid(), Some((98, 4)));
    b.check_invariants();
}

#[test]
fn match_on_empty_side_or_non_positive_qty_fills_nothing() {
    let mut b = book();
    let before = state(&b);
    let mut fills = Vec::new();
    assert_eq!(b.match_order(Bid, 0, None, &mut fills), 0);
    assert_eq!(b.match_order(Ask, -4, None, &mut fills), 0);
    assert!(fills.is_empty());
    assert_eq!(state(&b), before);
    let mut e = L3Book::new();
    e.add(1, Bid, 5, 5).unwrap();
    assert_eq!(e.match_order(Bid, 3, None, &mut fills), 0);
    assert!(fills.is_empty());
}

#[test]
fn match_more_than_book_empties_side() {
    let mut b = book();
    let mut fills = Vec::new();
    assert_eq!(b.match_order(Ask, 1_000, None, &mut fills), 12);
    assert_eq!(b.level_count(Bid), 0);
    assert_eq!(b.order_count(), 3);
    b.check_invariants();
    // Fills are appended, not replacing.
    assert_eq!(b.match_order(Bid, 1, None, &mut fills), 1);
    assert_eq!(fills.len(), 4);
}

#[test]
fn matched_side_can_be_refilled_then_other_side_can_move() {
    let mut b = book();
    let mut fills = Vec::new();
    b.match_order(Bid, 9, None, &mut fills);
    // With no asks, a bid anywhere is fine, and an ask must then be above it.
    b.add(10, Bid, 150, 1).unwrap();
    assert!(b.add(11, Ask, 150, 1).is_err());
    b.add(11, Ask, 151, 1).unwrap();
    b.check_invariants();
}

#[test]
fn walk_and_size_within_match_the_levels() {
    let b = book();
    assert_eq!(
        b.walk(Ask, 9),
        Walk {
            filled: 9,
            notional: 8 * 101 + 103,
            levels: 2,
            worst_price: Some(103)
        }
    );
    assert_eq!(b.walk(Bid, 100).filled, 12);
    assert_eq!(b.size_within(Bid, 0), 8);
    assert_eq!(b.size_within(Bid, 1), 12);
    assert_eq!(b.size_within(Ask, 1), 8);
    assert_eq!(b.size_within(Ask, 2), 9);
}

#[test]
fn slabs_are_reused_in_steady_state() {
    let mut b = L3Book::with_capacity(64);
    for round in 0..10u64 {
        for i in 0..50u64 {
            b.add(round * 100 + i, Bid, 100 - (i % 7) as i64, 1)
                .unwrap();
        }
        for i in 0..50u64 {
            b.cancel(round * 100 + i).unwrap();
        }
        b.check_invariants();
    }
    assert_eq!(b.slab_lens(), (50, 7));
    let mut fills = Vec::new();
    for i in 0..50u64 {
        b.add(i, Ask, 200 + (i % 5) as i64, 1).unwrap();
    }
    b.match_order(Bid, 50, None, &mut fills);
    b.check_invariants();
    assert_eq!(b.slab_lens(), (50, 7));
}

#[test]
fn error_messages_name_field_value_and_rule() {
    let m = |e: L3Error| e.to_string();
    assert_eq!(
        m(L3Error::NonPositiveQty {
            field: "qty",
            value: -3
        }),
        "qty -3 must be > 0"
    );
    let s = m(L3Error::DuplicateId(7));
    assert!(s.contains("order 7") && s.contains("unique"), "{s}");
    let s = m(L3Error::UnknownId(8));
    assert!(s.contains("order 8") && s.contains("does not rest"), "{s}");
    assert_eq!(
        m(L3Error::Crosses {
            id: 3,
            side: Bid,
            price: 101,
            opposite: 100
        })
        .split(" (")
        .next(),
        Some("order 3: bid price 101 must be < best ask 100")
    );
    assert_eq!(
        m(L3Error::Crosses {
            id: 4,
            side: Ask,
            price: 99,
            opposite: 99
        })
        .split(" (")
        .next(),
        Some("order 4: ask price 99 must be > best bid 99")
    );
    assert_eq!(
        m(L3Error::ExecuteExceeds {
            id: 5,
            qty: 9,
            resting: 4
        }),
        "order 5: execute qty 9 must be <= the resting qty 4"
    );
    let e: Box<dyn std::error::Error> = Box::new(L3Error::UnknownId(1));
    assert!(!e.to_string().is_empty());
}

fn flagged(e: Event, flags: u8) -> Event {
    Event { flags, ..e }
}

fn ev(kind: u8, id: u64, side: u8, price: i64, qty: i64) -> Event {
    Event {
        kind,
        order_id: id,
        side,
        price,
        qty,
        ..Event::default()
    }
}

#[test]
fn apply_events_applies_l3_rows_and_counts_the_rest() {
    let events = [
        ev(KIND_L3_ADD, 1, 0, 99, 5),                                  // 0 ok
        ev(KIND_L3_ADD, 2, 1, 101, 4),                                 // 1 ok
        ev(KIND_L3_ADD, 3, 0, 99, 2),                                  // 2 ok
        ev(KIND_L3_ADD, 4, 1, 99, 1),                                  // 3 crosses
        flagged(ev(KIND_TRADE, 77, 0, 101, 1), FLAG_BEGIN | FLAG_END), // 4 trade
        ev(KIND_L3_MODIFY, 1, 0, 99, 3),                               // 5 ok (reduce)
        ev(KIND_L3_EXECUTE, 2, 1, 0, 1),                               // 6 ok
        ev(KIND_L3_CANCEL, 3, 0, 0, 0),                                // 7 ok
        ev(KIND_L3_CANCEL, 3, 0, 0, 0),                                // 8 unknown
        flagged(ev(KIND_TICKER, 0, 0, 99, 3), FLAG_BEGIN),             // 9 ticker
        flagged(ev(KIND_TICKER, 0, 1, 101, 3), FLAG_END),              // 10 ticker
        ev(KIND_L3_ADD, 5, 2, 98, 1),                                  // 11 bad side
        ev(KIND_DIFF, 0, 0, 98, 1),                                    // 12 kind not for L3
        ev(KIND_SNAPSHOT, 0, 0, 98, 1),                                // 13 kind not for L3
        ev(200, 0, 0, 98, 1),                                          // 14 unknown kind
        ev(KIND_L3_EXECUTE, 2, 1, 0, 9),                               // 15 exceeds
        ev(KIND_L3_MODIFY, 2, 1, 102, 3),                              // 16 ok (reprice)
    ];
    let mut b = L3Book::new();
    let st = b.apply_events(&events, 100);
    b.check_invariants();
    assert_eq!(st.rows, 17);
    // 11 L3 rows, 1 trade, 1 ticker message (two rows).
    assert_eq!(st.messages, 13);
    assert_eq!(st.levels_applied, 7);
    assert_eq!(st.trades, 1);
    assert_eq!(st.tickers, 1);
    assert_eq!(st.errors, 7);
    let (row, msg) = st.first_error.clone().unwrap();
    assert_eq!(row, 103);
    assert!(
        msg.starts_with("row 103: order 4: ask price 99 must be > best bid 99"),
        "{msg}"
    );
    assert_eq!(b.orders_at(Bid, 99), vec![(1, 3)]);
    assert_eq!(b.orders_at(Ask, 102), vec![(2, 3)]);
    assert_eq!(b.order_count(), 2);

    // The error messages of the other refused rows.
    let one = |e: Event| {
        let mut b = L3Book::new();
        b.apply_events(&[e], 0).first_error.unwrap()
    };
    let (_, m) = one(ev(KIND_L3_ADD, 5, 2, 98, 1));
    assert!(m.contains("side 2 must be 0 (bid) or 1 (ask)"), "{m}");
    let (_, m) = one(ev(KIND_DIFF, 0, 0, 98, 1));
    assert!(m.starts_with("row 0: kind 2 is not"), "{m}");
    let (_, m) = one(ev(KIND_L3_CANCEL, 3, 0, 0, 0));
    assert!(m.contains("order 3"), "{m}");
    let st = L3Book::new().apply_events(&[], 7);
    assert_eq!(st, BatchStats::default());
}

#[test]
fn apply_events_matches_direct_calls() {
    let mut direct = L3Book::new();
    let mut events = Vec::new();
    let mut x = 0x9e37_79b9_7f4a_7c15u64;
    for i in 0..2_000u64 {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        let id = x % 64;
        let side = ((x >> 8) & 1) as u8;
        let off = ((x >> 16) % 10) as i64;
        let price = if side == 0 { 100 - off } else { 101 + off };
        let qty = ((x >> 32) % 5) as i64;
        let e = match i % 4 {
            0 | 1 => ev(KIND_L3_ADD, id, side, price, qty),
            2 => ev(KIND_L3_MODIFY, id, side, price, qty),
            _ if x & (1 << 40) != 0 => ev(KIND_L3_CANCEL, id, side, 0, 0),
            _ => ev(KIND_L3_EXECUTE, id, side, 0, qty),
        };
        events.push(e);
    }
    let mut ok = 0;
    for e in &events {
        let side = Side::from_u8(e.side).unwrap();
        let r = match e.kind {
            KIND_L3_ADD => direct.add(e.order_id, side, e.price, e.qty),
            KIND_L3_MODIFY => direct.modify(e.order_id, e.price, e.qty),
            KIND_L3_CANCEL => direct.cancel(e.order_id).map(|_| ()),
            _ => direct.execute(e.order_id, e.qty).map(|_| ()),
        };
        ok += r.is_ok() as u64;
    }
    let mut batch = L3Book::new();
    let st = batch.apply_events(&events, 0);
    batch.check_invariants();
    assert_eq!(state(&batch), state(&direct));
    assert_eq!(st.messages, 2_000);
    assert_eq!(st.levels_applied, ok);
    assert_eq!(st.errors, 2_000 - ok);
    assert!(ok > 500 && st.errors > 100, "ok {ok} errors {}", st.errors);
}

#[test]
fn many_levels_in_random_order() {
    // Enough levels for the price index to split and merge its chunks many times.
    let mut b = L3Book::new();
    let mut model: std::collections::BTreeMap<(u8, i64), Vec<(u64, i64)>> = Default::default();
    let mut live: Vec<(u64, Side, i64)> = Vec::new();
    let mut x = 0x2545_f491_4f6c_dd1du64;
    let mut rnd = |n: u64| {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x % n
    };
    for id in 0..20_000u64 {
        if live.is_empty() || rnd(3) > 0 {
            let side = if rnd(2) == 0 { Bid } else { Ask };
            let off = 1 + rnd(3_000) as i64;
            let price = if side == Bid { -off } else { off };
            let qty = 1 + rnd(9) as i64;
            b.add(id, side, price, qty).unwrap();
            model
                .entry((side as u8, price))
                .or_default()
                .push((id, qty));
            live.push((id, side, price));
        } else {
            let (id, side, price) = live.swap_remove(rnd(live.len() as u64) as usize);
            let q = b.cancel(id).unwrap();
            let level = model.get_mut(&(side as u8, price)).unwrap();
            let i = level.iter().position(|o| o.0 == id).unwrap();
            assert_eq!(level.remove(i).1, q);
            if level.is_empty() {
                model.remove(&(side as u8, price));
            }
        }
        if id % 1_000 == 0 {
            b.check_invariants();
        }
    }
    b.check_invariants();
    for side in [Bid, Ask] {
        let mut expect: Vec<(i64, i64)> = model
            .iter()
            .filter(|(k, _)| k.0 == side as u8)
            .map(|(k, v)| (k.1, v.iter().map(|o| o.1).sum()))
            .collect();
        if side == Bid {
            expect.reverse();
        }
        assert!(expect.len() > 1_000);
        assert_eq!(b.levels_from_touch(side).collect::<Vec<_>>(), expect);
    }
    for ((s, p), orders) in &model {
        assert_eq!(&b.orders_at(Side::from_u8(*s).unwrap(), *p), orders);
    }
    // Sweep a side completely through the matcher.
    let mut fills = Vec::new();
    let total: i64 = b.levels_from_touch(Ask).map(|l| l.1).sum();
    assert_eq!(b.match_order(Bid, i64::MAX, None, &mut fills), total);
    b.check_invariants();
    assert_eq!(b.level_count(Ask), 0);
}

#[test]
fn prices_beyond_the_range_are_refused() {
    let mut b = L3Book::new();
    b.add(1, Side::Bid, 100, 5).unwrap();
    for price in [1i64 << 62, -(1i64 << 62), i64::MAX, i64::MIN] {
        assert!(matches!(b.add(2, Side::Ask, price, 1), Err(L3Error::PriceOutOfRange { .. })));
        assert!(matches!(b.modify(1, price, 5), Err(L3Error::PriceOutOfRange { .. })));
    }
    assert_eq!(b.order(1), Some((Side::Bid, 100, 5)));
    assert_eq!(b.order_count(), 1);
}
