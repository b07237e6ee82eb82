//! The venue's own net position and the reduce-only rules (see the module docs of
//! `sim`, "Position and reduce-only").

use crate::Side;

use super::{OrderId, Reason, Report, ReportKind, SimVenue};

/// `position` after a fill of `qty` lots by an order on `side` (Bid buys). Saturates at
/// the i64 range, which real sizes never approach.
#[inline]
pub(super) fn add_signed(position: i64, side: Side, qty: i64) -> i64 {
    match side {
        Side::Bid => position.saturating_add(qty),
        Side::Ask => position.saturating_sub(qty),
    }
}

/// Lots an order on `side` can fill without increasing |position|: the position it
/// reduces, or 0 when the position is flat or on the order's side.
#[inline]
pub(super) fn reducible(side: Side, position: i64) -> i64 {
    match side {
        Side::Ask => position.max(0),
        Side::Bid => position.min(0).saturating_neg(),
    }
}

impl SimVenue {
    /// Net position in lots from the venue's fills (+ long, - short), starting from
    /// [`Self::set_position`].
    pub fn position(&self) -> i64 {
        self.position
    }

    /// Sets the position (a starting position, or a correction); resting reduce-only
    /// orders are then checked against it at the clock's time.
    pub fn set_position(&mut self, lots: i64) {
        self.position = lots;
        self.reduce_only_check = true;
        let now = self.clock;
        self.settle(now);
    }

    /// Lots an order on `side` may fill now under reduce-only.
    pub(super) fn reducible(&self, side: Side) -> i64 {
        reducible(side, self.position)
    }

    pub(super) fn add_position(&mut self, side: Side, qty: i64) {
        self.position = add_signed(self.position, side, qty);
        self.reduce_only_check = true;
    }

    /// After a trade print's fills: reduce-only checks, then the print as the last
    /// price for the triggers.
    pub(super) fn after_trade(&mut self, now: i64, price: i64) {
        self.settle(now);
        self.observe_last(now, price);
    }

    /// Brings resting reduce-only orders within the position after anything that may
    /// have changed it: each one (ascending id) whose remaining exceeds the position it
    /// reduces is cut down to it (`Modified`, place in the queue kept), or canceled
    /// (`REDUCE_ONLY_EXCEEDS_POSITION`) when the position is flat or on its side.
    pub(super) fn settle(&mut self, now: i64) {
        if !self.reduce_only_check {
            return;
        }
        self.reduce_only_check = false;
        if self.reduce_only_ids.is_empty() {
            return;
        }
        let mut ids = std::mem::take(&mut self.scratch_ids);
        ids.clear();
        ids.extend(self.reduce_only_ids.iter().copied());
        for &id in &ids {
            let position = self.position;
            let Some(o) = self.orders.get_mut(&id) else { continue };
            let max = reducible(o.side, position);
            if max == 0 {
                self.remove_live(id);
                self.push_report(now, id, ReportKind::Canceled { reason: Reason::ReduceOnlyExceedsPosition });
            } else if o.remaining() > max {
                o.qty = o.filled + max;
                let kind = ReportKind::Modified { price: o.price, qty: o.qty };
                self.push_report(now, id, kind);
            }
        }
        self.scratch_ids = ids;
    }

    #[inline]
    fn push_report(&mut self, ts: i64, order: OrderId, kind: ReportKind) {
        self.reports.push(Report { ts, order, kind });
    }
}
