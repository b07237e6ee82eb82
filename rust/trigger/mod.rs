//! The trigger engine: decides when stop, take-profit and trailing-stop orders fire.
//!
//! Standalone on purpose: it knows prices (i64 ticks) and caller-given `u64` ids, never
//! books, orders or limit prices. The simulated venue and the Python OrderManager (for
//! venues without native stops) feed it observations and release the orders it fires.
//!
//! # Trigger rule
//!
//! An entry's `side` is the side of the ORDER it will release (`Bid` = buy, `Ask` = sell).
//! Its observed price `p` is the last trade price (source `Last`), the mark price
//! (`Mark`), or for `BidAsk` the touch the released order would trade against: the best
//! bid for a sell, the best ask for a buy. Then:
//!
//! | kind | sell (Ask) fires when | buy (Bid) fires when |
//! |------|-----------------------|----------------------|
//! | `Stop` | `p <= stop` | `p >= stop` |
//! | `TakeProfit` | `p >= trigger` | `p <= trigger` |
//! | `TrailingStop` | `p <= stop` | `p >= stop` |
//!
//! Equality fires. For `Stop` and `TrailingStop`, `stop` is the *effective stop* (below).
//! The trigger price is its own field; this module has no notion of a limit price.
//!
//! An entry only sees observations made after it was added: adding never fires. An entry
//! added while the price is already through its trigger fires on the next observation at
//! or through it. Callers that must refuse (or act on) such orders at once ask
//! [`TriggerBook::would_fire`] first. The same holds after `amend_trigger` and
//! `set_user_stop`: a change never fires by itself, the next observation decides.
//!
//! # Trailing stops
//!
//! A sell trailing stop (protecting a long) tracks the highest price it has observed
//! since it was added, seeded by the optional `reference` given at add time; a buy
//! trailing stop tracks the lowest. Its trailing stop is `extreme − offset` (sell) or
//! `extreme + offset` (buy), where the offset is either a fixed number of ticks or
//! `bps` basis points of the extreme:
//!
//! `offset = max(1, floor(|extreme| × bps / 10_000))` ticks.
//!
//! Rounded down, so the trail is never wider than asked, except that it is at least one
//! tick: a zero-tick trail would put the stop on the very price that set it and fire at
//! once. The optional `trigger_price` of a trailing stop is its starting stop. The
//! trailing stop only ever moves in the favourable direction (up for a sell, down for a
//! buy): on a new extreme it becomes the tighter of its old value and the new
//! `extreme ∓ offset`; a pullback changes nothing.
//!
//! Order within one observation: the extreme and the trailing stop are updated first,
//! then the observation is checked against the effective stop. This gives the same
//! answer as checking first: a new extreme `p` only raises a sell stop to `p − offset`,
//! which is below `p` (offset >= 1), so an observation that fires after the update fired
//! before it, and one that sets a new extreme never fires because of that move.
//!
//! # User stop floor
//!
//! A `Stop` or `TrailingStop` entry may carry `user_stop`: the stop the user set on the
//! same position. The effective stop is the tighter of the two: `max(stop, user_stop)`
//! for a sell, `min` for a buy (a missing one is ignored; a trailing stop with neither
//! has no effective stop yet and cannot fire). So the effective stop is never looser than
//! the user's stop, and observations never loosen it. Explicit amendments are the user's
//! decisions and are honoured: `set_user_stop` replaces the user part even when the new
//! value is looser (the effective stop then becomes the tighter of the new user stop and
//! the trailing part, which keeps every bit of tightening it has earned), and
//! `amend_trigger` replaces a plain `Stop`'s or `TakeProfit`'s trigger. A trailing stop's
//! trailing part never loosens: `amend_trigger` on it may only tighten it and returns
//! [`TriggerError::WouldLoosen`] otherwise.
//!
//! # Output order
//!
//! Each observation removes the entries it fires from the book and appends their ids to
//! `out` in ascending id order (callers that number entries in submission order get
//! submission order). `out` is not cleared.
//!
//! # Cost
//!
//! `Stop` and `TakeProfit` entries sit in ordered sets per (source, side, kind), keyed by
//! their level, so an observation costs O(log n) per set plus O(log n) per fired entry.
//! Trailing stops change level on every new extreme, so they are kept inline in one list
//! per source and scanned by each observation of that source (they are few); amending or
//! removing one scans that list too.
//!
//! # Prices
//!
//! Every price (trigger, user stop, reference, observation) must satisfy
//! `|p| < PRICE_LIMIT` (2^62) like the books; a tick offset must be in `1..PRICE_LIMIT`,
//! so `extreme ± offset` always fits in an i64. A bps offset must be in `1..10_000`
//! (1 to 9,999).

mod error;

#[cfg(test)]
mod proptests;
#[cfg(test)]
mod tests;

pub use error::TriggerError;

use std::collections::BTreeSet;

use rustc_hash::FxHashMap;

use crate::query::{price_in_range, PRICE_LIMIT};
use crate::Side;

/// What makes an entry fire (see the module's trigger rule).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerKind {
    Stop,
    TakeProfit,
    TrailingStop,
}

impl TriggerKind {
    /// The name used in errors and the Python API.
    pub fn name(self) -> &'static str {
        match self {
            TriggerKind::Stop => "stop",
            TriggerKind::TakeProfit => "take_profit",
            TriggerKind::TrailingStop => "trailing_stop",
        }
    }
}

/// Which price an entry observes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TriggerSource {
    /// The last trade price.
    Last,
    /// The touch the released order would trade against: best bid for a sell, best ask
    /// for a buy.
    BidAsk,
    /// The mark price.
    Mark,
}

impl TriggerSource {
    fn idx(self) -> usize {
        self as usize
    }
}

/// A trailing stop's distance from the extreme.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TrailOffset {
    /// A fixed distance in ticks, `1..PRICE_LIMIT`.
    Ticks(i64),
    /// Basis points of the extreme, `1..10_000`; rounded down, at least one tick.
    Bps(u32),
}

impl TrailOffset {
    /// The offset in ticks at `extreme`: `max(1, floor(|extreme| × bps / 10_000))` for
    /// bps (exact in i128; the result is below |extreme| so it fits an i64).
    pub fn ticks_at(self, extreme: i64) -> i64 {
        match self {
            TrailOffset::Ticks(t) => t,
            TrailOffset::Bps(bps) => {
                let off = (extreme as i128).abs() * bps as i128 / 10_000;
                (off as i64).max(1)
            }
        }
    }
}

/// What the caller asks for when adding an entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriggerSpec {
    pub id: u64,
    /// The side of the order the entry releases: `Bid` = buy, `Ask` = sell.
    pub side: Side,
    pub kind: TriggerKind,
    pub source: TriggerSource,
    /// Required for `Stop` and `TakeProfit`; for `TrailingStop` the optional starting
    /// stop.
    pub trigger_price: Option<i64>,
    /// Required for `TrailingStop`, refused for the others.
    pub offset: Option<TrailOffset>,
    /// The user's own stop on the same position (`Stop` and `TrailingStop` only).
    pub user_stop: Option<i64>,
    /// Seeds a trailing stop's extreme (`TrailingStop` only), e.g. the entry price.
    pub reference: Option<i64>,
}

impl TriggerSpec {
    /// Checks everything but the id's uniqueness; the first failing rule is reported, in
    /// the order: price ranges (trigger_price, user_stop, reference), then the fields
    /// each kind requires or refuses, then the offset's range.
    pub fn validate(&self) -> Result<(), TriggerError> {
        for (field, value) in [
            ("trigger_price", self.trigger_price),
            ("user_stop", self.user_stop),
            ("reference", self.reference),
        ] {
            if let Some(v) = value {
                check_price(field, v)?;
            }
        }
        let kind = self.kind;
        match kind {
            TriggerKind::Stop | TriggerKind::TakeProfit => {
                if self.trigger_price.is_none() {
                    return Err(TriggerError::Missing { field: "trigger_price", kind });
                }
                if let Some(off) = self.offset {
                    let (field, value) = match off {
                        TrailOffset::Ticks(t) => ("offset_ticks", t),
                        TrailOffset::Bps(b) => ("offset_bps", b as i64),
                    };
                    return Err(TriggerError::NotAllowed { field, value, kind });
                }
                if let Some(r) = self.reference {
                    return Err(TriggerError::NotAllowed { field: "reference", value: r, kind });
                }
                if kind == TriggerKind::TakeProfit {
                    if let Some(u) = self.user_stop {
                        return Err(TriggerError::NotAllowed { field: "user_stop", value: u, kind });
                    }
                }
            }
            TriggerKind::TrailingStop => match self.offset {
                None => return Err(TriggerError::Missing { field: "offset_ticks or offset_bps", kind }),
                Some(TrailOffset::Ticks(t)) if !(1..PRICE_LIMIT).contains(&t) => {
                    return Err(TriggerError::OffsetTicks { value: t })
                }
                Some(TrailOffset::Bps(b)) if !(1..10_000).contains(&b) => {
                    return Err(TriggerError::OffsetBps { value: b as i64 })
                }
                Some(_) => {}
            },
        }
        Ok(())
    }
}

fn check_price(field: &'static str, value: i64) -> Result<(), TriggerError> {
    if price_in_range(value) {
        Ok(())
    } else {
        Err(TriggerError::PriceRange { field, value })
    }
}

/// The tighter of two optional stops for an order on `side`: max for a sell, min for
/// a buy; a missing one is ignored.
fn tighter(side: Side, a: Option<i64>, b: Option<i64>) -> Option<i64> {
    match (a, b) {
        (Some(x), Some(y)) => Some(if side == Side::Ask { x.max(y) } else { x.min(y) }),
        (x, None) => x,
        (None, y) => y,
    }
}

/// True when an entry of `kind` on `side` fires as the price falls to its level
/// (`p <= level`); otherwise it fires as the price rises to it (`p >= level`).
fn fires_falling(side: Side, kind: TriggerKind) -> bool {
    (side == Side::Ask) == (kind != TriggerKind::TakeProfit)
}

/// One resting entry as the book holds it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TriggerEntry {
    pub side: Side,
    pub kind: TriggerKind,
    pub source: TriggerSource,
    /// `Stop`/`TakeProfit`: the trigger price. `TrailingStop`: the trailing part's
    /// current stop (None until it has one).
    pub trigger_price: Option<i64>,
    pub offset: Option<TrailOffset>,
    pub user_stop: Option<i64>,
    /// `TrailingStop`: the most favourable price seen (or the reference); else None.
    pub extreme: Option<i64>,
}

impl TriggerEntry {
    fn from_spec(spec: &TriggerSpec) -> TriggerEntry {
        let mut e = TriggerEntry {
            side: spec.side,
            kind: spec.kind,
            source: spec.source,
            trigger_price: spec.trigger_price,
            offset: spec.offset,
            user_stop: spec.user_stop,
            extreme: None,
        };
        if let Some(r) = spec.reference {
            e.ratchet(r);
        }
        e
    }

    /// The level the entry fires at: the effective stop (the tighter of the stop and
    /// the user stop) for `Stop` and `TrailingStop`, the trigger for `TakeProfit`.
    pub fn effective_stop(&self) -> Option<i64> {
        match self.kind {
            TriggerKind::TakeProfit => self.trigger_price,
            _ => tighter(self.side, self.trigger_price, self.user_stop),
        }
    }

    /// True when observing `p` (already ratcheted in) fires the entry.
    fn fires_at(&self, p: i64) -> bool {
        match self.effective_stop() {
            Some(level) if fires_falling(self.side, self.kind) => p <= level,
            Some(level) => p >= level,
            None => false,
        }
    }

    /// Moves a trailing stop's extreme to `p` when `p` is more favourable, and its stop
    /// to the tighter of the old stop and `p ∓ offset`. No-op for other kinds.
    fn ratchet(&mut self, p: i64) {
        let Some(offset) = self.offset else { return };
        let sell = self.side == Side::Ask;
        let new_extreme = match self.extreme {
            None => true,
            Some(e) => (sell && p > e) || (!sell && p < e),
        };
        if new_extreme {
            self.extreme = Some(p);
            let off = offset.ticks_at(p);
            let level = if sell { p - off } else { p + off };
            self.trigger_price = tighter(self.side, self.trigger_price, Some(level));
        }
    }
}

/// Stop and take-profit entries of one (source, side, kind), ordered by (level, id).
type LevelSet = BTreeSet<(i64, u64)>;

/// Where an id lives: stop and take-profit entries in the map itself, trailing stops
/// inline in their source's scan list (no map lookup per entry on the hot scan).
#[derive(Debug, Clone, Copy)]
enum Slot {
    Plain(TriggerEntry),
    Trailing(TriggerSource),
}

/// The conditional entries of one instrument, keyed by caller-given ids.
#[derive(Debug, Default, Clone)]
pub struct TriggerBook {
    index: FxHashMap<u64, Slot>,
    /// `[source][side][0 stop | 1 take-profit]`.
    plain: [[[LevelSet; 2]; 2]; 3],
    /// Trailing stops per source, in no particular order (fired ids are sorted on output).
    trailing: [Vec<(u64, TriggerEntry)>; 3],
}

impl TriggerBook {
    pub fn new() -> TriggerBook {
        TriggerBook::default()
    }

    pub fn len(&self) -> usize {
        self.index.len()
    }

    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    pub fn contains(&self, id: u64) -> bool {
        self.index.contains_key(&id)
    }

    pub fn get(&self, id: u64) -> Option<&TriggerEntry> {
        match self.index.get(&id)? {
            Slot::Plain(e) => Some(e),
            Slot::Trailing(source) => self.trailing[source.idx()].iter().find(|t| t.0 == id).map(|t| &t.1),
        }
    }

    /// The level entry `id` fires at now (see [`TriggerEntry::effective_stop`]); None
    /// when the id is unknown or a trailing stop has no level yet.
    pub fn effective_stop(&self, id: u64) -> Option<i64> {
        self.get(id)?.effective_stop()
    }

    /// Would an entry made from `spec` fire if it were added now and `p` were the next
    /// price it observes (for `BidAsk`: the touch its order trades against)? A trailing
    /// stop first ratchets to `p`, as it would in the book. Does not validate `spec`
    /// (see [`TriggerSpec::validate`]); an invalid spec gives an unspecified answer.
    pub fn would_fire(spec: &TriggerSpec, p: i64) -> bool {
        let mut e = TriggerEntry::from_spec(spec);
        e.ratchet(p);
        e.fires_at(p)
    }

    fn set_of(&mut self, e: &TriggerEntry) -> &mut LevelSet {
        let k = (e.kind == TriggerKind::TakeProfit) as usize;
        &mut self.plain[e.source.idx()][e.side.idx()][k]
    }

    /// Adds an entry; on error (see [`TriggerSpec::validate`], or a duplicate id) the
    /// book is unchanged. Never fires (see the module docs).
    pub fn add(&mut self, spec: &TriggerSpec) -> Result<(), TriggerError> {
        if self.index.contains_key(&spec.id) {
            return Err(TriggerError::DuplicateId { id: spec.id });
        }
        spec.validate()?;
        let e = TriggerEntry::from_spec(spec);
        if e.kind == TriggerKind::TrailingStop {
            self.trailing[e.source.idx()].push((spec.id, e));
            self.index.insert(spec.id, Slot::Trailing(e.source));
        } else {
            let level = e.effective_stop().expect("a validated stop or take-profit has a trigger");
            self.set_of(&e).insert((level, spec.id));
            self.index.insert(spec.id, Slot::Plain(e));
        }
        Ok(())
    }

    /// Removes entry `id`; false when it is not in the book.
    pub fn remove(&mut self, id: u64) -> bool {
        match self.index.remove(&id) {
            Some(Slot::Plain(e)) => {
                let level = e.effective_stop().expect("a stop or take-profit has a level");
                self.set_of(&e).remove(&(level, id));
                true
            }
            Some(Slot::Trailing(source)) => {
                let list = &mut self.trailing[source.idx()];
                if let Some(i) = list.iter().position(|t| t.0 == id) {
                    list.swap_remove(i);
                }
                true
            }
            None => false,
        }
    }

    /// Applies `change` (which validates and may refuse) to entry `id`, keeping the
    /// level index in step; on refusal nothing changes.
    fn update(
        &mut self,
        id: u64,
        change: impl FnOnce(&mut TriggerEntry) -> Result<(), TriggerError>,
    ) -> Result<(), TriggerError> {
        match *self.index.get(&id).ok_or(TriggerError::UnknownId { id })? {
            Slot::Plain(old) => {
                let mut new = old;
                change(&mut new)?;
                let (old_level, new_level) = (old.effective_stop(), new.effective_stop());
                if old_level != new_level {
                    let set = self.set_of(&old);
                    set.remove(&(old_level.expect("plain level"), id));
                    set.insert((new_level.expect("plain level"), id));
                }
                self.index.insert(id, Slot::Plain(new));
            }
            Slot::Trailing(source) => {
                let t = self.trailing[source.idx()]
                    .iter_mut()
                    .find(|t| t.0 == id)
                    .expect("indexed trailing id is in its list");
                let mut new = t.1;
                change(&mut new)?;
                t.1 = new;
            }
        }
        Ok(())
    }

    /// Sets the trigger price. `Stop` and `TakeProfit`: replaced, in either direction
    /// (the user's decision). `TrailingStop`: the trailing part's stop, which may only
    /// tighten (else [`TriggerError::WouldLoosen`]); ratcheting continues from there.
    pub fn amend_trigger(&mut self, id: u64, price: i64) -> Result<(), TriggerError> {
        check_price("trigger_price", price)?;
        self.update(id, |e| {
            if e.kind == TriggerKind::TrailingStop {
                if let Some(current) = e.trigger_price {
                    if tighter(e.side, Some(current), Some(price)) != Some(price) {
                        let field = "trigger_price";
                        return Err(TriggerError::WouldLoosen { field, value: price, current });
                    }
                }
            }
            e.trigger_price = Some(price);
            Ok(())
        })
    }

    /// Sets or clears the user stop of a `Stop` or `TrailingStop` entry. The new value
    /// replaces the old even when looser (the user's explicit amendment); the trailing
    /// part is not touched, so it never loosens.
    pub fn set_user_stop(&mut self, id: u64, price: Option<i64>) -> Result<(), TriggerError> {
        if let Some(p) = price {
            check_price("user_stop", p)?;
        }
        self.update(id, |e| {
            if e.kind == TriggerKind::TakeProfit {
                if let Some(value) = price {
                    return Err(TriggerError::NotAllowed { field: "user_stop", value, kind: e.kind });
                }
            }
            e.user_stop = price;
            Ok(())
        })
    }

    /// Observes a last trade price; fired ids are appended to `out` (ascending).
    pub fn on_last(&mut self, price: i64, out: &mut Vec<u64>) -> Result<(), TriggerError> {
        check_price("last", price)?;
        self.observe(TriggerSource::Last, Some(price), Some(price), out);
        Ok(())
    }

    /// Observes a mark price; fired ids are appended to `out` (ascending).
    pub fn on_mark(&mut self, price: i64, out: &mut Vec<u64>) -> Result<(), TriggerError> {
        check_price("mark", price)?;
        self.observe(TriggerSource::Mark, Some(price), Some(price), out);
        Ok(())
    }

    /// Observes the touch: sell entries see `bid`, buy entries see `ask`; a missing side
    /// (empty book side) is no observation for the entries that would see it.
    pub fn on_bid_ask(
        &mut self,
        bid: Option<i64>,
        ask: Option<i64>,
        out: &mut Vec<u64>,
    ) -> Result<(), TriggerError> {
        if let Some(b) = bid {
            check_price("bid", b)?;
        }
        if let Some(a) = ask {
            check_price("ask", a)?;
        }
        self.observe(TriggerSource::BidAsk, ask, bid, out);
        Ok(())
    }

    /// One observation of `source`: buy entries see `buy_p`, sell entries `sell_p`.
    fn observe(
        &mut self,
        source: TriggerSource,
        buy_p: Option<i64>,
        sell_p: Option<i64>,
        out: &mut Vec<u64>,
    ) {
        let start = out.len();
        let s = source.idx();
        for side in [Side::Bid, Side::Ask] {
            let Some(p) = (if side == Side::Bid { buy_p } else { sell_p }) else { continue };
            for (k, kind) in [TriggerKind::Stop, TriggerKind::TakeProfit].into_iter().enumerate() {
                let set = &mut self.plain[s][side.idx()][k];
                if fires_falling(side, kind) {
                    while let Some(&(level, id)) = set.last() {
                        if p > level {
                            break;
                        }
                        set.pop_last();
                        out.push(id);
                    }
                } else {
                    while let Some(&(level, id)) = set.first() {
                        if p < level {
                            break;
                        }
                        set.pop_first();
                        out.push(id);
                    }
                }
            }
        }
        self.trailing[s].retain_mut(|(id, e)| {
            let Some(p) = (if e.side == Side::Bid { buy_p } else { sell_p }) else { return true };
            e.ratchet(p);
            if e.fires_at(p) {
                out.push(*id);
                false
            } else {
                true
            }
        });
        for &id in &out[start..] {
            self.index.remove(&id);
        }
        out[start..].sort_unstable();
    }
}
