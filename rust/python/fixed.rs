//! Fixed-point conversion for Python: decimal strings <-> integer ticks and lots.

use pyo3::prelude::*;

use super::errors::FixedPointError;
use crate::fixed::{FixedError, Grid, Step};

pub(crate) fn to_py(e: FixedError) -> PyErr {
    FixedPointError::new_err(e.to_string())
}

fn step(s: &str) -> PyResult<Step> {
    Step::parse(s).map_err(to_py)
}

/// Exact conversion of a decimal string to a whole number of `step`s.
#[pyfunction]
#[pyo3(signature = (value, step, allow_negative = false))]
fn to_units(value: &str, step: &str, allow_negative: bool) -> PyResult<i64> {
    self::step(step)?.to_units(value, allow_negative).map_err(to_py)
}

/// Formats `units` × `step` with the step's decimal places.
#[pyfunction]
fn from_units(units: i64, step: &str) -> PyResult<String> {
    Ok(self::step(step)?.from_units(units))
}

/// An instrument's tick and lot sizes.
#[pyclass(frozen, module = "engine._core", name = "Grid")]
pub(crate) struct PyGrid {
    pub(crate) grid: Grid,
}

#[pymethods]
impl PyGrid {
    #[new]
    fn new(tick_size: &str, lot_size: &str) -> PyResult<PyGrid> {
        let tick = Step::parse(tick_size).map_err(|e| FixedPointError::new_err(format!("tick_size: {e}")))?;
        let lot = Step::parse(lot_size).map_err(|e| FixedPointError::new_err(format!("lot_size: {e}")))?;
        Ok(PyGrid {
            grid: Grid { tick, lot },
        })
    }
    #[getter]
    fn tick_size(&self) -> &str {
        self.grid.tick.as_str()
    }
    #[getter]
    fn lot_size(&self) -> &str {
        self.grid.lot.as_str()
    }
    fn price_to_ticks(&self, price: &str) -> PyResult<i64> {
        self.grid
            .tick
            .to_units(price, false)
            .map_err(|e| FixedPointError::new_err(format!("price: {e}")))
    }
    fn qty_to_lots(&self, qty: &str) -> PyResult<i64> {
        self.grid
            .lot
            .to_units(qty, false)
            .map_err(|e| FixedPointError::new_err(format!("qty: {e}")))
    }
    fn ticks_to_price(&self, ticks: i64) -> String {
        self.grid.tick.from_units(ticks)
    }
    fn lots_to_qty(&self, lots: i64) -> String {
        self.grid.lot.from_units(lots)
    }
    fn __repr__(&self) -> String {
        format!("Grid(tick_size={:?}, lot_size={:?})", self.tick_size(), self.lot_size())
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(to_units, m)?)?;
    m.add_function(wrap_pyfunction!(from_units, m)?)?;
    m.add_class::<PyGrid>()?;
    Ok(())
}
