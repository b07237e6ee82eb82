//! L2 (price-level) book kept in sync by a snapshot and diffs under Binance's rules.
//!
//! State machine: `AwaitingSnapshot` (before the first snapshot and after every gap:
//! diffs are buffered) -> `Synced` (diffs must chain). A break in the chain is a gap:
//! the call returns `L2Error::Gap`, the book is marked stale and the diff is buffered
//! for the next snapshot. A gap is never patched over.
//!
//! Diffs older than the current state (u <= the last applied u, e.g. a re-delivered
//! message) are dropped: their content is already in the book.

mod batch;
pub mod ladder;

use std::fmt;

use crate::query::{Level, LevelSource};
use crate::Side;
pub use ladder::{Ladder, DEFAULT_WINDOW};

/// Which sequence-id rule the venue's diff stream follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rule {
    /// Binance spot: each diff's `U` equals the previous `u` + 1.
    Spot,
    /// Binance USDⓈ-M futures: each diff's `pu` equals the previous `u`.
    Futures,
}

impl Rule {
    pub fn parse(s: &str) -> Option<Rule> {
        match s {
            "spot" => Some(Rule::Spot),
            "futures" => Some(Rule::Futures),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Rule::Spot => "spot",
            Rule::Futures => "futures",
        }
    }
}

/// What happened to a diff that did not break the chain.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DiffOutcome {
    Applied,
    /// Older than the book's state.
    Dropped,
    /// Held until the next snapshot.
    Buffered,
}

impl DiffOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DiffOutcome::Applied => "applied",
            DiffOutcome::Dropped => "dropped",
            DiffOutcome::Buffered => "buffered",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L2Error {
    /// The diff does not chain onto the book's state.
    Gap {
        rule: Rule,
        /// The id the rule required (`pu` on futures, `U` on spot; for the first diff
        /// after a snapshot, the id the diff had to straddle).
        expected: i64,
        first_id: i64,
        last_id: i64,
        prev_id: i64,
    },
    /// A level with a negative size.
    NegativeQty { side: Side, price: i64, qty: i64 },
    /// A price outside the book's range (|price| < 2^62 ticks).
    PriceOutOfRange { side: Side, price: i64 },
    /// A diff whose last id is below its first id.
    BadIds { first_id: i64, last_id: i64 },
}

impl fmt::Display for L2Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            L2Error::Gap {
                rule: Rule::Futures,
                expected,
                first_id,
                last_id,
                prev_id,
            } => write!(
                f,
                "sequence gap: diff U={first_id} u={last_id} pu={prev_id} does not chain \
                 (rule futures: pu must equal previous u {expected}, or the first diff after \
                 a snapshot must have U <= {expected} <= u); book is stale"
            ),
            L2Error::Gap {
                rule: Rule::Spot,
                expected,
                first_id,
                last_id,
                ..
            } => write!(
                f,
                "sequence gap: diff U={first_id} u={last_id} does not chain (rule spot: U must \
                 equal previous u + 1 = {expected}, or the first diff after a snapshot must \
                 have U <= {expected} <= u); book is stale"
            ),
            L2Error::NegativeQty { side, price, qty } => write!(
                f,
                "level {side:?} price {price}: qty {qty} is negative (rule: qty >= 0, 0 removes)"
            ),
            L2Error::PriceOutOfRange { side, price } => write!(
                f,
                "level {side:?} price {price} is out of range (rule: |price| < 2^62 ticks)"
            ),
            L2Error::BadIds { first_id, last_id } => write!(
                f,
                "diff ids U={first_id} u={last_id}: rule U <= u"
            ),
        }
    }
}

impl std::error::Error for L2Error {}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sync {
    AwaitingSnapshot,
    /// `straddle`: no diff applied yet since the snapshot.
    Synced { last_id: i64, straddle: bool },
}

#[derive(Debug, Clone)]
struct Buffered {
    first_id: i64,
    last_id: i64,
    prev_id: i64,
    /// Caller's reference (the batch row of the diff's first row).
    row: u64,
    start: usize,
    end: usize,
}

/// Result of replaying buffered diffs after a snapshot.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Resync {
    pub applied: u64,
    pub dropped: u64,
    pub levels: u64,
    /// Row reference and error of a buffered diff that broke the chain.
    pub gap: Option<(u64, L2Error)>,
    /// Tops recorded after each applied diff, when asked.
    pub tops: Vec<crate::batch::Top>,
}

#[derive(Debug, Clone)]
pub struct L2Book {
    rule: Rule,
    sides: [Ladder; 2],
    sync: Sync,
    buffer: Vec<Buffered>,
    buffer_levels: Vec<(Side, i64, i64)>,
    max_buffered_rows: usize,
}

impl L2Book {
    pub fn new(rule: Rule) -> L2Book {
        L2Book::with_window(rule, DEFAULT_WINDOW, 1_000_000)
    }

    /// `window`: ticks held in the dense window per side; `max_buffered_rows`: level
    /// rows kept while waiting for a snapshot (oldest diffs are dropped beyond it).
    pub fn with_window(rule: Rule, window: usize, max_buffered_rows: usize) -> L2Book {
        L2Book {
            rule,
            sides: [Ladder::new(Side::Bid, window), Ladder::new(Side::Ask, window)],
            sync: Sync::AwaitingSnapshot,
            buffer: Vec::new(),
            buffer_levels: Vec::new(),
            max_buffered_rows,
        }
    }

    pub fn rule(&self) -> Rule {
        self.rule
    }

    /// True before the first snapshot and after a gap, until the next snapshot.
    pub fn is_stale(&self) -> bool {
        self.sync == Sync::AwaitingSnapshot
    }

    /// The last applied update id (snapshot `lastUpdateId` or diff `u`).
    pub fn last_update_id(&self) -> Option<i64> {
        match self.sync {
            Sync::Synced { last_id, .. } => Some(last_id),
            Sync::AwaitingSnapshot => None,
        }
    }

    /// Diffs held for the next snapshot.
    pub fn buffered_diffs(&self) -> usize {
        self.buffer.len()
    }

    pub fn side(&self, side: Side) -> &Ladder {
        &self.sides[side.idx()]
    }

    /// Sets one level with no sequence checks (qty 0 removes it).
    #[inline]
    pub fn set_level(&mut self, side: Side, price: i64, qty: i64) -> Result<(), L2Error> {
        if qty < 0 {
            return Err(L2Error::NegativeQty { side, price, qty });
        }
        if !crate::query::price_in_range(price) {
            return Err(L2Error::PriceOutOfRange { side, price });
        }
        self.sides[side.idx()].set(price, qty);
        Ok(())
    }

    /// Removes all levels and buffered diffs; the book awaits a snapshot.
    pub fn clear(&mut self) {
        self.sides[0].clear();
        self.sides[1].clear();
        self.sync = Sync::AwaitingSnapshot;
        self.buffer.clear();
        self.buffer_levels.clear();
    }

    fn check_levels(levels: &[(Side, i64, i64)]) -> Result<(), L2Error> {
        for &(side, price, qty) in levels {
            if qty < 0 {
                return Err(L2Error::NegativeQty { side, price, qty });
            }
            if !crate::query::price_in_range(price) {
                return Err(L2Error::PriceOutOfRange { side, price });
            }
        }
        Ok(())
    }

    /// Replaces the book with a snapshot, then replays buffered diffs.
    pub fn apply_snapshot(
        &mut self,
        last_update_id: i64,
        levels: &[(Side, i64, i64)],
        record_tops: bool,
    ) -> Result<Resync, L2Error> {
        Self::check_levels(levels)?;
        self.begin_snapshot(last_update_id);
        for &(side, price, qty) in levels {
            self.sides[side.idx()].set(price, qty);
        }
        Ok(self.end_snapshot(record_tops))
    }

    /// First half of a snapshot (used by the batch path, which streams the levels).
    fn begin_snapshot(&mut self, last_update_id: i64) {
        self.sides[0].clear();
        self.sides[1].clear();
        self.sync = Sync::Synced {
            last_id: last_update_id,
            straddle: true,
        };
    }

    /// Second half of a snapshot: replay the buffer under the sequence rules.
    fn end_snapshot(&mut self, record_tops: bool) -> Resync {
        let mut out = Resync::default();
        let buffer = std::mem::take(&mut self.buffer);
        let levels = std::mem::take(&mut self.buffer_levels);
        let mut rest = buffer.len();
        for (i, b) in buffer.iter().enumerate() {
            match self.sequence(b.first_id, b.last_id, b.prev_id) {
                Ok(DiffOutcome::Applied) => {
                    for &(side, price, qty) in &levels[b.start..b.end] {
                        self.sides[side.idx()].set(price, qty);
                    }
                    out.applied += 1;
                    out.levels += (b.end - b.start) as u64;
                    if record_tops {
                        out.tops.push(self.top(b.last_id));
                    }
                }
                Ok(_) => out.dropped += 1,
                Err(e) => {
                    out.gap = Some((b.row, e));
                    rest = i;
                    break;
                }
            }
        }
        if rest < buffer.len() {
            // Keep the diff that broke the chain and everything after it for the next
            // snapshot.
            let shift = buffer[rest].start;
            self.buffer_levels = levels[shift..].to_vec();
            self.buffer = buffer[rest..]
                .iter()
                .map(|b| Buffered {
                    start: b.start - shift,
                    end: b.end - shift,
                    ..b.clone()
                })
                .collect();
        } else {
            // Reuse the allocations.
            self.buffer = buffer;
            self.buffer.clear();
            self.buffer_levels = levels;
            self.buffer_levels.clear();
        }
        out
    }

    /// Decides a diff's fate from its ids and, when it applies, advances the sync state.
    /// On a gap the book becomes stale.
    #[inline]
    fn sequence(&mut self, first_id: i64, last_id: i64, prev_id: i64) -> Result<DiffOutcome, L2Error> {
        let Sync::Synced { last_id: prev, straddle } = self.sync else {
            return Ok(DiffOutcome::Buffered);
        };
        let ok = match (self.rule, straddle) {
            (Rule::Futures, true) => {
                if last_id < prev {
                    return Ok(DiffOutcome::Dropped);
                }
                first_id <= prev
            }
            (Rule::Spot, true) => {
                if last_id <= prev {
                    return Ok(DiffOutcome::Dropped);
                }
                first_id <= prev + 1
            }
            (_, false) if last_id <= prev => return Ok(DiffOutcome::Dropped),
            (Rule::Futures, false) => prev_id == prev,
            (Rule::Spot, false) => first_id == prev + 1,
        };
        if ok {
            self.sync = Sync::Synced {
                last_id,
                straddle: false,
            };
            Ok(DiffOutcome::Applied)
        } else {
            self.sync = Sync::AwaitingSnapshot;
            let expected = match (self.rule, straddle) {
                (Rule::Spot, _) => prev + 1,
                (Rule::Futures, _) => prev,
            };
            Err(L2Error::Gap {
                rule: self.rule,
                expected,
                first_id,
                last_id,
                prev_id,
            })
        }
    }

    fn push_buffer(&mut self, first_id: i64, last_id: i64, prev_id: i64, row: u64, levels: &[(Side, i64, i64)]) {
        // Bounded: beyond the cap the oldest diffs go (a snapshot newer than them is
        // needed anyway; if it is not newer, the straddle check reports the gap).
        while !self.buffer.is_empty() && self.buffer_levels.len() + levels.len() > self.max_buffered_rows {
            let drop = self.buffer.remove(0);
            let n = drop.end - drop.start;
            self.buffer_levels.drain(..n);
            for b in &mut self.buffer {
                b.start -= n;
                b.end -= n;
            }
        }
        let start = self.buffer_levels.len();
        self.buffer_levels.extend_from_slice(levels);
        self.buffer.push(Buffered {
            first_id,
            last_id,
            prev_id,
            row,
            start,
            end: self.buffer_levels.len(),
        });
    }

    /// Applies one diff under the sequence rules. `row` is the caller's reference kept
    /// with a buffered diff (reported if it later breaks the chain).
    pub fn apply_diff(
        &mut self,
        first_id: i64,
        last_id: i64,
        prev_id: i64,
        levels: &[(Side, i64, i64)],
        row: u64,
    ) -> Result<DiffOutcome, L2Error> {
        if last_id < first_id {
            return Err(L2Error::BadIds { first_id, last_id });
        }
        Self::check_levels(levels)?;
        match self.sequence(first_id, last_id, prev_id) {
            Ok(DiffOutcome::Applied) => {
                for &(side, price, qty) in levels {
                    self.sides[side.idx()].set(price, qty);
                }
                Ok(DiffOutcome::Applied)
            }
            Ok(DiffOutcome::Buffered) => {
                self.push_buffer(first_id, last_id, prev_id, row, levels);
                Ok(DiffOutcome::Buffered)
            }
            Ok(DiffOutcome::Dropped) => Ok(DiffOutcome::Dropped),
            Err(e) => {
                self.push_buffer(first_id, last_id, prev_id, row, levels);
                Err(e)
            }
        }
    }

    /// Top of book tagged with an update id.
    #[inline]
    pub fn top(&self, seq: i64) -> crate::batch::Top {
        let (bid_price, bid_qty) = self.sides[0].best().unwrap_or((0, 0));
        let (ask_price, ask_qty) = self.sides[1].best().unwrap_or((0, 0));
        crate::batch::Top {
            seq,
            bid_price,
            bid_qty,
            ask_price,
            ask_qty,
        }
    }
}

impl LevelSource for L2Book {
    fn levels_from_touch(&self, side: Side) -> impl Iterator<Item = Level> + '_ {
        self.sides[side.idx()].iter()
    }
    fn volume_at(&self, side: Side, price: i64) -> i64 {
        self.sides[side.idx()].get(price)
    }
    fn level_count(&self, side: Side) -> usize {
        self.sides[side.idx()].len()
    }
}

#[cfg(test)]
mod tests;
