//! Command latency: commands wait here from their issue time until they arrive.
//!
//! A command issued at `ts` (or at the clock, if `ts` is older) arrives at
//! `issue + latency` of its kind; pending commands are applied in (arrival, issue
//! sequence) order. The ordering rules against market data are in the module docs of
//! `sim` ("Clock, latency and timestamps").

use std::collections::BTreeMap;

use super::{Amend, OrderId, OrderRequest, SimVenue};

/// A command on its way to the venue.
#[derive(Debug, Clone)]
pub(super) enum Command {
    Submit(OrderRequest),
    Cancel,
    Modify(Amend),
}

/// Commands in flight, keyed by (arrival, issue sequence).
#[derive(Debug, Clone, Default)]
pub(super) struct Pending {
    queue: BTreeMap<(i64, u64), (OrderId, Command)>,
    seq: u64,
}

impl Pending {
    #[inline]
    pub(super) fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// True when a submit of order `id` is in flight.
    pub(super) fn has(&self, id: OrderId) -> bool {
        self.queue.values().any(|(i, cmd)| *i == id && matches!(cmd, Command::Submit(_)))
    }

    pub(super) fn push(&mut self, arrival: i64, id: OrderId, cmd: Command) {
        self.seq += 1;
        self.queue.insert((arrival, self.seq), (id, cmd));
    }

    /// Removes the first command due before `ts` (or at `ts` when `inclusive`).
    fn pop_due(&mut self, ts: i64, inclusive: bool) -> Option<(i64, OrderId, Command)> {
        let (&(arrival, _), _) = self.queue.first_key_value()?;
        if arrival > ts || (arrival == ts && !inclusive) {
            return None;
        }
        let ((arrival, _), (id, cmd)) = self.queue.pop_first()?;
        Some((arrival, id, cmd))
    }
}

impl SimVenue {
    /// Submits an order issued at `ts`; returns its id at once. The order arrives after
    /// `submit_latency_ns`; its reports (`Accepted` or `Rejected` first) carry the
    /// arrival time.
    pub fn submit(&mut self, ts: i64, req: OrderRequest) -> OrderId {
        let now = self.advance_to(ts);
        let id = self.next_id;
        self.next_id += 1;
        self.stats.orders += 1;
        let lat = self.cfg.submit_latency_ns;
        if lat == 0 {
            self.execute_submit(now, id, req);
            self.settle(now);
        } else {
            self.pending.push(now.saturating_add(lat), id, Command::Submit(req));
        }
        id
    }

    /// Cancels order `id`, issued at `ts`: it arrives after `cancel_latency_ns` and then
    /// reports `Canceled{USER_CANCEL}` or `CancelRejected{UNKNOWN_ORDER}`. Returns true
    /// when the order was canceled within this call (only possible with no cancel
    /// latency); false when it was not live or the cancel is still in flight.
    pub fn cancel(&mut self, ts: i64, id: OrderId) -> bool {
        let now = self.advance_to(ts);
        let lat = self.cfg.cancel_latency_ns;
        if lat == 0 {
            return self.execute_cancel(now, id);
        }
        self.pending.push(now.saturating_add(lat), id, Command::Cancel);
        false
    }

    /// Applies the pending commands and GTD expiries due at or before `ts` with no market
    /// data, and moves the clock to `ts` (never back). Returns the clock.
    ///
    /// Every command call does this first: issuing a command at `ts` says that the
    /// caller has delivered all market data up to `ts`.
    pub fn advance_to(&mut self, ts: i64) -> i64 {
        if !self.pending.is_empty() {
            self.apply_pending(ts, true);
        }
        self.advance_clock(ts)
    }

    /// Commands in flight (issued, not yet arrived).
    pub fn pending_commands(&self) -> usize {
        self.pending.queue.len()
    }

    /// Applies the pending commands that arrive before `ts` (at `ts` too when
    /// `inclusive`), each at its arrival time, in (arrival, issue) order.
    pub(super) fn apply_pending(&mut self, ts: i64, inclusive: bool) {
        while let Some((arrival, id, cmd)) = self.pending.pop_due(ts, inclusive) {
            let now = self.advance_clock(arrival);
            match cmd {
                Command::Submit(req) => {
                    self.execute_submit(now, id, req);
                }
                Command::Cancel => {
                    self.execute_cancel(now, id);
                }
                Command::Modify(amend) => {
                    self.execute_modify(now, id, amend);
                }
            }
            self.settle(now);
        }
    }
}
