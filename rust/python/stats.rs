//! `compute_stats` for Python: numpy arrays in, a dict of figures out. The definitions and
//! the edge cases live in `crate::stats` (module docs).

use std::borrow::Cow;

use numpy::{Element, PyReadonlyArray1};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::stats::{compute, StatsInput, StatsParams};

/// Inputs at least this long (all arrays together) are computed with the GIL released;
/// below it, releasing costs more than it frees.
const DETACH_FROM: usize = 10_000;

/// `obj` as a 1-D array of `T`; otherwise a TypeError naming the argument and what it got
/// (no silent casts: float timestamps or integer equity are the caller's bug to see).
fn array<'py, T: Element>(
    name: &str,
    dtype: &str,
    obj: &Bound<'py, PyAny>,
) -> PyResult<PyReadonlyArray1<'py, T>> {
    obj.extract::<PyReadonlyArray1<'py, T>>().map_err(|_| {
        let got = match (obj.getattr("ndim"), obj.getattr("dtype")) {
            (Ok(ndim), Ok(dt)) => format!("a {ndim}-D array of {dt}"),
            _ => obj.get_type().name().map_or_else(|_| "an object".to_string(), |n| format!("a {n}")),
        };
        PyTypeError::new_err(format!(
            "{name}: {got} is not a 1-D numpy array of {dtype} \
             (rule: pass np.asarray({name}, dtype=np.{dtype}))"
        ))
    })
}

fn opt_array<'py, T: Element>(
    name: &str,
    dtype: &str,
    obj: Option<&Bound<'py, PyAny>>,
) -> PyResult<Option<PyReadonlyArray1<'py, T>>> {
    obj.filter(|o| !o.is_none()).map(|o| array(name, dtype, o)).transpose()
}

/// The array's values, borrowed when contiguous, copied when strided (a slice like `a[::2]`).
fn values<'a, T: Element + Copy>(a: &'a PyReadonlyArray1<'_, T>) -> Cow<'a, [T]> {
    match a.as_slice() {
        Ok(s) => Cow::Borrowed(s),
        Err(_) => Cow::Owned(a.as_array().to_vec()),
    }
}

/// Every performance figure of a run; see `engine._core.pyi` and `rust/stats/mod.rs`.
#[pyfunction]
#[pyo3(signature = (
    ts, equity, trade_pnl, *, position_ts = None, position = None, fees_paid = 0.0,
    traded_notional = 0.0, interval_ns = 86_400_000_000_000, periods_per_year = 365.0,
    risk_free_rate = 0.0, ddof = 1
))]
#[allow(clippy::too_many_arguments)]
fn compute_stats<'py>(
    py: Python<'py>,
    ts: &Bound<'py, PyAny>,
    equity: &Bound<'py, PyAny>,
    trade_pnl: &Bound<'py, PyAny>,
    position_ts: Option<&Bound<'py, PyAny>>,
    position: Option<&Bound<'py, PyAny>>,
    fees_paid: f64,
    traded_notional: f64,
    interval_ns: i64,
    periods_per_year: f64,
    risk_free_rate: f64,
    ddof: i64,
) -> PyResult<Bound<'py, PyDict>> {
    let ts = array::<i64>("ts", "int64", ts)?;
    let equity = array::<f64>("equity", "float64", equity)?;
    let trade_pnl = array::<f64>("trade_pnl", "float64", trade_pnl)?;
    let position_ts = opt_array::<i64>("position_ts", "int64", position_ts)?;
    let position = opt_array::<f64>("position", "float64", position)?;
    let ddof = u32::try_from(ddof).map_err(|_| {
        PyValueError::new_err(format!("ddof {ddof} is out of range (rule: 0 <= ddof < 2^32)"))
    })?;
    if position_ts.is_some() != position.is_some() {
        let (given, missing) =
            if position_ts.is_some() { ("position_ts", "position") } else { ("position", "position_ts") };
        return Err(PyValueError::new_err(format!(
            "{given} is given but {missing} is None (rule: both or neither)"
        )));
    }
    let params = StatsParams { interval_ns, periods_per_year, risk_free_rate, ddof };
    let (ts, equity, trade_pnl) = (values(&ts), values(&equity), values(&trade_pnl));
    let position_ts = position_ts.as_ref().map(values).unwrap_or_default();
    let position = position.as_ref().map(values).unwrap_or_default();
    let input = StatsInput {
        ts: &ts,
        equity: &equity,
        trade_pnl: &trade_pnl,
        position_ts: &position_ts,
        position: &position,
        fees_paid,
        traded_notional,
    };
    let size = ts.len() + trade_pnl.len() + position_ts.len();
    let stats =
        if size >= DETACH_FROM { py.detach(|| compute(&input, &params)) } else { compute(&input, &params) };
    let s = stats.map_err(|e| PyValueError::new_err(e.to_string()))?;
    let d = PyDict::new(py);
    d.set_item("total_return", s.total_return)?;
    d.set_item("cagr", s.cagr)?;
    d.set_item("volatility", s.volatility)?;
    d.set_item("sharpe", s.sharpe)?;
    d.set_item("sortino", s.sortino)?;
    d.set_item("calmar", s.calmar)?;
    d.set_item("max_drawdown", s.max_drawdown)?;
    d.set_item("max_drawdown_duration_ns", s.max_drawdown_duration_ns)?;
    d.set_item("win_rate", s.win_rate)?;
    d.set_item("profit_factor", s.profit_factor)?;
    d.set_item("expectancy", s.expectancy)?;
    d.set_item("avg_win", s.avg_win)?;
    d.set_item("avg_loss", s.avg_loss)?;
    d.set_item("trade_count", s.trade_count)?;
    d.set_item("exposure", s.exposure)?;
    d.set_item("turnover", s.turnover)?;
    d.set_item("fees_paid", s.fees_paid)?;
    d.set_item("periods", s.periods)?;
    Ok(d)
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(compute_stats, m)?)?;
    Ok(())
}
