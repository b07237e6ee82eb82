//! `plan` for Python: the kernel's batches of one instrument's rows (and their level
//! updates).

use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use crate::event::Event;
use crate::l2::Rule;
use crate::plan as planner;

/// (ts_first, stream, start, end, kind, ts_last) per step: what the kernel merges across
/// streams by (time, stream, row). `kind`: 0 rows, 1 a trade print, 2 a book change.
type StepRow = (i64, usize, usize, usize, u8, i64);

fn parse_rule(rule: &str) -> PyResult<Rule> {
    Rule::parse(rule).ok_or_else(|| {
        PyValueError::new_err(format!(
            "rule {rule:?} is not a sequence rule (rule: \"spot\" or \"futures\")"
        ))
    })
}

fn contiguous<'a>(events: &'a PyReadonlyArray1<'_, Event>) -> PyResult<&'a [Event]> {
    events.as_slice().map_err(|_| {
        PyValueError::new_err("events: array must be C-contiguous (rule: use np.ascontiguousarray)")
    })
}

fn rows_of(steps: Vec<planner::Step>, stream: usize) -> Vec<StepRow> {
    steps
        .into_iter()
        .map(|s| (s.ts_first, stream, s.start, s.end, s.kind as u8, s.ts_last))
        .collect()
}

/// The kernel's batches of one instrument's EVENT_DTYPE rows and their level updates,
/// worked out in one pass with the GIL released.
#[pyfunction]
#[pyo3(signature = (events, rule, watch_trades, stream = 0))]
fn plan(
    py: Python<'_>,
    events: PyReadonlyArray1<'_, Event>,
    rule: &str,
    watch_trades: bool,
    stream: usize,
) -> PyResult<(Vec<StepRow>, usize)> {
    let r = parse_rule(rule)?;
    let rows = contiguous(&events)?;
    let (steps, updates) = py.detach(|| planner::plan(rows, r, watch_trades));
    Ok((rows_of(steps, stream), updates))
}

/// Level updates among EVENT_DTYPE rows (snapshot and diff rows with a level), counted
/// with the GIL released.
#[pyfunction]
fn level_updates(py: Python<'_>, events: PyReadonlyArray1<'_, Event>) -> PyResult<usize> {
    let rows = contiguous(&events)?;
    Ok(py.detach(|| planner::level_updates(rows)))
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_function(wrap_pyfunction!(plan, m)?)?;
    m.add_function(wrap_pyfunction!(level_updates, m)?)?;
    Ok(())
}
