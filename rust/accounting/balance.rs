//! Balances per asset: spot fills move base, quote and the fee asset; linear perpetual
//! fills move realized P&L and fees into the collateral asset.

use std::fmt;

use rustc_hash::FxHashMap;

use super::{convert, overflow, AccountingError, Contract, Fill, Position};
use crate::money::{Money, Rounding};
use crate::side::Side;

/// An asset code ("BTC", "USDT", "BNB"): up to 16 printable ASCII bytes, stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Asset {
    len: u8,
    code: [u8; 16],
}

impl Asset {
    pub fn new(code: &str) -> Result<Asset, AccountingError> {
        let b = code.as_bytes();
        if b.is_empty() || b.len() > 16 || !b.iter().all(|c| c.is_ascii_graphic()) {
            return Err(AccountingError::BadAsset { code: code.to_string() });
        }
        let mut out = [0u8; 16];
        out[..b.len()].copy_from_slice(b);
        Ok(Asset { len: b.len() as u8, code: out })
    }

    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.code[..self.len as usize]).expect("checked ASCII")
    }
}

impl fmt::Debug for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Asset({})", self.as_str())
    }
}

impl fmt::Display for Asset {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

/// A spot instrument: its base and quote assets and its contract (grid value). It also
/// describes a linear perpetual, whose quote is the settlement (collateral) asset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SpotMarket {
    pub base: Asset,
    pub quote: Asset,
    pub contract: Contract,
}

impl SpotMarket {
    /// The quote value of a fee of `fee` charged in `fee_asset` on a fill at `price` ticks
    /// (rule 5): a quote fee is itself; a base fee is valued at the fill price and a
    /// third-asset fee at `fee_price` (quote per unit of the fee asset), both rounded
    /// toward +inf. `fee_price` is only read for a third asset, where it is required.
    pub fn fee_value(
        &self,
        fee: Money,
        fee_asset: Asset,
        price: i64,
        fee_price: Option<Money>,
    ) -> Result<Money, AccountingError> {
        if fee_asset == self.quote {
            return Ok(fee);
        }
        if fee_asset == self.base {
            return Ok(self.contract.quote_value(fee, price, Rounding::Ceiling)?);
        }
        let p = fee_price.ok_or_else(|| AccountingError::NoFeePrice { asset: fee_asset.to_string() })?;
        if p.units() <= 0 {
            return Err(AccountingError::BadFeePrice { asset: fee_asset.to_string(), price: p });
        }
        Ok(convert(fee, p, Rounding::Ceiling)?)
    }
}

/// Money per asset. A missing asset has balance zero. Balances may go negative: this
/// type books flows; refusing orders beyond the balance is the risk gate's job.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Balances {
    map: FxHashMap<Asset, Money>,
}

impl Balances {
    pub fn new() -> Balances {
        Balances::default()
    }

    #[inline]
    pub fn get(&self, asset: Asset) -> Money {
        self.map.get(&asset).copied().unwrap_or(Money::ZERO)
    }

    /// Adds `amount` (negative to debit); on overflow nothing changes.
    #[inline]
    pub fn credit(&mut self, asset: Asset, amount: Money) -> Result<Money, AccountingError> {
        let slot = self.map.entry(asset).or_insert(Money::ZERO);
        *slot = slot.checked_add(amount)?;
        Ok(*slot)
    }

    /// All non-default entries (assets ever touched), in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = (Asset, Money)> + '_ {
        self.map.iter().map(|(a, m)| (*a, *m))
    }

    /// Books a spot fill as flows: a buy adds the base amount and pays the notional in
    /// quote, a sell the reverse; the fee (positive paid, negative rebate) is taken from
    /// `fee_asset`, which may be the base, the quote or a third asset. All or nothing.
    #[inline]
    pub fn apply_spot_fill(
        &mut self,
        market: &SpotMarket,
        fill: &Fill,
        fee_asset: Asset,
    ) -> Result<(), AccountingError> {
        if fill.qty <= 0 {
            return Err(AccountingError::BadQty { qty: fill.qty });
        }
        let base_amt = market.contract.base_amount(fill.qty)?;
        let notional = market.contract.notional(fill.price, fill.qty)?;
        let (mut d_base, mut d_quote) = match fill.side {
            Side::Bid => (base_amt, notional.checked_neg()?),
            Side::Ask => (base_amt.checked_neg()?, notional),
        };
        let mut d_fee = Money::ZERO;
        let neg_fee = fill.fee.checked_neg()?;
        if fee_asset == market.base {
            d_base = d_base.checked_add(neg_fee)?;
        } else if fee_asset == market.quote {
            d_quote = d_quote.checked_add(neg_fee)?;
        } else {
            d_fee = neg_fee;
        }
        // Compute every new balance before writing any; an overflow names the balance.
        let nb = self.get(market.base).checked_add(d_base).map_err(|_| overflow("base balance"))?;
        let nq = self.get(market.quote).checked_add(d_quote).map_err(|_| overflow("quote balance"))?;
        let nf = if d_fee.is_zero() {
            None
        } else {
            Some(self.get(fee_asset).checked_add(d_fee).map_err(|_| overflow("fee asset balance"))?)
        };
        self.map.insert(market.base, nb);
        self.map.insert(market.quote, nq);
        if let Some(nf) = nf {
            self.map.insert(fee_asset, nf);
        }
        Ok(())
    }

    /// A spot fill booked in the balances and in `position` in one step, all or nothing.
    /// `fill.fee` is the fee as charged in `fee_asset`: the balances book exactly that,
    /// the position's P&L gets its quote value ([`SpotMarket::fee_value`], rule 5).
    /// Returns the position's realized P&L change.
    pub fn apply_spot_fill_with_position(
        &mut self,
        market: &SpotMarket,
        position: &mut Position,
        fill: &Fill,
        fee_asset: Asset,
        fee_price: Option<Money>,
    ) -> Result<Money, AccountingError> {
        let fee_value = market.fee_value(fill.fee, fee_asset, fill.price, fee_price)?;
        let mut next = *position;
        let delta = next.apply(&Fill { fee: fee_value, ..*fill })?;
        self.apply_spot_fill(market, fill, fee_asset)?;
        *position = next;
        Ok(delta)
    }

    /// A linear perpetual fill whose fee may be charged in any asset: the position
    /// realizes P&L net of the fee's quote value (rule 5); the collateral (`market.quote`)
    /// receives the realized P&L before the fee, and `fee_asset` pays `fill.fee`. With the
    /// fee in the collateral this is [`Balances::apply_linear_fill`]. All or nothing;
    /// returns the position's realized P&L change.
    pub fn apply_linear_fill_with_fee(
        &mut self,
        market: &SpotMarket,
        position: &mut Position,
        fill: &Fill,
        fee_asset: Asset,
        fee_price: Option<Money>,
    ) -> Result<Money, AccountingError> {
        let collateral = market.quote;
        if fee_asset == collateral {
            return self.apply_linear_fill(collateral, position, fill);
        }
        let fee_value = market.fee_value(fill.fee, fee_asset, fill.price, fee_price)?;
        let mut next = *position;
        let delta = next.apply(&Fill { fee: fee_value, ..*fill })?;
        let gross = delta.checked_add(fee_value)?;
        let nc = self
            .get(collateral)
            .checked_add(gross)
            .map_err(|_| overflow("collateral balance"))?;
        let nf = self
            .get(fee_asset)
            .checked_sub(fill.fee)
            .map_err(|_| overflow("fee asset balance"))?;
        self.map.insert(collateral, nc);
        self.map.insert(fee_asset, nf);
        *position = next;
        Ok(delta)
    }

    /// Applies a linear perpetual fill: the position changes, and its realized P&L net
    /// of the fee (fee in the collateral asset) moves the `collateral` balance. The
    /// position itself holds no asset. All or nothing; returns the cash moved.
    #[inline]
    pub fn apply_linear_fill(
        &mut self,
        collateral: Asset,
        position: &mut Position,
        fill: &Fill,
    ) -> Result<Money, AccountingError> {
        let mut next = *position;
        let delta = next.apply(fill)?;
        let nb = self
            .get(collateral)
            .checked_add(delta)
            .map_err(|_| overflow("collateral balance"))?;
        self.map.insert(collateral, nb);
        *position = next;
        Ok(delta)
    }
}
