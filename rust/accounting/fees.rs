//! Fee rates and the fee of a fill (rounding rule 2 of the module docs).

use super::Contract;
use crate::money::{div_round, Money, MoneyError, Rounding, POW10};

/// Decimal places of a [`FeeRate`]: a rate is an integer count of 10^-10.
const RATE_SCALE: u32 = 10;

/// An exact fee rate: `count × 10^-10` (so "0.0002" is 2_000_000), in [-1, 1].
/// Negative is a rebate (maker rebates).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FeeRate(i64);

impl FeeRate {
    pub const ZERO: FeeRate = FeeRate(0);
    const ONE: i64 = 10_000_000_000;

    /// From a count of 10^-10; errors outside [-1, 1].
    pub fn from_count(count: i64) -> Result<FeeRate, MoneyError> {
        if count.unsigned_abs() > Self::ONE as u64 {
            return Err(MoneyError::BadRate { value: count.to_string() });
        }
        Ok(FeeRate(count))
    }

    /// Parses a decimal rate exactly ("0.0002", "-0.00005"); more than 10 significant
    /// decimals or |rate| > 1 is an error.
    pub fn parse(text: &str) -> Result<FeeRate, MoneyError> {
        let bad = || MoneyError::BadRate { value: text.to_string() };
        let m = Money::parse(text).map_err(|_| bad())?;
        let per = POW10[(Money::SCALE - RATE_SCALE) as usize];
        if m.units() % per != 0 {
            return Err(bad());
        }
        let count = m.units() / per;
        if count.unsigned_abs() > Self::ONE as u128 {
            return Err(bad());
        }
        Ok(FeeRate(count as i64))
    }

    /// The count of 10^-10.
    #[inline]
    pub fn count(self) -> i64 {
        self.0
    }

    /// The fee on `notional` (its absolute value), rounded to `decimals` places toward
    /// +inf: a fee paid rounds up, a rebate rounds toward zero. Positive = paid.
    #[inline]
    pub fn fee(self, notional: Money, decimals: u32) -> Result<Money, MoneyError> {
        if decimals > Money::SCALE {
            return Err(MoneyError::BadPrecision { decimals });
        }
        let ovf = MoneyError::Overflow { op: "fee" };
        let n = notional.units().checked_abs().ok_or(ovf.clone())?;
        let r = self.0 as i128;
        // notional (10^-18) × rate (10^-10) is in 10^-28; the result is in 10^-decimals.
        // Split n = a·D + b so that nothing overflows: |a·r| <= n because |r| <= 10^10 <= D,
        // and b·r < 10^28 · 10^10 < 2^127.
        let d = POW10[(Money::SCALE + RATE_SCALE - decimals) as usize];
        let (a, b) = (n / d, n % d);
        let count = (a * r)
            .checked_add(div_round(b * r, d, Rounding::Ceiling).expect("d > 0"))
            .ok_or(ovf)?;
        Money::from_scaled(count, decimals)
    }
}

/// Whether our order added liquidity (maker) or took it (taker).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Liquidity {
    Maker,
    Taker,
}

/// An instrument's fee rates and the precision its fees are charged at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FeeSchedule {
    pub maker: FeeRate,
    pub taker: FeeRate,
    /// Decimal places of the fee asset (e.g. 8).
    pub decimals: u32,
}

impl FeeSchedule {
    pub fn new(maker: &str, taker: &str, decimals: u32) -> Result<FeeSchedule, MoneyError> {
        if decimals > Money::SCALE {
            return Err(MoneyError::BadPrecision { decimals });
        }
        Ok(FeeSchedule {
            maker: FeeRate::parse(maker)?,
            taker: FeeRate::parse(taker)?,
            decimals,
        })
    }

    /// The fee on `notional` for `liq`, rounded per rule 2.
    #[inline]
    pub fn fee(&self, notional: Money, liq: Liquidity) -> Result<Money, MoneyError> {
        let rate = match liq {
            Liquidity::Maker => self.maker,
            Liquidity::Taker => self.taker,
        };
        rate.fee(notional, self.decimals)
    }
}

/// A [`FeeSchedule`] bound to one contract, for the per-fill hot path. Whenever the
/// notional is representable it gives exactly `schedule.fee(contract.notional(price,
/// qty), liq)` (same rule 2 rounding, property-tested), but works
/// on tick·lots with the contract value and the 10^-28 → 10^-decimals divisor reduced by
/// their gcd once, so a typical fill is one 64-bit division instead of several 128-bit
/// ones.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContractFees {
    schedule: FeeSchedule,
    contract: Contract,
    /// Fee count (10^-decimals) = ceil(|tick·lots| × rate × num / den).
    num: i128,
    den: i128,
}

impl ContractFees {
    pub fn new(schedule: FeeSchedule, contract: &Contract) -> ContractFees {
        let d = POW10[(Money::SCALE + RATE_SCALE - schedule.decimals) as usize];
        let g = gcd(contract.unit(), d);
        ContractFees {
            schedule,
            contract: *contract,
            num: contract.unit() / g,
            den: d / g,
        }
    }

    pub fn schedule(&self) -> &FeeSchedule {
        &self.schedule
    }

    /// The fee of `qty` lots at `price` ticks for `liq`, rounded per rule 2.
    #[inline]
    pub fn fee(&self, price: i64, qty: i64, liq: Liquidity) -> Result<Money, MoneyError> {
        let rate = match liq {
            Liquidity::Maker => self.schedule.maker,
            Liquidity::Taker => self.schedule.taker,
        };
        let tl = (price as i128 * qty as i128).unsigned_abs();
        let exact = i128::try_from(tl)
            .ok()
            .and_then(|t| t.checked_mul(self.num))
            .and_then(|t| t.checked_mul(rate.0 as i128));
        let Some(x) = exact else {
            // Beyond 2^127 before the division: the general (split) path.
            return self.schedule.fee(self.contract.notional(price, qty)?, liq);
        };
        let count = match (u64::try_from(x.unsigned_abs()), u64::try_from(self.den)) {
            (Ok(ax), Ok(d)) => {
                let (q, r) = (ax / d, ax % d);
                // Toward +inf: up for a fee paid, toward zero for a rebate.
                if x >= 0 {
                    q as i128 + (r != 0) as i128
                } else {
                    -(q as i128)
                }
            }
            _ => div_round(x, self.den, Rounding::Ceiling).expect("den > 0"),
        };
        Money::from_scaled(count, self.schedule.decimals)
    }
}

fn gcd(mut a: i128, mut b: i128) -> i128 {
    while b != 0 {
        (a, b) = (b, a % b);
    }
    a.abs()
}
