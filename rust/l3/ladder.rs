//! One side's price index: the occupied prices of a side, sorted, the touch last.
//!
//! Keys are prices mapped so that "better" is always "greater": a bid's key is its
//! price, an ask's key is `!price` (= -price - 1, order reversing and total over i64).
//!
//! The keys live in sorted chunks of at most `B` entries (a two-level B-tree): a sorted
//! `Vec` of chunks, each a small sorted array. The best level is the last entry of the
//! last chunk, so reading, adding and removing the touch (what matching and most feed
//! traffic do) is O(1) with no search. Any other insert or removal is two binary
//! searches plus a move of at most `B` entries; splitting or dropping a chunk moves one
//! 12-byte entry per chunk. A plain sorted `Vec` is as fast at the touch but costs a
//! move of every better level for a level far from it (~5 µs at 10k levels).
//!
//! A chunk that falls under `B / 4` entries merges with a neighbour when the two fit in
//! `3B / 4`, so any two adjacent chunks hold at least `B / 4` keys between them.

use crate::Side;

/// Maps a price to its ladder key (greater key = better price on `side`).
#[inline]
pub(super) fn key(side: Side, price: i64) -> i64 {
    match side {
        Side::Bid => price,
        Side::Ask => !price,
    }
}

/// A place in the ladder: the chunk's rank (position in key order) and the slot in it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Pos {
    rank: usize,
    slot: usize,
}

#[derive(Debug, Clone, Copy)]
struct Chunk<const B: usize> {
    len: usize,
    keys: [i64; B],
    levels: [u32; B],
}

impl<const B: usize> Chunk<B> {
    const EMPTY: Self = Chunk {
        len: 0,
        keys: [0; B],
        levels: [0; B],
    };
}

#[derive(Debug, Clone)]
pub(super) struct Ladder<const B: usize = 64> {
    /// Chunk slab indices in ascending key order (the best chunk last).
    order: Vec<u32>,
    /// The smallest key of each chunk, same order as `order`.
    mins: Vec<i64>,
    /// Chunk slab; slots not in `order` are in `free`.
    chunks: Vec<Chunk<B>>,
    free: Vec<u32>,
    len: usize,
}

impl<const B: usize> Default for Ladder<B> {
    fn default() -> Self {
        Self::with_capacity(0)
    }
}

impl<const B: usize> Ladder<B> {
    const _MIN_B: () = assert!(B >= 4, "ladder chunks need room to split and merge");

    pub(super) fn with_capacity(levels: usize) -> Self {
        #[allow(clippy::let_unit_value)]
        let () = Self::_MIN_B;
        let chunks = levels.div_ceil(B / 2).max(1);
        Ladder {
            order: Vec::with_capacity(chunks),
            mins: Vec::with_capacity(chunks),
            chunks: Vec::with_capacity(chunks),
            free: Vec::with_capacity(chunks),
            len: 0,
        }
    }

    /// Number of keys (levels).
    #[inline]
    pub(super) fn len(&self) -> usize {
        self.len
    }

    #[inline]
    fn chunk(&self, rank: usize) -> &Chunk<B> {
        &self.chunks[self.order[rank] as usize]
    }

    #[inline]
    fn chunk_mut(&mut self, rank: usize) -> &mut Chunk<B> {
        &mut self.chunks[self.order[rank] as usize]
    }

    /// The best level's slab index.
    #[inline]
    pub(super) fn best(&self) -> Option<u32> {
        let &c = self.order.last()?;
        let c = &self.chunks[c as usize];
        Some(c.levels[c.len - 1])
    }

    /// Where `key` is (`Ok`) or would be inserted (`Err`).
    #[inline]
    pub(super) fn find(&self, key: i64) -> Result<Pos, Pos> {
        let n = self.order.len();
        if n == 0 {
            return Err(Pos { rank: 0, slot: 0 });
        }
        // The touch chunk first: most traffic is there.
        let rank = if key >= self.mins[n - 1] {
            n - 1
        } else {
            self.mins.partition_point(|&m| m <= key).saturating_sub(1)
        };
        let c = self.chunk(rank);
        let keys = &c.keys[..c.len];
        let last = keys[c.len - 1];
        let found = if key > last {
            Err(c.len)
        } else if key == last {
            Ok(c.len - 1)
        } else {
            keys.binary_search(&key)
        };
        found
            .map(|slot| Pos { rank, slot })
            .map_err(|slot| Pos { rank, slot })
    }

    /// Level slab index at a position `find` returned `Ok`.
    #[inline]
    pub(super) fn level_at(&self, pos: Pos) -> u32 {
        self.chunk(pos.rank).levels[pos.slot]
    }

    /// Level slab index of `key`, if present.
    #[inline]
    pub(super) fn get(&self, key: i64) -> Option<u32> {
        self.find(key).ok().map(|p| self.level_at(p))
    }

    fn new_chunk(&mut self) -> u32 {
        match self.free.pop() {
            Some(c) => c,
            None => {
                self.chunks.push(Chunk::EMPTY);
                (self.chunks.len() - 1) as u32
            }
        }
    }

    /// Inserts `key` (absent) at the position `find` returned as `Err`.
    #[inline]
    pub(super) fn insert(&mut self, pos: Pos, key: i64, level: u32) {
        let Pos { mut rank, mut slot } = pos;
        if self.order.is_empty() {
            let c = self.new_chunk();
            self.order.push(c);
            self.mins.push(key);
        } else if self.chunk(rank).len == B {
            // Split: the upper half moves to a new chunk right after this one.
            let half = B / 2;
            let new = self.new_chunk();
            let old = self.order[rank] as usize;
            let (lo, hi) = if old < new as usize {
                let (a, b) = self.chunks.split_at_mut(new as usize);
                (&mut a[old], &mut b[0])
            } else {
                let (a, b) = self.chunks.split_at_mut(old);
                (&mut b[0], &mut a[new as usize])
            };
            hi.keys[..B - half].copy_from_slice(&lo.keys[half..]);
            hi.levels[..B - half].copy_from_slice(&lo.levels[half..]);
            hi.len = B - half;
            lo.len = half;
            let hi_min = hi.keys[0];
            self.order.insert(rank + 1, new);
            self.mins.insert(rank + 1, hi_min);
            if slot > half {
                rank += 1;
                slot -= half;
            }
        }
        let c = self.chunk_mut(rank);
        let len = c.len;
        if slot < len {
            c.keys.copy_within(slot..len, slot + 1);
            c.levels.copy_within(slot..len, slot + 1);
        }
        c.keys[slot] = key;
        c.levels[slot] = level;
        c.len = len + 1;
        if slot == 0 {
            self.mins[rank] = key;
        }
        self.len += 1;
    }

    /// Removes `key`, which must be present.
    #[inline]
    pub(super) fn remove(&mut self, key: i64) {
        let pos = self
            .find(key)
            .expect("l3 ladder: removing a price that is not indexed");
        self.remove_at(pos);
    }

    /// Removes the best level (the ladder must not be empty); returns the new best.
    #[inline]
    pub(super) fn pop_best(&mut self) -> Option<u32> {
        self.len -= 1;
        let rank = self.order.len() - 1;
        let c = self.chunk_mut(rank);
        c.len -= 1;
        let left = c.len;
        if left >= B / 4 {
            return Some(c.levels[left - 1]);
        }
        if left == 0 {
            let id = self
                .order
                .pop()
                .expect("l3 ladder: pop_best on an empty side");
            self.mins.pop();
            self.free.push(id);
        } else {
            self.try_merge(rank);
        }
        self.best()
    }

    #[inline]
    fn remove_at(&mut self, Pos { rank, slot }: Pos) {
        self.len -= 1;
        let c = self.chunk_mut(rank);
        let len = c.len;
        if slot + 1 < len {
            c.keys.copy_within(slot + 1..len, slot);
            c.levels.copy_within(slot + 1..len, slot);
        }
        c.len = len - 1;
        let (left, first) = (c.len, c.keys[0]);
        if left == 0 {
            let id = self.order.remove(rank);
            self.mins.remove(rank);
            self.free.push(id);
            return;
        }
        if slot == 0 {
            self.mins[rank] = first;
        }
        if left < B / 4 {
            self.try_merge(rank);
        }
    }

    /// Merges the chunk at `rank` with a neighbour when the two fit in 3B/4.
    #[cold]
    fn try_merge(&mut self, rank: usize) {
        let len = self.chunk(rank).len;
        let fits = |other: usize| len + other <= 3 * B / 4;
        if rank + 1 < self.order.len() && fits(self.chunk(rank + 1).len) {
            self.merge_with_next(rank);
        } else if rank > 0 && fits(self.chunk(rank - 1).len) {
            self.merge_with_next(rank - 1);
        }
    }

    /// Appends the chunk at `rank + 1` to the one at `rank` and frees it.
    fn merge_with_next(&mut self, rank: usize) {
        let hi = self.order.remove(rank + 1);
        self.mins.remove(rank + 1);
        let src = self.chunks[hi as usize];
        let dst = self.chunk_mut(rank);
        let at = dst.len;
        dst.keys[at..at + src.len].copy_from_slice(&src.keys[..src.len]);
        dst.levels[at..at + src.len].copy_from_slice(&src.levels[..src.len]);
        dst.len = at + src.len;
        self.free.push(hi);
    }

    /// Level slab indexes from the touch outwards.
    #[inline]
    pub(super) fn iter_from_touch(&self) -> impl Iterator<Item = u32> + '_ {
        self.order.iter().rev().flat_map(move |&c| {
            let c = &self.chunks[c as usize];
            c.levels[..c.len].iter().rev().copied()
        })
    }

    /// All (key, level) pairs in ascending key order, after checking the structure.
    #[cfg(test)]
    pub(super) fn checked_entries(&self) -> Vec<(i64, u32)> {
        assert_eq!(self.order.len(), self.mins.len());
        assert_eq!(self.order.len() + self.free.len(), self.chunks.len());
        let mut out: Vec<(i64, u32)> = Vec::new();
        for (rank, &c) in self.order.iter().enumerate() {
            let c = &self.chunks[c as usize];
            assert!(c.len > 0 && c.len <= B, "chunk size {}", c.len);
            assert_eq!(self.mins[rank], c.keys[0], "chunk min");
            if rank > 0 {
                let pair = c.len + self.chunk(rank - 1).len;
                assert!(pair >= (B / 4).min(self.len), "adjacent chunks hold {pair}");
            }
            out.extend(
                c.keys[..c.len]
                    .iter()
                    .copied()
                    .zip(c.levels[..c.len].iter().copied()),
            );
        }
        assert!(out.windows(2).all(|w| w[0].0 < w[1].0), "keys not sorted");
        assert_eq!(out.len(), self.len);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use std::collections::BTreeMap;

    #[derive(Debug, Clone)]
    enum Op {
        Insert(i64),
        Remove(i64),
        PopBest,
    }

    fn ops(keys: i64) -> impl Strategy<Value = Vec<Op>> {
        proptest::collection::vec(
            prop_oneof![
                4 => (0..keys).prop_map(Op::Insert),
                3 => (0..keys).prop_map(Op::Remove),
                1 => Just(Op::PopBest),
            ],
            1..600,
        )
    }

    fn check<const B: usize>(ops: &[Op]) -> Result<(), TestCaseError> {
        let mut l = Ladder::<B>::default();
        let mut m = BTreeMap::new();
        for (i, op) in ops.iter().enumerate() {
            let v = i as u32;
            match *op {
                Op::Insert(k) => match l.find(k) {
                    Ok(p) => prop_assert_eq!(Some(&l.level_at(p)), m.get(&k)),
                    Err(p) => {
                        prop_assert!(!m.contains_key(&k));
                        l.insert(p, k, v);
                        m.insert(k, v);
                    }
                },
                Op::Remove(k) => {
                    if m.remove(&k).is_some() {
                        l.remove(k);
                    } else {
                        prop_assert!(l.get(k).is_none());
                    }
                }
                Op::PopBest => {
                    if m.pop_last().is_some() {
                        let best = l.pop_best();
                        prop_assert_eq!(best, m.last_key_value().map(|(_, &v)| v));
                    }
                }
            }
            let expect: Vec<(i64, u32)> = m.iter().map(|(&k, &v)| (k, v)).collect();
            prop_assert_eq!(l.checked_entries(), expect.clone());
            prop_assert_eq!(l.len(), m.len());
            prop_assert_eq!(l.best(), m.last_key_value().map(|(_, &v)| v));
            let rev: Vec<u32> = expect.iter().rev().map(|e| e.1).collect();
            prop_assert_eq!(l.iter_from_touch().collect::<Vec<_>>(), rev);
            for k in [0, 1, 7, 40, 99] {
                prop_assert_eq!(l.get(k), m.get(&k).copied());
            }
        }
        Ok(())
    }

    proptest! {
        #[test]
        fn small_chunks_match_btreemap(ops in ops(100)) {
            check::<4>(&ops)?;
        }

        #[test]
        fn eight_chunks_match_btreemap(ops in ops(200)) {
            check::<8>(&ops)?;
        }

        #[test]
        fn default_chunks_match_btreemap(ops in ops(400)) {
            check::<64>(&ops)?;
        }
    }

    #[test]
    fn extreme_keys_and_sequential_growth() {
        let mut l = Ladder::<4>::default();
        let mut m = BTreeMap::new();
        let keys = [i64::MIN, i64::MAX, 0, -1, 1, i64::MIN + 1, i64::MAX - 1];
        for (i, &k) in keys.iter().enumerate() {
            let p = l.find(k).unwrap_err();
            l.insert(p, k, i as u32);
            m.insert(k, i as u32);
        }
        // Ascending and descending runs (new best every time / new worst every time).
        for i in 0..50 {
            for k in [1_000 + i, -1_000 - i] {
                let p = l.find(k).unwrap_err();
                l.insert(p, k, k as u32);
                m.insert(k, k as u32);
            }
        }
        let expect: Vec<(i64, u32)> = m.iter().map(|(&k, &v)| (k, v)).collect();
        assert_eq!(l.checked_entries(), expect);
        while l.len() > 0 {
            l.pop_best();
            m.pop_last();
            assert_eq!(l.checked_entries().len(), m.len());
        }
        assert_eq!(l.best(), None);
        assert_eq!(l.find(5), Err(Pos { rank: 0, slot: 0 }));
    }
}
