//! Simulated venue: one instrument, our orders matched against an L2 book and the
//! market's trade prints, deterministic, producing venue reports with timestamps.
//!
//! # Inputs
//!
//! - Market data: normalized [`Event`] rows through [`SimVenue::on_events`]. Snapshot and
//!   diff messages (rows from `FLAG_BEGIN` to `FLAG_END`) go to the owned [`L2Book`]
//!   under its sequence rules; `KIND_TRADE` rows are trade prints (`side` = the
//!   aggressor). Tickers and L3 rows are ignored (counted in
//!   [`SimStats::ignored_rows`]). Mark prices through [`SimVenue::on_mark`]. On the L3
//!   feed ([`Feed::L3`]) the `KIND_L3_*` rows build an L3 book instead, L2 rows are
//!   ignored (counted), and trade prints are observations only: see [`l3feed`].
//! - Our commands: [`SimVenue::submit`], [`SimVenue::cancel`] and [`SimVenue::modify`],
//!   each with its own timestamp. Orders get an internal id (`u64`, from 1 upwards, in
//!   submission order) and may carry a client id, unique among live orders (resting
//!   and waiting conditional ones).
//!
//! # Clock, latency and timestamps
//!
//! The venue clock is the latest time seen: a row's `ts_event` (its `ts_recv` when
//! `ts_event` is 0), a command's issue time, an [`SimVenue::advance_to`] time, or a
//! pending command's arrival. It never goes back: an input older than the clock is
//! handled at the clock's time.
//!
//! Commands ([`SimVenue::submit`], [`SimVenue::cancel`], [`SimVenue::modify`]) are issued at their `ts` and
//! arrive at `ts + latency` of their kind ([`SimConfig`]'s `submit_latency_ns`,
//! `cancel_latency_ns`, `modify_latency_ns`, each >= 0); they take effect at arrival, and
//! every report they cause carries the arrival time. `submit` returns the order id at
//! once. Until it arrives a command is pending; pending commands are applied in order of
//! (arrival, issue sequence):
//!
//! - Before a market row at time `t`, every pending command arriving *before* `t` is
//!   applied, each at its arrival time. A command arriving exactly at `t` waits until
//!   after the rows at `t`: on a tie the market event goes first. That is the
//!   conservative choice: a fill beats a cancel at the same instant.
//! - A command call, or `advance_to(t)`, first applies every pending command arriving
//!   at or before `t`: issuing a command at `t` says the caller has delivered the market
//!   data up to `t`.
//! - With zero latency (the default) a command takes effect within its call, at its own
//!   timestamp, between the market events the caller interleaves it with: the behaviour
//!   of the first part, exactly.
//! - An order exists at the venue from its arrival on. A cancel that arrives before its
//!   order, or after the order is done (filled, expired, canceled), gets
//!   `CancelRejected{UNKNOWN_ORDER}`; fills that happened before the cancel arrived
//!   stand. One code serves both cases on purpose (there is no `TOO_LATE_TO_CANCEL`):
//!   it is what a real venue answers for an order it no longer has open (Binance:
//!   -2011 "Unknown order sent."), and what the first part answered.
//!
//! The clock moves in steps: to each market row's time, each pending command's arrival,
//! and each command call's or `advance_to`'s time. At every step, GTD orders whose expiry
//! the clock has reached (`clock >= expiry`) expire first, reported at that step's time,
//! *before* the row or command of the step is applied: a trade print at exactly the
//! expiry time does not fill the order, and a cancel arriving then finds it gone. Every
//! check of an order (including a GTD expiry already past) happens at its arrival.
//!
//! # Reports
//!
//! `Accepted` (the order passed validation), `Rejected{reason}` (it did not; nothing
//! else is ever reported for it), `Filled{price, qty, liquidity, fee, leaves}` (one per
//! execution; `leaves` is the quantity still open after it), `Canceled{reason}`,
//! `Expired`, `CancelRejected{reason}` for a cancel of an order that is not live,
//! `Modified{price, qty}` and `ModifyRejected{reason}` (see "Amend"), and
//! `Triggered{price}` when a conditional order fires (see "Conditional orders").
//! Terminal reports: `Rejected`, `Canceled`, `Expired`, and a `Filled` with `leaves == 0`;
//! every order gets exactly one of them (market, IOC and FOK orders get it within the
//! `submit` call). Reason codes are stable upper-case strings ([`Reason::as_str`]).
//!
//! # Taking liquidity (market orders and the marketable part of limit orders)
//!
//! The order walks the opposite side of the book from the touch, filling at each
//! level's price for at most the level's size, as taker. The book is the feed's
//! ([`SimVenue::market`]): the L2 book, or the L3 book's aggregated levels; on the L3
//! feed every L3 row counts as a book message for consumed liquidity.
//!
//! - **Consumed liquidity.** What our fills took is remembered per side as price ->
//!   lots until the next book message (snapshot or diff) is applied, whatever the
//!   message's outcome: within one market event, the size available to our next order
//!   at a price is the book's size minus what we already took there. Trade prints do
//!   not reset it.
//! - **Market orders** stop at a slippage cap: `cap = ref ± floor(|ref| × bps / 10000)`
//!   ticks (+ for a buy, - for a sell), where `ref` is the touch of the side the order
//!   takes from (best ask for a buy, best bid for a sell) as the book shows it at
//!   submission (not net of consumed liquidity, so a second order in the same event
//!   gets the same cap and reaches it sooner). `bps` is the order's own
//!   `slippage_bps`, or the venue's default. Rounding the offset down keeps every fill
//!   inside the cap. The remainder is canceled with `SLIPPAGE_CAP` when the next level
//!   is beyond the cap, or `NO_LIQUIDITY` when the side ran out inside the cap. A market
//!   order never rests (GTC, GTD and IOC all behave as IOC); FOK is honoured (all
//!   within the cap, or nothing). A market order with an empty opposite side is
//!   rejected (`NO_REFERENCE_PRICE`); post-only market orders are rejected.
//! - **Limit orders** walk up to their limit price. IOC: the remainder is canceled
//!   (`IOC_REMAINDER`). FOK: the walk is checked first; if the available size up to the
//!   limit is short, the order is canceled (`FOK_UNFILLABLE`) with nothing filled.
//!   GTC/GTD: the remainder rests as maker at the limit price.
//! - **Post-only** is rejected (`POST_ONLY_WOULD_CROSS`) when the opposite touch as the
//!   book shows it is at or better than the limit (a locked book counts as crossing),
//!   not net of consumed liquidity: the conservative choice. Post-only requires GTC or
//!   GTD (`POST_ONLY_NEEDS_GTC_OR_GTD`).
//!
//! # Resting orders and their queue position
//!
//! The book is the market's; our resting orders are not in it (they do not match each
//! other, and the book's sizes never include them). What follows is the L2 feed; on the
//! L3 feed the position is exact and fills come from EXECUTE rows ([`l3feed`]).
//!
//! - When an order rests, `queue_ahead` = the book's size at its price on its side.
//! - A trade print at price `p` whose aggressor is on the other side is a budget of
//!   `qty` lots, handed out in price priority (best price for the aggressor's
//!   counterparty first: for a sell aggressor, our highest bids first):
//!   - our orders at prices strictly better than `p` (the aggressor traded through
//!     them) are filled up to their remaining size, in time order, while the budget
//!     lasts;
//!   - our orders at exactly `p`, in time order: the print first eats the market lots
//!     ahead of the order (`queue_ahead`), then fills the order. Market lots eaten by
//!     this print ahead of an earlier order of ours are also ahead of the later ones
//!     and reduce their `queue_ahead` too.
//!
//!   Fills are at our price, as maker, partial to the lot.
//! - A size change at our level seen in a book diff moves `queue_ahead` by the venue's
//!   [`QueueModel`] (formulas in [`queue`]). `Conservative` (the default): a decrease is
//!   assumed to come off the back of the queue, so `queue_ahead` does not shrink, except
//!   that it is clamped to the level's current size (it can never exceed it).
//!   `Probabilistic { power }`: the part of a decrease not explained by the prints at
//!   that price since the last applied book message counts as cancellations, spread
//!   over the queue ahead and behind us with weights `ahead^n : behind^n`, floored in
//!   lots; never further forward than the conservative model. In both, an increase goes
//!   behind us, and after a snapshot every resting order is clamped. Nothing moves while
//!   the book is stale.
//! - The book moving through our price without a print does not fill us: only prints do.
//!
//! # Amend
//!
//! [`SimVenue::modify`] changes a resting limit order's price and/or total quantity
//! (filled lots included). It is checked at arrival, in this order; the first check
//! that fails gives `ModifyRejected{reason}` and leaves the order exactly as it was:
//! `UNKNOWN_ORDER` (not live), `NOTHING_TO_MODIFY` (neither a price nor a quantity),
//! `BAD_QTY` (new quantity <= 0), `QTY_BELOW_FILLED` (new quantity <= filled: an amend
//! must leave something to work; the code covers equality too), `BAD_PRICE`,
//! `BOOK_STALE` (a price change or a quantity increase needs the book for the queue
//! position and the crossing check; a pure decrease does not), `FEE_OVERFLOW`, and
//! `POST_ONLY_WOULD_CROSS` (a post-only order whose new price is at or through the
//! opposite touch as the book shows it).
//!
//! An accepted amend reports `Modified{price, qty}` (the new values) first, then:
//! - a pure decrease (or the same values) keeps the order's place in the queue;
//! - a price change or a quantity increase sends it to the back: `queue_ahead` = the
//!   book's size at the (new) price, and it comes after our other orders there;
//! - a new price that crosses the opposite touch fills its marketable part as taker,
//!   exactly like a new limit order's walk (up to the new price, net of consumed
//!   liquidity), and the rest rests at the new price, at the back. If nothing is left,
//!   the last `Filled` (`leaves == 0`) ends the order.
//!
//! Side, time in force and expiry, post-only and client id never change.
//!
//! # Position and reduce-only
//!
//! The venue keeps its own net position in lots from its fills only (buys +, sells -),
//! starting from 0 or from [`SimVenue::set_position`]; it saturates at the i64 range,
//! which real sizes never approach. A reduce-only order (`OrderRequest::reduce_only`)
//! only ever brings |position| toward 0. The lots it may fill at a given moment are the
//! position it reduces: the long for a sell, the short for a buy, 0 otherwise.
//!
//! - At arrival it is rejected with `REDUCE_ONLY_WOULD_INCREASE` when the position is
//!   flat or on the order's side. This is the last check of a submit, just before
//!   `Accepted`.
//! - Every fill is capped at the position it reduces at the time of that fill. When its
//!   taking part closes the position, the rest is canceled with
//!   `REDUCE_ONLY_EXCEEDS_POSITION`; a reduce-only FOK larger than the position is
//!   canceled the same way with nothing filled (it could never fill completely).
//! - Within one trade print our orders get their lots in the usual order, each capped at
//!   the position the earlier fills left; a reduce-only order with nothing left to
//!   reduce passes its turn, and the print's lots go on to the next order.
//! - A resting reduce-only order never stays larger than the position. After every
//!   command, trade print and `set_position` that changed the position or rested such
//!   an order, each resting reduce-only order (ascending id) whose remaining exceeds the
//!   position it reduces is cut down to it: `Modified{price, qty}` with `qty = filled +
//!   position`, keeping its queue place like any decrease. When the position is flat or
//!   has flipped to the order's side it is canceled with `REDUCE_ONLY_EXCEEDS_POSITION`.
//!   Each order is capped on its own: two reduce-only sells of 5 against a long of 5
//!   both stay at 5 until a fill shrinks the position.
//! - An amend that would leave a reduce-only order with more open than the position is
//!   rejected with `REDUCE_ONLY_EXCEEDS_POSITION`.
//!
//! # Conditional orders
//!
//! `StopMarket`, `StopLimit{price}`, `TakeProfitMarket`, `TakeProfitLimit{price}` and
//! `TrailingStopMarket` wait in a [`TriggerBook`] (the module `crate::trigger` gives the
//! trigger rule, the trailing ratchet that only tightens and the rounding of bps
//! offsets) and are released when it fires them.
//!
//! - The trigger price is its own field, `OrderRequest::trigger_price`, and never a
//!   limit price: a fired stop-market walks the book like any market order, beyond the
//!   trigger price if that is where the book is, and a fired stop-limit works at its own
//!   limit `price`.
//! - Observations (`OrderRequest::trigger_source`): `Last` sees every trade print, after
//!   the print has filled our resting orders; `BidAsk` sees the top of the book after
//!   each applied book message (not while the book is stale): the best ask for a buy,
//!   the best bid for a sell; `Mark` sees each [`SimVenue::on_mark`].
//! - A trailing stop (`trail_offset` in ticks or bps) trails from the price its source
//!   shows when it is accepted, or from its first observation when there is none yet;
//!   an optional `trigger_price` is its starting stop.
//! - At arrival, after the checks of every submit (quantity, client id, stale book),
//!   in order: `BAD_PRICE` (limit price), `POST_ONLY_MARKET` or
//!   `POST_ONLY_NEEDS_GTC_OR_GTD`, `EXPIRY_IN_PAST`, `BAD_TRIGGER_PRICE` or
//!   `BAD_TRAIL_OFFSET` (the trigger book's validation: a stop or take-profit needs a
//!   trigger price, only a trailing stop takes an offset and it needs one, offsets in
//!   range), `REDUCE_ONLY_WOULD_INCREASE`, and `WOULD_TRIGGER_IMMEDIATELY`: an order
//!   whose source's current price already satisfies its trigger is rejected, as Binance
//!   rejects it ("Order would immediately trigger"), rather than fired. With no price
//!   seen yet for the source (no print, no mark) nothing is through. A plain market or
//!   limit order with a trigger price or a trail offset is rejected (`BAD_TRIGGER_PRICE`,
//!   `BAD_TRAIL_OFFSET`).
//! - While it waits: GTD expiry applies (`Expired`), a cancel removes it, and a modify
//!   may change its trigger price, its limit price (limit kinds) and its quantity
//!   (`Modified{price, qty}` with the limit price, 0 for the market kinds). A new
//!   trigger price already through is refused (`WOULD_TRIGGER_IMMEDIATELY`), a trailing
//!   stop's may only tighten (`TRIGGER_WOULD_LOOSEN`), a price on a market kind is
//!   `BAD_PRICE`. A reduce-only conditional order is not cut while it waits (the
//!   position may come back before it fires); the fee range is checked when it fires.
//! - Fired: `Triggered{price}` (the observed price that fired it), then, at the same
//!   timestamp, it works exactly like a new market or limit order arriving then, without
//!   a second `Accepted`: a market order's slippage cap comes from the touch at that
//!   moment, reduce-only is held to the position at that moment. Whatever a new order
//!   would be rejected for ends it as `Canceled` with the same reason (for example
//!   `NO_REFERENCE_PRICE`, `REDUCE_ONLY_WOULD_INCREASE`, `POST_ONLY_WOULD_CROSS`). Orders
//!   fired by one observation are released in ascending id order, each meeting the
//!   liquidity the earlier ones consumed.
//! - A known limit: a stop fired by a trade print walks the book as it stands, and the
//!   diff that removes the print's liquidity usually comes after the print, so the
//!   released order may take lots that the print already took.
//!
//! # Restart
//!
//! [`SimVenue::restore`] puts back, without a report, an order the venue held before
//! the process died (same id, total and filled quantities; at the back of the queue);
//! [`SimVenue::reserve_ids`] keeps the counter past every id used before. The rules are
//! in `restore.rs`.
//!
//! # Fees
//!
//! Each fill's fee is [`ContractFees::fee`] for its price, quantity and liquidity:
//! exact, rounded toward +inf at the fee asset's precision (accounting rule 2). An order
//! whose worst-case fill could overflow the fee arithmetic is rejected at submission
//! (`FEE_OVERFLOW`), so no fill's fee can fail afterwards.
//!
//! # Not here yet
//!
//! Fills from the book crossing our price without a print.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap};

use rustc_hash::FxHashMap;

use crate::accounting::{ContractFees, Liquidity};
use crate::event::{Event, KIND_DIFF, KIND_L3_ADD, KIND_L3_EXECUTE, KIND_SNAPSHOT, KIND_TRADE};
use crate::l2::{L2Book, Rule};
use crate::money::Money;
use crate::query::{price_in_range, LevelSource, PRICE_LIMIT};
use crate::trigger::{TrailOffset, TriggerBook, TriggerSource};
use crate::Side;

pub mod l3feed;
pub mod market;
pub mod queue;

pub use l3feed::Feed;
pub use market::MarketBook;
pub use queue::{ConfigError, Power, QueueModel};

/// Internal order id.
pub type OrderId = u64;

/// Order type: market, limit at a price in ticks, or a conditional type that releases
/// a market or limit order when its trigger fires (see "Conditional orders"). A limit
/// kind's `price` is its limit price; the trigger price is `OrderRequest::trigger_price`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OrderType {
    Market,
    Limit { price: i64 },
    StopMarket,
    StopLimit { price: i64 },
    TakeProfitMarket,
    TakeProfitLimit { price: i64 },
    TrailingStopMarket,
}

impl OrderType {
    /// True for the stop, take-profit and trailing-stop types.
    pub fn is_conditional(self) -> bool {
        !matches!(self, OrderType::Market | OrderType::Limit { .. })
    }

    /// The order a conditional type releases when it fires (plain types: themselves).
    pub fn released(self) -> OrderType {
        match self {
            OrderType::StopMarket | OrderType::TakeProfitMarket | OrderType::TrailingStopMarket => {
                OrderType::Market
            }
            OrderType::StopLimit { price } | OrderType::TakeProfitLimit { price } => {
                OrderType::Limit { price }
            }
            t => t,
        }
    }

    /// The limit price of the limit kinds.
    pub fn limit_price(self) -> Option<i64> {
        match self {
            OrderType::Limit { price }
            | OrderType::StopLimit { price }
            | OrderType::TakeProfitLimit { price } => Some(price),
            _ => None,
        }
    }
}

/// Time in force. `Gtd` carries its expiry (venue-clock ns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TimeInForce {
    Gtc,
    Ioc,
    Fok,
    Gtd { expiry: i64 },
}

/// An order as we send it. `side` is the book side of our order: Bid buys, Ask sells.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRequest {
    pub client_id: Option<String>,
    pub side: Side,
    /// Lots, > 0.
    pub qty: i64,
    pub order_type: OrderType,
    pub tif: TimeInForce,
    pub post_only: bool,
    /// Market orders: slippage cap in bps from the reference price; None = venue default.
    pub slippage_bps: Option<u32>,
    /// Only ever reduces the venue's position (see "Position and reduce-only").
    pub reduce_only: bool,
    /// Conditional types: the price their trigger compares observations with (optional
    /// for a trailing stop: its starting stop). Never a limit price.
    pub trigger_price: Option<i64>,
    /// Conditional types: which price the trigger observes.
    pub trigger_source: TriggerSource,
    /// Trailing stops: the distance from the best price seen.
    pub trail_offset: Option<TrailOffset>,
}

impl OrderRequest {
    pub fn market(side: Side, qty: i64) -> OrderRequest {
        OrderRequest {
            client_id: None,
            side,
            qty,
            order_type: OrderType::Market,
            tif: TimeInForce::Ioc,
            post_only: false,
            slippage_bps: None,
            reduce_only: false,
            trigger_price: None,
            trigger_source: TriggerSource::Last,
            trail_offset: None,
        }
    }

    pub fn limit(side: Side, qty: i64, price: i64, tif: TimeInForce) -> OrderRequest {
        OrderRequest {
            client_id: None,
            side,
            qty,
            order_type: OrderType::Limit { price },
            tif,
            post_only: false,
            slippage_bps: None,
            reduce_only: false,
            trigger_price: None,
            trigger_source: TriggerSource::Last,
            trail_offset: None,
        }
    }

    pub fn with_client_id(mut self, id: &str) -> OrderRequest {
        self.client_id = Some(id.to_string());
        self
    }

    pub fn with_slippage_bps(mut self, bps: u32) -> OrderRequest {
        self.slippage_bps = Some(bps);
        self
    }

    pub fn post_only(mut self) -> OrderRequest {
        self.post_only = true;
        self
    }

    pub fn reduce_only(mut self) -> OrderRequest {
        self.reduce_only = true;
        self
    }

    /// A conditional order of `order_type` firing at `trigger_price` (source: last).
    fn conditional(side: Side, qty: i64, order_type: OrderType, trigger_price: Option<i64>) -> OrderRequest {
        OrderRequest {
            order_type,
            trigger_price,
            ..OrderRequest::market(side, qty)
        }
    }

    pub fn stop_market(side: Side, qty: i64, trigger_price: i64) -> OrderRequest {
        OrderRequest::conditional(side, qty, OrderType::StopMarket, Some(trigger_price))
    }

    pub fn stop_limit(side: Side, qty: i64, trigger_price: i64, price: i64, tif: TimeInForce)
        -> OrderRequest {
        OrderRequest {
            tif,
            ..OrderRequest::conditional(side, qty, OrderType::StopLimit { price }, Some(trigger_price))
        }
    }

    pub fn take_profit_market(side: Side, qty: i64, trigger_price: i64) -> OrderRequest {
        OrderRequest::conditional(side, qty, OrderType::TakeProfitMarket, Some(trigger_price))
    }

    pub fn take_profit_limit(side: Side, qty: i64, trigger_price: i64, price: i64, tif: TimeInForce)
        -> OrderRequest {
        OrderRequest {
            tif,
            ..OrderRequest::conditional(side, qty, OrderType::TakeProfitLimit { price }, Some(trigger_price))
        }
    }

    pub fn trailing_stop_market(side: Side, qty: i64, offset: TrailOffset) -> OrderRequest {
        OrderRequest {
            trail_offset: Some(offset),
            ..OrderRequest::conditional(side, qty, OrderType::TrailingStopMarket, None)
        }
    }

    pub fn with_trigger_source(mut self, source: TriggerSource) -> OrderRequest {
        self.trigger_source = source;
        self
    }
}

/// Reason codes of rejects and cancels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reason {
    /// qty <= 0.
    BadQty,
    /// Limit price outside the book's range.
    BadPrice,
    /// The book is stale (before the first snapshot or after a gap).
    BookStale,
    /// A market order with nothing on the side it takes from.
    NoReferencePrice,
    /// A market order flagged post-only.
    PostOnlyMarket,
    /// Post-only with IOC or FOK.
    PostOnlyNeedsGtcOrGtd,
    PostOnlyWouldCross,
    /// A GTD whose expiry is not after the clock.
    ExpiryInPast,
    /// The client id is already used by a live order.
    DuplicateClientId,
    /// The worst-case fee of the order does not fit the fee arithmetic.
    FeeOverflow,
    /// Market order: the next level is beyond the slippage cap.
    SlippageCap,
    /// Market order: the side ran out inside the cap.
    NoLiquidity,
    IocRemainder,
    FokUnfillable,
    /// Canceled by our cancel command.
    UserCancel,
    /// Cancel or modify of an id that is not a live order.
    UnknownOrder,
    /// A modify with neither a new price nor a new quantity.
    NothingToModify,
    /// A modify whose new total quantity is not above the filled quantity.
    QtyBelowFilled,
    /// A reduce-only order while the position is flat or on the order's side.
    ReduceOnlyWouldIncrease,
    /// A reduce-only order's excess over the position it reduces.
    ReduceOnlyExceedsPosition,
    /// A trigger price missing where required, out of range, or on an order (or amend
    /// of an order) that has no trigger.
    BadTriggerPrice,
    /// A trail offset missing on a trailing stop, given on another type, or out of
    /// range.
    BadTrailOffset,
    /// A conditional order (or new trigger price) already through its trigger.
    WouldTriggerImmediately,
    /// An amend that would move a trailing stop away from the price.
    TriggerWouldLoosen,
}

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::BadQty => "BAD_QTY",
            Reason::BadPrice => "BAD_PRICE",
            Reason::BookStale => "BOOK_STALE",
            Reason::NoReferencePrice => "NO_REFERENCE_PRICE",
            Reason::PostOnlyMarket => "POST_ONLY_MARKET",
            Reason::PostOnlyNeedsGtcOrGtd => "POST_ONLY_NEEDS_GTC_OR_GTD",
            Reason::PostOnlyWouldCross => "POST_ONLY_WOULD_CROSS",
            Reason::ExpiryInPast => "EXPIRY_IN_PAST",
            Reason::DuplicateClientId => "DUPLICATE_CLIENT_ID",
            Reason::FeeOverflow => "FEE_OVERFLOW",
            Reason::SlippageCap => "SLIPPAGE_CAP",
            Reason::NoLiquidity => "NO_LIQUIDITY",
            Reason::IocRemainder => "IOC_REMAINDER",
            Reason::FokUnfillable => "FOK_UNFILLABLE",
            Reason::UserCancel => "USER_CANCEL",
            Reason::UnknownOrder => "UNKNOWN_ORDER",
            Reason::NothingToModify => "NOTHING_TO_MODIFY",
            Reason::QtyBelowFilled => "QTY_BELOW_FILLED",
            Reason::ReduceOnlyWouldIncrease => "REDUCE_ONLY_WOULD_INCREASE",
            Reason::ReduceOnlyExceedsPosition => "REDUCE_ONLY_EXCEEDS_POSITION",
            Reason::BadTriggerPrice => "BAD_TRIGGER_PRICE",
            Reason::BadTrailOffset => "BAD_TRAIL_OFFSET",
            Reason::WouldTriggerImmediately => "WOULD_TRIGGER_IMMEDIATELY",
            Reason::TriggerWouldLoosen => "TRIGGER_WOULD_LOOSEN",
        }
    }
}

/// What the venue says about an order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportKind {
    Accepted,
    Rejected { reason: Reason },
    Filled {
        price: i64,
        qty: i64,
        liquidity: Liquidity,
        fee: Money,
        /// Open quantity after this fill (0: the order is done).
        leaves: i64,
    },
    Canceled { reason: Reason },
    Expired,
    /// A cancel command that could not act (the order stays as it was, if it exists).
    CancelRejected { reason: Reason },
    /// The order's price and total quantity after an accepted modify.
    Modified { price: i64, qty: i64 },
    /// A modify that could not act; the order is unchanged.
    ModifyRejected { reason: Reason },
    /// A conditional order fired on an observation at `price`; it now works as its
    /// market or limit order (its fills and terminal report follow at the same time).
    Triggered { price: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Report {
    /// Venue-clock time of the event or command that caused it.
    pub ts: i64,
    pub order: OrderId,
    pub kind: ReportKind,
}

impl Report {
    /// True for the report that ends an order's life.
    pub fn is_terminal(&self) -> bool {
        match self.kind {
            ReportKind::Rejected { .. } | ReportKind::Canceled { .. } | ReportKind::Expired => true,
            ReportKind::Filled { leaves, .. } => leaves == 0,
            ReportKind::Accepted
            | ReportKind::CancelRejected { .. }
            | ReportKind::Modified { .. }
            | ReportKind::ModifyRejected { .. }
            | ReportKind::Triggered { .. } => false,
        }
    }
}

/// Venue-wide settings.
#[derive(Debug, Clone, Copy)]
pub struct SimConfig {
    pub rule: Rule,
    /// Slippage cap for market orders that do not set their own.
    pub default_slippage_bps: u32,
    pub fees: ContractFees,
    /// Queue position on the L2 feed (unused on the L3 feed, where it is exact).
    pub queue_model: QueueModel,
    /// The market data the book is built from.
    pub feed: Feed,
    /// Time from issuing a submit to its arrival at the venue (ns, >= 0).
    pub submit_latency_ns: i64,
    /// Time from issuing a cancel to its arrival (ns, >= 0).
    pub cancel_latency_ns: i64,
    /// Time from issuing a modify to its arrival (ns, >= 0).
    pub modify_latency_ns: i64,
}

impl SimConfig {
    /// A configuration with no latency (every command takes effect within its call).
    pub fn new(rule: Rule, default_slippage_bps: u32, fees: ContractFees) -> SimConfig {
        SimConfig {
            rule,
            default_slippage_bps,
            fees,
            submit_latency_ns: 0,
            cancel_latency_ns: 0,
            modify_latency_ns: 0,
            queue_model: QueueModel::Conservative,
            feed: Feed::L2,
        }
    }

    /// Checks the settings; the error names the field, the value and the rule.
    pub fn validate(&self) -> Result<(), ConfigError> {
        for (field, value) in [
            ("submit_latency_ns", self.submit_latency_ns),
            ("cancel_latency_ns", self.cancel_latency_ns),
            ("modify_latency_ns", self.modify_latency_ns),
        ] {
            if value < 0 {
                return Err(ConfigError::Latency { field, value });
            }
        }
        Ok(())
    }
}

/// A live (resting) order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestingOrder {
    pub id: OrderId,
    pub client_id: Option<String>,
    pub side: Side,
    pub price: i64,
    pub qty: i64,
    pub filled: i64,
    /// Market lots ahead of us at our price: per the queue model on the L2 feed
    /// ([`queue`]), exact on the L3 feed ([`l3feed`]).
    pub queue_ahead: i64,
    pub expiry: Option<i64>,
    pub post_only: bool,
    pub reduce_only: bool,
}

impl RestingOrder {
    #[inline]
    pub fn remaining(&self) -> i64 {
        self.qty - self.filled
    }
}

/// Counters.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SimStats {
    pub rows: u64,
    pub book_messages: u64,
    /// Level rows of book messages processed.
    pub level_rows: u64,
    pub trades: u64,
    pub gaps: u64,
    pub book_errors: u64,
    pub ignored_rows: u64,
    pub orders: u64,
    pub fills: u64,
}

/// The simulated venue for one instrument.
#[derive(Debug, Clone)]
pub struct SimVenue {
    cfg: SimConfig,
    book: L2Book,
    clock: i64,
    next_id: OrderId,
    orders: FxHashMap<OrderId, RestingOrder>,
    clients: FxHashMap<String, OrderId>,
    /// Per side: price -> our resting ids at that price, in time order.
    levels: [BTreeMap<i64, Vec<OrderId>>; 2],
    expiries: BinaryHeap<Reverse<(i64, OrderId)>>,
    /// Per side of the book: (price, lots) our fills took since the last book message.
    consumed: [Vec<(i64, i64)>; 2],
    reports: Vec<Report>,
    stats: SimStats,
    scratch_fills: Vec<(i64, i64)>,
    scratch_ids: Vec<OrderId>,
    scratch_prices: Vec<i64>,
    queue: queue::QueueState,
    /// The L3 book and our queue sets, on the L3 feed.
    l3: Option<Box<l3feed::L3State>>,
    /// Commands issued but not yet arrived (see `latency.rs`).
    pending: latency::Pending,
    /// Net position in lots from our fills (+ long), see `reduce.rs`.
    position: i64,
    /// Resting reduce-only orders, ascending id.
    reduce_only_ids: BTreeSet<OrderId>,
    /// Set when the position or a reduce-only order changed since the last check.
    reduce_only_check: bool,
    /// Waiting conditional orders and their triggers (see `conditional.rs`).
    conditionals: FxHashMap<OrderId, ConditionalOrder>,
    triggers: TriggerBook,
    /// The last trade price and mark price seen.
    last_trade: Option<i64>,
    mark: Option<i64>,
    /// The fired order being released: its refusals are cancels, not rejects.
    releasing: Option<OrderId>,
    scratch_fired: Vec<u64>,
}

impl SimVenue {
    /// A venue with `cfg`.
    ///
    /// # Panics
    /// When `cfg` is invalid (see [`SimConfig::validate`]); [`Self::try_new`] returns the
    /// error instead.
    pub fn new(cfg: SimConfig) -> SimVenue {
        match SimVenue::try_new(cfg) {
            Ok(v) => v,
            Err(e) => panic!("invalid SimConfig: {e}"),
        }
    }

    /// A venue with `cfg`, or the first setting its rule does not allow.
    pub fn try_new(cfg: SimConfig) -> Result<SimVenue, ConfigError> {
        cfg.validate()?;
        Ok(SimVenue {
            cfg,
            book: L2Book::new(cfg.rule),
            clock: i64::MIN,
            next_id: 1,
            orders: FxHashMap::default(),
            clients: FxHashMap::default(),
            levels: [BTreeMap::new(), BTreeMap::new()],
            expiries: BinaryHeap::new(),
            consumed: [Vec::new(), Vec::new()],
            reports: Vec::new(),
            stats: SimStats::default(),
            scratch_fills: Vec::new(),
            scratch_ids: Vec::new(),
            scratch_prices: Vec::new(),
            queue: queue::QueueState::default(),
            l3: (cfg.feed == Feed::L3).then(Box::default),
            pending: latency::Pending::default(),
            position: 0,
            reduce_only_ids: BTreeSet::new(),
            reduce_only_check: false,
            conditionals: FxHashMap::default(),
            triggers: TriggerBook::new(),
            last_trade: None,
            mark: None,
            releasing: None,
            scratch_fired: Vec::new(),
        })
    }

    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The L2 book (empty and stale on the L3 feed: see [`Self::market`]).
    pub fn book(&self) -> &L2Book {
        &self.book
    }

    /// The market book of the venue's feed.
    pub fn market(&self) -> MarketBook<'_> {
        match &self.l3 {
            Some(l3) => MarketBook::L3(&l3.book),
            None => MarketBook::L2(&self.book),
        }
    }

    /// The venue clock (i64::MIN before any input).
    pub fn clock(&self) -> i64 {
        self.clock
    }

    pub fn stats(&self) -> &SimStats {
        &self.stats
    }

    /// Reports produced so far and not yet drained.
    pub fn reports(&self) -> &[Report] {
        &self.reports
    }

    pub fn drain_reports(&mut self) -> std::vec::Drain<'_, Report> {
        self.reports.drain(..)
    }

    pub fn clear_reports(&mut self) {
        self.reports.clear();
    }

    /// A live resting order.
    pub fn order(&self, id: OrderId) -> Option<&RestingOrder> {
        self.orders.get(&id)
    }

    /// The id of the live order with this client id.
    pub fn order_by_client_id(&self, client_id: &str) -> Option<OrderId> {
        self.clients.get(client_id).copied()
    }

    /// Live resting orders.
    pub fn open_orders(&self) -> impl Iterator<Item = &RestingOrder> + '_ {
        self.orders.values()
    }

    pub fn open_order_count(&self) -> usize {
        self.orders.len()
    }

    /// Lots our fills took at `price` on `side` of the book since the last book message.
    pub fn consumed_at(&self, side: Side, price: i64) -> i64 {
        consumed_get(&self.consumed[side.idx()], price)
    }

    /// Advances the clock to a market row's time `ts`: applies the pending commands that
    /// arrive before `ts` (a tie goes to the row), then moves the clock; returns the clock.
    fn advance(&mut self, ts: i64) -> i64 {
        if !self.pending.is_empty() {
            self.apply_pending(ts, false);
        }
        self.advance_clock(ts)
    }

    /// Moves the clock to `ts` (never back) and expires GTD orders due; returns the clock.
    fn advance_clock(&mut self, ts: i64) -> i64 {
        if ts > self.clock {
            self.clock = ts;
        }
        let now = self.clock;
        while let Some(&Reverse((exp, id))) = self.expiries.peek() {
            if exp > now {
                break;
            }
            self.expiries.pop();
            if self.orders.get(&id).is_some_and(|o| o.expiry == Some(exp)) {
                self.remove_live(id);
                self.reports.push(Report { ts: now, order: id, kind: ReportKind::Expired });
            } else if self.conditionals.get(&id).is_some_and(|c| c.expiry == Some(exp)) {
                self.remove_conditional(id);
                self.reports.push(Report { ts: now, order: id, kind: ReportKind::Expired });
            }
        }
        now
    }

    /// Removes a live order from every index.
    fn remove_live(&mut self, id: OrderId) -> Option<RestingOrder> {
        let o = self.orders.remove(&id)?;
        if let Some(c) = &o.client_id {
            self.clients.remove(c);
        }
        if o.reduce_only {
            self.reduce_only_ids.remove(&id);
        }
        let lv = &mut self.levels[o.side.idx()];
        if let Some(ids) = lv.get_mut(&o.price) {
            if let Some(pos) = ids.iter().position(|&x| x == id) {
                ids.remove(pos);
            }
            if ids.is_empty() {
                lv.remove(&o.price);
            }
        }
        Some(o)
    }

    // ------------------------------------------------------------------ market data

    /// Processes market-data rows in order: book messages (L2 or L3 rows, by the feed),
    /// trade prints; tickers and the other feed's rows are ignored. `row_offset` numbers
    /// the rows for the book's error reports.
    pub fn on_events(&mut self, events: &[Event], row_offset: u64) {
        let mut i = 0;
        while i < events.len() {
            let ev = &events[i];
            let ts = if ev.ts_event != 0 { ev.ts_event } else { ev.ts_recv };
            match ev.kind {
                KIND_SNAPSHOT | KIND_DIFF if self.l3.is_none() => {
                    // The message runs to its END row (or just before the next BEGIN).
                    let mut end = i;
                    while end + 1 < events.len() && !events[end].ends() && !events[end + 1].begins() {
                        end += 1;
                    }
                    let now = self.advance(ts);
                    self.apply_book_message(&events[i..=end], row_offset + i as u64);
                    self.observe_book(now);
                    self.stats.rows += (end + 1 - i) as u64;
                    i = end + 1;
                }
                KIND_TRADE => {
                    let now = self.advance(ts);
                    self.stats.rows += 1;
                    self.stats.trades += 1;
                    if let Some(aggr) = Side::from_u8(ev.side) {
                        if ev.qty > 0 {
                            self.on_trade(now, aggr, ev.price, ev.qty);
                            self.after_trade(now, ev.price);
                        }
                    }
                    i += 1;
                }
                KIND_L3_ADD..=KIND_L3_EXECUTE if self.l3.is_some() => {
                    let now = self.advance(ts);
                    self.stats.rows += 1;
                    self.on_l3_row(now, ev);
                    i += 1;
                }
                _ => {
                    self.advance(ts);
                    self.stats.rows += 1;
                    self.stats.ignored_rows += 1;
                    i += 1;
                }
            }
        }
    }

    fn apply_book_message(&mut self, msg: &[Event], row: u64) {
        self.queue_before_message(msg);
        let st = self.book.apply_events(msg, false, row);
        self.stats.book_messages += 1;
        self.stats.gaps += st.gaps;
        self.stats.book_errors += st.errors;
        // Consumed liquidity lasts until the next book message.
        self.consumed[0].clear();
        self.consumed[1].clear();
        self.queue_after_message(st.diffs_applied > 0 || st.snapshots > 0);
        if self.orders.is_empty() || self.book.is_stale() {
            self.stats.level_rows += msg.iter().filter(|e| !e.is_empty()).count() as u64;
            return;
        }
        if msg[0].kind == KIND_SNAPSHOT || st.snapshots > 0 {
            self.stats.level_rows += msg.iter().filter(|e| !e.is_empty()).count() as u64;
            self.clamp_all();
            return;
        }
        if self.queue_after_diff() {
            self.stats.level_rows += msg.iter().filter(|e| !e.is_empty()).count() as u64;
            return;
        }
        let mut n = 0u64;
        for e in msg {
            if e.is_empty() {
                continue;
            }
            n += 1;
            let side = (e.side & 1) as usize;
            let Some(ids) = self.levels[side].get(&e.price) else { continue };
            let size = self.book.side(if side == 0 { Side::Bid } else { Side::Ask }).get(e.price);
            for id in ids {
                if let Some(o) = self.orders.get_mut(id) {
                    o.queue_ahead = o.queue_ahead.min(size);
                }
            }
        }
        self.stats.level_rows += n;
    }

    fn clamp_all(&mut self) {
        for o in self.orders.values_mut() {
            let size = self.book.side(o.side).get(o.price);
            o.queue_ahead = o.queue_ahead.min(size);
        }
    }

    /// A trade print: `aggressor` took `qty` lots at `price`.
    fn on_trade(&mut self, ts: i64, aggressor: Side, price: i64, qty: i64) {
        if self.l3.is_some() {
            // On the L3 feed prints are observations: EXECUTE rows fill us.
            return;
        }
        let ours = aggressor.opposite();
        self.queue_on_print(ours, price, qty);
        let s = ours.idx();
        let mut prices = std::mem::take(&mut self.scratch_prices);
        prices.clear();
        match ours {
            Side::Bid => prices.extend(self.levels[s].range(price..).rev().map(|(p, _)| *p)),
            Side::Ask => prices.extend(self.levels[s].range(..=price).map(|(p, _)| *p)),
        }
        let mut done = std::mem::take(&mut self.scratch_ids);
        done.clear();
        let mut left = qty;
        for &p in &prices {
            if left == 0 {
                break;
            }
            let Some(ids) = self.levels[s].get(&p) else { continue };
            let at_price = p == price;
            let mut market_eaten = 0i64;
            for id in ids {
                let Some(o) = self.orders.get_mut(id) else { continue };
                if at_price {
                    let (ahead, e) = queue::print_at_price(o.queue_ahead, market_eaten, left);
                    o.queue_ahead = ahead;
                    left -= e;
                    market_eaten += e;
                    if o.queue_ahead > 0 || left == 0 {
                        continue;
                    }
                } else if left == 0 {
                    break;
                }
                let mut f = o.remaining().min(left);
                if o.reduce_only {
                    // Never beyond the position at the time of this fill.
                    f = f.min(reducible(o.side, self.position));
                    if f == 0 {
                        continue;
                    }
                }
                left -= f;
                o.filled += f;
                self.position = add_signed(self.position, o.side, f);
                self.reduce_only_check = true;
                let leaves = o.remaining();
                let fee = maker_fee(&self.cfg.fees, p, f);
                self.stats.fills += 1;
                self.reports.push(Report {
                    ts,
                    order: *id,
                    kind: ReportKind::Filled { price: p, qty: f, liquidity: Liquidity::Maker, fee, leaves },
                });
                if leaves == 0 {
                    done.push(*id);
                }
            }
        }
        for &id in &done {
            self.remove_live(id);
        }
        self.scratch_prices = prices;
        self.scratch_ids = done;
    }

    // ------------------------------------------------------------------ commands

    fn reject(&mut self, ts: i64, id: OrderId, reason: Reason) -> OrderId {
        // A fired conditional order was accepted long ago: its refusal is a cancel.
        let kind = if self.releasing == Some(id) {
            ReportKind::Canceled { reason }
        } else {
            ReportKind::Rejected { reason }
        };
        self.reports.push(Report { ts, order: id, kind });
        id
    }

    /// A submit arriving at the venue at `now` (see [`Self::submit`]).
    fn execute_submit(&mut self, now: i64, id: OrderId, req: OrderRequest) -> OrderId {
        let s = req.side;
        let opp = s.opposite();
        if req.qty <= 0 {
            return self.reject(now, id, Reason::BadQty);
        }
        if let Some(c) = &req.client_id {
            if self.clients.contains_key(c) {
                return self.reject(now, id, Reason::DuplicateClientId);
            }
        }
        if self.market().is_stale() {
            return self.reject(now, id, Reason::BookStale);
        }
        if let Err(reason) = conditional::check_plain(&req) {
            return self.reject(now, id, reason);
        }
        let touch = self.market().best_price(opp);
        // Bound on the prices the walk may take (inclusive), and the worst |price| a fill
        // of this order can have (for the fee check).
        let (bound, worst_abs) = match req.order_type {
            OrderType::Market => {
                if req.post_only {
                    return self.reject(now, id, Reason::PostOnlyMarket);
                }
                let Some(r) = touch else {
                    return self.reject(now, id, Reason::NoReferencePrice);
                };
                let bps = req.slippage_bps.unwrap_or(self.cfg.default_slippage_bps);
                let cap = slippage_cap(s, r, bps);
                (cap, r.unsigned_abs().max(cap.unsigned_abs()))
            }
            OrderType::Limit { price } => {
                if !price_in_range(price) {
                    return self.reject(now, id, Reason::BadPrice);
                }
                if req.post_only && matches!(req.tif, TimeInForce::Ioc | TimeInForce::Fok) {
                    return self.reject(now, id, Reason::PostOnlyNeedsGtcOrGtd);
                }
                if let TimeInForce::Gtd { expiry } = req.tif {
                    if expiry <= now {
                        return self.reject(now, id, Reason::ExpiryInPast);
                    }
                }
                let worst = touch.map_or(0, |t| t.unsigned_abs()).max(price.unsigned_abs());
                (price, worst)
            }
            // Held until their trigger fires, then back here as market or limit orders.
            _ => return self.accept_conditional(now, id, req),
        };
        if !fee_fits(&self.cfg.fees, worst_abs, req.qty) {
            return self.reject(now, id, Reason::FeeOverflow);
        }
        if req.post_only {
            if let Some(t) = touch {
                if !s.better(t, bound) {
                    return self.reject(now, id, Reason::PostOnlyWouldCross);
                }
            }
        }
        // The most this order may fill now without increasing |position|.
        let reducible = if req.reduce_only { self.reducible(s) } else { i64::MAX };
        if reducible == 0 {
            return self.reject(now, id, Reason::ReduceOnlyWouldIncrease);
        }
        if self.releasing != Some(id) {
            self.reports.push(Report { ts: now, order: id, kind: ReportKind::Accepted });
        }

        // The taking part.
        let mut fills = std::mem::take(&mut self.scratch_fills);
        fills.clear();
        let (filled, hit_bound) = if req.post_only {
            (0, false)
        } else {
            plan_take(&self.market(), &self.consumed[opp.idx()], s, bound, req.qty, &mut fills)
        };
        let (filled, hit_bound) = if filled > reducible {
            (cap_fills(&mut fills, reducible), false)
        } else {
            (filled, hit_bound)
        };
        let is_market = req.order_type == OrderType::Market;
        if req.tif == TimeInForce::Fok && req.qty > reducible {
            self.scratch_fills = fills;
            self.reports.push(Report {
                ts: now,
                order: id,
                kind: ReportKind::Canceled { reason: Reason::ReduceOnlyExceedsPosition },
            });
            return id;
        }
        if req.tif == TimeInForce::Fok && filled < req.qty {
            self.scratch_fills = fills;
            self.reports.push(Report {
                ts: now,
                order: id,
                kind: ReportKind::Canceled { reason: Reason::FokUnfillable },
            });
            return id;
        }
        let mut leaves = req.qty;
        for &(p, q) in &fills {
            consumed_add(&mut self.consumed[opp.idx()], p, q);
            leaves -= q;
            self.add_position(s, q);
            let fee = self
                .cfg
                .fees
                .fee(p, q, Liquidity::Taker)
                .expect("fee range checked at submission");
            self.stats.fills += 1;
            self.reports.push(Report {
                ts: now,
                order: id,
                kind: ReportKind::Filled { price: p, qty: q, liquidity: Liquidity::Taker, fee, leaves },
            });
        }
        self.scratch_fills = fills;
        if leaves == 0 {
            return id;
        }
        if filled == reducible {
            // A reduce-only order that closed the position it reduces: nothing left to do.
            self.reports.push(Report {
                ts: now,
                order: id,
                kind: ReportKind::Canceled { reason: Reason::ReduceOnlyExceedsPosition },
            });
            return id;
        }
        let rest = match (is_market, req.tif) {
            (true, _) => Err(if hit_bound { Reason::SlippageCap } else { Reason::NoLiquidity }),
            (false, TimeInForce::Ioc) | (false, TimeInForce::Fok) => Err(Reason::IocRemainder),
            (false, TimeInForce::Gtc) => Ok(None),
            (false, TimeInForce::Gtd { expiry }) => Ok(Some(expiry)),
        };
        match rest {
            Err(reason) => {
                self.reports.push(Report { ts: now, order: id, kind: ReportKind::Canceled { reason } });
            }
            Ok(expiry) => {
                let price = bound;
                let queue_ahead = self.market().volume_at(s, price);
                if let Some(c) = &req.client_id {
                    self.clients.insert(c.clone(), id);
                }
                if let Some(e) = expiry {
                    self.expiries.push(Reverse((e, id)));
                }
                if req.reduce_only {
                    // Its size is checked against the position after this command.
                    self.reduce_only_ids.insert(id);
                    self.reduce_only_check = true;
                }
                self.levels[s.idx()].entry(price).or_default().push(id);
                self.orders.insert(
                    id,
                    RestingOrder {
                        id,
                        client_id: req.client_id,
                        side: s,
                        price,
                        qty: req.qty,
                        filled: req.qty - leaves,
                        queue_ahead,
                        expiry,
                        post_only: req.post_only,
                        reduce_only: req.reduce_only,
                    },
                );
            }
        }
        id
    }

    /// A cancel arriving at `now`: `Canceled{USER_CANCEL}`, or
    /// `CancelRejected{UNKNOWN_ORDER}` when the order is not live (already done, not yet
    /// arrived, or never was). Returns true when the order was canceled.
    fn execute_cancel(&mut self, now: i64, id: OrderId) -> bool {
        if self.remove_live(id).is_some() || self.remove_conditional(id) {
            self.reports.push(Report {
                ts: now,
                order: id,
                kind: ReportKind::Canceled { reason: Reason::UserCancel },
            });
            true
        } else {
            self.reports.push(Report {
                ts: now,
                order: id,
                kind: ReportKind::CancelRejected { reason: Reason::UnknownOrder },
            });
            false
        }
    }

    /// Cancels by client id (see [`Self::cancel`]); false when no live order has it. The
    /// client id is looked up when the cancel is issued, after the commands due by then.
    pub fn cancel_client(&mut self, ts: i64, client_id: &str) -> bool {
        self.advance_to(ts);
        match self.order_by_client_id(client_id) {
            Some(id) => self.cancel(ts, id),
            None => false,
        }
    }
}

/// The slippage cap price of a market order on `side` from reference `r` (see the
/// module docs): the offset is rounded down, so the cap is never beyond `bps`.
pub fn slippage_cap(side: Side, r: i64, bps: u32) -> i64 {
    let off = r.unsigned_abs() as i128 * bps as i128 / 10_000;
    let cap = match side {
        Side::Bid => r as i128 + off,
        Side::Ask => r as i128 - off,
    };
    cap.clamp(-(PRICE_LIMIT as i128) + 1, PRICE_LIMIT as i128 - 1) as i64
}

/// Walks the side opposite `ours` for up to `qty` lots at prices no worse than `bound`,
/// net of `consumed`; pushes (price, lots) to `out`. Returns (filled, stopped at the
/// bound with liquidity beyond it).
fn plan_take<B: LevelSource>(
    book: &B,
    consumed: &[(i64, i64)],
    ours: Side,
    bound: i64,
    qty: i64,
    out: &mut Vec<(i64, i64)>,
) -> (i64, bool) {
    let mut left = qty;
    for (price, size) in book.levels_from_touch(ours.opposite()) {
        if ours.better(price, bound) {
            return (qty - left, true);
        }
        let avail = size - consumed_get(consumed, price);
        if avail <= 0 {
            continue;
        }
        let take = avail.min(left);
        out.push((price, take));
        left -= take;
        if left == 0 {
            break;
        }
    }
    (qty - left, false)
}

/// Trims planned `fills` to `max` lots in total; returns the lots kept.
fn cap_fills(fills: &mut Vec<(i64, i64)>, max: i64) -> i64 {
    let mut kept = 0;
    let mut n = 0;
    for f in fills.iter_mut() {
        if kept == max {
            break;
        }
        f.1 = f.1.min(max - kept);
        kept += f.1;
        n += 1;
    }
    fills.truncate(n);
    kept
}

#[inline]
fn consumed_get(c: &[(i64, i64)], price: i64) -> i64 {
    c.iter().find(|(p, _)| *p == price).map_or(0, |(_, q)| *q)
}

#[inline]
fn consumed_add(c: &mut Vec<(i64, i64)>, price: i64, qty: i64) {
    match c.iter_mut().find(|(p, _)| *p == price) {
        Some((_, q)) => *q += qty,
        None => c.push((price, qty)),
    }
}

/// True when the fee of `qty` lots at |price| `abs_price` is computable for both
/// liquidities (then every smaller fill's fee is too).
fn fee_fits(fees: &ContractFees, abs_price: u64, qty: i64) -> bool {
    let Ok(p) = i64::try_from(abs_price) else { return false };
    fees.fee(p, qty, Liquidity::Taker).is_ok() && fees.fee(p, qty, Liquidity::Maker).is_ok()
}

#[inline]
fn maker_fee(fees: &ContractFees, price: i64, qty: i64) -> Money {
    fees.fee(price, qty, Liquidity::Maker)
        .expect("fee range checked at submission")
}

mod amend;
mod conditional;
mod latency;
mod reduce;
mod restore;

pub use amend::Amend;
pub use conditional::ConditionalOrder;
pub use restore::RestoreError;
use reduce::{add_signed, reducible};

#[cfg(test)]
mod tests;
#[cfg(test)]
mod tests_commands;
#[cfg(test)]
mod tests_conditional;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod queue_tests;
#[cfg(test)]
mod l3_tests;
#[cfg(test)]
mod tests_restore;
