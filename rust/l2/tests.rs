use super::*;
use crate::event::{Event, FLAG_BEGIN, FLAG_EMPTY, FLAG_END, KIND_DIFF, KIND_SNAPSHOT, KIND_TRADE};
use crate::query::BookQueries;
use proptest::prelude::*;
use std::collections::BTreeMap;

const B: Side = Side::Bid;
const A: Side = Side::Ask;

fn synced(rule: Rule, last: i64) -> L2Book {
    let mut b = L2Book::new(rule);
    b.apply_snapshot(last, &[(B, 100, 5), (B, 99, 3), (A, 101, 4), (A, 103, 2)], false)
        .unwrap();
    b
}

#[test]
fn futures_chain_drop_straddle_and_gap() {
    let mut b = synced(Rule::Futures, 1000);
    assert!(!b.is_stale());
    // u < lastUpdateId: dropped
    assert_eq!(b.apply_diff(990, 999, 980, &[(B, 100, 1)], 0), Ok(DiffOutcome::Dropped));
    assert_eq!(b.volume_at(B, 100), 5);
    // first applied must straddle: U <= 1000 <= u
    assert_eq!(b.apply_diff(995, 1005, 990, &[(B, 100, 0), (A, 101, 9)], 0), Ok(DiffOutcome::Applied));
    assert_eq!(b.best_bid(), Some((99, 3)));
    assert_eq!(b.last_update_id(), Some(1005));
    // pu must equal previous u
    assert_eq!(b.apply_diff(1006, 1010, 1005, &[(A, 102, 1)], 0), Ok(DiffOutcome::Applied));
    assert_eq!(b.best_ask(), Some((101, 9)));
    // a re-delivered old diff is dropped, not applied twice
    assert_eq!(b.apply_diff(1006, 1010, 1005, &[(A, 102, 7)], 0), Ok(DiffOutcome::Dropped));
    assert_eq!(b.volume_at(A, 102), 1);
    // break: pu 1011 != 1010
    let err = b.apply_diff(1012, 1020, 1011, &[(A, 101, 0)], 7).unwrap_err();
    assert!(matches!(err, L2Error::Gap { expected: 1010, .. }), "{err}");
    assert!(err.to_string().contains("pu must equal previous u 1010"));
    assert!(b.is_stale());
    // the gap diff was not applied
    assert_eq!(b.volume_at(A, 101), 9);
    // later diffs are buffered while stale
    assert_eq!(b.apply_diff(1021, 1030, 1020, &[(A, 104, 1)], 8), Ok(DiffOutcome::Buffered));
    assert_eq!(b.buffered_diffs(), 2);
    // re-sync: a snapshot at 1025 drops the 1012-1020 diff and applies the straddling one
    let r = b.apply_snapshot(1025, &[(B, 50, 1), (A, 60, 1)], false).unwrap();
    assert_eq!((r.applied, r.dropped, r.gap.is_none()), (1, 1, true));
    assert!(!b.is_stale());
    assert_eq!(b.last_update_id(), Some(1030));
    assert_eq!(b.volume_at(A, 104), 1);
    assert_eq!(b.buffered_diffs(), 0);
}

#[test]
fn futures_first_diff_not_straddling_is_a_gap() {
    let mut b = synced(Rule::Futures, 1000);
    let err = b.apply_diff(1001, 1005, 1000, &[(B, 100, 1)], 0).unwrap_err();
    assert!(matches!(err, L2Error::Gap { .. }));
    assert!(b.is_stale());
}

#[test]
fn spot_chain_rules() {
    let mut b = synced(Rule::Spot, 1000);
    // u <= lastUpdateId dropped (spot drops equality too)
    assert_eq!(b.apply_diff(990, 1000, -1, &[(B, 100, 1)], 0), Ok(DiffOutcome::Dropped));
    // first: U <= 1001 <= u
    assert_eq!(b.apply_diff(1001, 1003, -1, &[(B, 100, 1)], 0), Ok(DiffOutcome::Applied));
    assert_eq!(b.apply_diff(1004, 1004, -1, &[(B, 100, 2)], 0), Ok(DiffOutcome::Applied));
    assert_eq!(b.volume_at(B, 100), 2);
    let err = b.apply_diff(1006, 1009, -1, &[], 0).unwrap_err();
    assert!(matches!(err, L2Error::Gap { expected: 1005, .. }), "{err}");
    assert!(err.to_string().contains("U must equal previous u + 1 = 1005"));
}

#[test]
fn diffs_before_the_first_snapshot_are_buffered_then_replayed() {
    let mut b = L2Book::new(Rule::Futures);
    assert!(b.is_stale());
    assert_eq!(b.apply_diff(90, 95, 80, &[(B, 10, 1)], 1), Ok(DiffOutcome::Buffered));
    assert_eq!(b.apply_diff(96, 105, 95, &[(B, 11, 1)], 2), Ok(DiffOutcome::Buffered));
    assert_eq!(b.apply_diff(106, 110, 105, &[(B, 12, 1)], 3), Ok(DiffOutcome::Buffered));
    let r = b.apply_snapshot(100, &[(A, 20, 1)], true).unwrap();
    assert_eq!((r.applied, r.dropped), (2, 1));
    assert_eq!(r.tops.len(), 2);
    assert_eq!(r.tops[1].seq, 110);
    assert_eq!(b.depth(B, 5), vec![(12, 1), (11, 1)]);
}

#[test]
fn a_buffered_gap_is_reported_by_the_snapshot_and_kept() {
    let mut b = L2Book::new(Rule::Spot);
    b.apply_diff(101, 105, -1, &[(B, 10, 1)], 1).unwrap();
    b.apply_diff(107, 110, -1, &[(B, 11, 1)], 2).unwrap(); // 106 missing
    let r = b.apply_snapshot(102, &[], false).unwrap();
    assert_eq!(r.applied, 1);
    assert_eq!(r.gap.as_ref().map(|g| g.0), Some(2));
    assert!(b.is_stale());
    assert_eq!(b.buffered_diffs(), 1);
}

#[test]
fn buffer_is_bounded() {
    let mut b = L2Book::with_window(Rule::Futures, 1024, 3);
    for k in 0..10 {
        b.apply_diff(k * 10, k * 10 + 9, k * 10 - 1, &[(B, k, 1), (B, k + 100, 1)], k as u64).unwrap();
    }
    assert_eq!(b.buffered_diffs(), 1);
}

#[test]
fn negative_qty_and_bad_ids_are_refused_without_change() {
    let mut b = synced(Rule::Futures, 1000);
    let before = (b.depth(B, 10), b.depth(A, 10), b.last_update_id());
    assert!(matches!(b.apply_diff(999, 1001, 0, &[(B, 100, -1)], 0), Err(L2Error::NegativeQty { .. })));
    assert!(matches!(b.apply_diff(1002, 1001, 0, &[], 0), Err(L2Error::BadIds { .. })));
    assert!(b.apply_snapshot(5, &[(A, 1, -2)], false).is_err());
    assert!(b.set_level(A, 1, -2).is_err());
    assert_eq!(before, (b.depth(B, 10), b.depth(A, 10), b.last_update_id()));
}

#[test]
fn prices_beyond_the_range_are_refused() {
    let mut b = synced(Rule::Futures, 1000);
    let before = (b.depth(B, 10), b.depth(A, 10));
    for price in [1 << 62, -(1 << 62), i64::MAX, i64::MIN] {
        assert!(matches!(b.set_level(B, price, 1), Err(L2Error::PriceOutOfRange { .. })));
        assert!(b.apply_diff(999, 1001, 0, &[(A, price, 1)], 0).is_err());
    }
    assert!(b.set_level(B, (1 << 62) - 1, 1).is_ok());
    b.set_level(B, (1 << 62) - 1, 0).unwrap();
    assert_eq!(before, (b.depth(B, 10), b.depth(A, 10)));
    // at the edges of the range, spread and mid stay exact
    let mut e = L2Book::new(Rule::Spot);
    e.set_level(B, -(1 << 62) + 1, 1).unwrap();
    e.set_level(A, (1 << 62) - 1, 1).unwrap();
    assert_eq!(e.spread(), Some(i64::MAX - 1));
    assert_eq!(e.mid_x2(), Some(0));
    assert!(!e.is_crossed());
}

#[test]
fn queries() {
    let b = synced(Rule::Futures, 1);
    assert_eq!(b.best_bid(), Some((100, 5)));
    assert_eq!(b.best_ask(), Some((101, 4)));
    assert_eq!(b.spread(), Some(1));
    assert_eq!(b.mid_x2(), Some(201));
    assert!(!b.is_crossed());
    assert_eq!(b.depth(A, 1), vec![(101, 4)]);
    assert_eq!(b.volume_at(A, 103), 2);
    assert_eq!(b.volume_at(A, 102), 0);
    // buy 5: 4 @ 101 + 1 @ 103
    let w = b.walk(A, 5);
    assert_eq!((w.filled, w.notional, w.levels, w.worst_price), (5, 4 * 101 + 103, 2, Some(103)));
    // more than the book holds
    assert_eq!(b.walk(B, 100).filled, 8);
    assert_eq!(b.walk(B, 0).filled, 0);
    assert_eq!(b.size_within(A, 1), 4);
    assert_eq!(b.size_within(A, 2), 6);
    assert_eq!(b.size_within(B, 0), 5);
    let mut c = b.clone();
    c.set_level(B, 101, 1).unwrap();
    assert!(c.is_crossed());
    c.clear();
    assert_eq!((c.best_bid(), c.spread(), c.size_within(A, 5)), (None, None, 0));
    assert!(c.is_stale());
}

fn ev(kind: u8, flags: u8, side: u8, price: i64, qty: i64, ids: (i64, i64, i64)) -> Event {
    Event {
        kind,
        flags,
        side,
        price,
        qty,
        seq_first: ids.0,
        seq_last: ids.1,
        seq_prev: ids.2,
        ..Event::default()
    }
}

fn message(kind: u8, ids: (i64, i64, i64), levels: &[(u8, i64, i64)]) -> Vec<Event> {
    if levels.is_empty() {
        return vec![ev(kind, FLAG_BEGIN | FLAG_END | FLAG_EMPTY, 0, 0, 0, ids)];
    }
    let n = levels.len();
    levels
        .iter()
        .enumerate()
        .map(|(i, &(s, p, q))| {
            let mut f = 0;
            if i == 0 {
                f |= FLAG_BEGIN;
            }
            if i == n - 1 {
                f |= FLAG_END;
            }
            ev(kind, f, s, p, q, ids)
        })
        .collect()
}

#[test]
fn batch_counts_gaps_with_rows_and_records_tops() {
    let mut rows = Vec::new();
    rows.extend(message(KIND_DIFF, (90, 95, 80), &[(0, 10, 1)])); // before snapshot
    rows.extend(message(KIND_SNAPSHOT, (0, 100, 0), &[(0, 9, 1), (1, 20, 1)]));
    rows.extend(message(KIND_DIFF, (96, 101, 95), &[(0, 11, 2)]));
    rows.extend(message(KIND_DIFF, (102, 103, 101), &[]));
    rows.push(ev(KIND_TRADE, FLAG_BEGIN | FLAG_END, 0, 10, 1, (0, 0, 0)));
    let gap_row = rows.len();
    rows.extend(message(KIND_DIFF, (105, 106, 104), &[(1, 20, 0), (1, 21, 3)]));
    let mut b = L2Book::new(Rule::Futures);
    let st = b.apply_events(&rows, true, 0);
    assert_eq!(st.rows, rows.len() as u64);
    assert_eq!((st.snapshots, st.diffs_applied, st.diffs_dropped, st.trades), (1, 2, 1, 1));
    assert_eq!((st.gaps, st.gap_rows.clone(), st.diffs_buffered), (1, vec![gap_row as u64], 1));
    assert_eq!(st.levels_applied, 3);
    assert_eq!(st.tops.iter().map(|t| t.seq).collect::<Vec<_>>(), vec![101, 103]);
    assert_eq!(st.tops[0].bid_price, 11);
    assert!(st.first_error.as_ref().unwrap().1.contains("sequence gap"));
    assert!(b.is_stale());
}

#[test]
fn an_empty_row_is_not_checked_for_side_or_size() {
    let mut rows = message(KIND_SNAPSHOT, (0, 100, 0), &[(0, 9, 1)]);
    let mut empty = message(KIND_DIFF, (100, 101, 99), &[]);
    empty[0].side = 3;
    empty[0].qty = -1;
    rows.append(&mut empty);
    let mut b = L2Book::new(Rule::Futures);
    let st = b.apply_events(&rows, false, 0);
    assert_eq!((st.errors, st.diffs_applied), (0, 1));
    assert_eq!(b.last_update_id(), Some(101));
}

#[test]
fn rows_stay_valid_across_calls() {
    // A diff buffered in call 1 breaks the chain when call 2's snapshot replays it.
    let mut first = message(KIND_DIFF, (101, 105, 100), &[(0, 10, 1)]);
    first.extend(message(KIND_DIFF, (107, 110, 106), &[(0, 11, 1)])); // U should be 106
    let snap = message(KIND_SNAPSHOT, (0, 102, 0), &[(1, 20, 1)]);
    let mut b = L2Book::new(Rule::Spot);
    let st1 = b.apply_events(&first, false, 1000);
    assert_eq!((st1.gaps, st1.diffs_buffered), (0, 2));
    let st2 = b.apply_events(&snap, false, 1002);
    assert_eq!(st2.gap_rows, vec![1001]);
    assert_eq!(st2.gap_ids, vec![(107, 110, 106)]);
    assert_eq!(st2.diffs_applied, 1);
    assert!(b.is_stale());
}

#[test]
fn batch_refuses_malformed_messages_and_continues() {
    let mut rows = message(KIND_SNAPSHOT, (0, 100, 0), &[(0, 9, 1), (1, 20, 1)]);
    let mut bad = message(KIND_DIFF, (100, 101, 99), &[(3, 10, 1)]);
    rows.append(&mut bad);
    let mut unterminated = message(KIND_DIFF, (102, 103, 101), &[(0, 10, 1), (0, 11, 1)]);
    unterminated.pop();
    rows.append(&mut unterminated);
    rows.extend(message(KIND_DIFF, (100, 101, 99), &[(0, 10, 1)]));
    rows.push(ev(42, FLAG_BEGIN | FLAG_END, 0, 0, 0, (0, 0, 0)));
    let mut b = L2Book::new(Rule::Futures);
    let st = b.apply_events(&rows, false, 0);
    assert_eq!(st.errors, 3);
    assert_eq!(st.first_error.as_ref().unwrap().0, 2);
    assert!(st.first_error.as_ref().unwrap().1.contains("side 3"));
    assert_eq!(st.diffs_applied, 1);
    assert_eq!(b.best_bid(), Some((10, 1)));
}

/// A random diff stream whose bids stay below and asks above a moving mid.
fn arb_ops() -> impl Strategy<Value = Vec<(bool, i64, i64)>> {
    prop::collection::vec((any::<bool>(), 1i64..200, 0i64..5), 1..400)
}

proptest! {
    #[test]
    fn book_matches_model_and_never_crosses(ops in arb_ops(), window in prop::sample::select(vec![64usize, 128, 4096])) {
        let mut b = L2Book::with_window(Rule::Futures, window, 1000);
        b.apply_snapshot(0, &[], false).unwrap();
        let mut model: [BTreeMap<i64, i64>; 2] = [BTreeMap::new(), BTreeMap::new()];
        let mid = 10_000;
        for (k, (bid, off, q)) in ops.into_iter().enumerate() {
            let (side, price) = if bid { (B, mid - off) } else { (A, mid + off) };
            let k = k as i64;
            prop_assert_eq!(b.apply_diff(k, k + 1, k, &[(side, price, q)], 0), Ok(DiffOutcome::Applied));
            let m = &mut model[side.idx()];
            if q == 0 { m.remove(&price); } else { m.insert(price, q); }
            let bids: Vec<Level> = model[0].iter().rev().map(|(p, q)| (*p, *q)).collect();
            let asks: Vec<Level> = model[1].iter().map(|(p, q)| (*p, *q)).collect();
            prop_assert_eq!(b.depth(B, usize::MAX), bids.clone());
            prop_assert_eq!(b.depth(A, usize::MAX), asks.clone());
            prop_assert!(!b.is_crossed());
            if let (Some(bb), Some(ba)) = (b.best_bid(), b.best_ask()) {
                prop_assert!(bb.0 < ba.0);
            }
            prop_assert!(bids.iter().all(|l| l.1 > 0) && asks.iter().all(|l| l.1 > 0));
            prop_assert_eq!(b.level_count(A), asks.len());
        }
    }

    #[test]
    fn batch_equals_per_call(msgs in prop::collection::vec((prop::collection::vec((0u8..2, 1i64..60, 0i64..4), 0..6), 0u8..10), 1..80)) {
        // Messages: mostly chained diffs, some snapshots, some broken links.
        let mut rows = Vec::new();
        let mut per_call = L2Book::new(Rule::Futures);
        let mut outcomes = (0u64, 0u64, 0u64);
        let mut u = 0i64;
        for (levels, roll) in msgs {
            let lv: Vec<(Side, i64, i64)> = levels.iter().map(|&(s, p, q)| (Side::from_u8(s).unwrap(), if s == 0 { 100 - p } else { 100 + p }, q)).collect();
            let raw: Vec<(u8, i64, i64)> = lv.iter().map(|&(s, p, q)| (s as u8, p, q)).collect();
            if roll == 0 {
                let snap: Vec<_> = lv.iter().filter(|l| l.2 > 0).copied().collect();
                let raw_snap: Vec<_> = snap.iter().map(|&(s, p, q)| (s as u8, p, q)).collect();
                let r = per_call.apply_snapshot(u, &snap, false).unwrap();
                outcomes.0 += r.applied;
                outcomes.1 += r.dropped;
                outcomes.2 += r.gap.is_some() as u64;
                rows.extend(message(KIND_SNAPSHOT, (0, u, 0), &raw_snap));
                continue;
            }
            let prev = if roll == 1 { u + 1 } else { u }; // roll 1 breaks the chain
            let ids = (u + 1, u + 3, prev);
            u += 3;
            let row = rows.len() as u64;
            match per_call.apply_diff(ids.0, ids.1, ids.2, &lv, row) {
                Ok(DiffOutcome::Applied) => outcomes.0 += 1,
                Ok(DiffOutcome::Dropped) => outcomes.1 += 1,
                Ok(DiffOutcome::Buffered) => {}
                Err(_) => outcomes.2 += 1,
            }
            rows.extend(message(KIND_DIFF, ids, &raw));
        }
        let mut batch = L2Book::new(Rule::Futures);
        let st = batch.apply_events(&rows, false, 0);
        prop_assert_eq!((st.diffs_applied, st.diffs_dropped, st.gaps), outcomes);
        prop_assert_eq!(batch.depth(B, usize::MAX), per_call.depth(B, usize::MAX));
        prop_assert_eq!(batch.depth(A, usize::MAX), per_call.depth(A, usize::MAX));
        prop_assert_eq!(batch.is_stale(), per_call.is_stale());
        prop_assert_eq!(batch.last_update_id(), per_call.last_update_id());
        prop_assert_eq!(st.diffs_buffered as usize, per_call.buffered_diffs());
    }
}
