//! Accounting: netting positions, fees, balances, position snapshots.
//!
//! Everything here is exact integer arithmetic: prices in ticks and quantities in lots
//! (`i64`), cost bases in tick·lot units (`i128`), money in [`Money`] (10^-18 units).
//! Every operation is checked: an overflow is an error and leaves the position or the
//! balances exactly as they were (a fill is applied completely or not at all).
//!
//! # Rounding rules (the only places where a value is rounded)
//!
//! 1. **Notional** of a fill = price ticks × qty lots × (tick size × lot size), exact.
//!    An instrument whose tick scale + lot scale exceeds 18 is rejected
//!    ([`MoneyError::ScaleTooFine`]) rather than rounded.
//! 2. **Fees** = |notional| × rate, rounded to the fee asset's precision toward +inf
//!    ([`Rounding::Ceiling`]): a fee paid rounds up, a rebate (negative fee) rounds
//!    toward zero. Reported P&L is therefore never better than the exchange's.
//! 3. **Partial reduce**: the cost removed from the basis is `cost × closed / open`
//!    rounded toward +inf in tick·lot units, which makes that fill's realized P&L never
//!    better than the exact average-price figure. The remainder (< 1 tick·lot) stays in
//!    the basis and is realized by later reductions, so at every moment
//!    `realized + unrealized(mark) == Σ signed fill cash flows + qty × mark − fees`
//!    exactly, and a position closed to flat has cost basis exactly 0 and realized P&L
//!    equal to the exact cash sum.
//! 4. **Average entry** is never stored: it is `cost / qty` ticks exactly
//!    ([`Position::avg_entry_ticks`]); a decimal price is produced only on request, with
//!    an explicit [`Rounding`] mode.
//! 5. **Fees in another asset**: [`Position`] keeps P&L in the quote (settlement)
//!    currency, so a fee charged in base must be valued in quote by the caller;
//!    [`Contract::quote_value`] does it at the fill price, with the mode the caller
//!    gives (use `Ceiling` for a fee paid, rule 2). A fee in a third asset (BNB) is
//!    valued with [`convert`] at a price the caller supplies (quote per unit of the fee
//!    asset), also `Ceiling`; [`SpotMarket::fee_value`] applies both. [`Balances`]
//!    always books the fee in the asset it was actually charged in.
//! 6. **Fees are never split or capitalized**: a fill's whole fee is realized with that
//!    fill, including a flip through zero (the closing and the opening part share one
//!    fee, all of it realized at the flip). The cost basis holds prices only, so the new
//!    position's average entry after a flip is exactly the flip fill's price.
//! 7. **Used margin** of a linear perpetual position = |cost basis| × tick × lot /
//!    leverage, rounded toward +inf at 10^-18 ([`Position::used_margin`]): margin is
//!    measured at the entry, not the mark, and a fractional unit counts as used.
//!
//! # Sign conventions
//!
//! A fill's `side` is the book side of *our* order: [`Side::Bid`] buys, [`Side::Ask`]
//! sells. Position quantity is signed (long > 0, short < 0). A fee is positive when paid
//! and negative when it is a rebate.

mod balance;
mod fees;
mod position;

pub use balance::{Asset, Balances, SpotMarket};
pub use fees::{ContractFees, FeeRate, FeeSchedule, Liquidity};
pub use position::{Position, PositionLog, Snapshot};

use std::fmt;

use crate::fixed::Grid;
pub use crate::money::{Money, MoneyError, Rounding};
use crate::money::{div_round, POW10};
use crate::side::Side;

/// Why a fill or a balance change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AccountingError {
    /// An arithmetic or precision failure (overflow, bad precision, bad scale).
    Money(MoneyError),
    /// A fill quantity that is not positive.
    BadQty { qty: i64 },
    /// An asset code that is empty, longer than 16 bytes or not printable ASCII.
    BadAsset { code: String },
    /// A fee in a third asset with no price to value it in quote (rule 5).
    NoFeePrice { asset: String },
    /// A fee asset price that is not positive.
    BadFeePrice { asset: String, price: Money },
    /// A leverage below 1.
    BadLeverage { leverage: i64 },
}

impl fmt::Display for AccountingError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AccountingError::Money(e) => e.fmt(f),
            AccountingError::BadQty { qty } => {
                write!(f, "fill qty {qty} lots is not positive (rule: qty > 0)")
            }
            AccountingError::BadAsset { code } => write!(
                f,
                "asset {code:?} is invalid (rule: 1..=16 printable ASCII bytes, no spaces)"
            ),
            AccountingError::NoFeePrice { asset } => write!(
                f,
                "fee asset {asset} is neither base nor quote and has no price \
                 (rule: a third-asset fee needs a quote price)"
            ),
            AccountingError::BadFeePrice { asset, price } => {
                write!(f, "fee price {price} of {asset} is not positive (rule: price > 0)")
            }
            AccountingError::BadLeverage { leverage } => {
                write!(f, "leverage {leverage} is below 1 (rule: leverage >= 1)")
            }
        }
    }
}

impl std::error::Error for AccountingError {}

impl From<MoneyError> for AccountingError {
    fn from(e: MoneyError) -> Self {
        AccountingError::Money(e)
    }
}

#[inline]
pub(crate) fn overflow(op: &'static str) -> AccountingError {
    AccountingError::Money(MoneyError::Overflow { op })
}

/// One execution of our order: side, price in ticks, quantity in lots, fee.
///
/// For [`Position`] the fee is in the quote (settlement) currency; for
/// [`Balances::apply_spot_fill`] it is in the fee asset passed alongside.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Fill {
    pub side: Side,
    pub price: i64,
    pub qty: i64,
    pub fee: Money,
}

impl Fill {
    pub fn buy(price: i64, qty: i64, fee: Money) -> Fill {
        Fill { side: Side::Bid, price, qty, fee }
    }

    pub fn sell(price: i64, qty: i64, fee: Money) -> Fill {
        Fill { side: Side::Ask, price, qty, fee }
    }

    /// The signed quantity: + for a buy, - for a sell.
    #[inline]
    pub fn signed_qty(&self) -> i64 {
        match self.side {
            Side::Bid => self.qty,
            Side::Ask => -self.qty,
        }
    }
}

/// The money value of an instrument's grid: what one tick, one lot and one tick × lot
/// are worth in [`Money`] units, computed exactly from the grid's steps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Contract {
    /// Quote money units per (1 tick × 1 lot): tick × lot × 10^18.
    unit: i128,
    /// Base money units per lot: lot × 10^18.
    lot_units: i128,
    /// Tick size as mantissa × 10^-scale.
    tick_mantissa: i128,
    tick_scale: u32,
}

impl Contract {
    /// From an instrument's tick and lot steps. Errors when tick scale + lot scale > 18
    /// (one tick × one lot would be finer than 10^-18) or on overflow.
    pub fn new(grid: &Grid) -> Result<Contract, MoneyError> {
        let (ts, ls) = (grid.tick.scale(), grid.lot.scale());
        if ts + ls > Money::SCALE {
            return Err(MoneyError::ScaleTooFine { tick_scale: ts, lot_scale: ls });
        }
        let ovf = MoneyError::Overflow { op: "contract unit" };
        let unit = grid
            .tick
            .mantissa()
            .checked_mul(grid.lot.mantissa())
            .and_then(|x| x.checked_mul(POW10[(Money::SCALE - ts - ls) as usize]))
            .ok_or(ovf.clone())?;
        let lot_units = grid
            .lot
            .mantissa()
            .checked_mul(POW10[(Money::SCALE - ls) as usize])
            .ok_or(ovf)?;
        Ok(Contract {
            unit,
            lot_units,
            tick_mantissa: grid.tick.mantissa(),
            tick_scale: ts,
        })
    }

    /// Money units per tick × lot.
    #[inline]
    pub fn unit(&self) -> i128 {
        self.unit
    }

    /// The exact notional of `qty` lots at `price` ticks, in quote money (signed as the
    /// product is).
    #[inline]
    pub fn notional(&self, price: i64, qty: i64) -> Result<Money, MoneyError> {
        self.tick_lots_to_money(price as i128 * qty as i128)
    }

    /// Converts a tick·lot amount (a cost basis, a P&L in tick·lot units) to money.
    #[inline]
    pub fn tick_lots_to_money(&self, tick_lots: i128) -> Result<Money, MoneyError> {
        tick_lots
            .checked_mul(self.unit)
            .map(Money::from_units)
            .ok_or(MoneyError::Overflow { op: "tick·lot to money" })
    }

    /// The exact base amount of `qty` lots.
    #[inline]
    pub fn base_amount(&self, qty: i64) -> Result<Money, MoneyError> {
        (qty as i128)
            .checked_mul(self.lot_units)
            .map(Money::from_units)
            .ok_or(MoneyError::Overflow { op: "lots to base amount" })
    }

    /// A price in ticks as money of quote per one whole base unit (exact).
    pub fn price_money(&self, price: i64) -> Result<Money, MoneyError> {
        (price as i128)
            .checked_mul(self.tick_mantissa)
            .and_then(|x| x.checked_mul(POW10[(Money::SCALE - self.tick_scale) as usize]))
            .map(Money::from_units)
            .ok_or(MoneyError::Overflow { op: "price to money" })
    }

    /// The quote value of a base amount at `price` ticks, rounded to 10^-18 with `mode`
    /// (used to value a fee charged in base; see rule 5 in the module docs).
    pub fn quote_value(&self, base: Money, price: i64, mode: Rounding) -> Result<Money, MoneyError> {
        // base × price × tick = base.units × (price × tick_mantissa) / 10^tick_scale.
        let ovf = MoneyError::Overflow { op: "quote value of base" };
        let n = base
            .units()
            .checked_mul(price as i128)
            .and_then(|x| x.checked_mul(self.tick_mantissa))
            .ok_or(ovf.clone())?;
        div_round(n, POW10[self.tick_scale as usize], mode)
            .map(Money::from_units)
            .ok_or(ovf)
    }
}

/// `amount × price` rounded to 10^-18 with `mode`: the value of an amount of one asset
/// at a price in another (rule 5). Exact for every pair of [`Money`] values; an error
/// only when the rounded result does not fit.
pub fn convert(amount: Money, price: Money, mode: Rounding) -> Result<Money, MoneyError> {
    // On magnitudes, with A = ah·D + al and B = bh·D + bl (D = 10^18):
    // A·B / D = ah·bh·D + ah·bl + al·bh + al·bl / D. Every term is non-negative and at
    // most the result, so a checked step fails only when the result itself is too large;
    // al·bl < 10^36 < 2^120 always fits.
    const D: u128 = POW10[18] as u128;
    let ovf = MoneyError::Overflow { op: "money conversion" };
    let (a, b) = (amount.units().unsigned_abs(), price.units().unsigned_abs());
    let (ah, al, bh, bl) = (a / D, a % D, b / D, b % D);
    let low = al * bl;
    let q = ah
        .checked_mul(bh)
        .and_then(|x| x.checked_mul(D))
        .and_then(|x| x.checked_add(ah.checked_mul(bl)?))
        .and_then(|x| x.checked_add(al.checked_mul(bh)?))
        .and_then(|x| x.checked_add(low / D))
        .ok_or(ovf.clone())?;
    let r = low % D;
    let negative = amount.is_negative() != price.is_negative() && (q != 0 || r != 0);
    // Round the magnitude: "up" means away from zero.
    let up = r != 0
        && match mode {
            Rounding::Down => false,
            Rounding::Up => true,
            Rounding::Floor => negative,
            Rounding::Ceiling => !negative,
            Rounding::HalfEven => 2 * r > D || (2 * r == D && q % 2 == 1),
        };
    let mag = q.checked_add(up as u128).ok_or(ovf.clone())?;
    if negative {
        0i128.checked_sub_unsigned(mag).map(Money::from_units).ok_or(ovf)
    } else {
        i128::try_from(mag).map(Money::from_units).map_err(|_| ovf)
    }
}

#[cfg(test)]
mod tests;
