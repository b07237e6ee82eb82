//! The market's book as the venue reads it, whichever feed builds it: one view, so taking
//! liquidity and the touch are written once over [`LevelSource`].

use crate::l2::L2Book;
use crate::l3::L3Book;
use crate::query::{Level, LevelSource};
use crate::Side;

/// A borrowed view of the market book: the L2 book (L2 feed) or the L3 book (L3 feed,
/// read through its aggregated levels).
#[derive(Debug, Clone, Copy)]
pub enum MarketBook<'a> {
    L2(&'a L2Book),
    L3(&'a L3Book),
}

impl MarketBook<'_> {
    /// The L2 book before its first snapshot and after a gap; the L3 book is never stale
    /// (it has no sequence ids to break).
    #[inline]
    pub fn is_stale(&self) -> bool {
        match self {
            MarketBook::L2(b) => b.is_stale(),
            MarketBook::L3(_) => false,
        }
    }

    #[inline]
    pub fn best_price(&self, side: Side) -> Option<i64> {
        match self {
            MarketBook::L2(b) => b.side(side).best_price(),
            MarketBook::L3(b) => b.levels_from_touch(side).next().map(|l| l.0),
        }
    }
}

/// Levels of either book, without boxing.
enum Levels<A, B> {
    L2(A),
    L3(B),
}

impl<A: Iterator<Item = Level>, B: Iterator<Item = Level>> Iterator for Levels<A, B> {
    type Item = Level;

    #[inline]
    fn next(&mut self) -> Option<Level> {
        match self {
            Levels::L2(a) => a.next(),
            Levels::L3(b) => b.next(),
        }
    }
}

impl LevelSource for MarketBook<'_> {
    fn levels_from_touch(&self, side: Side) -> impl Iterator<Item = Level> + '_ {
        match *self {
            MarketBook::L2(b) => Levels::L2(b.levels_from_touch(side)),
            MarketBook::L3(b) => Levels::L3(b.levels_from_touch(side)),
        }
    }

    fn volume_at(&self, side: Side, price: i64) -> i64 {
        match self {
            MarketBook::L2(b) => b.volume_at(side, price),
            MarketBook::L3(b) => b.volume_at(side, price),
        }
    }

    fn level_count(&self, side: Side) -> usize {
        match self {
            MarketBook::L2(b) => b.level_count(side),
            MarketBook::L3(b) => b.level_count(side),
        }
    }
}
