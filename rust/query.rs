//! Queries shared by the L2 and L3 books, written once over "levels from the touch".

use crate::Side;

/// A price level as (price in ticks, size in lots).
pub type Level = (i64, i64);

/// Prices in a book are strictly inside ±2^62 ticks, so that the sum or difference of
/// any two (spread, twice the mid, distance from the touch) fits in an i64. Books refuse
/// prices outside it.
pub const PRICE_LIMIT: i64 = 1 << 62;

/// True when `price` may enter a book.
#[inline]
pub fn price_in_range(price: i64) -> bool {
    price > -PRICE_LIMIT && price < PRICE_LIMIT
}

/// What a book must offer for the shared queries: its levels, best first.
pub trait LevelSource {
    /// Levels of `side` from the touch outwards, sizes > 0.
    fn levels_from_touch(&self, side: Side) -> impl Iterator<Item = Level> + '_;
    /// Size resting at exactly `price` on `side` (0 when none).
    fn volume_at(&self, side: Side, price: i64) -> i64;
    /// Number of non-empty levels on `side`.
    fn level_count(&self, side: Side) -> usize;
}

/// Result of walking one side of the book for a market order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Walk {
    /// Lots that the book could fill (≤ the requested size).
    pub filled: i64,
    /// Sum of price × size over the fills, in ticks × lots (exact; i128 cannot overflow
    /// for any i64 inputs summed over fewer than 2^63 levels).
    pub notional: i128,
    /// Levels touched.
    pub levels: u32,
    /// Price of the last (worst) level touched; None when nothing filled.
    pub worst_price: Option<i64>,
}

impl Walk {
    /// Average fill price in ticks, as a float for display; exact value is notional / filled.
    pub fn avg_price(&self) -> Option<f64> {
        (self.filled > 0).then(|| self.notional as f64 / self.filled as f64)
    }
}

/// Extension queries available on every `LevelSource`.
pub trait BookQueries: LevelSource {
    fn best(&self, side: Side) -> Option<Level> {
        self.levels_from_touch(side).next()
    }
    fn best_bid(&self) -> Option<Level> {
        self.best(Side::Bid)
    }
    fn best_ask(&self) -> Option<Level> {
        self.best(Side::Ask)
    }
    /// Ask minus bid in ticks; None if either side is empty. Negative when crossed.
    fn spread(&self) -> Option<i64> {
        Some(self.best_ask()?.0 - self.best_bid()?.0)
    }
    /// Twice the mid price in ticks: exact even when the mid falls between ticks.
    fn mid_x2(&self) -> Option<i64> {
        Some(self.best_ask()?.0 + self.best_bid()?.0)
    }
    /// True when the best bid is at or above the best ask (a locked or crossed book).
    fn is_crossed(&self) -> bool {
        matches!(self.spread(), Some(s) if s <= 0)
    }
    /// Up to `n` levels of `side`, best first.
    fn depth(&self, side: Side, n: usize) -> Vec<Level> {
        self.levels_from_touch(side).take(n).collect()
    }
    /// Walks `side` (the side a market order takes from) for up to `qty` lots.
    fn walk(&self, side: Side, qty: i64) -> Walk {
        let mut w = Walk::default();
        if qty <= 0 {
            return w;
        }
        let mut left = qty;
        for (price, size) in self.levels_from_touch(side) {
            let take = size.min(left);
            w.filled += take;
            w.notional += price as i128 * take as i128;
            w.levels += 1;
            w.worst_price = Some(price);
            left -= take;
            if left == 0 {
                break;
            }
        }
        w
    }
    /// Total size on `side` at prices within `band` ticks of that side's touch
    /// (inclusive): bids in [best - band, best], asks in [best, best + band].
    fn size_within(&self, side: Side, band: i64) -> i64 {
        let mut levels = self.levels_from_touch(side);
        let Some((touch, first)) = levels.next() else {
            return 0;
        };
        let mut total = first;
        for (price, size) in levels {
            if (price - touch).abs() > band {
                break;
            }
            total += size;
        }
        total
    }
}

impl<T: LevelSource + ?Sized> BookQueries for T {}
