//! Step planning for a backtest: where the kernel cuts one instrument's event rows into
//! batches, worked out in one pass before the run.
//!
//! A step ends where the strategy must look: after a book message that changed the top
//! of book (or a snapshot), and around each trade print when the strategy watches
//! prints (a print is a step of its own). Everything between is one run of rows that
//! the kernel applies without calling the strategy. The top is tracked on a scratch
//! book under the instrument's sequence rule, so the cuts see exactly what the kernel's
//! own book will see (the first top recorded counts as a change: there is nothing
//! before it to compare with); a top recorded after a diff is put on the END row of the first
//! diff message whose last update id is not older than the top's (a diff replayed from
//! the buffer when its snapshot arrives lands on its own message).

use crate::event::{Event, FLAG_EMPTY, FLAG_END, KIND_DIFF, KIND_SNAPSHOT, KIND_TRADE};
use crate::l2::{L2Book, Rule};

/// One batch of rows `start..end` (row indices into the instrument's events).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Step {
    /// Time of the first row (event time, else receive time, never going back).
    pub ts_first: i64,
    pub start: usize,
    pub end: usize,
    pub kind: StepKind,
    /// Time of the last row, on the same never-decreasing clock.
    pub ts_last: i64,
}

/// What the strategy is shown after the step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum StepKind {
    /// Rows the strategy does not look at.
    Rows = 0,
    /// One trade print.
    Trade = 1,
    /// Rows ending with a book message that changed the top (or a snapshot).
    Book = 2,
}

const CUT_BOOK: u8 = 1;
const CUT_TRADE: u8 = 2;

/// The steps of one instrument's rows, in row order.
pub fn plan_steps(events: &[Event], rule: Rule, watch_trades: bool) -> Vec<Step> {
    plan(events, rule, watch_trades).0
}

/// The steps and the level updates (`level_updates`) of one instrument's rows, counted
/// in the same first pass (a backtest needs both; a second pass streams every row again).
pub fn plan(events: &[Event], rule: Rule, watch_trades: bool) -> (Vec<Step>, usize) {
    let n = events.len();
    if n == 0 {
        return (Vec::new(), 0);
    }
    // One pass over the rows (they are 72 bytes each: every pass streams the whole
    // array): the cuts a row makes by its kind, the END rows of diff messages, and the
    // running clock.
    let mut cuts = vec![0u8; n];
    let mut diff_ends = Vec::new();
    let mut clock = Vec::with_capacity(n);
    let mut now = i64::MIN;
    let mut updates = 0;
    for (i, ev) in events.iter().enumerate() {
        now = now.max(if ev.ts_event != 0 { ev.ts_event } else { ev.ts_recv });
        clock.push(now);
        updates += usize::from(is_level_update(ev));
        let end = ev.flags & FLAG_END != 0;
        match ev.kind {
            KIND_DIFF if end => diff_ends.push(i),
            KIND_SNAPSHOT if end => cuts[i] = CUT_BOOK,
            KIND_TRADE if watch_trades => cuts[i] = CUT_TRADE,
            _ => {}
        }
    }
    mark_top_changes(events, rule, &diff_ends, &mut cuts);
    let mut steps = Vec::new();
    let mut push = |start: usize, end: usize| {
        let last = cuts[end - 1];
        let kind = if last == CUT_TRADE && end - start == 1 {
            StepKind::Trade
        } else if last == CUT_BOOK {
            StepKind::Book
        } else {
            StepKind::Rows
        };
        steps.push(Step { ts_first: clock[start], start, end, kind, ts_last: clock[end - 1] });
    };
    let mut start = 0;
    for (i, &cut) in cuts.iter().enumerate() {
        if cut == CUT_TRADE {
            if i > start {
                push(start, i);
            }
            push(i, i + 1);
            start = i + 1;
        } else if cut == CUT_BOOK {
            push(start, i + 1);
            start = i + 1;
        }
    }
    if start < n {
        push(start, n);
    }
    (steps, updates)
}

/// Level updates among `events`: snapshot and diff rows that carry a level (a row
/// flagged FLAG_EMPTY carries only its message's ids). What a backtest's speed is
/// counted in; one pass here instead of four numpy passes over the 72-byte rows.
pub fn level_updates(events: &[Event]) -> usize {
    events.iter().filter(|ev| is_level_update(ev)).count()
}

#[inline]
fn is_level_update(ev: &Event) -> bool {
    ev.kind <= KIND_DIFF && ev.flags & FLAG_EMPTY == 0
}

/// Marks the END row of each diff message after which the top of book changed.
fn mark_top_changes(events: &[Event], rule: Rule, diff_ends: &[usize], cuts: &mut [u8]) {
    if diff_ends.is_empty() {
        return;
    }
    let mut scratch = L2Book::new(rule);
    let tops = scratch.apply_events(events, true, 0).tops;
    let mut previous = None;
    for top in &tops {
        let level = Some((top.bid_price, top.bid_qty, top.ask_price, top.ask_qty));
        if level != previous {
            let at = diff_ends.partition_point(|&row| events[row].seq_last < top.seq);
            cuts[diff_ends[at.min(diff_ends.len() - 1)]] = CUT_BOOK;
        }
        previous = level;
    }
}

#[cfg(test)]
mod tests;
