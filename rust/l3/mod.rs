//! The L3 (order-by-order) book: resting orders in FIFO queues per price level.
//!
//! Layout, chosen for O(1) work per order on the hot paths and no allocation per
//! operation once warmed up:
//! - a slab of order nodes (`Vec<Node>` plus a free list), each node linked into an
//!   intrusive doubly-linked FIFO of its level, so a cancel from the middle of a queue
//!   is O(1) and never shifts memory;
//! - a slab of levels (head, tail, total size, order count), each node holding its
//!   level's slab index, so cancels and executes find their level without a search;
//! - per side, a sorted price index (`ladder`: sorted chunks of up to 64 prices, the
//!   touch last), so the best level is read, created and removed in O(1) and any other
//!   level in O(log levels) plus a move of at most 64 entries;
//! - an `FxHashMap<u64, u32>` from order id to node index.
//!
//! The book only ever holds resting liquidity: an add or modify whose price would cross
//! or lock the opposite side is refused, and taking liquidity goes through
//! [`L3Book::match_order`]. So the book is never crossed. Every refused operation leaves
//! the book unchanged.
//!
//! Sizes are summed per level in `i64`; the book assumes real lot counts, far from
//! `i64::MAX`.

mod ladder;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

use std::collections::hash_map::Entry;
use std::fmt;

use rustc_hash::FxHashMap;

use crate::batch::BatchStats;
use crate::event::{
    Event, KIND_L3_ADD, KIND_L3_CANCEL, KIND_L3_EXECUTE, KIND_L3_MODIFY, KIND_TICKER, KIND_TRADE,
};
use crate::query::{Level, LevelSource};
use crate::Side;

use ladder::{key, Ladder};

/// "No node / no level" in the intrusive links.
const NIL: u32 = u32::MAX;

/// Why the book refused an operation. The book is unchanged whenever one is returned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum L3Error {
    /// An add whose id already rests in the book.
    DuplicateId(u64),
    /// A modify, cancel or execute of an id that does not rest in the book.
    UnknownId(u64),
    /// A size that must be positive was not.
    NonPositiveQty { field: &'static str, value: i64 },
    /// A resting price that would cross or lock the opposite side's best price.
    Crosses {
        id: u64,
        side: Side,
        price: i64,
        opposite: i64,
    },
    /// An execute larger than the order's resting size.
    ExecuteExceeds { id: u64, qty: i64, resting: i64 },
    /// A price outside the book's range (|price| < 2^62 ticks).
    PriceOutOfRange { id: u64, price: i64 },
}

/// The price and size rules shared by `add` and `modify`.
fn check_terms(id: u64, price: i64, qty: i64) -> Result<(), L3Error> {
    if qty <= 0 {
        return Err(L3Error::NonPositiveQty {
            field: "qty",
            value: qty,
        });
    }
    if !crate::query::price_in_range(price) {
        return Err(L3Error::PriceOutOfRange { id, price });
    }
    Ok(())
}

fn side_name(side: Side) -> &'static str {
    match side {
        Side::Bid => "bid",
        Side::Ask => "ask",
    }
}

impl fmt::Display for L3Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            L3Error::DuplicateId(id) => write!(
                f,
                "order {id}: order_id {id} already rests in the book (order ids must be unique)"
            ),
            L3Error::UnknownId(id) => write!(
                f,
                "order {id}: order_id {id} does not rest in the book (it must, to be modified, \
                 cancelled or executed)"
            ),
            L3Error::NonPositiveQty { field, value } => write!(f, "{field} {value} must be > 0"),
            L3Error::Crosses {
                id,
                side,
                price,
                opposite,
            } => {
                let (rel, opp) = match side {
                    Side::Bid => ("<", "best ask"),
                    Side::Ask => (">", "best bid"),
                };
                write!(
                    f,
                    "order {id}: {} price {price} must be {rel} {opp} {opposite} (a resting order \
                     may not cross or lock the book; take liquidity with match_order)",
                    side_name(side)
                )
            }
            L3Error::PriceOutOfRange { id, price } => write!(
                f,
                "order {id}: price {price} is out of range (rule: |price| < 2^62 ticks)"
            ),
            L3Error::ExecuteExceeds { id, qty, resting } => write!(
                f,
                "order {id}: execute qty {qty} must be <= the resting qty {resting}"
            ),
        }
    }
}

impl std::error::Error for L3Error {}

/// One fill of an incoming order against a resting (maker) order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    pub maker_id: u64,
    pub price: i64,
    pub qty: i64,
}

/// A resting order; in the free list only `next` is meaningful.
#[derive(Debug, Clone, Copy)]
struct Node {
    id: u64,
    qty: i64,
    prev: u32,
    next: u32,
    level: u32,
}

/// A price level; in the free list only `head` is meaningful (next free level).
#[derive(Debug, Clone, Copy)]
struct LevelNode {
    price: i64,
    total: i64,
    head: u32,
    tail: u32,
    count: u32,
    side: Side,
}

/// Everything but the id map, so the id map's entry API can be held while it changes.
#[derive(Debug, Clone)]
struct Store {
    nodes: Vec<Node>,
    free_node: u32,
    levels: Vec<LevelNode>,
    free_level: u32,
    ladders: [Ladder; 2],
}

impl Store {
    fn with_capacity(orders: usize) -> Self {
        let levels = (orders / 4).clamp(16, 1 << 16);
        Store {
            nodes: Vec::with_capacity(orders),
            free_node: NIL,
            levels: Vec::with_capacity(levels),
            free_level: NIL,
            ladders: [
                Ladder::with_capacity(levels / 2),
                Ladder::with_capacity(levels / 2),
            ],
        }
    }

    /// Best price of `side`.
    #[inline]
    fn best_price(&self, side: Side) -> Option<i64> {
        self.ladders[side.idx()]
            .best()
            .map(|l| self.levels[l as usize].price)
    }

    /// The crossing rule for a resting order of `side` at `price`.
    #[inline]
    fn check_cross(&self, id: u64, side: Side, price: i64) -> Result<(), L3Error> {
        if let Some(opposite) = self.best_price(side.opposite()) {
            let crosses = match side {
                Side::Bid => price >= opposite,
                Side::Ask => price <= opposite,
            };
            if crosses {
                return Err(L3Error::Crosses {
                    id,
                    side,
                    price,
                    opposite,
                });
            }
        }
        Ok(())
    }

    #[inline]
    fn alloc_node(&mut self, node: Node) -> u32 {
        if self.free_node != NIL {
            let idx = self.free_node;
            self.free_node = self.nodes[idx as usize].next;
            self.nodes[idx as usize] = node;
            idx
        } else {
            let idx = self.nodes.len();
            assert!(idx < NIL as usize, "L3Book: more than 2^32 - 1 order slots");
            self.nodes.push(node);
            idx as u32
        }
    }

    #[inline]
    fn free_node(&mut self, idx: u32) {
        self.nodes[idx as usize].next = self.free_node;
        self.free_node = idx;
    }

    /// The level of `side` at `price`, created (empty) if absent.
    #[inline]
    fn level_for(&mut self, side: Side, price: i64) -> u32 {
        let k = key(side, price);
        match self.ladders[side.idx()].find(k) {
            Ok(pos) => self.ladders[side.idx()].level_at(pos),
            Err(pos) => {
                let lv = LevelNode {
                    price,
                    total: 0,
                    head: NIL,
                    tail: NIL,
                    count: 0,
                    side,
                };
                let idx = if self.free_level != NIL {
                    let idx = self.free_level;
                    self.free_level = self.levels[idx as usize].head;
                    self.levels[idx as usize] = lv;
                    idx
                } else {
                    let idx = self.levels.len();
                    assert!(idx < NIL as usize, "L3Book: more than 2^32 - 1 level slots");
                    self.levels.push(lv);
                    idx as u32
                };
                self.ladders[side.idx()].insert(pos, k, idx);
                idx
            }
        }
    }

    /// Drops an empty level from its ladder and the slab.
    #[inline]
    fn drop_level(&mut self, level: u32) {
        let lv = &mut self.levels[level as usize];
        debug_assert_eq!(lv.count, 0);
        let (side, price) = (lv.side, lv.price);
        lv.head = self.free_level;
        self.free_level = level;
        self.ladders[side.idx()].remove(key(side, price));
    }

    /// Appends node `idx` (already holding its qty) to the back of `level`.
    #[inline]
    fn push_back(&mut self, idx: u32, level: u32) {
        let lv = &mut self.levels[level as usize];
        let tail = lv.tail;
        lv.tail = idx;
        if tail == NIL {
            lv.head = idx;
        }
        lv.total += self.nodes[idx as usize].qty;
        lv.count += 1;
        if tail != NIL {
            self.nodes[tail as usize].next = idx;
        }
        let node = &mut self.nodes[idx as usize];
        node.prev = tail;
        node.next = NIL;
        node.level = level;
    }

    /// Takes node `idx` out of its level's queue (dropping the level if it empties); the
    /// node slot itself stays allocated.
    #[inline]
    fn unlink(&mut self, idx: u32) {
        let Node {
            qty,
            prev,
            next,
            level,
            ..
        } = self.nodes[idx as usize];
        if prev != NIL {
            self.nodes[prev as usize].next = next;
        }
        if next != NIL {
            self.nodes[next as usize].prev = prev;
        }
        let lv = &mut self.levels[level as usize];
        if prev == NIL {
            lv.head = next;
        }
        if next == NIL {
            lv.tail = prev;
        }
        lv.total -= qty;
        lv.count -= 1;
        if lv.count == 0 {
            self.drop_level(level);
        }
    }
}

/// The order-by-order book. See the module docs for the layout and the rules.
#[derive(Debug, Clone)]
pub struct L3Book {
    store: Store,
    ids: FxHashMap<u64, u32>,
}

impl Default for L3Book {
    fn default() -> Self {
        Self::new()
    }
}

impl L3Book {
    pub fn new() -> Self {
        Self::with_capacity(0)
    }

    /// A book with room for `orders` resting orders before any reallocation.
    pub fn with_capacity(orders: usize) -> Self {
        let mut ids = FxHashMap::default();
        ids.reserve(orders);
        L3Book {
            store: Store::with_capacity(orders),
            ids,
        }
    }

    /// Adds a resting order at the back of its level.
    ///
    /// Refused (book unchanged): a duplicate id, `qty <= 0`, or a price that crosses or
    /// locks the opposite best (bid >= best ask, ask <= best bid).
    pub fn add(&mut self, id: u64, side: Side, price: i64, qty: i64) -> Result<(), L3Error> {
        match self.ids.entry(id) {
            Entry::Occupied(_) => Err(L3Error::DuplicateId(id)),
            Entry::Vacant(slot) => {
                check_terms(id, price, qty)?;
                let store = &mut self.store;
                store.check_cross(id, side, price)?;
                let level = store.level_for(side, price);
                let idx = store.alloc_node(Node {
                    id,
                    qty,
                    prev: NIL,
                    next: NIL,
                    level,
                });
                store.push_back(idx, level);
                slot.insert(idx);
                Ok(())
            }
        }
    }

    /// Changes an order's price and size.
    ///
    /// Same price and a smaller size: reduced in place, keeping its queue priority. Same
    /// price and size: nothing happens. A larger size or a new price: the order goes to
    /// the back of its (new) level. Refused (book unchanged): an unknown id, `qty <= 0`,
    /// or a new price that crosses or locks the opposite best.
    pub fn modify(&mut self, id: u64, price: i64, qty: i64) -> Result<(), L3Error> {
        let Some(&idx) = self.ids.get(&id) else {
            return Err(L3Error::UnknownId(id));
        };
        check_terms(id, price, qty)?;
        let s = &mut self.store;
        let node = s.nodes[idx as usize];
        let lv = s.levels[node.level as usize];
        if price == lv.price {
            if qty < node.qty {
                s.nodes[idx as usize].qty = qty;
                s.levels[node.level as usize].total -= node.qty - qty;
            } else if qty > node.qty {
                // Back of the same level; the level cannot empty on the way.
                let level = &mut s.levels[node.level as usize];
                level.total += qty - node.qty;
                if node.next != NIL {
                    if node.prev != NIL {
                        s.nodes[node.prev as usize].next = node.next;
                    } else {
                        level.head = node.next;
                    }
                    s.nodes[node.next as usize].prev = node.prev;
                    let tail = level.tail;
                    level.tail = idx;
                    s.nodes[tail as usize].next = idx;
                    let n = &mut s.nodes[idx as usize];
                    n.prev = tail;
                    n.next = NIL;
                }
                s.nodes[idx as usize].qty = qty;
            }
            return Ok(());
        }
        s.check_cross(id, lv.side, price)?;
        s.unlink(idx);
        s.nodes[idx as usize].qty = qty;
        let level = s.level_for(lv.side, price);
        s.push_back(idx, level);
        Ok(())
    }

    /// Removes an order; returns the size it had.
    pub fn cancel(&mut self, id: u64) -> Result<i64, L3Error> {
        let Some(idx) = self.ids.remove(&id) else {
            return Err(L3Error::UnknownId(id));
        };
        let qty = self.store.nodes[idx as usize].qty;
        self.store.unlink(idx);
        self.store.free_node(idx);
        Ok(qty)
    }

    /// Trades `qty` lots of a resting order (it keeps its place); returns the size left,
    /// 0 meaning the order was removed. Refused: unknown id, `qty <= 0`, `qty` above the
    /// resting size.
    pub fn execute(&mut self, id: u64, qty: i64) -> Result<i64, L3Error> {
        let Some(&idx) = self.ids.get(&id) else {
            return Err(L3Error::UnknownId(id));
        };
        if qty <= 0 {
            return Err(L3Error::NonPositiveQty {
                field: "qty",
                value: qty,
            });
        }
        let s = &mut self.store;
        let node = s.nodes[idx as usize];
        if qty > node.qty {
            return Err(L3Error::ExecuteExceeds {
                id,
                qty,
                resting: node.qty,
            });
        }
        if qty == node.qty {
            self.ids.remove(&id);
            s.unlink(idx);
            s.free_node(idx);
            return Ok(0);
        }
        s.nodes[idx as usize].qty -= qty;
        s.levels[node.level as usize].total -= qty;
        Ok(node.qty - qty)
    }

    /// An incoming order of `side` (Bid = buy) for `qty` lots takes liquidity from the
    /// opposite side, best price first and FIFO within a price, never beyond `limit`
    /// (a buy fills at prices <= limit, a sell at prices >= limit). Appends one [`Fill`]
    /// per resting order touched to `fills` (which is not cleared) and returns the lots
    /// filled. Fully filled resting orders are removed. `qty <= 0` fills nothing.
    pub fn match_order(
        &mut self,
        side: Side,
        qty: i64,
        limit: Option<i64>,
        fills: &mut Vec<Fill>,
    ) -> i64 {
        if qty <= 0 {
            return 0;
        }
        let opp = side.opposite();
        let s = &mut self.store;
        let mut left = qty;
        let mut best = s.ladders[opp.idx()].best();
        while left > 0 {
            let Some(level) = best else {
                break;
            };
            let lv = s.levels[level as usize];
            if let Some(limit) = limit {
                let beyond = match side {
                    Side::Bid => lv.price > limit,
                    Side::Ask => lv.price < limit,
                };
                if beyond {
                    break;
                }
            }
            let mut cur = lv.head;
            let mut total = lv.total;
            let mut count = lv.count;
            while left > 0 && cur != NIL {
                let node = &mut s.nodes[cur as usize];
                let take = node.qty.min(left);
                fills.push(Fill {
                    maker_id: node.id,
                    price: lv.price,
                    qty: take,
                });
                left -= take;
                total -= take;
                if take == node.qty {
                    let (id, next) = (node.id, node.next);
                    node.next = s.free_node;
                    s.free_node = cur;
                    self.ids.remove(&id);
                    count -= 1;
                    cur = next;
                } else {
                    node.qty -= take;
                }
            }
            if count == 0 {
                s.levels[level as usize].head = s.free_level;
                s.free_level = level;
                best = s.ladders[opp.idx()].pop_best();
            } else {
                s.nodes[cur as usize].prev = NIL;
                let l = &mut s.levels[level as usize];
                l.head = cur;
                l.total = total;
                l.count = count;
            }
        }
        qty - left
    }

    /// (side, price, qty) of a resting order.
    pub fn order(&self, id: u64) -> Option<(Side, i64, i64)> {
        let &idx = self.ids.get(&id)?;
        let node = &self.store.nodes[idx as usize];
        let lv = &self.store.levels[node.level as usize];
        Some((lv.side, lv.price, node.qty))
    }

    /// Size resting ahead of the order in its level's queue. Walks from both ends of the
    /// queue at once, so it costs O(min(orders ahead, orders behind)).
    pub fn queue_ahead(&self, id: u64) -> Option<i64> {
        let &idx = self.ids.get(&id)?;
        let nodes = &self.store.nodes;
        let node = &nodes[idx as usize];
        let lv = &self.store.levels[node.level as usize];
        let (mut back, mut fwd) = (node.prev, node.next);
        let (mut ahead, mut behind) = (0i64, 0i64);
        loop {
            if back == NIL {
                return Some(ahead);
            }
            if fwd == NIL {
                return Some(lv.total - node.qty - behind);
            }
            ahead += nodes[back as usize].qty;
            back = nodes[back as usize].prev;
            behind += nodes[fwd as usize].qty;
            fwd = nodes[fwd as usize].next;
        }
    }

    /// (order id, qty) at one level, in queue order (empty when no such level).
    pub fn orders_at(&self, side: Side, price: i64) -> Vec<(u64, i64)> {
        let Some(level) = self.store.ladders[side.idx()].get(key(side, price)) else {
            return Vec::new();
        };
        let lv = &self.store.levels[level as usize];
        let mut out = Vec::with_capacity(lv.count as usize);
        let mut cur = lv.head;
        while cur != NIL {
            let node = &self.store.nodes[cur as usize];
            out.push((node.id, node.qty));
            cur = node.next;
        }
        out
    }

    /// Number of resting orders.
    pub fn order_count(&self) -> usize {
        self.ids.len()
    }

    /// Applies an array of event rows, never stopping at an error.
    ///
    /// `KIND_L3_ADD/MODIFY/CANCEL/EXECUTE` rows are applied (`order_id`, `side` (adds
    /// only), `price`, `qty`); each is one message, and each one the book accepts counts
    /// in `levels_applied`. A row the book refuses (see the methods), an add whose side
    /// byte is not 0 or 1, and a row of a kind that is not L3, trade or ticker count in
    /// `errors` (the first is kept) and are skipped. Trade rows count in `trades` and
    /// ticker messages (their `FLAG_BEGIN` row) in `tickers`, both also in `messages`, as
    /// in the L2 book. Rows are reported as `row_offset + index`; `rows` is
    /// `events.len()`.
    pub fn apply_events(&mut self, events: &[Event], row_offset: u64) -> BatchStats {
        let mut stats = BatchStats {
            rows: events.len() as u64,
            ..BatchStats::default()
        };
        for (i, ev) in events.iter().enumerate() {
            let row = row_offset + i as u64;
            let res = match ev.kind {
                KIND_L3_ADD => match Side::from_u8(ev.side) {
                    Some(side) => self.add(ev.order_id, side, ev.price, ev.qty),
                    None => {
                        stats.messages += 1;
                        let (id, side) = (ev.order_id, ev.side);
                        stats.error(row, || {
                            format!("row {row}: order {id}: side {side} must be 0 (bid) or 1 (ask)")
                        });
                        continue;
                    }
                },
                KIND_L3_MODIFY => self.modify(ev.order_id, ev.price, ev.qty),
                KIND_L3_CANCEL => self.cancel(ev.order_id).map(|_| ()),
                KIND_L3_EXECUTE => self.execute(ev.order_id, ev.qty).map(|_| ()),
                KIND_TRADE => {
                    stats.messages += 1;
                    stats.trades += 1;
                    continue;
                }
                KIND_TICKER => {
                    if ev.begins() {
                        stats.messages += 1;
                        stats.tickers += 1;
                    }
                    continue;
                }
                kind => {
                    stats.error(row, || {
                        format!(
                            "row {row}: kind {kind} is not an event an L3 book takes (rule: \
                             {KIND_L3_ADD}-{KIND_L3_EXECUTE} are applied, {KIND_TRADE} and \
                             {KIND_TICKER} counted)"
                        )
                    });
                    continue;
                }
            };
            stats.messages += 1;
            match res {
                Ok(()) => stats.levels_applied += 1,
                Err(e) => stats.error(row, || format!("row {row}: {e}")),
            }
        }
        stats
    }
}

impl LevelSource for L3Book {
    fn levels_from_touch(&self, side: Side) -> impl Iterator<Item = Level> + '_ {
        let levels = &self.store.levels;
        self.store.ladders[side.idx()]
            .iter_from_touch()
            .map(move |l| {
                let lv = &levels[l as usize];
                (lv.price, lv.total)
            })
    }

    fn volume_at(&self, side: Side, price: i64) -> i64 {
        self.store.ladders[side.idx()]
            .get(key(side, price))
            .map_or(0, |l| self.store.levels[l as usize].total)
    }

    fn level_count(&self, side: Side) -> usize {
        self.store.ladders[side.idx()].len()
    }
}

#[cfg(test)]
impl L3Book {
    /// Every structural invariant, checked the slow way; panics with a description.
    pub(crate) fn check_invariants(&self) {
        use crate::query::BookQueries;
        let s = &self.store;
        let mut seen = vec![false; s.nodes.len()];
        let mut live = 0usize;
        for side in [Side::Bid, Side::Ask] {
            for (k, l) in s.ladders[side.idx()].checked_entries() {
                let lv = &s.levels[l as usize];
                assert_eq!(lv.side, side);
                assert_eq!(key(side, lv.price), k, "ladder key vs level price");
                assert!(lv.count > 0, "empty level {side:?} {}", lv.price);
                let (mut cur, mut prev, mut n, mut total) = (lv.head, NIL, 0u32, 0i64);
                while cur != NIL {
                    let node = &s.nodes[cur as usize];
                    assert!(!seen[cur as usize], "node {cur} linked twice");
                    seen[cur as usize] = true;
                    assert_eq!(node.prev, prev, "back link");
                    assert_eq!(node.level, l, "node's level");
                    assert!(node.qty > 0, "non-positive resting qty");
                    assert_eq!(self.ids.get(&node.id), Some(&cur), "id map");
                    total += node.qty;
                    n += 1;
                    prev = cur;
                    cur = node.next;
                }
                assert_eq!(lv.tail, prev, "tail");
                assert_eq!(lv.count, n, "level count");
                assert_eq!(lv.total, total, "level total");
                live += n as usize;
            }
        }
        assert_eq!(live, self.ids.len(), "id map size vs linked orders");
        let mut free = 0usize;
        let mut cur = s.free_node;
        while cur != NIL {
            assert!(!seen[cur as usize], "free node {cur} is linked");
            seen[cur as usize] = true;
            free += 1;
            cur = s.nodes[cur as usize].next;
        }
        assert_eq!(live + free, s.nodes.len(), "slab leak");
        let mut free_levels = 0usize;
        let mut cur = s.free_level;
        while cur != NIL {
            free_levels += 1;
            cur = s.levels[cur as usize].head;
        }
        assert_eq!(
            free_levels + s.ladders[0].len() + s.ladders[1].len(),
            s.levels.len(),
            "level slab leak"
        );
        if let (Some((b, _)), Some((a, _))) = (self.best_bid(), self.best_ask()) {
            assert!(b < a, "crossed or locked: bid {b} ask {a}");
        }
    }

    /// Slab sizes (orders, levels): for the no-growth-in-steady-state test.
    pub(crate) fn slab_lens(&self) -> (usize, usize) {
        (self.store.nodes.len(), self.store.levels.len())
    }
}
