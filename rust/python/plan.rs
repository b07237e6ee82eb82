//! `plan_steps` for Python: the kernel's batches of one instrument's rows.

use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::event::Event;
use crate::l2::Rule;
use crate::plan;

/// (ts_first, stream, start, end, kind, ts_last) per step: what the kernel merges across
/// streams by (time, stream, row). `kind`: 0 rows, 1 a trade print, 2 a book change.
type StepRow = (i64, usize, usize, usize, u8, i64);

/// The steps of one instrument's EVENT_DTYPE rows, worked out with the GIL released.
#[pyfunction]
#[pyo3(signature = (events, rule, watch_trades, stream = 0))]
fn plan_steps(
    py: Python<'_>,
    events: PyReadonlyArray1<'_, Event>,
    rule: &str,
    watch_trades: bool,
    stream: usize,
) -> PyResult<Vec<StepRow>> {
    let r = Rule::parse(rule).ok_or_else(|| {
        PyValueError::new_err(format!(
            "rule {rule:?} is not a sequence rule (rule: \"spot\" or \"futures\")"
        ))
    })?;
    let rows = events.as_slice().map_err(|_| {
        PyValueError::new_err("events: array must be C-contiguous (rule: use np.ascontiguousarray)")
    })?;
    let steps = py.detach(|| plan::plan_steps(rows, r, watch_trades));
    Ok(steps
        .into_iter()
        .map(|s| (s.ts_first, stream, s.start, s.end, s.kind as u8, s.ts_last))
        .collect())
}

/// Level updates among EVENT_DTYPE rows (snapshot and diff rows with a level), counted
/// with the GIL released.
#[pyfunction]
fn level_updates(py: Python<'_>, events: PyReadonlyArray1<'_, Event>) -> PyResult<usize> {
    let rows = events.as_slice().map_err(|_| {
        PyValueError::new_err("events: array must be C-contiguous (rule: use np.ascontiguousarray)")
    })?;
    Ok(py.detach(|| plan::level_updates(rows)))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(plan_steps, m)?)?;
    m.add_function(wrap_pyfunction!(level_updates, m)?)?;
    Ok(())
}
