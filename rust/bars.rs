//! OHLCV bars built from trade prints, in ticks and lots, streaming or in one batch.
//!
//! A bar covers the half-open interval `[ts_open, ts_close)` with
//! `ts_open = floor(ts / interval_ns) * interval_ns` (intervals aligned to whole
//! multiples of `interval_ns` since the epoch, also before it) and
//! `ts_close = ts_open + interval_ns`. Rules, in the order they apply to a trade:
//!
//! - A trade with `qty <= 0` is ignored (counted in [`BarBuilder::ignored`]), as the
//!   simulated venue ignores such prints.
//! - A trade in a later interval than the open bar closes that bar (it is returned) and
//!   opens a new one. Intervals with no trade produce no bar: the next bar simply
//!   starts later (a gap in `ts_open`), and no flat bar is invented for the gap.
//! - A trade older than the open bar's interval (out of order) goes into the open bar:
//!   the bar clock never goes back, like the simulated venue's clock. It is counted in
//!   [`BarBuilder::late_trades`].
//! - `volume` adds lots with saturation at `i64::MAX` (unreachable with real sizes);
//!   `ts_close` saturates at `i64::MAX` for a bar within one interval of the end of time.
//!
//! [`bars_from_events`] takes the `KIND_TRADE` rows of an event array, timestamped like
//! the simulated venue does (`ts_event`, or `ts_recv` when `ts_event` is 0), and returns
//! every bar including the last, partial one.

use std::fmt;

use crate::event::{Event, KIND_TRADE};

/// One OHLCV bar. `#[repr(C)]`, 64 bytes; field order is the numpy `BAR_DTYPE`'s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[repr(C)]
pub struct Bar {
    /// Start of the interval, ns since the epoch (inclusive).
    pub ts_open: i64,
    /// End of the interval, ns since the epoch (exclusive).
    pub ts_close: i64,
    /// Prices in ticks: first, highest, lowest and last trade of the interval.
    pub open: i64,
    pub high: i64,
    pub low: i64,
    pub close: i64,
    /// Traded size in lots.
    pub volume: i64,
    /// Number of trade prints (0 when the source had no count, e.g. a CSV without one).
    pub trades: u64,
}

const _: () = assert!(std::mem::size_of::<Bar>() == 64);

/// A bar interval that is not a positive number of nanoseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadInterval(pub i64);

impl fmt::Display for BadInterval {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "interval_ns {} is not positive (rule: interval_ns > 0)", self.0)
    }
}

impl std::error::Error for BadInterval {}

/// Streaming bar builder: feed trades in time order, collect the bars they close.
#[derive(Debug, Clone)]
pub struct BarBuilder {
    interval_ns: i64,
    open: Option<Bar>,
    late_trades: u64,
    ignored: u64,
}

impl BarBuilder {
    pub fn new(interval_ns: i64) -> Result<BarBuilder, BadInterval> {
        if interval_ns <= 0 {
            return Err(BadInterval(interval_ns));
        }
        Ok(BarBuilder {
            interval_ns,
            open: None,
            late_trades: 0,
            ignored: 0,
        })
    }

    pub fn interval_ns(&self) -> i64 {
        self.interval_ns
    }

    /// The bar being built, if any trade has arrived since the last close or flush.
    pub fn current(&self) -> Option<&Bar> {
        self.open.as_ref()
    }

    /// Trades older than the open bar, folded into it.
    pub fn late_trades(&self) -> u64 {
        self.late_trades
    }

    /// Trades with `qty <= 0`, skipped.
    pub fn ignored(&self) -> u64 {
        self.ignored
    }

    /// Start of the interval holding `ts` (floor division, so it holds before 1970 too).
    #[inline]
    pub fn interval_start(&self, ts: i64) -> i64 {
        ts.div_euclid(self.interval_ns) * self.interval_ns
    }

    /// Adds one trade; returns the bar it closes when it falls in a later interval.
    #[inline]
    pub fn on_trade(&mut self, ts: i64, price: i64, qty: i64) -> Option<Bar> {
        if qty <= 0 {
            self.ignored += 1;
            return None;
        }
        if let Some(bar) = self.open.as_mut() {
            if ts < bar.ts_close {
                if ts < bar.ts_open {
                    self.late_trades += 1;
                }
                bar.high = bar.high.max(price);
                bar.low = bar.low.min(price);
                bar.close = price;
                bar.volume = bar.volume.saturating_add(qty);
                bar.trades += 1;
                return None;
            }
        }
        let start = self.interval_start(ts);
        let fresh = Bar {
            ts_open: start,
            ts_close: start.saturating_add(self.interval_ns),
            open: price,
            high: price,
            low: price,
            close: price,
            volume: qty,
            trades: 1,
        };
        self.open.replace(fresh)
    }

    /// Hands over the open bar (partial: its interval may not be over) and forgets it.
    /// Meant for the end of a stream: a trade after it starts a new bar, even one in
    /// the same interval.
    pub fn flush(&mut self) -> Option<Bar> {
        self.open.take()
    }
}

/// Trade time as the simulated venue reads it.
#[inline]
pub fn trade_ts(ev: &Event) -> i64 {
    if ev.ts_event != 0 {
        ev.ts_event
    } else {
        ev.ts_recv
    }
}

/// Bars of every `KIND_TRADE` row (other rows are skipped), the last partial bar included.
pub fn bars_from_events(events: &[Event], interval_ns: i64) -> Result<Vec<Bar>, BadInterval> {
    let mut b = BarBuilder::new(interval_ns)?;
    let mut out = Vec::new();
    for ev in events.iter().filter(|e| e.kind == KIND_TRADE) {
        if let Some(bar) = b.on_trade(trade_ts(ev), ev.price, ev.qty) {
            out.push(bar);
        }
    }
    out.extend(b.flush());
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::event::{FLAG_BEGIN, FLAG_END, KIND_DIFF};
    use proptest::prelude::*;

    const S: i64 = 1_000_000_000;

    fn trade(ts_event: i64, ts_recv: i64, price: i64, qty: i64) -> Event {
        Event {
            ts_event,
            ts_recv,
            price,
            qty,
            kind: KIND_TRADE,
            flags: FLAG_BEGIN | FLAG_END,
            ..Event::default()
        }
    }

    fn bar(ts_open: i64, interval: i64, ohlc: [i64; 4], volume: i64, trades: u64) -> Bar {
        Bar {
            ts_open,
            ts_close: ts_open + interval,
            open: ohlc[0],
            high: ohlc[1],
            low: ohlc[2],
            close: ohlc[3],
            volume,
            trades,
        }
    }

    #[test]
    fn a_later_interval_closes_the_bar_and_gaps_make_no_bars() {
        let mut b = BarBuilder::new(60 * S).unwrap();
        // 00:00:05 .. 00:00:59 in the first minute; 00:03:00 skips two empty minutes.
        assert_eq!(b.on_trade(5 * S, 100, 2), None);
        assert_eq!(b.on_trade(20 * S, 104, 1), None);
        assert_eq!(b.on_trade(30 * S, 97, 3), None);
        assert_eq!(b.on_trade(60 * S - 1, 101, 4), None);
        let first = b.on_trade(180 * S, 99, 5).unwrap();
        assert_eq!(first, bar(0, 60 * S, [100, 104, 97, 101], 10, 4));
        // A trade exactly at ts_close belongs to the next interval (half-open).
        let second = b.on_trade(240 * S, 98, 1).unwrap();
        assert_eq!(second, bar(180 * S, 60 * S, [99, 99, 99, 99], 5, 1));
        assert_eq!(b.flush(), Some(bar(240 * S, 60 * S, [98, 98, 98, 98], 1, 1)));
        assert_eq!(b.flush(), None);
        assert_eq!((b.late_trades(), b.ignored()), (0, 0));
    }

    #[test]
    fn late_and_empty_trades() {
        let mut b = BarBuilder::new(10).unwrap();
        assert_eq!(b.on_trade(25, 50, 1), None);
        // Older than the open bar [20, 30): folded into it, never a bar of its own.
        assert_eq!(b.on_trade(3, 70, 2), None);
        assert_eq!(b.on_trade(26, 40, 0), None);
        assert_eq!(b.on_trade(27, 40, -5), None);
        assert_eq!((b.late_trades(), b.ignored()), (1, 2));
        assert_eq!(b.current(), Some(&bar(20, 10, [50, 70, 50, 70], 3, 2)));
        assert_eq!(b.on_trade(31, 60, 1), Some(bar(20, 10, [50, 70, 50, 70], 3, 2)));
    }

    #[test]
    fn intervals_align_to_the_epoch_also_before_it() {
        let b = BarBuilder::new(10).unwrap();
        assert_eq!((b.interval_start(0), b.interval_start(9), b.interval_start(10)), (0, 0, 10));
        assert_eq!((b.interval_start(-1), b.interval_start(-10), b.interval_start(-11)), (-10, -10, -20));
        let mut b = BarBuilder::new(7).unwrap();
        b.on_trade(-3, 5, 1);
        assert_eq!(b.flush(), Some(bar(-7, 7, [5, 5, 5, 5], 1, 1)));
        let mut b = BarBuilder::new(10).unwrap();
        b.on_trade(i64::MAX - 1, 1, 1);
        assert_eq!(b.flush().unwrap().ts_close, i64::MAX);
    }

    #[test]
    fn bad_interval_is_an_error() {
        assert_eq!(BarBuilder::new(0).unwrap_err(), BadInterval(0));
        assert_eq!(
            bars_from_events(&[], -5).unwrap_err().to_string(),
            "interval_ns -5 is not positive (rule: interval_ns > 0)"
        );
    }

    #[test]
    fn from_events_uses_trades_only_and_the_sim_timestamp() {
        let diff = Event {
            ts_recv: 1,
            price: 1,
            qty: 1,
            kind: KIND_DIFF,
            ..Event::default()
        };
        let rows = [
            trade(0, 1_500, 10, 1), // no ts_event: ts_recv 1500 -> [1000, 2000)
            diff,
            trade(1_900, 5_000, 12, 2), // ts_event wins over ts_recv
            trade(2_100, 2_100, 11, 3),
            trade(2_200, 2_200, 11, 0),
        ];
        let bars = bars_from_events(&rows, 1_000).unwrap();
        assert_eq!(
            bars,
            vec![bar(1_000, 1_000, [10, 12, 10, 12], 3, 2), bar(2_000, 1_000, [11, 11, 11, 11], 3, 1)]
        );
        assert!(bars_from_events(&[diff], 1_000).unwrap().is_empty());
    }

    /// The model: each trade's interval index is its own, or the largest seen before it
    /// when that is later (late trades join the open bar); consecutive trades with the
    /// same index form one bar.
    fn model(trades: &[(i64, i64, i64)], interval: i64) -> Vec<Bar> {
        let mut out: Vec<Bar> = Vec::new();
        let mut clock: Option<i64> = None;
        for &(ts, price, qty) in trades {
            if qty <= 0 {
                continue;
            }
            let own = ts.div_euclid(interval);
            let k = clock.map_or(own, |c| c.max(own));
            clock = Some(k);
            match out.last_mut() {
                Some(last) if last.ts_open == k * interval => {
                    last.high = last.high.max(price);
                    last.low = last.low.min(price);
                    last.close = price;
                    last.volume += qty;
                    last.trades += 1;
                }
                _ => out.push(bar(k * interval, interval, [price; 4], qty, 1)),
            }
        }
        out
    }

    fn trades() -> impl Strategy<Value = Vec<(i64, i64, i64)>> {
        // Mostly increasing time with some steps back, a few non-positive sizes.
        prop::collection::vec((-40i64..200, -1_000i64..1_000, -2i64..50), 0..80).prop_map(|steps| {
            let mut ts = -500i64;
            steps
                .into_iter()
                .map(|(dt, price, qty)| {
                    ts += dt;
                    (ts, price, qty)
                })
                .collect()
        })
    }

    proptest! {
        #[test]
        fn builder_and_batch_agree_with_the_model(trades in trades(), interval in 1i64..400) {
            let expected = model(&trades, interval);
            let mut b = BarBuilder::new(interval).unwrap();
            let mut streamed: Vec<Bar> = trades.iter().filter_map(|&(t, p, q)| b.on_trade(t, p, q)).collect();
            streamed.extend(b.flush());
            prop_assert_eq!(&streamed, &expected);
            // Every other row carries its time in ts_recv only (ts_event 0); the others
            // have a misleading ts_recv that must lose to ts_event.
            let rows: Vec<Event> = trades
                .iter()
                .enumerate()
                .map(|(i, &(t, p, q))| {
                    if i % 2 == 1 || t == 0 {
                        trade(0, t, p, q)
                    } else {
                        trade(t, t + 999, p, q)
                    }
                })
                .collect();
            prop_assert_eq!(bars_from_events(&rows, interval).unwrap(), expected.clone());
            for w in expected.windows(2) {
                prop_assert!(w[0].ts_close <= w[1].ts_open);
            }
            for x in &expected {
                prop_assert!(x.low <= x.open.min(x.close) && x.high >= x.open.max(x.close));
                prop_assert_eq!(x.ts_open.rem_euclid(interval), 0);
            }
        }
    }
}
