//! A netting position per instrument (rounding rules 3 and 4 of the module docs).

use super::{overflow, AccountingError, Contract, Fill};
use crate::money::{div_round, mul_div_ceil, Money, MoneyError, Rounding};

/// A netting position: signed quantity, exact cost basis, realized P&L net of fees.
///
/// `cost` is Σ price × signed qty (tick·lot units) over the open quantity, so the
/// average entry is `cost / qty` ticks exactly and `cost` is negative for a short.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Position {
    unit: i128,
    qty: i64,
    cost: i128,
    realized: Money,
    fees: Money,
}

impl Position {
    /// A flat position in an instrument with this contract.
    pub fn new(contract: &Contract) -> Position {
        Position {
            unit: contract.unit(),
            qty: 0,
            cost: 0,
            realized: Money::ZERO,
            fees: Money::ZERO,
        }
    }

    /// Signed quantity in lots (long > 0, short < 0).
    #[inline]
    pub fn qty(&self) -> i64 {
        self.qty
    }

    /// Σ price × signed qty of the open quantity, in tick·lot units (exact).
    #[inline]
    pub fn cost_basis(&self) -> i128 {
        self.cost
    }

    /// Realized P&L net of fees (quote money).
    #[inline]
    pub fn realized_pnl(&self) -> Money {
        self.realized
    }

    /// Net fees paid (rebates subtract), quote money.
    #[inline]
    pub fn fees_paid(&self) -> Money {
        self.fees
    }

    /// The exact average entry in ticks as the fraction `(cost, qty)`: the average is
    /// `cost / qty` (both signed, so the ratio is the price); `None` when flat.
    pub fn avg_entry_ticks(&self) -> Option<(i128, i64)> {
        avg_ticks(self.qty, self.cost)
    }

    /// The average entry as quote money per whole base unit, rounded with `mode`
    /// (the only place an average is rounded); `Ok(None)` when flat.
    pub fn avg_entry_price(&self, contract: &Contract, mode: Rounding) -> Result<Option<Money>, MoneyError> {
        avg_price(self.qty, self.cost, contract, mode)
    }

    /// Unrealized P&L at `mark` ticks: (mark × qty − cost) × tick × lot, exact.
    #[inline]
    pub fn unrealized_pnl(&self, mark: i64) -> Result<Money, MoneyError> {
        let ovf = MoneyError::Overflow { op: "unrealized P&L" };
        (mark as i128 * self.qty as i128)
            .checked_sub(self.cost)
            .and_then(|x| x.checked_mul(self.unit))
            .map(Money::from_units)
            .ok_or(ovf)
    }

    /// Initial margin held by the position at `leverage` (rule 7): |cost| × tick × lot
    /// / leverage, rounded toward +inf at 10^-18; zero when flat.
    pub fn used_margin(&self, leverage: i64) -> Result<Money, AccountingError> {
        if leverage < 1 {
            return Err(AccountingError::BadLeverage { leverage });
        }
        let n = self
            .cost
            .checked_abs()
            .and_then(|c| c.checked_mul(self.unit))
            .ok_or_else(|| overflow("used margin"))?;
        Ok(Money::from_units(div_round(n, leverage as i128, Rounding::Ceiling).expect("leverage >= 1")))
    }

    /// Applies one fill: opening, adding, reducing, closing or flipping through zero.
    /// Returns the change in realized P&L net of this fill's fee (for a linear perpetual,
    /// the cash that moves to the collateral balance). On error nothing changes.
    #[inline]
    pub fn apply(&mut self, fill: &Fill) -> Result<Money, AccountingError> {
        if fill.qty <= 0 {
            return Err(AccountingError::BadQty { qty: fill.qty });
        }
        let q = fill.signed_qty();
        let price = fill.price as i128;
        let open = self.qty;
        let new_qty = open.checked_add(q).ok_or_else(|| overflow("position qty"))?;
        let (new_cost, pnl_units) = if open == 0 || (open > 0) == (q > 0) {
            // Opening or adding: the fill's cost joins the basis.
            let c = self
                .cost
                .checked_add(price * q as i128)
                .ok_or_else(|| overflow("cost basis"))?;
            (c, 0i128)
        } else {
            // Reducing, closing or flipping. `closed` has the sign of the open quantity.
            let closed = if q.unsigned_abs() >= open.unsigned_abs() { open } else { -q };
            // Rule 3: remove cost × closed / open rounded toward +inf; all of it on a close.
            let removed = if closed == open {
                self.cost
            } else {
                mul_div_ceil(self.cost, closed, open)
            };
            let pnl = (price * closed as i128)
                .checked_sub(removed)
                .ok_or_else(|| overflow("realized P&L"))?;
            // The remainder beyond the closed quantity opens at the fill price.
            let rest = q as i128 + closed as i128;
            let c = (self.cost - removed)
                .checked_add(price * rest)
                .ok_or_else(|| overflow("cost basis"))?;
            (c, pnl)
        };
        let gross = if pnl_units == 0 {
            Money::ZERO
        } else {
            pnl_units
                .checked_mul(self.unit)
                .map(Money::from_units)
                .ok_or_else(|| overflow("realized P&L"))?
        };
        let delta = gross.checked_sub(fill.fee)?;
        let realized = self.realized.checked_add(delta)?;
        let fees = self.fees.checked_add(fill.fee)?;
        self.qty = new_qty;
        self.cost = new_cost;
        self.realized = realized;
        self.fees = fees;
        Ok(delta)
    }

    /// The position's state at time `ts`.
    pub fn snapshot(&self, ts: i64) -> Snapshot {
        Snapshot {
            ts,
            qty: self.qty,
            cost: self.cost,
            realized: self.realized,
            fees: self.fees,
        }
    }
}

fn avg_ticks(qty: i64, cost: i128) -> Option<(i128, i64)> {
    (qty != 0).then_some((cost, qty))
}

fn avg_price(qty: i64, cost: i128, contract: &Contract, mode: Rounding) -> Result<Option<Money>, MoneyError> {
    if qty == 0 {
        return Ok(None);
    }
    let tick = contract.price_money(1)?.units();
    let n = cost
        .checked_mul(tick)
        .ok_or(MoneyError::Overflow { op: "average entry price" })?;
    let p = div_round(n, qty as i128, mode).ok_or(MoneyError::Overflow { op: "average entry price" })?;
    Ok(Some(Money::from_units(p)))
}

/// A position's state at one moment. The average entry is `cost / qty` ticks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Snapshot {
    pub ts: i64,
    pub qty: i64,
    /// Cost basis in tick·lot units (see [`Position::cost_basis`]).
    pub cost: i128,
    pub realized: Money,
    pub fees: Money,
}

impl Snapshot {
    /// The exact average entry in ticks, as in [`Position::avg_entry_ticks`].
    pub fn avg_entry_ticks(&self) -> Option<(i128, i64)> {
        avg_ticks(self.qty, self.cost)
    }
}

/// A position that records a [`Snapshot`] after every fill.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionLog {
    position: Position,
    snapshots: Vec<Snapshot>,
}

impl PositionLog {
    pub fn new(contract: &Contract) -> PositionLog {
        PositionLog {
            position: Position::new(contract),
            snapshots: Vec::new(),
        }
    }

    /// Applies a fill at time `ts` and records the resulting state (nothing is recorded
    /// when the fill is refused).
    pub fn apply(&mut self, ts: i64, fill: &Fill) -> Result<Money, AccountingError> {
        let delta = self.position.apply(fill)?;
        self.snapshots.push(self.position.snapshot(ts));
        Ok(delta)
    }

    pub fn position(&self) -> &Position {
        &self.position
    }

    /// One snapshot per applied fill, in order.
    pub fn snapshots(&self) -> &[Snapshot] {
        &self.snapshots
    }
}
