//! The pre-trade risk gate: one call per order, integers in, `Ok` or a [`Denial`] out.
//!
//! Units: prices in ticks and sizes in lots of the instrument (`i64`), money in
//! [`Money`] (exact 10^-18 units of the quote currency unless said otherwise). Notional
//! is `price × qty × (tick × lot)`, exact ([`Contract::notional`]). Time is the caller's
//! (`now_ns`); the gate never reads a clock.
//!
//! # Check order (the first failing check wins)
//!
//! | # | code | denies when |
//! |---|------|-------------|
//! | 1 | `TRADING_HALTED` | state is HALTED |
//! | 2 | `BAD_PRICE` | price (limit price, or the market order's reference price) <= 0 |
//! | 3 | `QTY_BELOW_MIN` | qty < min_qty (min_qty >= 1, so qty <= 0 lands here) |
//! | 4 | `QTY_ABOVE_MAX` | qty > max_qty |
//! | 5 | `REDUCE_ONLY_INCREASES` | reduce_only and the order does not *reduce* (below) |
//! | 6 | `TRADING_REDUCING` | state is REDUCING and the order does not reduce |
//! | 7 | `NO_MID` | mid <= 0 (no reference for the price band) |
//! | 8 | `PRICE_BAND` | `|price − mid| × 10_000 > band_bps × mid` |
//! | 9 | `NOTIONAL_OVERFLOW` | the notional does not fit in money units |
//! | 10 | `NOTIONAL_BELOW_MIN` | notional < min_notional |
//! | 11 | `MAX_NOTIONAL` | notional > max_notional |
//! | 12 | `MAX_POSITION` | `|new| > max_position` and `|new| > |position|` |
//! | 13 | `MAX_GROSS_EXPOSURE` | add > 0 and gross + add > max_gross_exposure |
//! | 14 | `INSUFFICIENT_BALANCE` | need > available (below) |
//! | 15 | `RATE_LIMIT` | the token bucket holds less than one token |
//!
//! The bucket is refilled to `now_ns` on every call (refilling is a pure function of
//! the timestamps, so when it happens does not change any level) but a token is taken
//! only when checks 1–14 all passed, and taking it is what makes the order allowed.
//!
//! # Definitions
//!
//! - An order **reduces** when the position is not flat, the order's side is opposite
//!   to it, and `qty <= |position|` (a flip through zero does not reduce).
//! - `new = position + signed qty` (buy +, sell −) in `i128`.
//! - **add** = notional of `max(0, |new| − |position|)` lots at the order price: the
//!   growth of this instrument's gross exposure if the order fills completely. `gross`
//!   is the caller's current gross exposure across instruments.
//! - **need** (balance):
//!   - spot buy: notional + fee at `max(maker, taker, 0)`, rounded as accounting rule 2
//!     (toward +inf at the fee precision); against `available_quote`.
//!   - spot sell: the base amount of qty lots; against `available_base`.
//!   - linear perpetual: the *opening* part of the order, `open = qty − closing` where
//!     `closing = min(qty, |position|)` when the side is opposite to the position, else
//!     0; need = `ceil(notional(open) / leverage)` + the fee on notional(open) as above;
//!     against `available_quote`. An order that only closes needs nothing, so a
//!     position can always be closed.
//! - Min and max notional apply to reduce-only orders too.

mod bucket;
mod denial;

pub use bucket::{TokenBucket, UNITS_PER_TOKEN};
pub use denial::{BalanceAsset, Denial};

use std::fmt;

use crate::accounting::{Contract, ContractFees, FeeRate, FeeSchedule, Liquidity};
use crate::fixed::Grid;
use crate::money::{div_round, Money, MoneyError, Rounding};
use crate::side::Side;

/// Spot (base and quote balances) or linear perpetual (margin in quote).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InstrumentKind {
    Spot,
    LinearPerpetual,
}

/// Market orders carry a reference price (the price the caller expects, e.g. the touch
/// plus its slippage cap); limit orders their limit price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OrderType {
    Market,
    Limit,
}

/// ACTIVE allows everything the limits allow; REDUCING only orders that reduce the
/// position; HALTED nothing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TradingState {
    Active,
    Reducing,
    Halted,
}

/// One order as the gate sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Order {
    pub side: Side,
    pub order_type: OrderType,
    /// Limit price, or the reference price of a market order (ticks).
    pub price: i64,
    /// Lots.
    pub qty: i64,
    pub reduce_only: bool,
}

/// The account and market state the caller supplies with each check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Account {
    /// Signed lots: long > 0, short < 0.
    pub position: i64,
    /// Mid price in ticks (the caller rounds a half-tick mid); <= 0 means unknown.
    pub mid: i64,
    /// Current gross exposure across instruments (quote money).
    pub gross_exposure: Money,
    /// Free quote balance (spot buys; perpetual margin and fees).
    pub available_quote: Money,
    /// Free base balance (spot sells).
    pub available_base: Money,
    pub state: TradingState,
}

/// The per-instrument limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskLimits {
    pub kind: InstrumentKind,
    /// Lots, >= 1.
    pub min_qty: i64,
    /// Lots, >= min_qty.
    pub max_qty: i64,
    /// Quote money, >= 0.
    pub min_notional: Money,
    /// Quote money, >= min_notional.
    pub max_notional: Money,
    /// Absolute lots, >= 0.
    pub max_position: i64,
    /// Quote money, >= 0.
    pub max_gross_exposure: Money,
    /// Basis points around the mid, >= 0.
    pub band_bps: i64,
    /// Perpetual leverage (initial margin = notional / leverage), >= 1; unused for spot.
    pub leverage: i64,
    /// The fee rates; the larger of maker and taker is reserved.
    pub fees: FeeSchedule,
    /// Token bucket capacity (tokens, >= 1).
    pub rate_capacity: i64,
    /// Tokens added per second (>= 0).
    pub rate_refill_per_s: i64,
}

/// A limit that cannot be used, naming the field, the value and the rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RiskConfigError {
    pub field: &'static str,
    pub value: String,
    pub rule: &'static str,
}

impl fmt::Display for RiskConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} is invalid (rule: {})",
            self.field, self.value, self.rule
        )
    }
}

impl std::error::Error for RiskConfigError {}

impl From<MoneyError> for RiskConfigError {
    fn from(e: MoneyError) -> Self {
        RiskConfigError {
            field: "grid",
            value: e.to_string(),
            rule: "tick scale + lot scale <= 18",
        }
    }
}

impl RiskLimits {
    /// Checks every limit; the error names the first bad one.
    pub fn validate(&self) -> Result<(), RiskConfigError> {
        fn bad(
            field: &'static str,
            value: impl fmt::Display,
            rule: &'static str,
        ) -> Result<(), RiskConfigError> {
            Err(RiskConfigError {
                field,
                value: value.to_string(),
                rule,
            })
        }
        if self.min_qty < 1 {
            return bad("min_qty", self.min_qty, ">= 1 lot");
        }
        if self.max_qty < self.min_qty {
            return bad("max_qty", self.max_qty, ">= min_qty");
        }
        if self.min_notional.is_negative() {
            return bad("min_notional", self.min_notional, ">= 0");
        }
        if self.max_notional < self.min_notional {
            return bad("max_notional", self.max_notional, ">= min_notional");
        }
        if self.max_position < 0 {
            return bad("max_position", self.max_position, ">= 0 lots");
        }
        if self.max_gross_exposure.is_negative() {
            return bad("max_gross_exposure", self.max_gross_exposure, ">= 0");
        }
        if self.band_bps < 0 {
            return bad("band_bps", self.band_bps, ">= 0");
        }
        if self.leverage < 1 {
            return bad("leverage", self.leverage, ">= 1");
        }
        if self.rate_capacity < 1 {
            return bad("rate_capacity", self.rate_capacity, ">= 1 token");
        }
        if self.rate_refill_per_s < 0 {
            return bad(
                "rate_refill_per_s",
                self.rate_refill_per_s,
                ">= 0 tokens per second",
            );
        }
        Ok(())
    }
}

/// The gate for one instrument: limits, the contract's money math and the bucket.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskGate {
    limits: RiskLimits,
    contract: Contract,
    /// Fees at max(maker, taker, 0), bound to the contract (fast exact path).
    fees: ContractFees,
    /// Margin of n tick·lots = ceil(n × margin_num / margin_den) money units, with
    /// contract unit / leverage reduced by their gcd (often margin_den = 1).
    margin_num: i128,
    margin_den: i128,
    bucket: TokenBucket,
}

impl RiskGate {
    pub fn new(grid: &Grid, limits: RiskLimits) -> Result<RiskGate, RiskConfigError> {
        limits.validate()?;
        let contract = Contract::new(grid)?;
        let max = limits
            .fees
            .maker
            .count()
            .max(limits.fees.taker.count())
            .max(0);
        let rate = FeeRate::from_count(max)?;
        let schedule = FeeSchedule {
            maker: rate,
            taker: rate,
            decimals: limits.fees.decimals,
        };
        let g = gcd(contract.unit(), limits.leverage as i128);
        Ok(RiskGate {
            limits,
            contract,
            fees: ContractFees::new(schedule, &contract),
            margin_num: contract.unit() / g,
            margin_den: limits.leverage as i128 / g,
            bucket: TokenBucket::new(limits.rate_capacity, limits.rate_refill_per_s),
        })
    }

    pub fn limits(&self) -> &RiskLimits {
        &self.limits
    }

    pub fn bucket(&self) -> &TokenBucket {
        &self.bucket
    }

    /// Sets the bucket's level back to full and forgets the last timestamp.
    pub fn reset_bucket(&mut self) {
        self.bucket = TokenBucket::new(self.limits.rate_capacity, self.limits.rate_refill_per_s);
    }

    /// The fee reserved on `qty` lots at `price`: max(maker, taker, 0) rate, rounded
    /// toward +inf (exactly `FeeRate::fee` of the notional).
    #[inline]
    fn fee(&self, price: i64, qty: i64) -> Result<Money, MoneyError> {
        self.fees.fee(price, qty, Liquidity::Taker)
    }

    /// ceil(notional(price, qty) / leverage), exact; None on overflow.
    #[inline]
    fn margin(&self, price: i64, qty: i64) -> Option<Money> {
        let n = (price as i128 * qty as i128).checked_mul(self.margin_num)?;
        if self.margin_den == 1 {
            return Some(Money::from_units(n));
        }
        div_round(n, self.margin_den, Rounding::Ceiling).map(Money::from_units)
    }

    /// Runs the checks in the documented order; `Ok` takes one token from the bucket.
    #[inline]
    pub fn check(&mut self, order: &Order, acct: &Account, now_ns: i64) -> Result<(), Denial> {
        self.bucket.refill(now_ns);
        self.evaluate(order, acct)?;
        if self.bucket.try_take() {
            Ok(())
        } else {
            Err(Denial::RateLimit {
                capacity: self.bucket.capacity(),
                refill_per_s: self.bucket.refill_per_s(),
                retry_after_ns: self.bucket.wait_ns(),
            })
        }
    }

    /// Checks 1–14 (everything but the rate limit); touches nothing.
    pub fn evaluate(&self, order: &Order, acct: &Account) -> Result<(), Denial> {
        let l = &self.limits;
        let (side, price, qty) = (order.side, order.price, order.qty);
        if acct.state == TradingState::Halted {
            return Err(Denial::TradingHalted);
        }
        if price <= 0 {
            return Err(Denial::BadPrice { price });
        }
        if qty < l.min_qty {
            return Err(Denial::QtyBelowMin {
                qty,
                min: l.min_qty,
            });
        }
        if qty > l.max_qty {
            return Err(Denial::QtyAboveMax {
                qty,
                max: l.max_qty,
            });
        }
        let pos = acct.position as i128;
        let signed = match side {
            Side::Bid => qty as i128,
            Side::Ask => -(qty as i128),
        };
        let opposite = (pos > 0 && side == Side::Ask) || (pos < 0 && side == Side::Bid);
        let reduces = opposite && qty as i128 <= pos.abs();
        if order.reduce_only && !reduces {
            return Err(Denial::ReduceOnlyIncreases {
                position: acct.position,
                side,
                qty,
            });
        }
        if acct.state == TradingState::Reducing && !reduces {
            return Err(Denial::TradingReducing {
                position: acct.position,
                side,
                qty,
            });
        }
        let mid = acct.mid;
        if mid <= 0 {
            return Err(Denial::NoMid { mid });
        }
        let dev = (price as i128 - mid as i128).abs() * 10_000;
        if dev > l.band_bps as i128 * mid as i128 {
            return Err(Denial::PriceBand {
                price,
                mid,
                band_bps: l.band_bps,
            });
        }
        let notional = self
            .contract
            .notional(price, qty)
            .map_err(|_| Denial::NotionalOverflow { price, qty })?;
        if notional < l.min_notional {
            return Err(Denial::NotionalBelowMin {
                notional,
                min: l.min_notional,
            });
        }
        if notional > l.max_notional {
            return Err(Denial::MaxNotional {
                notional,
                max: l.max_notional,
            });
        }
        let new = pos + signed;
        if new.abs() > l.max_position as i128 && new.abs() > pos.abs() {
            return Err(Denial::MaxPosition {
                position: acct.position,
                new_position: new,
                max: l.max_position,
            });
        }
        let grow = new.abs() - pos.abs();
        if grow > 0 {
            // grow <= qty, so this notional fits when the order's does.
            let add = self
                .contract
                .notional(price, grow as i64)
                .map_err(|_| Denial::NotionalOverflow { price, qty })?;
            let over = match acct.gross_exposure.checked_add(add) {
                Ok(total) => total > l.max_gross_exposure,
                Err(_) => true,
            };
            if over {
                return Err(Denial::MaxGrossExposure {
                    gross: acct.gross_exposure,
                    add,
                    max: l.max_gross_exposure,
                });
            }
        }
        self.check_balance(order, acct, notional, pos, opposite)
    }

    #[inline]
    fn check_balance(
        &self,
        order: &Order,
        acct: &Account,
        notional: Money,
        pos: i128,
        opposite: bool,
    ) -> Result<(), Denial> {
        let (asset, need, available) = match (self.limits.kind, order.side) {
            (InstrumentKind::Spot, Side::Bid) => {
                let need = self
                    .fee(order.price, order.qty)
                    .and_then(|fee| notional.checked_add(fee))
                    .ok();
                (BalanceAsset::Quote, need, acct.available_quote)
            }
            (InstrumentKind::Spot, Side::Ask) => (
                BalanceAsset::Base,
                self.contract.base_amount(order.qty).ok(),
                acct.available_base,
            ),
            (InstrumentKind::LinearPerpetual, _) => {
                let closing = if opposite {
                    (order.qty as i128).min(pos.abs())
                } else {
                    0
                };
                let open = order.qty as i128 - closing;
                let need = if open == 0 {
                    Some(Money::ZERO)
                } else {
                    let open = open as i64;
                    self.margin(order.price, open).and_then(|margin| {
                        let fee = self.fee(order.price, open).ok()?;
                        margin.checked_add(fee).ok()
                    })
                };
                (BalanceAsset::Quote, need, acct.available_quote)
            }
        };
        match need {
            Some(n) if n <= available => Ok(()),
            _ => Err(Denial::InsufficientBalance {
                asset,
                need,
                available,
            }),
        }
    }
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}

#[cfg(test)]
mod tests;
