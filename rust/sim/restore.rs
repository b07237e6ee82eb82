//! Restart: putting back the orders a venue held before the process died.
//!
//! A simulated venue (paper, backtest) lives in the process and dies with it. After a
//! restart the caller rebuilds its orders from the journal and hands the ones that were
//! live at the venue to [`SimVenue::restore`], under their old ids, then moves the
//! id counter past every id used before with [`SimVenue::reserve_ids`] and sets the
//! position with [`SimVenue::set_position`]. What a restore does:
//!
//! - **No report.** The order was accepted before the restart; restoring it says nothing
//!   (no `Accepted`), so the caller's order history goes on as it was.
//! - **Same id, same quantities.** `req.qty` is the order's total quantity and `filled`
//!   what it already filled (`0 <= filled < qty`): later `Filled` reports count `leaves`
//!   from there and an amend's quantity is a total, as before the restart. The counter
//!   never hands out a restored id again.
//! - **Queue position: the back.** A resting order gets `queue_ahead` = the book's size at
//!   its price now, like an order resting now. On a stale book (a fresh venue before its
//!   first snapshot) it is behind everything: `queue_ahead = i64::MAX`, which the first
//!   snapshot clamps to the level's size. On the L3 feed the set of orders ahead is taken
//!   at the first row touching the level, as for any resting order: restore after the
//!   book holds the level, or the order is at the front of whatever arrives later.
//! - **Conditional orders** wait in the trigger book as if accepted now: a trailing stop
//!   trails from the price its source shows now (none on a fresh venue: from its first
//!   observation), starting from `trigger_price` if given; the ratchet it had before the
//!   restart is not known to the venue. One already through its trigger is not refused
//!   (`WOULD_TRIGGER_IMMEDIATELY` is for new orders): it fires at the next observation.
//!   A conditional order that fired before the restart is restored as the order it
//!   released (a limit order; a market order never rests and cannot be restored).
//! - **Expiry and reduce-only** apply from the next step on: a GTD order already past its
//!   expiry expires at the next clock step, and a reduce-only order larger than the
//!   position is cut (or canceled) after the next command, trade print or
//!   `set_position`, with the usual reports.
//!
//! A refused restore ([`RestoreError`]) changes nothing.

use std::fmt;

use crate::query::{price_in_range, LevelSource};

use super::{OrderId, OrderRequest, OrderType, Reason, RestingOrder, SimVenue, TimeInForce};

/// A restore the venue cannot take; each names the field, the value and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RestoreError {
    /// 0, or the id of a live order (or of a submit still in flight).
    Id(OrderId),
    /// The client id of a live order.
    DuplicateClientId(String),
    /// Not `0 <= filled < qty`.
    Quantity { qty: i64, filled: i64 },
    /// A market order, or an IOC or FOK limit order: it never rests.
    NeverRests(&'static str),
    /// A limit price out of the book's range.
    Price(i64),
    /// What a submit would be rejected for whatever the market (wrong trigger fields for
    /// the type, post-only on a market kind or with IOC/FOK).
    Refused(Reason),
    /// A conditional order that has not fired has no fills.
    FilledConditional(i64),
}

impl fmt::Display for RestoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestoreError::Id(id) => {
                write!(f, "order_id {id} is 0 or already in use (rule: the id of an order that is not live)")
            }
            RestoreError::DuplicateClientId(c) => {
                write!(f, "client_id {c:?} is used by a live order (rule: unique among live orders)")
            }
            RestoreError::Quantity { qty, filled } => {
                write!(f, "filled {filled} of qty {qty} is not allowed (rule: 0 <= filled < qty)")
            }
            RestoreError::NeverRests(what) => {
                write!(f, "order_type {what} never rests (rule: restore resting or waiting orders)")
            }
            RestoreError::Price(p) => write!(f, "price {p} is out of range (rule: |price| < 2^62)"),
            RestoreError::Refused(reason) => {
                write!(f, "order is refused: {} (rule: the checks of a submit)", reason.as_str())
            }
            RestoreError::FilledConditional(filled) => write!(
                f,
                "filled {filled} is not allowed on a conditional order that has not fired (rule: 0)"
            ),
        }
    }
}

impl std::error::Error for RestoreError {}

impl SimVenue {
    /// Puts back an order the venue held before a restart, under its old `id`, with
    /// `filled` lots of `req.qty` already filled; no report (see the module docs).
    pub fn restore(&mut self, id: OrderId, req: OrderRequest, filled: i64) -> Result<(), RestoreError> {
        if id == 0 || self.orders.contains_key(&id) || self.conditionals.contains_key(&id) || self.pending.has(id)
        {
            return Err(RestoreError::Id(id));
        }
        if let Some(c) = &req.client_id {
            if self.clients.contains_key(c) {
                return Err(RestoreError::DuplicateClientId(c.clone()));
            }
        }
        if req.qty <= 0 || filled < 0 || filled >= req.qty {
            return Err(RestoreError::Quantity { qty: req.qty, filled });
        }
        super::conditional::check_plain(&req).map_err(RestoreError::Refused)?;
        let price = match (req.order_type, req.tif) {
            (OrderType::Market, _) => return Err(RestoreError::NeverRests("market")),
            (OrderType::Limit { .. }, TimeInForce::Ioc) => return Err(RestoreError::NeverRests("limit IOC")),
            (OrderType::Limit { .. }, TimeInForce::Fok) => return Err(RestoreError::NeverRests("limit FOK")),
            (OrderType::Limit { price }, _) => price,
            _ => {
                if filled != 0 {
                    return Err(RestoreError::FilledConditional(filled));
                }
                self.restore_conditional(id, req)?;
                self.reserve_ids(id.saturating_add(1));
                return Ok(());
            }
        };
        if !price_in_range(price) {
            return Err(RestoreError::Price(price));
        }
        let expiry = match req.tif {
            TimeInForce::Gtd { expiry } => Some(expiry),
            _ => None,
        };
        let side = req.side;
        let market = self.market();
        // Behind everything: on a stale book the first snapshot clamps it to the level.
        let queue_ahead = if market.is_stale() { i64::MAX } else { market.volume_at(side, price) };
        if let Some(c) = &req.client_id {
            self.clients.insert(c.clone(), id);
        }
        if let Some(e) = expiry {
            self.expiries.push(std::cmp::Reverse((e, id)));
        }
        if req.reduce_only {
            self.reduce_only_ids.insert(id);
            self.reduce_only_check = true;
        }
        // Our own orders at a level keep the order they are restored in.
        self.levels[side.idx()].entry(price).or_default().push(id);
        self.orders.insert(
            id,
            RestingOrder {
                id,
                client_id: req.client_id,
                side,
                price,
                qty: req.qty,
                filled,
                queue_ahead,
                expiry,
                post_only: req.post_only,
                reduce_only: req.reduce_only,
            },
        );
        self.reserve_ids(id.saturating_add(1));
        Ok(())
    }

    /// Never hands out an id below `next` (ids used before a restart).
    pub fn reserve_ids(&mut self, next: OrderId) {
        self.next_id = self.next_id.max(next);
    }

    /// The id the next submit gets.
    pub fn next_order_id(&self) -> OrderId {
        self.next_id
    }
}
