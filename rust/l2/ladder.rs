//! One side of an L2 book: a price-indexed window around the touch plus a map for far
//! levels.
//!
//! Why: real diffs touch levels near the touch far more often than anywhere else, and a
//! dense array indexed by `price - base` makes those updates O(1) with no tree walk. An
//! occupancy bitset finds the next best level in a few word scans when the best is
//! removed. Prices outside the window (Binance sends levels at 1% and 1000% of the mid)
//! live in a `BTreeMap`. When the best price leaves the window, the window re-centres.

use std::collections::btree_map::Range;
use std::collections::BTreeMap;

use crate::query::Level;
use crate::Side;

/// Default window width in ticks (a multiple of 64).
pub const DEFAULT_WINDOW: usize = 1 << 16;

#[derive(Debug, Clone)]
pub struct Ladder {
    side: Side,
    /// Price (ticks) of window slot 0.
    base: i64,
    qty: Box<[i64]>,
    bits: Box<[u64]>,
    far: BTreeMap<i64, i64>,
    best: Option<i64>,
    /// `best * direction`, or i64::MIN when empty: "at or beyond the touch" is one compare.
    best_key: i64,
    /// +1 for bids (higher is better), -1 for asks.
    dir: i64,
}

impl Ladder {
    pub fn new(side: Side, window: usize) -> Ladder {
        let window = window.max(64).div_ceil(64) * 64;
        Ladder {
            side,
            base: 0,
            qty: vec![0; window].into_boxed_slice(),
            bits: vec![0; window / 64].into_boxed_slice(),
            far: BTreeMap::new(),
            best: None,
            best_key: i64::MIN,
            dir: match side {
                Side::Bid => 1,
                Side::Ask => -1,
            },
        }
    }

    #[inline]
    fn width(&self) -> usize {
        self.qty.len()
    }

    #[inline]
    fn slot(&self, price: i64) -> Option<usize> {
        // Wrapping is exact here: any true offset outside [0, width) maps to >= width.
        let off = price.wrapping_sub(self.base) as u64;
        (off < self.width() as u64).then_some(off as usize)
    }

    #[inline]
    fn slot_price(&self, slot: usize) -> i64 {
        self.base + slot as i64
    }

    /// Best price on this side, if any.
    #[inline]
    pub fn best_price(&self) -> Option<i64> {
        self.best
    }

    /// Best level, if any.
    #[inline]
    pub fn best(&self) -> Option<Level> {
        let p = self.best?;
        Some((p, self.get(p)))
    }

    /// Size at `price` (0 when empty).
    #[inline]
    pub fn get(&self, price: i64) -> i64 {
        match self.slot(price) {
            Some(s) => self.qty[s],
            None => self.far.get(&price).copied().unwrap_or(0),
        }
    }

    pub fn len(&self) -> usize {
        // Derived from the bitset rather than counted on every update (hot path).
        self.bits.iter().map(|w| w.count_ones() as usize).sum::<usize>() + self.far.len()
    }

    pub fn is_empty(&self) -> bool {
        self.best.is_none()
    }

    /// Sets the size at `price` (`qty` must be >= 0; 0 removes). Returns the old size.
    ///
    /// Why it looks like this: whether an update inserts, changes or removes a level is
    /// random in real data, so the window path updates the bitset without branching on
    /// it; only updates at or beyond the touch (rare) take the branch that maintains the
    /// best price.
    #[inline(always)]
    pub fn set(&mut self, price: i64, qty: i64) -> i64 {
        debug_assert!(qty >= 0);
        let Some(s) = self.slot(price) else {
            return self.set_far(price, qty);
        };
        let old = self.qty[s];
        self.qty[s] = qty;
        let now = (qty != 0) as u64;
        let was = old != 0;
        let mask = 1u64 << (s & 63);
        let word = &mut self.bits[s >> 6];
        *word = (*word & !mask) | (mask & now.wrapping_neg());
        if price * self.dir >= self.best_key && (now == 1) != was {
            if now == 1 {
                self.on_insert(price);
            } else {
                self.on_remove(price, Some(s));
            }
        }
        old
    }

    #[cold]
    #[inline(never)]
    fn set_far(&mut self, price: i64, qty: i64) -> i64 {
        if qty > 0 {
            let old = self.far.insert(price, qty).unwrap_or(0);
            if old == 0 {
                self.on_insert(price);
            }
            old
        } else {
            let old = self.far.remove(&price).unwrap_or(0);
            if old > 0 {
                self.on_remove(price, None);
            }
            old
        }
    }

    /// Removes every level, keeping the window's allocation and position.
    pub fn clear(&mut self) {
        for (w, word) in self.bits.iter_mut().enumerate() {
            let mut b = *word;
            while b != 0 {
                let s = (w << 6) + b.trailing_zeros() as usize;
                self.qty[s] = 0;
                b &= b - 1;
            }
            *word = 0;
        }
        self.far.clear();
        self.set_best(None);
    }

    #[inline]
    fn set_best(&mut self, best: Option<i64>) {
        self.best = best;
        self.best_key = best.map_or(i64::MIN, |b| b * self.dir);
    }

    #[inline(never)]
    fn on_insert(&mut self, price: i64) {
        match self.best {
            Some(b) if !self.side.better(price, b) => {}
            _ => {
                self.set_best(Some(price));
                if self.slot(price).is_none() {
                    self.recenter(price);
                }
            }
        }
    }

    #[inline(never)]
    fn on_remove(&mut self, price: i64, slot: Option<usize>) {
        if self.best != Some(price) {
            return;
        }
        let best = self.find_best(slot);
        self.set_best(best);
        if let Some(b) = self.best {
            if self.slot(b).is_none() {
                self.recenter(b);
            }
        }
    }

    /// Best price, scanning the window from `hint` (every slot on the better side of the
    /// hint is known empty) and comparing with the far map.
    fn find_best(&self, hint: Option<usize>) -> Option<i64> {
        let in_window = match self.side {
            Side::Bid => self.scan_down(hint.unwrap_or(self.width() - 1)),
            Side::Ask => self.scan_up(hint.unwrap_or(0)),
        }
        .map(|s| self.slot_price(s));
        let far = match self.side {
            Side::Bid => self.far.last_key_value(),
            Side::Ask => self.far.first_key_value(),
        }
        .map(|(p, _)| *p);
        match (in_window, far) {
            (Some(a), Some(b)) => Some(if self.side.better(a, b) { a } else { b }),
            (a, b) => a.or(b),
        }
    }

    /// Highest occupied slot <= `from`.
    #[inline]
    fn scan_down(&self, from: usize) -> Option<usize> {
        let mut w = from >> 6;
        let mut word = self.bits[w] & (u64::MAX >> (63 - (from & 63)));
        loop {
            if word != 0 {
                return Some((w << 6) + 63 - word.leading_zeros() as usize);
            }
            if w == 0 {
                return None;
            }
            w -= 1;
            word = self.bits[w];
        }
    }

    /// Lowest occupied slot >= `from`.
    #[inline]
    fn scan_up(&self, from: usize) -> Option<usize> {
        let mut w = from >> 6;
        let mut word = self.bits[w] & (u64::MAX << (from & 63));
        loop {
            if word != 0 {
                return Some((w << 6) + word.trailing_zeros() as usize);
            }
            w += 1;
            if w == self.bits.len() {
                return None;
            }
            word = self.bits[w];
        }
    }

    /// Moves the window so that `anchor` (the touch) sits a quarter of the width inside
    /// it on the book side, leaving room for the touch to improve before moving again.
    fn recenter(&mut self, anchor: i64) {
        let width = self.width() as i64;
        let new_base = match self.side {
            Side::Bid => anchor.saturating_sub(width - width / 4),
            Side::Ask => anchor.saturating_sub(width / 4),
        }
        .min(i64::MAX - width);
        if new_base == self.base {
            return;
        }
        // Spill the window into the far map, then pull back what fits the new window.
        for (w, word) in self.bits.iter_mut().enumerate() {
            let mut b = *word;
            while b != 0 {
                let s = (w << 6) + b.trailing_zeros() as usize;
                self.far.insert(self.base + s as i64, self.qty[s]);
                self.qty[s] = 0;
                b &= b - 1;
            }
            *word = 0;
        }
        self.base = new_base;
        let inside: Vec<Level> = self
            .far
            .range(new_base..new_base + width)
            .map(|(p, q)| (*p, *q))
            .collect();
        for (p, q) in inside {
            self.far.remove(&p);
            let s = (p - new_base) as usize;
            self.qty[s] = q;
            self.bits[s >> 6] |= 1u64 << (s & 63);
        }
    }

    /// Levels from the touch outwards.
    pub fn iter(&self) -> LevelIter<'_> {
        let top = self.base.saturating_add(self.width() as i64);
        let (better_far, worse_far) = match self.side {
            Side::Bid => (self.far.range(top..), self.far.range(..self.base)),
            Side::Ask => (self.far.range(..self.base), self.far.range(top..)),
        };
        let cursor = match (self.side, self.best.and_then(|b| self.slot(b))) {
            (_, Some(s)) => s as isize,
            (Side::Bid, None) => self.width() as isize - 1,
            (Side::Ask, None) => 0,
        };
        LevelIter {
            ladder: self,
            better_far,
            worse_far,
            cursor,
            stage: 0,
        }
    }
}

/// Iterator over a ladder's levels, best first.
pub struct LevelIter<'a> {
    ladder: &'a Ladder,
    better_far: Range<'a, i64, i64>,
    worse_far: Range<'a, i64, i64>,
    cursor: isize,
    stage: u8,
}

impl Iterator for LevelIter<'_> {
    type Item = Level;

    #[inline]
    fn next(&mut self) -> Option<Level> {
        let l = self.ladder;
        loop {
            match self.stage {
                0 => {
                    let r = match l.side {
                        Side::Bid => self.better_far.next_back(),
                        Side::Ask => self.better_far.next(),
                    };
                    match r {
                        Some((p, q)) => return Some((*p, *q)),
                        None => self.stage = 1,
                    }
                }
                1 => {
                    if self.cursor < 0 || self.cursor >= l.width() as isize {
                        self.stage = 2;
                        continue;
                    }
                    let found = match l.side {
                        Side::Bid => l.scan_down(self.cursor as usize),
                        Side::Ask => l.scan_up(self.cursor as usize),
                    };
                    match found {
                        Some(s) => {
                            self.cursor = match l.side {
                                Side::Bid => s as isize - 1,
                                Side::Ask => s as isize + 1,
                            };
                            return Some((l.slot_price(s), l.qty[s]));
                        }
                        None => self.stage = 2,
                    }
                }
                _ => {
                    let r = match l.side {
                        Side::Bid => self.worse_far.next_back(),
                        Side::Ask => self.worse_far.next(),
                    };
                    return r.map(|(p, q)| (*p, *q));
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn levels(l: &Ladder) -> Vec<Level> {
        l.iter().collect()
    }

    #[test]
    fn bids_iterate_best_first_across_window_and_far() {
        let mut l = Ladder::new(Side::Bid, 128);
        l.set(1000, 5); // anchors the window: base = 1000 - 96 = 904
        l.set(10, 1); // far below
        l.set(999, 2);
        l.set(950, 3);
        assert_eq!(levels(&l), vec![(1000, 5), (999, 2), (950, 3), (10, 1)]);
        l.set(5000, 7); // far above: becomes best and re-centres the window
        assert_eq!(l.best(), Some((5000, 7)));
        assert_eq!(levels(&l), vec![(5000, 7), (1000, 5), (999, 2), (950, 3), (10, 1)]);
        l.set(5000, 0);
        assert_eq!(l.best(), Some((1000, 5)));
        l.set(1000, 0);
        l.set(999, 0);
        assert_eq!(l.best(), Some((950, 3)));
        assert_eq!(l.len(), 2);
        l.set(950, 0);
        l.set(10, 0);
        assert_eq!(l.best(), None);
        assert!(l.is_empty());
    }

    #[test]
    fn asks_iterate_best_first() {
        let mut l = Ladder::new(Side::Ask, 64);
        for (p, q) in [(105, 1), (101, 2), (500, 3), (103, 4)] {
            l.set(p, q);
        }
        assert_eq!(levels(&l), vec![(101, 2), (103, 4), (105, 1), (500, 3)]);
        assert_eq!(l.get(103), 4);
        assert_eq!(l.get(104), 0);
        l.set(101, 0);
        assert_eq!(l.best(), Some((103, 4)));
        l.clear();
        assert!(l.is_empty());
        assert_eq!(l.best(), None);
        assert_eq!(levels(&l), vec![]);
    }

    proptest::proptest! {
        #[test]
        fn matches_btreemap(ops in proptest::collection::vec((0i64..400, 0i64..4), 1..300), bid in proptest::bool::ANY) {
            let side = if bid { Side::Bid } else { Side::Ask };
            let mut l = Ladder::new(side, 64);
            let mut model = BTreeMap::new();
            for (p, q) in ops {
                let price = p * 3 - 200;
                l.set(price, q);
                if q == 0 { model.remove(&price); } else { model.insert(price, q); }
                let mut want: Vec<Level> = model.iter().map(|(a, b)| (*a, *b)).collect();
                if bid { want.reverse(); }
                proptest::prop_assert_eq!(levels(&l), want.clone());
                proptest::prop_assert_eq!(l.best(), want.first().copied());
                proptest::prop_assert_eq!(l.len(), want.len());
            }
        }
    }
}
