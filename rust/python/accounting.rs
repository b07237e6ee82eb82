//! `Position` and `Balances` for Python: conversions only; the rules live in
//! `crate::accounting` (its module docs hold the rounding rules).
//!
//! Money crosses as exact decimal strings: parsed with `Money::parse`, printed with its
//! `Display` (no exponent, trailing fraction zeros trimmed, "0" for zero), which Python's
//! `Decimal` reads back exactly.

use std::collections::BTreeMap;

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::errors::{side_arg, FixedPointError};
use crate::accounting::{
    AccountingError, Asset, Balances, Contract, Fill, Position, Snapshot, SpotMarket,
};
use crate::fixed::{Grid, Step};
use crate::money::{Money, Rounding};

fn money(field: &str, text: &str) -> PyResult<Money> {
    Money::parse(text).map_err(|e| PyValueError::new_err(format!("{field}: {e}")))
}

fn opt_money(field: &str, text: Option<&str>) -> PyResult<Option<Money>> {
    text.map(|t| money(field, t)).transpose()
}

fn asset(field: &str, code: &str) -> PyResult<Asset> {
    Asset::new(code).map_err(|e| PyValueError::new_err(format!("{field}: {e}")))
}

fn rounding(text: &str) -> PyResult<Rounding> {
    const MODES: [(&str, Rounding); 5] = [
        ("down", Rounding::Down),
        ("up", Rounding::Up),
        ("floor", Rounding::Floor),
        ("ceiling", Rounding::Ceiling),
        ("half_even", Rounding::HalfEven),
    ];
    MODES.iter().find(|(n, _)| *n == text).map(|(_, m)| *m).ok_or_else(|| {
        PyValueError::new_err(format!(
            "rounding {text:?} is not \"down\", \"up\", \"floor\", \"ceiling\" or \"half_even\""
        ))
    })
}

/// A fill from the Python arguments (side 0 buy / 1 sell); `fee` as charged.
fn fill(side: i64, price: i64, qty: i64, fee: &str) -> PyResult<Fill> {
    Ok(Fill {
        side: side_arg(side)?,
        price,
        qty,
        fee: money("fee", fee)?,
    })
}

/// A refused fill, with the fill itself so the caller sees which values broke which rule.
fn refused(f: &Fill, e: AccountingError) -> PyErr {
    PyValueError::new_err(format!(
        "fill side={} price={} qty={} fee={}: {e}",
        f.side as u8, f.price, f.qty, f.fee
    ))
}

/// A netting position in one instrument, P&L in its quote currency. One class: fills
/// applied with a `ts` also record a snapshot (the `PositionLog` of the core), fills
/// without one record nothing, so a long-running owner can keep memory flat.
#[pyclass(module = "engine._core", name = "Position")]
pub(crate) struct PyPosition {
    inner: Position,
    contract: Contract,
    grid: Grid,
    log: Vec<Snapshot>,
}

impl PyPosition {
    fn market(&self, base: &str, quote: &str) -> PyResult<SpotMarket> {
        Ok(SpotMarket {
            base: asset("base", base)?,
            quote: asset("quote", quote)?,
            contract: self.contract,
        })
    }

    fn record(&mut self, ts: Option<i64>) {
        if let Some(ts) = ts {
            self.log.push(self.inner.snapshot(ts));
        }
    }
}

#[pymethods]
impl PyPosition {
    #[new]
    fn new(tick_size: &str, lot_size: &str) -> PyResult<PyPosition> {
        let tick = Step::parse(tick_size).map_err(|e| FixedPointError::new_err(format!("tick_size: {e}")))?;
        let lot = Step::parse(lot_size).map_err(|e| FixedPointError::new_err(format!("lot_size: {e}")))?;
        let grid = Grid { tick, lot };
        let contract = Contract::new(&grid)
            .map_err(|e| PyValueError::new_err(format!("tick_size/lot_size {tick_size}/{lot_size}: {e}")))?;
        Ok(PyPosition {
            inner: Position::new(&contract),
            contract,
            grid,
            log: Vec::new(),
        })
    }

    /// Applies a fill with its fee in quote; returns the realized P&L change.
    #[pyo3(signature = (side, price, qty, fee, ts = None))]
    fn apply(&mut self, side: i64, price: i64, qty: i64, fee: &str, ts: Option<i64>) -> PyResult<String> {
        let f = fill(side, price, qty, fee)?;
        let delta = self.inner.apply(&f).map_err(|e| refused(&f, e))?;
        self.record(ts);
        Ok(delta.to_string())
    }

    #[getter]
    fn tick_size(&self) -> &str {
        self.grid.tick.as_str()
    }

    #[getter]
    fn lot_size(&self) -> &str {
        self.grid.lot.as_str()
    }

    #[getter]
    fn qty(&self) -> i64 {
        self.inner.qty()
    }

    #[getter]
    fn realized_pnl(&self) -> String {
        self.inner.realized_pnl().to_string()
    }

    #[getter]
    fn fees_paid(&self) -> String {
        self.inner.fees_paid().to_string()
    }

    #[getter]
    fn cost_basis(&self) -> i128 {
        self.inner.cost_basis()
    }

    fn avg_entry_ticks(&self) -> Option<(i128, i64)> {
        self.inner.avg_entry_ticks()
    }

    #[pyo3(signature = (rounding = "half_even"))]
    fn avg_entry_price(&self, rounding: &str) -> PyResult<Option<String>> {
        let mode = self::rounding(rounding)?;
        self.inner
            .avg_entry_price(&self.contract, mode)
            .map(|p| p.map(|m| m.to_string()))
            .map_err(|e| PyValueError::new_err(format!("avg_entry_price: {e}")))
    }

    fn unrealized_pnl(&self, mark: i64) -> PyResult<String> {
        self.inner
            .unrealized_pnl(mark)
            .map(|m| m.to_string())
            .map_err(|e| PyValueError::new_err(format!("mark {mark}: {e}")))
    }

    fn used_margin(&self, leverage: i64) -> PyResult<String> {
        self.inner
            .used_margin(leverage)
            .map(|m| m.to_string())
            .map_err(|e| PyValueError::new_err(format!("leverage {leverage}: {e}")))
    }

    #[pyo3(signature = (amount, price, rounding = "ceiling"))]
    fn quote_value(&self, amount: &str, price: i64, rounding: &str) -> PyResult<String> {
        let (base, mode) = (money("amount", amount)?, self::rounding(rounding)?);
        self.contract
            .quote_value(base, price, mode)
            .map(|m| m.to_string())
            .map_err(|e| PyValueError::new_err(format!("amount {amount} at price {price}: {e}")))
    }

    fn snapshots(&self) -> Vec<(i64, i64, i128, String, String)> {
        self.log
            .iter()
            .map(|s| (s.ts, s.qty, s.cost, s.realized.to_string(), s.fees.to_string()))
            .collect()
    }

    fn __repr__(&self) -> String {
        format!(
            "Position(tick_size={:?}, lot_size={:?}, qty={}, cost_basis={}, realized_pnl={}, fees_paid={})",
            self.grid.tick.as_str(),
            self.grid.lot.as_str(),
            self.inner.qty(),
            self.inner.cost_basis(),
            self.inner.realized_pnl(),
            self.inner.fees_paid()
        )
    }
}

/// Money per asset for one account; a missing asset is zero, balances may go negative.
#[pyclass(module = "engine._core", name = "Balances")]
pub(crate) struct PyBalances {
    inner: Balances,
}

#[pymethods]
impl PyBalances {
    #[new]
    fn new() -> PyBalances {
        PyBalances { inner: Balances::new() }
    }

    fn get(&self, asset: &str) -> PyResult<String> {
        Ok(self.inner.get(self::asset("asset", asset)?).to_string())
    }

    /// Adds `amount` (negative debits); returns the new balance.
    fn credit(&mut self, asset: &str, amount: &str) -> PyResult<String> {
        let a = self::asset("asset", asset)?;
        let m = money("amount", amount)?;
        self.inner
            .credit(a, m)
            .map(|b| b.to_string())
            .map_err(|e| PyValueError::new_err(format!("credit {amount} {asset}: {e}")))
    }

    /// Every asset ever touched, sorted by code.
    fn as_dict(&self) -> BTreeMap<String, String> {
        self.inner
            .iter()
            .map(|(a, m)| (a.as_str().to_string(), m.to_string()))
            .collect()
    }

    #[pyo3(signature = (position, base, quote, side, price, qty, fee, fee_asset, fee_price = None, ts = None))]
    #[allow(clippy::too_many_arguments)]
    fn apply_spot_fill(
        &mut self,
        position: PyRefMut<'_, PyPosition>,
        base: &str,
        quote: &str,
        side: i64,
        price: i64,
        qty: i64,
        fee: &str,
        fee_asset: &str,
        fee_price: Option<&str>,
        ts: Option<i64>,
    ) -> PyResult<String> {
        let args = FillArgs { base, quote, side, price, qty, fee, fee_asset, fee_price, ts };
        self.book(FillKind::Spot, position, args)
    }

    #[pyo3(signature = (position, base, quote, side, price, qty, fee, fee_asset, fee_price = None, ts = None))]
    #[allow(clippy::too_many_arguments)]
    fn apply_linear_fill(
        &mut self,
        position: PyRefMut<'_, PyPosition>,
        base: &str,
        quote: &str,
        side: i64,
        price: i64,
        qty: i64,
        fee: &str,
        fee_asset: &str,
        fee_price: Option<&str>,
        ts: Option<i64>,
    ) -> PyResult<String> {
        let args = FillArgs { base, quote, side, price, qty, fee, fee_asset, fee_price, ts };
        self.book(FillKind::Linear, position, args)
    }

    fn __repr__(&self) -> String {
        let items: Vec<String> = self.as_dict().into_iter().map(|(a, m)| format!("{a}={m}")).collect();
        format!("Balances({})", items.join(", "))
    }
}

/// Which balance rule books a fill: spot (base and quote change hands) or linear
/// perpetual (realized cash only).
enum FillKind {
    Spot,
    Linear,
}

/// The Python arguments shared by both fill methods.
struct FillArgs<'a> {
    base: &'a str,
    quote: &'a str,
    side: i64,
    price: i64,
    qty: i64,
    fee: &'a str,
    fee_asset: &'a str,
    fee_price: Option<&'a str>,
    ts: Option<i64>,
}

impl PyBalances {
    /// One fill into the balances and its position, all or nothing.
    fn book(&mut self, kind: FillKind, mut position: PyRefMut<'_, PyPosition>, a: FillArgs<'_>) -> PyResult<String> {
        let market = position.market(a.base, a.quote)?;
        let f = fill(a.side, a.price, a.qty, a.fee)?;
        let fa = asset("fee_asset", a.fee_asset)?;
        let fp = opt_money("fee_price", a.fee_price)?;
        let booked = match kind {
            FillKind::Spot => self.inner.apply_spot_fill_with_position(&market, &mut position.inner, &f, fa, fp),
            FillKind::Linear => self.inner.apply_linear_fill_with_fee(&market, &mut position.inner, &f, fa, fp),
        };
        let delta = booked.map_err(|e| refused(&f, e))?;
        position.record(a.ts);
        Ok(delta.to_string())
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyPosition>()?;
    m.add_class::<PyBalances>()?;
    Ok(())
}
