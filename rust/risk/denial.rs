//! Denial reasons: one enum, one text format (`CATEGORY: key=value ...`).

use std::fmt;

use crate::money::Money;
use crate::side::Side;

/// Which asset an [`Denial::InsufficientBalance`] is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BalanceAsset {
    /// Quote currency (spot buys; perpetual margin and fees).
    Quote,
    /// Base currency (spot sells).
    Base,
}

impl BalanceAsset {
    pub fn as_str(self) -> &'static str {
        match self {
            BalanceAsset::Quote => "quote",
            BalanceAsset::Base => "base",
        }
    }
}

/// Why the gate refused an order. Cheap to build (no allocation); [`fmt::Display`]
/// renders the one reason format `CATEGORY: key=value key=value ...`, where prices are
/// ticks, sizes lots, money exact decimals (trailing zeros trimmed), sides `buy`/`sell`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    /// Trading state is HALTED: nothing is allowed.
    TradingHalted,
    /// The (limit or reference) price is not positive.
    BadPrice {
        price: i64,
    },
    /// qty below the instrument's minimum (this includes qty <= 0, as min >= 1).
    QtyBelowMin {
        qty: i64,
        min: i64,
    },
    QtyAboveMax {
        qty: i64,
        max: i64,
    },
    /// A reduce-only order that would open, increase or flip the position.
    ReduceOnlyIncreases {
        position: i64,
        side: Side,
        qty: i64,
    },
    /// Trading state is REDUCING and the order would not reduce the position.
    TradingReducing {
        position: i64,
        side: Side,
        qty: i64,
    },
    /// No usable mid (mid <= 0): the price band cannot be checked.
    NoMid {
        mid: i64,
    },
    /// |price - mid| > mid × band_bps / 10,000.
    PriceBand {
        price: i64,
        mid: i64,
        band_bps: i64,
    },
    /// price × qty × (tick × lot) does not fit in money units.
    NotionalOverflow {
        price: i64,
        qty: i64,
    },
    NotionalBelowMin {
        notional: Money,
        min: Money,
    },
    MaxNotional {
        notional: Money,
        max: Money,
    },
    /// The position after a full fill would exceed the absolute limit and grow.
    MaxPosition {
        position: i64,
        new_position: i128,
        max: i64,
    },
    /// gross + add > max, where add is the notional of the increase in |position|.
    MaxGrossExposure {
        gross: Money,
        add: Money,
        max: Money,
    },
    /// `need` is None when it does not fit in money units.
    InsufficientBalance {
        asset: BalanceAsset,
        need: Option<Money>,
        available: Money,
    },
    /// The submit-rate bucket holds less than one token. `retry_after_ns` is the wait
    /// for one token at the current time (None: refill rate 0, never).
    RateLimit {
        capacity: i64,
        refill_per_s: i64,
        retry_after_ns: Option<i64>,
    },
}

impl Denial {
    /// The category: the text before the colon.
    pub fn code(&self) -> &'static str {
        match self {
            Denial::TradingHalted => "TRADING_HALTED",
            Denial::BadPrice { .. } => "BAD_PRICE",
            Denial::QtyBelowMin { .. } => "QTY_BELOW_MIN",
            Denial::QtyAboveMax { .. } => "QTY_ABOVE_MAX",
            Denial::ReduceOnlyIncreases { .. } => "REDUCE_ONLY_INCREASES",
            Denial::TradingReducing { .. } => "TRADING_REDUCING",
            Denial::NoMid { .. } => "NO_MID",
            Denial::PriceBand { .. } => "PRICE_BAND",
            Denial::NotionalOverflow { .. } => "NOTIONAL_OVERFLOW",
            Denial::NotionalBelowMin { .. } => "NOTIONAL_BELOW_MIN",
            Denial::MaxNotional { .. } => "MAX_NOTIONAL",
            Denial::MaxPosition { .. } => "MAX_POSITION",
            Denial::MaxGrossExposure { .. } => "MAX_GROSS_EXPOSURE",
            Denial::InsufficientBalance { .. } => "INSUFFICIENT_BALANCE",
            Denial::RateLimit { .. } => "RATE_LIMIT",
        }
    }
}

pub(crate) fn side_str(side: Side) -> &'static str {
    match side {
        Side::Bid => "buy",
        Side::Ask => "sell",
    }
}

impl fmt::Display for Denial {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: ", self.code())?;
        match *self {
            Denial::TradingHalted => write!(f, "state=halted"),
            Denial::BadPrice { price } => write!(f, "price={price}"),
            Denial::QtyBelowMin { qty, min } => write!(f, "qty={qty} min={min}"),
            Denial::QtyAboveMax { qty, max } => write!(f, "qty={qty} max={max}"),
            Denial::ReduceOnlyIncreases {
                position,
                side,
                qty,
            } => {
                write!(f, "position={position} side={} qty={qty}", side_str(side))
            }
            Denial::TradingReducing {
                position,
                side,
                qty,
            } => {
                write!(f, "position={position} side={} qty={qty}", side_str(side))
            }
            Denial::NoMid { mid } => write!(f, "mid={mid}"),
            Denial::PriceBand {
                price,
                mid,
                band_bps,
            } => {
                write!(f, "price={price} mid={mid} band_bps={band_bps}")
            }
            Denial::NotionalOverflow { price, qty } => write!(f, "price={price} qty={qty}"),
            Denial::NotionalBelowMin { notional, min } => {
                write!(f, "notional={notional} min={min}")
            }
            Denial::MaxNotional { notional, max } => write!(f, "notional={notional} max={max}"),
            Denial::MaxPosition {
                position,
                new_position,
                max,
            } => {
                write!(f, "position={position} new={new_position} max={max}")
            }
            Denial::MaxGrossExposure { gross, add, max } => {
                write!(f, "gross={gross} add={add} max={max}")
            }
            Denial::InsufficientBalance {
                asset,
                need,
                available,
            } => {
                write!(f, "asset={} need=", asset.as_str())?;
                match need {
                    Some(n) => write!(f, "{n}")?,
                    None => write!(f, "overflow")?,
                }
                write!(f, " available={available}")
            }
            Denial::RateLimit {
                capacity,
                refill_per_s,
                retry_after_ns,
            } => {
                write!(
                    f,
                    "capacity={capacity} refill_per_s={refill_per_s} retry_after_ns="
                )?;
                match retry_after_ns {
                    Some(ns) => write!(f, "{ns}"),
                    None => write!(f, "never"),
                }
            }
        }
    }
}
