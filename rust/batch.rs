//! Counters and outputs of applying an array of events in one call.

/// Top of book after an applied diff (qty 0 means that side is empty). Same layout as
/// the numpy dtype `engine._core.TOP_DTYPE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct Top {
    pub seq: i64,
    pub bid_price: i64,
    pub bid_qty: i64,
    pub ask_price: i64,
    pub ask_qty: i64,
}

/// What a batch did. Processing never stops at an error: it is counted, the first one
/// is kept with its row, and the offending message is skipped whole.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct BatchStats {
    pub rows: u64,
    pub messages: u64,
    pub snapshots: u64,
    pub diffs_applied: u64,
    pub diffs_dropped: u64,
    pub diffs_buffered: u64,
    pub levels_applied: u64,
    pub trades: u64,
    pub tickers: u64,
    pub gaps: u64,
    /// Row of the first row of each diff that broke the chain (`row_offset` + index;
    /// a diff buffered in an earlier call keeps the row it had there).
    pub gap_rows: Vec<u64>,
    /// (U, u, pu) of each gap's diff, parallel to `gap_rows`.
    pub gap_ids: Vec<(i64, i64, i64)>,
    pub errors: u64,
    pub first_error: Option<(u64, String)>,
    /// Filled only when the caller asked to record tops.
    pub tops: Vec<Top>,
}

impl BatchStats {
    /// Counts an error and keeps it if it is the first.
    pub fn error(&mut self, row: u64, msg: impl FnOnce() -> String) {
        self.errors += 1;
        if self.first_error.is_none() {
            self.first_error = Some((row, msg()));
        }
    }

    /// Records a sequence gap (not counted in `errors`; kept as first error if first).
    pub fn gap(&mut self, row: u64, ids: (i64, i64, i64), msg: impl FnOnce() -> String) {
        self.gaps += 1;
        self.gap_rows.push(row);
        self.gap_ids.push(ids);
        if self.first_error.is_none() {
            self.first_error = Some((row, msg()));
        }
    }
}
