//! Amending a resting order in place: new price and/or new total quantity.
//!
//! The rules (checks, queue priority, a crossing new price) are in the module docs of
//! `sim` ("Amend").

use crate::accounting::Liquidity;
use crate::query::{price_in_range, LevelSource};
use crate::Side;

use super::latency::Command;
use super::{consumed_add, fee_fits, plan_take, OrderId, Reason, Report, ReportKind, SimVenue};

/// What a modify changes; `None` keeps the current value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Amend {
    /// New limit price in ticks.
    pub price: Option<i64>,
    /// New total quantity in lots (filled lots included); must stay above the filled
    /// quantity.
    pub qty: Option<i64>,
    /// New trigger price of a waiting conditional order.
    pub trigger_price: Option<i64>,
}

impl SimVenue {
    /// Modifies order `id`, issued at `ts`: it arrives after `modify_latency_ns` and then
    /// reports `Modified{price, qty}` (followed by taker fills if the new price crosses)
    /// or `ModifyRejected{reason}` with the order unchanged. Returns true when the
    /// modify was accepted within this call (only possible with no modify latency).
    pub fn modify(&mut self, ts: i64, id: OrderId, new_price: Option<i64>, new_qty: Option<i64>) -> bool {
        self.amend(ts, id, Amend { price: new_price, qty: new_qty, trigger_price: None })
    }

    /// [`Self::modify`] with the changes in one value.
    pub fn amend(&mut self, ts: i64, id: OrderId, amend: Amend) -> bool {
        let now = self.advance_to(ts);
        let lat = self.cfg.modify_latency_ns;
        if lat == 0 {
            let ok = self.execute_modify(now, id, amend);
            self.settle(now);
            return ok;
        }
        self.pending.push(now.saturating_add(lat), id, Command::Modify(amend));
        false
    }

    pub(super) fn modify_rejected(&mut self, now: i64, id: OrderId, reason: Reason) -> bool {
        self.reports.push(Report { ts: now, order: id, kind: ReportKind::ModifyRejected { reason } });
        false
    }

    /// A modify arriving at `now`; true when accepted.
    pub(super) fn execute_modify(&mut self, now: i64, id: OrderId, amend: Amend) -> bool {
        if self.conditionals.contains_key(&id) {
            return self.modify_conditional(now, id, amend.price, amend.qty, amend.trigger_price);
        }
        if amend.trigger_price.is_some() && self.orders.contains_key(&id) {
            // A resting order has no trigger (a fired one has left it behind).
            return self.modify_rejected(now, id, Reason::BadTriggerPrice);
        }
        let Some(o) = self.orders.get(&id) else {
            return self.modify_rejected(now, id, Reason::UnknownOrder);
        };
        let (side, old_price, old_qty, filled) = (o.side, o.price, o.qty, o.filled);
        let (post_only, reduce_only) = (o.post_only, o.reduce_only);
        if amend.price.is_none() && amend.qty.is_none() {
            return self.modify_rejected(now, id, Reason::NothingToModify);
        }
        let price = amend.price.unwrap_or(old_price);
        let qty = amend.qty.unwrap_or(old_qty);
        if qty <= 0 {
            return self.modify_rejected(now, id, Reason::BadQty);
        }
        if qty <= filled {
            return self.modify_rejected(now, id, Reason::QtyBelowFilled);
        }
        if !price_in_range(price) {
            return self.modify_rejected(now, id, Reason::BadPrice);
        }
        let reprice = price != old_price;
        let grow = qty > old_qty;
        if (reprice || grow) && self.market().is_stale() {
            return self.modify_rejected(now, id, Reason::BookStale);
        }
        let touch = self.market().best_price(side.opposite());
        let worst = touch.map_or(0, |t| t.unsigned_abs()).max(price.unsigned_abs());
        if !fee_fits(&self.cfg.fees, worst, qty) {
            return self.modify_rejected(now, id, Reason::FeeOverflow);
        }
        let crosses = touch.is_some_and(|t| !side.better(t, price));
        if reprice && crosses && post_only {
            return self.modify_rejected(now, id, Reason::PostOnlyWouldCross);
        }
        if reduce_only && qty - filled > self.reducible(side) {
            return self.modify_rejected(now, id, Reason::ReduceOnlyExceedsPosition);
        }

        self.reports.push(Report { ts: now, order: id, kind: ReportKind::Modified { price, qty } });
        if !(reprice || grow) {
            // A pure decrease keeps the order's place in the queue.
            if let Some(o) = self.orders.get_mut(&id) {
                o.qty = qty;
            }
            return true;
        }
        // Anything else goes to the back: off its level now, onto the new one after any
        // taking below.
        self.unlink_level(side, old_price, id);
        let mut leaves = qty - filled;
        if reprice && crosses {
            leaves = self.take_as_taker(now, id, side, price, leaves);
        }
        if leaves == 0 {
            self.remove_live(id);
            return true;
        }
        let queue_ahead = self.market().volume_at(side, price);
        self.queue_requeued(id);
        if let Some(o) = self.orders.get_mut(&id) {
            o.price = price;
            o.qty = qty;
            o.filled = qty - leaves;
            o.queue_ahead = queue_ahead;
        }
        self.levels[side.idx()].entry(price).or_default().push(id);
        true
    }

    /// Fills up to `leaves` lots of order `id` as taker against the book up to `bound`;
    /// returns the lots still open.
    fn take_as_taker(&mut self, now: i64, id: OrderId, side: Side, bound: i64, mut leaves: i64) -> i64 {
        let opp = side.opposite();
        let mut fills = std::mem::take(&mut self.scratch_fills);
        fills.clear();
        plan_take(&self.market(), &self.consumed[opp.idx()], side, bound, leaves, &mut fills);
        for &(p, q) in &fills {
            consumed_add(&mut self.consumed[opp.idx()], p, q);
            leaves -= q;
            self.add_position(side, q);
            let fee = self
                .cfg
                .fees
                .fee(p, q, Liquidity::Taker)
                .expect("fee range checked at modify");
            self.stats.fills += 1;
            self.reports.push(Report {
                ts: now,
                order: id,
                kind: ReportKind::Filled { price: p, qty: q, liquidity: Liquidity::Taker, fee, leaves },
            });
        }
        self.scratch_fills = fills;
        leaves
    }

    /// Takes `id` off our per-price index (not off `orders`).
    fn unlink_level(&mut self, side: Side, price: i64, id: OrderId) {
        let lv = &mut self.levels[side.idx()];
        if let Some(ids) = lv.get_mut(&price) {
            if let Some(pos) = ids.iter().position(|&x| x == id) {
                ids.remove(pos);
            }
            if ids.is_empty() {
                lv.remove(&price);
            }
        }
    }
}
