//! The venue on order-by-order data ([`Feed::L3`]): the market book is an [`L3Book`] fed
//! by `KIND_L3_*` rows, and our resting orders have an exact queue position.
//!
//! # Rows
//!
//! - `KIND_L3_ADD / MODIFY / CANCEL / EXECUTE` rows are applied to the L3 book one by one;
//!   each is a book message (`SimStats::book_messages` and `level_rows` count it, a row
//!   the book refuses counts in `book_errors` and changes nothing). Consumed liquidity is
//!   reset by every row, whatever its outcome, as by an L2 book message.
//! - L2 snapshot and diff rows are ignored and counted per row in `ignored_rows` (the
//!   L2 book stays empty and stale: read the market through `SimVenue::market`).
//! - Trade prints are observations only (counted in `trades`, never a fill): the same
//!   trades arrive as EXECUTE rows, which are what fill us, so nothing counts twice.
//! - Taking liquidity walks the L3 book's aggregated levels (the same walk as on L2).
//!   The L3 book is never stale; before any row it is empty.
//!
//! # Queue position
//!
//! Our order is a virtual entry in the FIFO queue of its level, behind every market order
//! resting there when it rested, ahead of every market order that arrives (or loses its
//! priority) later. We remember *which* market orders are ahead: the set of their ids,
//! taken from the level when the order rests (L3 orders are FIFO within a level, so the
//! set is exactly the level's orders at that moment). `queue_ahead` is always the sum of
//! the sizes of the orders in that set:
//!
//! - a CANCEL of an order in the set removes it (`queue_ahead -= its size`);
//! - a MODIFY of an order in the set to a smaller size at the same price keeps its place
//!   (`queue_ahead -= the decrease`); a larger size or a new price sends it to the back
//!   of a queue, behind us: it leaves the set (`queue_ahead -= its old size`);
//! - an ADD, or a MODIFY that brings an order to our price, is behind us: no change;
//! - an EXECUTE of `q` lots of an order in the set: `queue_ahead -= q` (the order leaves
//!   the set when fully executed).
//!
//! The set is taken lazily, just before the first L3 row that touches the order's level
//! after it rested: no row touched that level in between, so the level is the same as at
//! rest. An order whose price changed, or whose quantity grew, since its set was taken
//! gets a new set (it went to the back of its level), so an amend needs no hook.
//!
//! # Fills
//!
//! Fills come from EXECUTE rows only. An EXECUTE of `q` lots of a market order `X`
//! resting on side `s` at price `px` is a budget of `q` lots, handed out like a trade
//! print's:
//!
//! 1. our orders on side `s` at prices strictly better than `px` (the aggressor went
//!    through them), best price first, in time order, up to their remaining size;
//! 2. our orders at `px`, in time order: if `X` is in the order's set (ahead of it), the
//!    order only moves up (`queue_ahead -= q`); if `X` is behind the order and nothing is
//!    ahead of it (`queue_ahead == 0`), the order fills from what is left of the budget.
//!    If `X` is behind the order but market orders are still ahead of it (the venue did
//!    not execute in FIFO order: hidden or iceberg priority, say), the order neither
//!    fills nor moves: the conservative reading.
//!
//! Fills are at our price, as maker, partial to the lot, with the fees of the `sim`
//! module docs. The market book executes `X` as the row says: our fills never change
//! the market data.

use std::mem;

use rustc_hash::{FxHashMap, FxHashSet};

use super::{maker_fee, OrderId, Report, ReportKind, RestingOrder, SimVenue};
use crate::accounting::Liquidity;
use crate::event::{Event, KIND_L3_ADD, KIND_L3_CANCEL, KIND_L3_EXECUTE, KIND_L3_MODIFY};
use crate::l3::L3Book;
use crate::Side;

use super::queue::ConfigError;

/// Which market data builds the venue's book.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Feed {
    /// Snapshot and diff rows into an L2 book; queue positions by the queue model.
    #[default]
    L2,
    /// Order-by-order rows into an L3 book; exact queue positions.
    L3,
}

impl Feed {
    /// "l2" or "l3", as the bindings take it.
    pub fn parse(name: &str) -> Result<Feed, ConfigError> {
        match name {
            "l2" => Ok(Feed::L2),
            "l3" => Ok(Feed::L3),
            _ => Err(ConfigError::Feed(name.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Feed::L2 => "l2",
            Feed::L3 => "l3",
        }
    }
}

/// The market ids ahead of one of our orders, and the order's price and quantity when
/// they were taken (a new price or a larger quantity means the order was re-queued).
#[derive(Debug, Clone)]
struct Ahead {
    price: i64,
    qty: i64,
    ids: FxHashSet<u64>,
}

/// The L3 feed's state.
#[derive(Debug, Clone, Default)]
pub(super) struct L3State {
    pub(super) book: L3Book,
    /// Our order id -> the market orders ahead of it. Entries of orders no longer live
    /// are dropped in bulk once they outnumber the live ones.
    ahead: FxHashMap<OrderId, Ahead>,
    /// (our id, price, lots, leaves) of the fills of one EXECUTE row.
    fills: Vec<(OrderId, i64, i64, i64)>,
}

impl L3State {
    /// Takes the set of every order of ours at (side, price) that has none (or a stale
    /// one), from the level as it is now, and resets its `queue_ahead` to the set's size.
    fn take_sets(
        &mut self,
        ids: &[OrderId],
        orders: &mut FxHashMap<OrderId, RestingOrder>,
        side: Side,
        price: i64,
    ) {
        let mut level: Option<Vec<(u64, i64)>> = None;
        for id in ids {
            let Some(o) = orders.get_mut(id) else { continue };
            if let Some(a) = self.ahead.get_mut(id) {
                if a.price == o.price && o.qty <= a.qty {
                    a.qty = o.qty;
                    continue;
                }
            }
            let level = level.get_or_insert_with(|| self.book.orders_at(side, price));
            o.queue_ahead = level.iter().map(|&(_, q)| q).sum();
            let ids = level.iter().map(|&(m, _)| m).collect();
            self.ahead.insert(*id, Ahead { price: o.price, qty: o.qty, ids });
        }
    }
}

impl SimVenue {
    /// The L3 book, on the L3 feed.
    pub fn l3_book(&self) -> Option<&L3Book> {
        self.l3.as_deref().map(|l| &l.book)
    }

    /// The market ids ahead of one of our orders (L3 feed), in no particular order; None
    /// when the order is not live, or its set is not taken yet (no row touched its level
    /// since it rested: then every order of the level is ahead of it).
    pub fn l3_ahead_ids(&self, id: OrderId) -> Option<Vec<u64>> {
        let o = self.orders.get(&id)?;
        let a = self.l3.as_deref()?.ahead.get(&id)?;
        (a.price == o.price && o.qty <= a.qty).then(|| a.ids.iter().copied().collect())
    }

    /// Our order `id` went to the back of its level (an amend that lost priority): on the
    /// L3 feed its set is taken again before the next row touching its level. The price
    /// and quantity check in `take_sets` catches most amends by itself; this covers one
    /// that changed the price and changed it back between two rows.
    pub(super) fn queue_requeued(&mut self, id: OrderId) {
        if let Some(l3) = self.l3.as_deref_mut() {
            l3.ahead.remove(&id);
        }
    }

    /// One L3 row (L3 feed). `now` is the clock after the row's time.
    pub(super) fn on_l3_row(&mut self, now: i64, ev: &Event) {
        self.stats.book_messages += 1;
        self.stats.level_rows += 1;
        self.consumed[0].clear();
        self.consumed[1].clear();
        let ok = match ev.kind {
            KIND_L3_ADD => self.l3_add(ev),
            KIND_L3_MODIFY => self.l3_modify(ev),
            KIND_L3_CANCEL => self.l3_cancel(ev),
            KIND_L3_EXECUTE => self.l3_execute(now, ev),
            _ => false,
        };
        if !ok {
            self.stats.book_errors += 1;
        }
        let l3 = self.l3.as_deref_mut().expect("L3 feed");
        if l3.ahead.len() > 2 * self.orders.len() + 64 {
            let orders = &self.orders;
            l3.ahead.retain(|id, _| orders.contains_key(id));
        }
    }

    /// Takes the missing sets at (side, price) before a row changes that level.
    fn l3_take_sets(&mut self, side: Side, price: i64) {
        if let Some(ids) = self.levels[side.idx()].get(&price) {
            let l3 = self.l3.as_deref_mut().expect("L3 feed");
            l3.take_sets(ids, &mut self.orders, side, price);
        }
    }

    fn l3_add(&mut self, ev: &Event) -> bool {
        let Some(side) = Side::from_u8(ev.side) else { return false };
        // The newcomer is behind us: the sets are taken without it.
        self.l3_take_sets(side, ev.price);
        let l3 = self.l3.as_deref_mut().expect("L3 feed");
        l3.book.add(ev.order_id, side, ev.price, ev.qty).is_ok()
    }

    fn l3_cancel(&mut self, ev: &Event) -> bool {
        let x = ev.order_id;
        let Some((side, price, qty)) = self.l3_book().and_then(|b| b.order(x)) else { return false };
        self.l3_take_sets(side, price);
        let l3 = self.l3.as_deref_mut().expect("L3 feed");
        if l3.book.cancel(x).is_err() {
            return false;
        }
        if let Some(ids) = self.levels[side.idx()].get(&price) {
            for id in ids {
                if l3.ahead.get_mut(id).is_some_and(|a| a.ids.remove(&x)) {
                    if let Some(o) = self.orders.get_mut(id) {
                        o.queue_ahead -= qty;
                    }
                }
            }
        }
        true
    }

    fn l3_modify(&mut self, ev: &Event) -> bool {
        let x = ev.order_id;
        let Some((side, price, qty)) = self.l3_book().and_then(|b| b.order(x)) else { return false };
        self.l3_take_sets(side, price);
        if ev.price != price {
            self.l3_take_sets(side, ev.price);
        }
        let l3 = self.l3.as_deref_mut().expect("L3 feed");
        if l3.book.modify(x, ev.price, ev.qty).is_err() {
            return false;
        }
        // Same price and not larger: it keeps its place; otherwise it is re-queued.
        let keeps = ev.price == price && ev.qty <= qty;
        if let Some(ids) = self.levels[side.idx()].get(&price) {
            for id in ids {
                let Some(a) = l3.ahead.get_mut(id) else { continue };
                let gone = if keeps {
                    if !a.ids.contains(&x) {
                        continue;
                    }
                    qty - ev.qty
                } else {
                    if !a.ids.remove(&x) {
                        continue;
                    }
                    qty
                };
                if let Some(o) = self.orders.get_mut(id) {
                    o.queue_ahead -= gone;
                }
            }
        }
        true
    }

    fn l3_execute(&mut self, now: i64, ev: &Event) -> bool {
        let (x, q) = (ev.order_id, ev.qty);
        let Some((side, px, _)) = self.l3_book().and_then(|b| b.order(x)) else { return false };
        self.l3_take_sets(side, px);
        let s = side.idx();
        let l3 = self.l3.as_deref_mut().expect("L3 feed");
        let Ok(left) = l3.book.execute(x, q) else { return false };
        if self.levels[s].is_empty() {
            return true;
        }
        let gone = left == 0;
        let mut prices = mem::take(&mut self.scratch_prices);
        prices.clear();
        match side {
            Side::Bid => prices.extend(self.levels[s].range(px..).rev().map(|(p, _)| *p)),
            Side::Ask => prices.extend(self.levels[s].range(..=px).map(|(p, _)| *p)),
        }
        let mut fills = mem::take(&mut l3.fills);
        fills.clear();
        let mut budget = q;
        for &p in &prices {
            let at_px = p == px;
            if budget == 0 && !at_px {
                continue;
            }
            let Some(ids) = self.levels[s].get(&p) else { continue };
            for id in ids {
                let Some(o) = self.orders.get_mut(id) else { continue };
                if at_px {
                    let a = l3.ahead.get_mut(id).expect("sets at px taken above");
                    if a.ids.contains(&x) {
                        debug_assert!(o.queue_ahead >= q);
                        o.queue_ahead -= q;
                        if gone {
                            a.ids.remove(&x);
                        }
                        continue;
                    }
                    if o.queue_ahead > 0 {
                        continue;
                    }
                }
                if budget == 0 {
                    continue;
                }
                let f = o.remaining().min(budget);
                budget -= f;
                o.filled += f;
                fills.push((*id, p, f, o.remaining()));
            }
        }
        self.scratch_prices = prices;
        for &(id, price, qty, leaves) in &fills {
            let fee = maker_fee(&self.cfg.fees, price, qty);
            self.stats.fills += 1;
            self.reports.push(Report {
                ts: now,
                order: id,
                kind: ReportKind::Filled { price, qty, liquidity: Liquidity::Maker, fee, leaves },
            });
            if leaves == 0 {
                self.remove_live(id);
            }
        }
        if let Some(l3) = self.l3.as_deref_mut() {
            l3.fills = fills;
        }
        true
    }
}
