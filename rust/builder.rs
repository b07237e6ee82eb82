//! Builds normalized event rows from exchange messages whose numbers are decimal text.
//!
//! Why here and not in Python: every level carries two decimal strings, and parsing
//! them exactly is the bulk of a replay's work. A message is built with `begin`,
//! `level`..., `commit`; `rollback` (or an error) leaves no trace of it.

use crate::event::{Event, FLAG_BEGIN, FLAG_EMPTY, FLAG_END, KIND_TICKER, KIND_TRADE};
use crate::fixed::{FixedError, Grid};
use crate::Side;

#[derive(Debug, Clone)]
pub struct EventBuilder {
    grid: Grid,
    rows: Vec<Event>,
    open: Option<(usize, Event)>,
}

/// Which number of a level failed, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelError {
    pub field: &'static str,
    pub error: FixedError,
}

impl EventBuilder {
    pub fn new(grid: Grid) -> EventBuilder {
        EventBuilder {
            grid,
            rows: Vec::new(),
            open: None,
        }
    }

    pub fn grid(&self) -> &Grid {
        &self.grid
    }

    /// Rows committed so far.
    pub fn len(&self) -> usize {
        self.open.map_or(self.rows.len(), |(start, _)| start)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Starts a message; its header (kind, times, ids) is copied onto every row.
    pub fn begin(&mut self, kind: u8, ts_recv: i64, ts_event: i64, seq: (i64, i64, i64)) {
        self.rollback();
        let header = Event {
            ts_event,
            ts_recv,
            seq_first: seq.0,
            seq_last: seq.1,
            seq_prev: seq.2,
            kind,
            ..Event::default()
        };
        self.open = Some((self.rows.len(), header));
    }

    /// Adds one level of the open message from its decimal price and size.
    #[inline]
    pub fn level(&mut self, side: Side, price: &str, qty: &str) -> Result<(), LevelError> {
        let (_, header) = self.open.expect("level() outside begin()/commit()");
        let p = self
            .grid
            .tick
            .to_units_bytes(price.as_bytes(), false)
            .map_err(|k| LevelError {
                field: "price",
                error: k.into_error(price, &self.grid.tick),
            })?;
        let q = self
            .grid
            .lot
            .to_units_bytes(qty.as_bytes(), false)
            .map_err(|k| LevelError {
                field: "qty",
                error: k.into_error(qty, &self.grid.lot),
            })?;
        self.rows.push(Event {
            price: p,
            qty: q,
            side: side as u8,
            ..header
        });
        Ok(())
    }

    /// Closes the open message, setting BEGIN/END flags; returns its row count.
    pub fn commit(&mut self) -> usize {
        let Some((start, header)) = self.open.take() else {
            return 0;
        };
        if self.rows.len() == start {
            self.rows.push(Event {
                flags: FLAG_EMPTY,
                ..header
            });
        }
        let end = self.rows.len() - 1;
        self.rows[start].flags |= FLAG_BEGIN;
        self.rows[end].flags |= FLAG_END;
        end + 1 - start
    }

    /// Discards the open message.
    pub fn rollback(&mut self) {
        if let Some((start, _)) = self.open.take() {
            self.rows.truncate(start);
        }
    }

    /// A trade print: `side` is the aggressor (Bid when the buyer took liquidity).
    #[allow(clippy::too_many_arguments)]
    pub fn trade(
        &mut self,
        ts_recv: i64,
        ts_event: i64,
        trade_id: u64,
        price: &str,
        qty: &str,
        buyer_is_maker: bool,
    ) -> Result<usize, LevelError> {
        let aggressor = if buyer_is_maker { Side::Ask } else { Side::Bid };
        self.begin(KIND_TRADE, ts_recv, ts_event, (0, 0, -1));
        if let Some((_, h)) = self.open.as_mut() {
            h.order_id = trade_id;
        }
        match self.level(aggressor, price, qty) {
            Ok(()) => Ok(self.commit()),
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    /// A best bid/offer quote: a Bid row then an Ask row.
    #[allow(clippy::too_many_arguments)]
    pub fn ticker(
        &mut self,
        ts_recv: i64,
        ts_event: i64,
        update_id: i64,
        bid: (&str, &str),
        ask: (&str, &str),
    ) -> Result<usize, (Side, LevelError)> {
        self.begin(KIND_TICKER, ts_recv, ts_event, (update_id, update_id, -1));
        let r = self
            .level(Side::Bid, bid.0, bid.1)
            .map_err(|e| (Side::Bid, e))
            .and_then(|_| self.level(Side::Ask, ask.0, ask.1).map_err(|e| (Side::Ask, e)));
        match r {
            Ok(()) => Ok(self.commit()),
            Err(e) => {
                self.rollback();
                Err(e)
            }
        }
    }

    /// Takes the committed rows, leaving the builder empty.
    pub fn finish(&mut self) -> Vec<Event> {
        self.rollback();
        std::mem::take(&mut self.rows)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{KIND_DIFF, KIND_SNAPSHOT};

    fn builder() -> EventBuilder {
        EventBuilder::new(Grid::new("0.1", "0.001").unwrap())
    }

    #[test]
    fn builds_flagged_messages() {
        let mut b = builder();
        b.begin(KIND_DIFF, 5, 6, (10, 12, 9));
        b.level(Side::Bid, "100.1", "0.500").unwrap();
        b.level(Side::Ask, "100.2", "0.000").unwrap();
        assert_eq!(b.commit(), 2);
        b.begin(KIND_SNAPSHOT, 7, 8, (0, 20, 0));
        assert_eq!(b.commit(), 1);
        b.trade(9, 9, 77, "100.2", "0.001", true).unwrap();
        let rows = b.finish();
        assert_eq!(rows.len(), 4);
        assert_eq!((rows[0].flags, rows[1].flags), (FLAG_BEGIN, FLAG_END));
        assert_eq!((rows[0].price, rows[0].qty, rows[1].qty), (1001, 500, 0));
        assert_eq!(rows[1].seq_prev, 9);
        assert_eq!(rows[2].flags, FLAG_BEGIN | FLAG_END | FLAG_EMPTY);
        assert_eq!((rows[3].kind, rows[3].side, rows[3].order_id), (KIND_TRADE, 1, 77));
        assert!(b.is_empty());
    }

    #[test]
    fn a_bad_level_leaves_no_trace() {
        let mut b = builder();
        b.begin(KIND_DIFF, 0, 0, (1, 1, 0));
        b.level(Side::Bid, "1.0", "1.000").unwrap();
        b.commit();
        b.begin(KIND_DIFF, 0, 0, (2, 2, 1));
        b.level(Side::Bid, "1.0", "1.000").unwrap();
        let e = b.level(Side::Bid, "1.05", "1").unwrap_err();
        assert_eq!(e.field, "price");
        b.rollback();
        assert_eq!(b.len(), 1);
        let e = b.ticker(0, 0, 3, ("1.0", "1"), ("1.1", "-1")).unwrap_err();
        assert_eq!((e.0, e.1.field), (Side::Ask, "qty"));
        assert!(b.trade(0, 0, 1, "x", "1", false).is_err());
        assert_eq!(b.finish().len(), 1);
    }
}
