//! `RiskGate` for Python: conversions only; the rules live in `crate::risk`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::args::choice;
use super::errors::{side_arg, FixedPointError};
use crate::accounting::FeeSchedule;
use crate::fixed::{ErrKind, Grid, Step};
use crate::money::Money;
use crate::risk::{Account, InstrumentKind, Order, OrderType, RiskGate, RiskLimits, TradingState};

fn money(field: &str, text: &str) -> PyResult<Money> {
    Money::parse(text).map_err(|e| PyValueError::new_err(format!("{field}: {e}")))
}

fn step(field: &str, text: &str) -> PyResult<Step> {
    Step::parse(text).map_err(|e| FixedPointError::new_err(format!("{field}: {e}")))
}

fn kind_arg(kind: &str) -> PyResult<InstrumentKind> {
    choice("kind", kind, &[("spot", InstrumentKind::Spot), ("perp", InstrumentKind::LinearPerpetual)])
}

fn order_type_arg(t: &str) -> PyResult<OrderType> {
    choice("order_type", t, &[("market", OrderType::Market), ("limit", OrderType::Limit)])
}

fn state_arg(s: &str) -> PyResult<TradingState> {
    choice(
        "state",
        s,
        &[
            ("active", TradingState::Active),
            ("reducing", TradingState::Reducing),
            ("halted", TradingState::Halted),
        ],
    )
}

/// The pre-trade risk gate of one instrument (see `crate::risk` for the check order).
#[pyclass(module = "engine._core", name = "RiskGate")]
pub(crate) struct PyRiskGate {
    inner: RiskGate,
    grid: Grid,
}

impl PyRiskGate {
    #[allow(clippy::too_many_arguments)]
    fn run(
        &mut self,
        side: i64,
        order_type: &str,
        price: i64,
        qty: i64,
        position: i64,
        mid: i64,
        gross_exposure: &str,
        available_quote: &str,
        available_base: &str,
        now_ns: i64,
        reduce_only: bool,
        state: &str,
    ) -> PyResult<Option<String>> {
        let order = Order {
            side: side_arg(side)?,
            order_type: order_type_arg(order_type)?,
            price,
            qty,
            reduce_only,
        };
        let acct = Account {
            position,
            mid,
            gross_exposure: money("gross_exposure", gross_exposure)?,
            available_quote: money("available_quote", available_quote)?,
            available_base: money("available_base", available_base)?,
            state: state_arg(state)?,
        };
        Ok(self
            .inner
            .check(&order, &acct, now_ns)
            .err()
            .map(|d| d.to_string()))
    }
}

#[pymethods]
impl PyRiskGate {
    #[new]
    #[pyo3(signature = (
        tick_size, lot_size, kind, *, min_qty, max_qty, min_notional, max_notional,
        max_position, max_gross_exposure, band_bps, maker_fee_rate, taker_fee_rate,
        fee_decimals, rate_capacity, rate_refill_per_s, leverage = 1
    ))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        tick_size: &str,
        lot_size: &str,
        kind: &str,
        min_qty: i64,
        max_qty: i64,
        min_notional: &str,
        max_notional: &str,
        max_position: i64,
        max_gross_exposure: &str,
        band_bps: i64,
        maker_fee_rate: &str,
        taker_fee_rate: &str,
        fee_decimals: u32,
        rate_capacity: i64,
        rate_refill_per_s: i64,
        leverage: i64,
    ) -> PyResult<PyRiskGate> {
        let grid = Grid {
            tick: step("tick_size", tick_size)?,
            lot: step("lot_size", lot_size)?,
        };
        let fees = FeeSchedule::new(maker_fee_rate, taker_fee_rate, fee_decimals)
            .map_err(|e| PyValueError::new_err(format!("fees: {e}")))?;
        let limits = RiskLimits {
            kind: kind_arg(kind)?,
            min_qty,
            max_qty,
            min_notional: money("min_notional", min_notional)?,
            max_notional: money("max_notional", max_notional)?,
            max_position,
            max_gross_exposure: money("max_gross_exposure", max_gross_exposure)?,
            band_bps,
            leverage,
            fees,
            rate_capacity,
            rate_refill_per_s,
        };
        let inner =
            RiskGate::new(&grid, limits).map_err(|e| PyValueError::new_err(e.to_string()))?;
        Ok(PyRiskGate { inner, grid })
    }

    #[pyo3(signature = (
        side, order_type, price, qty, position, mid, gross_exposure, available_quote,
        available_base, now_ns, reduce_only = false, state = "active"
    ))]
    #[allow(clippy::too_many_arguments)]
    fn check(
        &mut self,
        side: i64,
        order_type: &str,
        price: i64,
        qty: i64,
        position: i64,
        mid: i64,
        gross_exposure: &str,
        available_quote: &str,
        available_base: &str,
        now_ns: i64,
        reduce_only: bool,
        state: &str,
    ) -> PyResult<Option<String>> {
        self.run(
            side,
            order_type,
            price,
            qty,
            position,
            mid,
            gross_exposure,
            available_quote,
            available_base,
            now_ns,
            reduce_only,
            state,
        )
    }

    #[pyo3(signature = (
        side, order_type, price, qty, position, mid, gross_exposure, available_quote,
        available_base, now_ns, reduce_only = false, state = "active"
    ))]
    #[allow(clippy::too_many_arguments)]
    fn check_decimal(
        &mut self,
        side: i64,
        order_type: &str,
        price: &str,
        qty: &str,
        position: i64,
        mid: i64,
        gross_exposure: &str,
        available_quote: &str,
        available_base: &str,
        now_ns: i64,
        reduce_only: bool,
        state: &str,
    ) -> PyResult<Option<String>> {
        let tick = &self.grid.tick;
        let price = match tick.to_units_bytes(price.as_bytes(), false) {
            Ok(p) => p,
            Err(ErrKind::OffGrid) => {
                return Ok(Some(format!(
                    "TICK_STEP: price={price} tick={}",
                    tick.as_str()
                )))
            }
            Err(k) => {
                return Err(FixedPointError::new_err(format!(
                    "price: {}",
                    k.into_error(price, tick)
                )))
            }
        };
        let lot = &self.grid.lot;
        let qty = match lot.to_units_bytes(qty.as_bytes(), false) {
            Ok(q) => q,
            Err(ErrKind::OffGrid) => {
                return Ok(Some(format!("LOT_STEP: qty={qty} lot={}", lot.as_str())))
            }
            Err(k) => {
                return Err(FixedPointError::new_err(format!(
                    "qty: {}",
                    k.into_error(qty, lot)
                )))
            }
        };
        self.run(
            side,
            order_type,
            price,
            qty,
            position,
            mid,
            gross_exposure,
            available_quote,
            available_base,
            now_ns,
            reduce_only,
            state,
        )
    }

    /// Whole tokens in the submit-rate bucket (as of the last timestamp seen).
    #[getter]
    fn tokens(&self) -> i64 {
        self.inner.bucket().tokens()
    }

    fn reset_bucket(&mut self) {
        self.inner.reset_bucket();
    }

    fn __repr__(&self) -> String {
        let l = self.inner.limits();
        format!(
            "RiskGate(tick_size={:?}, lot_size={:?}, kind={:?}, min_qty={}, max_qty={}, tokens={})",
            self.grid.tick.as_str(),
            self.grid.lot.as_str(),
            match l.kind {
                InstrumentKind::Spot => "spot",
                InstrumentKind::LinearPerpetual => "perp",
            },
            l.min_qty,
            l.max_qty,
            self.inner.bucket().tokens()
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyRiskGate>()?;
    Ok(())
}
