//! Queue position of our resting orders on the L2 feed: the conservative and the
//! probabilistic model, in one place. (On the L3 feed the position is exact: see
//! [`super::l3feed`]; the queue model is not used there.)
//!
//! `queue_ahead` is the number of market lots ahead of one of our orders at its price. Our
//! orders are not in the L2 book, so the book's size at our price is market lots only.
//!
//! # What both models do
//!
//! - **At rest**, `queue_ahead` = the book's size at the order's price on its side:
//!   everyone there came before us.
//! - **A trade print** at our price, aggressor on the other side, eats the front of the
//!   queue (`print_at_price`): first the market lots ahead of our first order there,
//!   then that order, and so on in time order (details in the `sim` module docs).
//! - **An increase** of our level in a book diff goes behind us: no change.
//! - **A snapshot** clamps every resting order: `queue_ahead = min(queue_ahead, size)`.
//! - Nothing changes while the book is stale.
//!
//! # Conservative
//!
//! A decrease of our level in a diff comes off the back of the queue: `queue_ahead =
//! min(queue_ahead, new size)`. We never move up except by prints (or a level shrinking
//! below us).
//!
//! # Probabilistic `{ power: n }`
//!
//! A decrease is split between what trade prints explain and cancellations, and the
//! cancellations are spread over the queue with weights that favour the longer side
//! (power `n`, `1 <= n <= Power::MAX`). For one diff and one level of ours:
//!
//! ```text
//! old = level size before the diff, new = after it, d = old - new    (nothing if d <= 0)
//! P   = lots printed against this side at this price since the last applied book message
//! absorbed = min(d, P)          the prints, already taken from the front by the print rule
//! c        = d - absorbed       cancellations
//! L        = old - absorbed     the level just before the cancellations
//! a        = queue_ahead,  b = max(L - a, 0)       (market lots ahead of us / behind us)
//! r        = floor(c * a^n / (a^n + b^n))          cancellations expected ahead of us
//!            (0 when a = 0; c when b = 0)
//! r        = min(max(r, c - b), a, c)              no more than a can go from ahead, and
//!                                                  what b cannot hold came from ahead
//! queue_ahead = min(a - r, new)
//! ```
//!
//! Then, over our orders at that level in time order, `queue_ahead` is made
//! non-decreasing (`q[i] = max(q[i], q[i-1])`): a later order of ours is never ahead of an
//! earlier one. This only ever raises a value, and never above the conservative one.
//!
//! Rounding: the share is floored in lots, so we never move up more than the expectation;
//! the bounds then only apply what the level sizes force. Hand-checked examples are in
//! the tests (`cancels_ahead(4, 6, 2, 2) = floor(4 * 36 / 40) = 3`).
//!
//! Guarantees, for the same inputs: the probabilistic `queue_ahead` is `>= 0`, `<=` the
//! level's size, and `<=` what the conservative model gives.
//!
//! Printed lots are counted per side and price from every trade print (the side the
//! aggressor hit), and forgotten when a book message is applied (a diff applied, or a
//! snapshot); a diff that is dropped (older than the book) or buffered (stale book) keeps
//! them. The model assumes a print arrives no later than the diff that reflects it (true
//! when prints are merged before depth messages of the same time); a print that arrives
//! after its diff makes that decrease count as cancellations and then eats the queue
//! again, which moves us up further than reality (still never past the conservative
//! model's position).
//!
//! # Arithmetic
//!
//! Exact integers: powers in `u128`, and `c * a^n / (a^n + b^n)` by a 64-step long
//! multiplication-division that never overflows. It is exact whenever `(a + b)^n < 2^126`:
//! for `n = 1` and `n = 2` that is every level size an `i64` can hold, for `n = 3` levels
//! under 2^42 lots, for `n = 4` under 2^31. Beyond that, `a` and `b` are divided by the
//! smallest power of two that brings `(a' + b')^n` under 2^126, `a` rounded down and `b`
//! rounded up, which can only lower the share from ahead (never move us up more). `n` is
//! capped at [`Power::MAX`] so this reduction always terminates early; a larger power, or
//! 0, is refused when the model is built ([`Power::new`], [`QueueModel::probabilistic`]).

use std::fmt;

use super::SimVenue;
use crate::event::{Event, KIND_DIFF};
use crate::Side;

/// Power of the probabilistic model, `1..=Power::MAX` (checked at construction).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Power(u32);

impl Power {
    /// Largest accepted power.
    pub const MAX: u32 = 4;

    pub fn new(n: u32) -> Result<Power, ConfigError> {
        if (1..=Power::MAX).contains(&n) {
            Ok(Power(n))
        } else {
            Err(ConfigError::QueuePower(n))
        }
    }

    pub fn get(self) -> u32 {
        self.0
    }
}

/// How our queue position moves on an L2 feed (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum QueueModel {
    /// Decreases come off the back of the queue.
    #[default]
    Conservative,
    /// Decreases not explained by prints are spread over the queue, weighted by `power`.
    Probabilistic { power: Power },
}

impl QueueModel {
    /// The probabilistic model with power `n` (`1..=Power::MAX`).
    pub fn probabilistic(n: u32) -> Result<QueueModel, ConfigError> {
        Ok(QueueModel::Probabilistic { power: Power::new(n)? })
    }

    /// By name, as the bindings take it: "conservative" (`power` unused) or
    /// "probabilistic" (with `power`).
    pub fn parse(name: &str, power: u32) -> Result<QueueModel, ConfigError> {
        match name {
            "conservative" => Ok(QueueModel::Conservative),
            "probabilistic" => QueueModel::probabilistic(power),
            _ => Err(ConfigError::QueueModel(name.to_string())),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            QueueModel::Conservative => "conservative",
            QueueModel::Probabilistic { .. } => "probabilistic",
        }
    }

    /// `queue_ahead` after a diff took our level from `old` to `new` lots, `printed` lots
    /// having printed there since the last applied book message (module docs). Before the
    /// ordering step across several orders of ours at the level.
    pub fn after_diff(self, ahead: i64, old: i64, new: i64, printed: i64) -> i64 {
        match self {
            QueueModel::Conservative => ahead.min(new),
            QueueModel::Probabilistic { power } => {
                let d = old - new;
                if d <= 0 {
                    return ahead.min(new);
                }
                let absorbed = d.min(printed.max(0));
                let c = d - absorbed;
                let behind = (old - absorbed - ahead).max(0);
                (ahead - cancels_ahead(c, ahead, behind, power)).min(new)
            }
        }
    }
}

/// Invalid venue settings; each names the field, the value and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    QueueModel(String),
    QueuePower(u32),
    Feed(String),
    /// A latency below zero.
    Latency { field: &'static str, value: i64 },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::QueueModel(v) => {
                write!(f, "queue_model {v:?} must be \"conservative\" or \"probabilistic\"")
            }
            ConfigError::QueuePower(v) => write!(
                f,
                "queue_power {v} must be in 1..={} (rule: a larger power cannot be computed exactly)",
                Power::MAX
            ),
            ConfigError::Feed(v) => write!(f, "feed {v:?} must be \"l2\" or \"l3\""),
            ConfigError::Latency { field, value } => {
                write!(f, "{field} {value} is not allowed (rule: latency >= 0)")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

/// A trade print at our price reaches one of our orders with `left` lots of its budget,
/// `market_eaten` of which the print already took from market lots ahead of an earlier
/// order of ours there (they were ahead of this one too). Returns the order's new
/// `queue_ahead` and the lots the print eats from it.
#[inline]
pub(super) fn print_at_price(ahead: i64, market_eaten: i64, left: i64) -> (i64, i64) {
    let ahead = (ahead - market_eaten).max(0);
    let eaten = ahead.min(left);
    (ahead - eaten, eaten)
}

/// Of `c` cancellations in a level with `ahead` market lots ahead of us and `behind`
/// behind, how many came from ahead: the floored share with the bounds of the module
/// docs. Never negative, never above `ahead` or `c`.
pub fn cancels_ahead(c: i64, ahead: i64, behind: i64, power: Power) -> i64 {
    if c <= 0 || ahead <= 0 {
        return 0;
    }
    let behind = behind.max(0);
    let r = share(c as u64, ahead as u64, behind as u64, power.get());
    r.max(c - behind).min(ahead).min(c)
}

/// floor(c * a^n / (a^n + b^n)), with `a` and `b` reduced as the module docs say when
/// `(a + b)^n` reaches 2^126. `c`, `a`, `b` < 2^63.
fn share(c: u64, a: u64, b: u64, n: u32) -> i64 {
    if c == 0 || a == 0 {
        return 0;
    }
    if b == 0 {
        return c as i64;
    }
    const LIMIT: u128 = 1 << 126;
    let (mut a, mut b) = (a as u128, b as u128);
    while !matches!((a + b).checked_pow(n), Some(s) if s < LIMIT) {
        // Toward behind: the share from ahead can only shrink.
        a >>= 1;
        b = (b + 1) >> 1;
    }
    let an = a.pow(n);
    if an == 0 {
        return 0;
    }
    mul_div_floor(c, an, an + b.pow(n)) as i64
}

/// floor(c * x / y) for `x <= y < 2^126`, `y > 0`, exactly: bit by bit over `c`, keeping
/// `prefix * x = q * y + rem` with `rem < y`, so nothing exceeds `3 * y < 2^128`.
pub(super) fn mul_div_floor(c: u64, x: u128, y: u128) -> u64 {
    debug_assert!(x <= y && y > 0 && y < (1 << 126));
    if let Some(p) = (c as u128).checked_mul(x) {
        return (p / y) as u64;
    }
    let (mut q, mut rem) = (0u128, 0u128);
    for i in (0..64).rev() {
        q <<= 1;
        rem <<= 1;
        if (c >> i) & 1 == 1 {
            rem += x;
        }
        while rem >= y {
            rem -= y;
            q += 1;
        }
    }
    q as u64
}

/// Per-venue state of the queue models.
#[derive(Debug, Clone, Default)]
pub(super) struct QueueState {
    /// Per book side: (price, lots) printed against that side since the last applied
    /// book message (probabilistic model only).
    printed: [Vec<(i64, i64)>; 2],
    /// Levels of ours a diff touches: (side, price, size before, printed there).
    before: Vec<(Side, i64, i64, i64)>,
}

impl SimVenue {
    /// A trade print took `qty` lots from `side` at `price`: remembered for the
    /// probabilistic model, so that the diff reflecting it is not read as cancellations.
    pub(super) fn queue_on_print(&mut self, side: Side, price: i64, qty: i64) {
        if self.cfg.queue_model == QueueModel::Conservative {
            return;
        }
        let v = &mut self.queue.printed[side.idx()];
        match v.iter_mut().find(|(p, _)| *p == price) {
            Some((_, q)) => *q = q.saturating_add(qty),
            None => v.push((price, qty)),
        }
    }

    /// Before a book message is applied: for the probabilistic model and a diff, the
    /// sizes (and prints) of the levels of ours it touches.
    pub(super) fn queue_before_message(&mut self, msg: &[Event]) {
        self.queue.before.clear();
        if self.cfg.queue_model == QueueModel::Conservative
            || msg[0].kind != KIND_DIFF
            || self.orders.is_empty()
            || self.book.is_stale()
        {
            return;
        }
        for e in msg {
            if e.is_empty() {
                continue;
            }
            let side = if e.side & 1 == 0 { Side::Bid } else { Side::Ask };
            if !self.levels[side.idx()].contains_key(&e.price)
                || self.queue.before.iter().any(|&(s, p, _, _)| s == side && p == e.price)
            {
                continue;
            }
            let printed = self.queue.printed[side.idx()]
                .iter()
                .find(|(p, _)| *p == e.price)
                .map_or(0, |(_, q)| *q);
            let old = self.book.side(side).get(e.price);
            self.queue.before.push((side, e.price, old, printed));
        }
    }

    /// After a book message: forgets the prints once a message was applied.
    pub(super) fn queue_after_message(&mut self, applied: bool) {
        if applied {
            self.queue.printed[0].clear();
            self.queue.printed[1].clear();
        }
    }

    /// After an applied diff, probabilistic model: moves our orders at the levels
    /// recorded by [`Self::queue_before_message`]. False for the conservative model (the
    /// caller then clamps).
    pub(super) fn queue_after_diff(&mut self) -> bool {
        if self.cfg.queue_model == QueueModel::Conservative {
            return false;
        }
        let model = self.cfg.queue_model;
        for &(side, price, old, printed) in &self.queue.before {
            let Some(ids) = self.levels[side.idx()].get(&price) else { continue };
            let new = self.book.side(side).get(price);
            let mut floor = 0i64;
            for id in ids {
                if let Some(o) = self.orders.get_mut(id) {
                    o.queue_ahead = model.after_diff(o.queue_ahead, old, new, printed).max(floor);
                    floor = o.queue_ahead;
                }
            }
        }
        self.queue.before.clear();
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(n: u32) -> Power {
        Power::new(n).unwrap()
    }

    #[test]
    fn share_by_hand() {
        // c = 4, a = 6, b = 2. n = 1: 4 * 6 / 8 = 3. n = 2: 4 * 36 / 40 = 3.6 -> 3.
        // n = 3: 4 * 216 / 224 = 3.857 -> 3. n = 4: 4 * 1296 / 1312 = 3.95 -> 3.
        for n in 1..=4 {
            assert_eq!(cancels_ahead(4, 6, 2, p(n)), 3, "n = {n}");
        }
        // c = 5, a = 3, b = 7, n = 2: 5 * 9 / 58 = 0.78 -> 0 (lower bound 5 - 7 < 0).
        assert_eq!(cancels_ahead(5, 3, 7, p(2)), 0);
        // n = 1: 5 * 3 / 10 = 1.5 -> 1.
        assert_eq!(cancels_ahead(5, 3, 7, p(1)), 1);
        // c = 9, a = 4, b = 6, n = 4: 9 * 256 / 1552 = 1.48 -> 1, but only 6 lots are
        // behind, so at least 3 came from ahead.
        assert_eq!(cancels_ahead(9, 4, 6, p(4)), 3);
        // c = 9, a = 6, b = 4, n = 4: 9 * 1296 / 1552 = 7.5 -> 7, capped at a = 6.
        assert_eq!(cancels_ahead(9, 6, 4, p(4)), 6);
        // Nothing ahead: nothing from ahead. Nothing behind: all of it (up to a).
        assert_eq!(cancels_ahead(3, 0, 5, p(2)), 0);
        assert_eq!(cancels_ahead(3, 5, 0, p(2)), 3);
        assert_eq!(cancels_ahead(0, 5, 5, p(2)), 0);
    }

    #[test]
    fn large_levels_stay_exact_or_round_toward_behind() {
        // n = 2 is exact for any i64 level size: a = b = 2^62 - 1 -> half of c (the long
        // division path: c * a^2 does not fit a u128).
        let big = (1i64 << 62) - 1;
        assert_eq!(cancels_ahead(1_000_001, big, big, p(2)), 500_000);
        // n = 4, a = b = 2^40: (a + b)^4 = 2^164 is reduced by 2^10 to a' = b' = 2^30; the
        // ratio is still exactly 1/2.
        assert_eq!(cancels_ahead(1_000, 1 << 40, 1 << 40, p(4)), 500);
        // a = 2^40 + 1023, b = 2^40 + 1: a' = 2^30 (floor), b' = 2^30 + 1 (ceil): the
        // share drops just below 1/2, so 499 where the exact value is 500.00...
        assert_eq!(cancels_ahead(1_000, (1 << 40) + 1023, (1 << 40) + 1, p(4)), 499);
        // Long division path: floor(2^62 * 2^125 / (2^125 + 1)) = 2^62 - 1.
        assert_eq!(mul_div_floor(1 << 62, 1 << 125, (1 << 125) + 1), (1 << 62) - 1);
        assert_eq!(mul_div_floor(u64::MAX, 1 << 125, 1 << 125), u64::MAX);
        assert_eq!(mul_div_floor(3, 0, 7), 0);
    }

    #[test]
    fn after_diff_by_hand() {
        let m = QueueModel::probabilistic(2).unwrap();
        // old 20, 4 printed, new 8: d = 12, absorbed 4, c = 8, L = 16, a = 6, b = 10:
        // floor(8 * 36 / 136) = floor(2.12) = 2 -> 4.
        assert_eq!(m.after_diff(6, 20, 8, 4), 4);
        assert_eq!(QueueModel::Conservative.after_diff(6, 20, 8, 4), 6);
        // The prints explain the whole decrease: no move.
        assert_eq!(m.after_diff(6, 20, 16, 4), 6);
        // Increases go behind.
        assert_eq!(m.after_diff(6, 20, 25, 0), 6);
        // Clamped to the new size.
        assert_eq!(m.after_diff(6, 6, 2, 0), 2);
    }

    #[test]
    fn config_errors_name_field_value_and_rule() {
        assert_eq!(QueueModel::parse("conservative", 0), Ok(QueueModel::Conservative));
        assert_eq!(QueueModel::parse("probabilistic", 3), Ok(QueueModel::Probabilistic { power: p(3) }));
        let e = QueueModel::parse("probabilistic", 5).unwrap_err();
        assert_eq!(e.to_string(), "queue_power 5 must be in 1..=4 (rule: a larger power cannot be computed exactly)");
        assert_eq!(Power::new(0), Err(ConfigError::QueuePower(0)));
        let e = QueueModel::parse("fifo", 1).unwrap_err();
        assert_eq!(e.to_string(), "queue_model \"fifo\" must be \"conservative\" or \"probabilistic\"");
    }
}
