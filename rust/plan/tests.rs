//! Hand-built streams: where the steps are cut and what each one shows the strategy.

use super::*;
use crate::event::{FLAG_BEGIN, FLAG_END};

/// One message of `levels` (side, price, qty) with futures ids (U, u, pu): after a
/// snapshot at 10 the diffs go (10, 11, 10), (11, 12, 11), ...
fn message(kind: u8, ts: i64, ids: (i64, i64, i64), levels: &[(u8, i64, i64)]) -> Vec<Event> {
    let n = levels.len();
    levels
        .iter()
        .enumerate()
        .map(|(i, &(side, price, qty))| Event {
            ts_event: ts,
            ts_recv: ts + 5,
            seq_first: ids.0,
            seq_last: ids.1,
            seq_prev: ids.2,
            kind,
            side,
            price,
            qty,
            flags: if i == 0 { FLAG_BEGIN } else { 0 } | if i + 1 == n { FLAG_END } else { 0 },
            ..Event::default()
        })
        .collect()
}

fn trade(ts: i64, price: i64) -> Vec<Event> {
    vec![Event {
        ts_event: ts,
        ts_recv: ts,
        seq_prev: -1,
        price,
        qty: 1,
        kind: KIND_TRADE,
        flags: FLAG_BEGIN | FLAG_END,
        ..Event::default()
    }]
}

/// snapshot (rows 0-1), a diff moving the bid (2), a diff deep in the book (3), a diff
/// moving the bid again (4-5), a trade (6), a diff deep again (7).
fn stream() -> Vec<Event> {
    let mut ev = message(KIND_SNAPSHOT, 100, (0, 10, -1), &[(0, 99, 5), (1, 101, 5)]);
    ev.extend(message(KIND_DIFF, 150, (10, 11, 10), &[(0, 99, 6)]));
    ev.extend(message(KIND_DIFF, 200, (11, 12, 11), &[(0, 90, 1)]));
    ev.extend(message(
        KIND_DIFF,
        300,
        (12, 13, 12),
        &[(0, 91, 1), (0, 100, 2)],
    ));
    ev.extend(trade(350, 100));
    ev.extend(message(KIND_DIFF, 400, (13, 14, 13), &[(1, 120, 1)]));
    ev
}

fn shape(steps: &[Step]) -> Vec<(usize, usize, StepKind)> {
    steps.iter().map(|s| (s.start, s.end, s.kind)).collect()
}

#[test]
fn a_step_ends_at_a_snapshot_and_at_each_message_that_moves_the_top() {
    let steps = plan_steps(&stream(), Rule::Futures, false);
    assert_eq!(
        shape(&steps),
        vec![
            (0, 2, StepKind::Book),
            (2, 3, StepKind::Book),
            (3, 6, StepKind::Book),
            (6, 8, StepKind::Rows)
        ]
    );
    assert_eq!((steps[2].ts_first, steps[2].ts_last), (200, 300));
}

#[test]
fn a_watched_print_is_a_step_of_its_own() {
    let unwatched = shape(&plan_steps(&stream(), Rule::Futures, false));
    let watched = shape(&plan_steps(&stream(), Rule::Futures, true));
    // The last run of rows (the print, then a diff deep in the book) splits in two.
    assert_eq!(watched[..3], unwatched[..3]);
    assert_eq!(watched[3..], [(6, 7, StepKind::Trade), (7, 8, StepKind::Rows)]);
}

#[test]
fn time_never_goes_back_and_falls_back_to_the_receive_time() {
    let mut ev = stream();
    ev[3].ts_event = 0; // unknown: its receive time 205 stands in
    ev[6].ts_event = 50; // a late print: the clock stays where it was
    let steps = plan_steps(&ev, Rule::Futures, true);
    assert_eq!(steps[2].ts_first, 205);
    assert_eq!((steps[3].ts_first, steps[3].ts_last), (300, 300));
}

#[test]
fn diffs_before_the_snapshot_are_cut_where_their_replay_moves_the_top() {
    // The diff arrives first (buffered), the snapshot then replays it: the top seen
    // after the replay lands on the diff's own message.
    let mut ev = message(KIND_DIFF, 100, (10, 11, 10), &[(0, 100, 1)]);
    ev.extend(message(
        KIND_SNAPSHOT,
        200,
        (0, 10, -1),
        &[(0, 99, 5), (1, 101, 5)],
    ));
    let steps = plan_steps(&ev, Rule::Futures, false);
    assert_eq!(
        shape(&steps),
        vec![(0, 1, StepKind::Book), (1, 3, StepKind::Book)]
    );
}

#[test]
fn no_rows_no_steps_and_rows_without_a_book_are_one_step() {
    assert!(plan_steps(&[], Rule::Spot, false).is_empty());
    let ev: Vec<Event> = [trade(1, 100), trade(2, 101)].concat();
    assert_eq!(
        shape(&plan_steps(&ev, Rule::Spot, false)),
        vec![(0, 2, StepKind::Rows)]
    );
}

#[test]
fn level_updates_count_snapshot_and_diff_levels_only() {
    // stream(): a snapshot of 2 levels and diffs of 1, 1, 2 and 1 levels (7), and a print;
    // then a diff message with no level (FLAG_EMPTY), a ticker row and another print.
    let mut events = stream();
    let mut empty = message(KIND_DIFF, 450, (14, 15, 14), &[(0, 0, 0)]);
    empty[0].flags |= crate::event::FLAG_EMPTY;
    events.extend(empty);
    events.extend(message(crate::event::KIND_TICKER, 460, (0, 15, -1), &[(0, 99, 6)]));
    events.extend(trade(470, 100));
    assert_eq!(level_updates(&events), 7);
    assert_eq!(level_updates(&events[..2]), 2);
    assert_eq!(level_updates(&[]), 0);
    // plan() counts them in its own pass, beside the same steps as plan_steps()
    for watch in [false, true] {
        let (steps, updates) = plan(&events, Rule::Futures, watch);
        assert_eq!((steps, updates), (plan_steps(&events, Rule::Futures, watch), 7));
    }
    assert_eq!(plan(&[], Rule::Spot, false), (Vec::new(), 0));
}
