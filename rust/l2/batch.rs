//! The batch path: an array of normalized events applied in one call.

use super::{DiffOutcome, L2Book};
use crate::batch::BatchStats;
use crate::event::{Event, FLAG_BEGIN, FLAG_END, KIND_DIFF, KIND_SNAPSHOT, KIND_TICKER, KIND_TRADE};
use crate::Side;

impl L2Book {
    /// Applies snapshot and diff messages; counts trades and tickers; never stops early.
    /// With `record_tops`, the top of book after every applied diff goes to `stats.tops`.
    /// Rows are reported as `row_offset + index`, so a caller feeding one stream in
    /// several calls gets rows that stay valid across calls (a diff buffered in one call
    /// may break the chain when a snapshot in a later call replays it).
    pub fn apply_events(&mut self, events: &[Event], record_tops: bool, row_offset: u64) -> BatchStats {
        let mut st = BatchStats {
            rows: events.len() as u64,
            ..BatchStats::default()
        };
        let mut i = 0;
        while i < events.len() {
            let ev = &events[i];
            match ev.kind {
                KIND_SNAPSHOT | KIND_DIFF => {
                    let row = row_offset + i as u64;
                    let end = match scan_message(events, i) {
                        Ok(end) => end,
                        Err(Scan::Unterminated) => {
                            st.error(row, || format!("row {row}: message has no END row before the next message"));
                            i = next_begin(events, i + 1);
                            continue;
                        }
                        Err(Scan::Invalid(end, e)) => {
                            st.messages += 1;
                            st.error(row, || format!("row {row}: {e}"));
                            i = end + 1;
                            continue;
                        }
                    };
                    st.messages += 1;
                    let msg = &events[i..=end];
                    if ev.kind == KIND_SNAPSHOT {
                        self.batch_snapshot(msg, record_tops, &mut st);
                    } else {
                        self.batch_diff(msg, row, record_tops, &mut st);
                    }
                    i = end + 1;
                }
                KIND_TRADE => {
                    st.messages += 1;
                    st.trades += 1;
                    i += 1;
                }
                KIND_TICKER => {
                    if ev.begins() {
                        st.messages += 1;
                        st.tickers += 1;
                    }
                    i += 1;
                }
                k => {
                    let row = row_offset + i as u64;
                    st.error(row, || format!("row {row}: kind {k} is not an L2 event (rule: 1-4)"));
                    i += 1;
                }
            }
        }
        st.diffs_buffered = self.buffer.len() as u64;
        st
    }

    fn batch_snapshot(&mut self, msg: &[Event], record_tops: bool, st: &mut BatchStats) {
        self.begin_snapshot(msg[0].seq_last);
        let mut n = 0u64;
        for ev in msg.iter().filter(|e| !e.is_empty()) {
            // validate() checked the side byte.
            let side = if ev.side == 0 { Side::Bid } else { Side::Ask };
            self.sides[side.idx()].set(ev.price, ev.qty);
            n += 1;
        }
        let r = self.end_snapshot(record_tops);
        st.snapshots += 1;
        st.levels_applied += n + r.levels;
        st.diffs_applied += r.applied;
        st.diffs_dropped += r.dropped;
        st.tops.extend_from_slice(&r.tops);
        if let Some((gap_row, e)) = r.gap {
            let ids = match e {
                super::L2Error::Gap { first_id, last_id, prev_id, .. } => (first_id, last_id, prev_id),
                _ => (0, 0, 0),
            };
            st.gap(gap_row, ids, || format!("row {gap_row}: {e}"));
        }
    }

    #[inline]
    fn batch_diff(&mut self, msg: &[Event], row: u64, record_tops: bool, st: &mut BatchStats) {
        let h = &msg[0];
        if h.seq_last < h.seq_first {
            st.error(row, || format!("row {row}: diff ids U={} u={}: rule U <= u", h.seq_first, h.seq_last));
            return;
        }
        match self.sequence(h.seq_first, h.seq_last, h.seq_prev) {
            Ok(DiffOutcome::Applied) => {
                let mut n = 0u64;
                for ev in msg {
                    if ev.flags & crate::event::FLAG_EMPTY == 0 {
                        self.sides[(ev.side & 1) as usize].set(ev.price, ev.qty);
                        n += 1;
                    }
                }
                st.diffs_applied += 1;
                st.levels_applied += n;
                if record_tops {
                    st.tops.push(self.top(h.seq_last));
                }
            }
            Ok(DiffOutcome::Dropped) => st.diffs_dropped += 1,
            Ok(DiffOutcome::Buffered) => {
                let levels = rows_to_levels(msg);
                self.push_buffer(h.seq_first, h.seq_last, h.seq_prev, row, &levels);
            }
            Err(e) => {
                st.gap(row, (h.seq_first, h.seq_last, h.seq_prev), || format!("row {row}: {e}"));
                let levels = rows_to_levels(msg);
                self.push_buffer(h.seq_first, h.seq_last, h.seq_prev, row, &levels);
            }
        }
    }
}

fn rows_to_levels(msg: &[Event]) -> Vec<(Side, i64, i64)> {
    msg.iter()
        .filter(|e| !e.is_empty())
        .map(|e| (if e.side == 0 { Side::Bid } else { Side::Ask }, e.price, e.qty))
        .collect()
}

enum Scan {
    /// No END row before the next message (or the array's end).
    Unterminated,
    /// The message ends at this row but one of its rows is invalid.
    Invalid(usize, String),
}

/// Finds the END row of the message starting at `start` and checks every row in the
/// same pass: same kind and ids as the first row, a valid side, qty >= 0. The checks
/// are folded into one word without branching; the message is described only when bad.
#[inline]
fn scan_message(events: &[Event], start: usize) -> Result<usize, Scan> {
    let h = &events[start];
    if !h.begins() {
        return Err(Scan::Unterminated);
    }
    let mut bad = 0u64;
    let mut end = None;
    for (j, ev) in events[start..].iter().enumerate() {
        // Side, size and price are checked on level rows only: an EMPTY row carries none.
        let level_bad = (ev.side > 1) | (ev.qty < 0) | !crate::query::price_in_range(ev.price);
        bad |= ((ev.kind ^ h.kind) as u64)
            | (ev.seq_last ^ h.seq_last) as u64
            | (ev.seq_first ^ h.seq_first) as u64
            | (level_bad & !ev.is_empty()) as u64;
        if ev.flags & (FLAG_BEGIN | FLAG_END) != 0 {
            if j > 0 && ev.begins() {
                return Err(Scan::Unterminated);
            }
            if ev.ends() {
                end = Some(start + j);
                break;
            }
        }
    }
    let end = end.ok_or(Scan::Unterminated)?;
    if bad == 0 {
        return Ok(end);
    }
    let why = events[start..=end]
        .iter()
        .find_map(|ev| {
            if ev.kind != h.kind || ev.seq_last != h.seq_last || ev.seq_first != h.seq_first {
                Some(format!(
                    "rows of one message disagree on kind or ids (kind {} vs {}, u {} vs {})",
                    ev.kind, h.kind, ev.seq_last, h.seq_last
                ))
            } else if ev.is_empty() {
                None
            } else if ev.side > 1 {
                Some(format!("side {} is not 0 (bid) or 1 (ask)", ev.side))
            } else if ev.qty < 0 {
                Some(format!("price {}: qty {} is negative (rule: qty >= 0)", ev.price, ev.qty))
            } else if !crate::query::price_in_range(ev.price) {
                Some(format!("price {} is out of range (rule: |price| < 2^62 ticks)", ev.price))
            } else {
                None
            }
        })
        .unwrap_or_default();
    Err(Scan::Invalid(end, why))
}

fn next_begin(events: &[Event], from: usize) -> usize {
    events[from.min(events.len())..]
        .iter()
        .position(|e| e.begins())
        .map_or(events.len(), |p| from + p)
}
