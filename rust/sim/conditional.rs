//! Conditional orders (stop, take-profit, trailing stop): held in a
//! [`crate::trigger::TriggerBook`] until an observation fires them, then released as a
//! market or limit order. The rules are in the module docs of `sim` ("Conditional
//! orders").

use crate::query::price_in_range;
use crate::trigger::{TriggerError, TriggerKind, TriggerSource, TriggerSpec};
use crate::Side;

use super::{OrderId, OrderRequest, OrderType, Reason, Report, ReportKind, RestoreError, SimVenue, TimeInForce};
use crate::trigger::TriggerBook;

/// A conditional order waiting for its trigger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConditionalOrder {
    pub id: OrderId,
    /// The order as submitted (or as amended since).
    pub req: OrderRequest,
    pub expiry: Option<i64>,
}

/// The trigger-book kind of a conditional order type.
fn trigger_kind(t: OrderType) -> Option<TriggerKind> {
    match t {
        OrderType::StopMarket | OrderType::StopLimit { .. } => Some(TriggerKind::Stop),
        OrderType::TakeProfitMarket | OrderType::TakeProfitLimit { .. } => Some(TriggerKind::TakeProfit),
        OrderType::TrailingStopMarket => Some(TriggerKind::TrailingStop),
        OrderType::Market | OrderType::Limit { .. } => None,
    }
}

/// The reason code for a trigger-book refusal.
fn reason_of(e: TriggerError) -> Reason {
    match e {
        TriggerError::Missing { field: "trigger_price", .. } => Reason::BadTriggerPrice,
        TriggerError::PriceRange { field: "trigger_price", .. } => Reason::BadTriggerPrice,
        TriggerError::Missing { .. }
        | TriggerError::NotAllowed { .. }
        | TriggerError::OffsetTicks { .. }
        | TriggerError::OffsetBps { .. } => Reason::BadTrailOffset,
        TriggerError::WouldLoosen { .. } => Reason::TriggerWouldLoosen,
        TriggerError::PriceRange { .. } => Reason::BadTriggerPrice,
        TriggerError::DuplicateId { .. } | TriggerError::UnknownId { .. } => Reason::UnknownOrder,
    }
}

/// Checks the trigger fields of a plain (market or limit) order: it has none.
pub(super) fn check_plain(req: &OrderRequest) -> Result<(), Reason> {
    if trigger_kind(req.order_type).is_some() {
        return Ok(());
    }
    if req.trigger_price.is_some() {
        return Err(Reason::BadTriggerPrice);
    }
    if req.trail_offset.is_some() {
        return Err(Reason::BadTrailOffset);
    }
    Ok(())
}

impl SimVenue {
    /// Conditional orders waiting for their trigger.
    pub fn conditional_orders(&self) -> impl Iterator<Item = &ConditionalOrder> + '_ {
        self.conditionals.values()
    }

    /// A waiting conditional order.
    pub fn conditional_order(&self, id: OrderId) -> Option<&ConditionalOrder> {
        self.conditionals.get(&id)
    }

    /// The trigger book holding the waiting conditional orders (ids are order ids).
    pub fn triggers(&self) -> &TriggerBook {
        &self.triggers
    }

    /// The price an entry of `source` on `side` would observe now, if any.
    fn observed(&self, source: TriggerSource, side: Side) -> Option<i64> {
        match source {
            TriggerSource::Last => self.last_trade,
            TriggerSource::Mark => self.mark,
            // The touch the released order would trade against.
            TriggerSource::BidAsk => self.market().best_price(side.opposite()),
        }
    }

    /// Checks and accepts a conditional order arriving at `now` (the checks common to
    /// every submit are done by the caller).
    pub(super) fn accept_conditional(&mut self, now: i64, id: OrderId, req: OrderRequest) -> OrderId {
        let kind = trigger_kind(req.order_type).expect("a conditional order type");
        if let OrderType::StopLimit { price } | OrderType::TakeProfitLimit { price } = req.order_type {
            if !price_in_range(price) {
                return self.reject(now, id, Reason::BadPrice);
            }
            if req.post_only && matches!(req.tif, TimeInForce::Ioc | TimeInForce::Fok) {
                return self.reject(now, id, Reason::PostOnlyNeedsGtcOrGtd);
            }
        } else if req.post_only {
            return self.reject(now, id, Reason::PostOnlyMarket);
        }
        let expiry = match req.tif {
            TimeInForce::Gtd { expiry } if expiry <= now => return self.reject(now, id, Reason::ExpiryInPast),
            TimeInForce::Gtd { expiry } => Some(expiry),
            _ => None,
        };
        let seen = self.observed(req.trigger_source, req.side);
        // A trailing stop trails from the price when it is placed.
        let trailing = kind == TriggerKind::TrailingStop;
        let spec = TriggerSpec {
            id,
            side: req.side,
            kind,
            source: req.trigger_source,
            trigger_price: req.trigger_price,
            offset: req.trail_offset,
            user_stop: None,
            reference: seen.filter(|p| trailing && price_in_range(*p)),
        };
        if let Err(e) = spec.validate() {
            return self.reject(now, id, reason_of(e));
        }
        if req.reduce_only && self.reducible(req.side) == 0 {
            return self.reject(now, id, Reason::ReduceOnlyWouldIncrease);
        }
        if seen.is_some_and(|p| TriggerBook::would_fire(&spec, p)) {
            return self.reject(now, id, Reason::WouldTriggerImmediately);
        }
        if let Err(e) = self.triggers.add(&spec) {
            return self.reject(now, id, reason_of(e));
        }
        self.reports.push(Report { ts: now, order: id, kind: ReportKind::Accepted });
        if let Some(c) = &req.client_id {
            self.clients.insert(c.clone(), id);
        }
        if let Some(e) = expiry {
            self.expiries.push(std::cmp::Reverse((e, id)));
        }
        self.conditionals.insert(id, ConditionalOrder { id, req, expiry });
        id
    }

    /// A waiting conditional order put back after a restart (see `restore.rs`): the
    /// checks of [`Self::accept_conditional`] that do not depend on the moment (no
    /// expiry, reduce-only or would-trigger check), then into the trigger book; no report.
    pub(super) fn restore_conditional(&mut self, id: OrderId, req: OrderRequest) -> Result<(), RestoreError> {
        let kind = trigger_kind(req.order_type).expect("a conditional order type");
        if let Some(price) = req.order_type.limit_price() {
            if !price_in_range(price) {
                return Err(RestoreError::Price(price));
            }
            if req.post_only && matches!(req.tif, TimeInForce::Ioc | TimeInForce::Fok) {
                return Err(RestoreError::Refused(Reason::PostOnlyNeedsGtcOrGtd));
            }
        } else if req.post_only {
            return Err(RestoreError::Refused(Reason::PostOnlyMarket));
        }
        let seen = self.observed(req.trigger_source, req.side);
        let spec = TriggerSpec {
            id,
            side: req.side,
            kind,
            source: req.trigger_source,
            trigger_price: req.trigger_price,
            offset: req.trail_offset,
            user_stop: None,
            reference: seen.filter(|p| kind == TriggerKind::TrailingStop && price_in_range(*p)),
        };
        self.triggers.add(&spec).map_err(|e| RestoreError::Refused(reason_of(e)))?;
        let expiry = match req.tif {
            TimeInForce::Gtd { expiry } => Some(expiry),
            _ => None,
        };
        if let Some(c) = &req.client_id {
            self.clients.insert(c.clone(), id);
        }
        if let Some(e) = expiry {
            self.expiries.push(std::cmp::Reverse((e, id)));
        }
        self.conditionals.insert(id, ConditionalOrder { id, req, expiry });
        Ok(())
    }

    /// Removes a waiting conditional order; false when `id` is not one.
    pub(super) fn remove_conditional(&mut self, id: OrderId) -> bool {
        let Some(c) = self.conditionals.remove(&id) else { return false };
        self.triggers.remove(id);
        if let Some(cid) = &c.req.client_id {
            self.clients.remove(cid);
        }
        true
    }

    /// Amends a waiting conditional order: its trigger price, limit price (limit kinds)
    /// and/or quantity. True when accepted.
    pub(super) fn modify_conditional(
        &mut self,
        now: i64,
        id: OrderId,
        price: Option<i64>,
        qty: Option<i64>,
        trigger_price: Option<i64>,
    ) -> bool {
        let Some(c) = self.conditionals.get(&id) else {
            return self.modify_rejected(now, id, Reason::UnknownOrder);
        };
        let req = c.req.clone();
        if price.is_none() && qty.is_none() && trigger_price.is_none() {
            return self.modify_rejected(now, id, Reason::NothingToModify);
        }
        if qty.is_some_and(|q| q <= 0) {
            return self.modify_rejected(now, id, Reason::BadQty);
        }
        let order_type = match (req.order_type, price) {
            (t, None) => t,
            (_, Some(p)) if !price_in_range(p) => return self.modify_rejected(now, id, Reason::BadPrice),
            (OrderType::StopLimit { .. }, Some(p)) => OrderType::StopLimit { price: p },
            (OrderType::TakeProfitLimit { .. }, Some(p)) => OrderType::TakeProfitLimit { price: p },
            // A market kind has no limit price to change.
            (_, Some(_)) => return self.modify_rejected(now, id, Reason::BadPrice),
        };
        if let Some(t) = trigger_price {
            if !price_in_range(t) {
                return self.modify_rejected(now, id, Reason::BadTriggerPrice);
            }
            // The same rule as at submission: a new trigger already through the price is
            // refused, not fired.
            let entry = self.triggers.get(id).copied().expect("a waiting order is in the trigger book");
            let spec = TriggerSpec {
                id,
                side: entry.side,
                kind: entry.kind,
                source: entry.source,
                trigger_price: Some(t),
                offset: entry.offset,
                user_stop: None,
                reference: entry.extreme,
            };
            let seen = self.observed(entry.source, entry.side);
            if seen.is_some_and(|p| TriggerBook::would_fire(&spec, p)) {
                return self.modify_rejected(now, id, Reason::WouldTriggerImmediately);
            }
            if let Err(e) = self.triggers.amend_trigger(id, t) {
                return self.modify_rejected(now, id, reason_of(e));
            }
        }
        let c = self.conditionals.get_mut(&id).expect("checked above");
        c.req.order_type = order_type;
        if let Some(t) = trigger_price {
            c.req.trigger_price = Some(t);
        }
        if let Some(q) = qty {
            c.req.qty = q;
        }
        let (p, q) = (order_type.limit_price().unwrap_or(0), c.req.qty);
        self.reports.push(Report { ts: now, order: id, kind: ReportKind::Modified { price: p, qty: q } });
        true
    }

    /// Feeds an observation to the trigger book and releases what it fires.
    fn observe(&mut self, now: i64, source: TriggerSource, price: Option<i64>) {
        let mut fired = std::mem::take(&mut self.scratch_fired);
        fired.clear();
        // A price out of the book range is refused by the trigger book: no observation,
        // nothing fired.
        let _refused = match source {
            TriggerSource::Last => price.map(|p| self.triggers.on_last(p, &mut fired).is_err()),
            TriggerSource::Mark => price.map(|p| self.triggers.on_mark(p, &mut fired).is_err()),
            TriggerSource::BidAsk => {
                let bid = self.market().best_price(Side::Bid);
                let ask = self.market().best_price(Side::Ask);
                Some(self.triggers.on_bid_ask(bid, ask, &mut fired).is_err())
            }
        };
        for &id in &fired {
            let Some(c) = self.conditionals.get(&id) else { continue };
            // What this order observed: for bid/ask, the touch on its own trading side.
            let at = self.observed(source, c.req.side).unwrap_or(0);
            self.release(now, id, at);
        }
        self.scratch_fired = fired;
        self.settle(now);
    }

    /// A fired order: `Triggered{price}` (the observation that fired it), then it works
    /// as its market or limit order at once.
    fn release(&mut self, now: i64, id: OrderId, at: i64) {
        let Some(c) = self.conditionals.remove(&id) else { return };
        if let Some(cid) = &c.req.client_id {
            // Taken again below if the released order rests.
            self.clients.remove(cid);
        }
        self.reports.push(Report { ts: now, order: id, kind: ReportKind::Triggered { price: at } });
        let mut req = c.req;
        req.order_type = req.order_type.released();
        req.trigger_price = None;
        req.trail_offset = None;
        self.releasing = Some(id);
        self.execute_submit(now, id, req);
        self.releasing = None;
    }

    /// A last trade price (after the print's fills).
    pub(super) fn observe_last(&mut self, now: i64, price: i64) {
        self.last_trade = Some(price);
        if !self.triggers.is_empty() {
            self.observe(now, TriggerSource::Last, Some(price));
        }
    }

    /// The top of the book after a book message.
    pub(super) fn observe_book(&mut self, now: i64) {
        if !self.triggers.is_empty() && !self.market().is_stale() {
            self.observe(now, TriggerSource::BidAsk, None);
        }
    }

    /// A mark price at `ts` (market data: pending commands arriving before `ts` go
    /// first). Refused, with nothing changed, when `|price| >= 2^62`.
    pub fn on_mark(&mut self, ts: i64, price: i64) -> Result<(), TriggerError> {
        if !price_in_range(price) {
            return Err(TriggerError::PriceRange { field: "mark", value: price });
        }
        let now = self.advance(ts);
        self.mark = Some(price);
        if !self.triggers.is_empty() {
            self.observe(now, TriggerSource::Mark, Some(price));
        }
        Ok(())
    }
}
