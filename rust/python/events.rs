//! The event and top-of-book records as numpy structured dtypes, and batch results.

use numpy::{Element, PyArray1, PyArrayDescr, PyArrayDescrMethods};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList};

use crate::batch::{BatchStats, Top};
use crate::event::{self, Event};

fn dtype_of<'py>(py: Python<'py>, fields: &[(&str, &str)]) -> Bound<'py, PyArrayDescr> {
    let spec = PyList::new(py, fields.iter().copied()).expect("dtype field list");
    PyArrayDescr::new(py, spec).expect("valid dtype spec")
}

// SAFETY: Event is #[repr(C)], Copy, and the dtype below lists its fields at the same
// offsets (asserted when the module loads).
unsafe impl Element for Event {
    const IS_COPY: bool = true;

    fn get_dtype(py: Python<'_>) -> Bound<'_, PyArrayDescr> {
        static DTYPE: PyOnceLock<Py<PyArrayDescr>> = PyOnceLock::new();
        DTYPE
            .get_or_init(py, || {
                dtype_of(
                    py,
                    &[
                        ("ts_event", "<i8"),
                        ("ts_recv", "<i8"),
                        ("seq_first", "<i8"),
                        ("seq_last", "<i8"),
                        ("seq_prev", "<i8"),
                        ("price", "<i8"),
                        ("qty", "<i8"),
                        ("order_id", "<u8"),
                        ("kind", "u1"),
                        ("side", "u1"),
                        ("flags", "u1"),
                        ("_pad", "V5"),
                    ],
                )
                .unbind()
            })
            .clone_ref(py)
            .into_bound(py)
    }

    fn clone_ref(&self, _py: Python<'_>) -> Self {
        *self
    }
}

// SAFETY: Top is #[repr(C)] with five i64 fields, matching the dtype.
unsafe impl Element for Top {
    const IS_COPY: bool = true;

    fn get_dtype(py: Python<'_>) -> Bound<'_, PyArrayDescr> {
        static DTYPE: PyOnceLock<Py<PyArrayDescr>> = PyOnceLock::new();
        DTYPE
            .get_or_init(py, || {
                dtype_of(
                    py,
                    &[
                        ("seq", "<i8"),
                        ("bid_price", "<i8"),
                        ("bid_qty", "<i8"),
                        ("ask_price", "<i8"),
                        ("ask_qty", "<i8"),
                    ],
                )
                .unbind()
            })
            .clone_ref(py)
            .into_bound(py)
    }

    fn clone_ref(&self, _py: Python<'_>) -> Self {
        *self
    }
}

/// Counters from `apply_events`.
#[pyclass(frozen, module = "engine._core", name = "BatchResult")]
pub(crate) struct PyBatchResult {
    stats: BatchStats,
    tops: Option<Py<PyArray1<Top>>>,
}

impl PyBatchResult {
    pub(crate) fn new(py: Python<'_>, mut stats: BatchStats, with_tops: bool) -> PyBatchResult {
        let tops = with_tops.then(|| PyArray1::from_vec(py, std::mem::take(&mut stats.tops)).unbind());
        PyBatchResult { stats, tops }
    }
}

#[pymethods]
impl PyBatchResult {
    #[getter]
    fn rows(&self) -> u64 {
        self.stats.rows
    }
    #[getter]
    fn messages(&self) -> u64 {
        self.stats.messages
    }
    #[getter]
    fn snapshots(&self) -> u64 {
        self.stats.snapshots
    }
    #[getter]
    fn diffs_applied(&self) -> u64 {
        self.stats.diffs_applied
    }
    #[getter]
    fn diffs_dropped(&self) -> u64 {
        self.stats.diffs_dropped
    }
    #[getter]
    fn diffs_buffered(&self) -> u64 {
        self.stats.diffs_buffered
    }
    #[getter]
    fn levels_applied(&self) -> u64 {
        self.stats.levels_applied
    }
    #[getter]
    fn trades(&self) -> u64 {
        self.stats.trades
    }
    #[getter]
    fn tickers(&self) -> u64 {
        self.stats.tickers
    }
    #[getter]
    fn gaps(&self) -> u64 {
        self.stats.gaps
    }
    #[getter]
    fn gap_rows(&self) -> Vec<u64> {
        self.stats.gap_rows.clone()
    }
    #[getter]
    fn gap_ids(&self) -> Vec<(i64, i64, i64)> {
        self.stats.gap_ids.clone()
    }
    #[getter]
    fn errors(&self) -> u64 {
        self.stats.errors
    }
    #[getter]
    fn first_error(&self) -> Option<String> {
        self.stats.first_error.as_ref().map(|e| e.1.clone())
    }
    #[getter]
    fn first_error_row(&self) -> Option<u64> {
        self.stats.first_error.as_ref().map(|e| e.0)
    }
    #[getter]
    fn tops(&self, py: Python<'_>) -> Option<Py<PyArray1<Top>>> {
        self.tops.as_ref().map(|t| t.clone_ref(py))
    }

    fn as_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let s = &self.stats;
        d.set_item("rows", s.rows)?;
        d.set_item("messages", s.messages)?;
        d.set_item("snapshots", s.snapshots)?;
        d.set_item("diffs_applied", s.diffs_applied)?;
        d.set_item("diffs_dropped", s.diffs_dropped)?;
        d.set_item("diffs_buffered", s.diffs_buffered)?;
        d.set_item("levels_applied", s.levels_applied)?;
        d.set_item("trades", s.trades)?;
        d.set_item("tickers", s.tickers)?;
        d.set_item("gaps", s.gaps)?;
        d.set_item("gap_rows", s.gap_rows.clone())?;
        d.set_item("gap_ids", s.gap_ids.clone())?;
        d.set_item("errors", s.errors)?;
        d.set_item("first_error", self.first_error())?;
        d.set_item("first_error_row", self.first_error_row())?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        let s = &self.stats;
        format!(
            "BatchResult(rows={}, diffs_applied={}, diffs_dropped={}, gaps={}, errors={})",
            s.rows, s.diffs_applied, s.diffs_dropped, s.gaps, s.errors
        )
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let dt = Event::get_dtype(py);
    // The dtype must lay fields out exactly like the Rust struct.
    assert_eq!(dt.itemsize(), std::mem::size_of::<Event>());
    m.add("EVENT_DTYPE", dt)?;
    m.add("TOP_DTYPE", Top::get_dtype(py))?;
    m.add("KIND_SNAPSHOT", event::KIND_SNAPSHOT)?;
    m.add("KIND_DIFF", event::KIND_DIFF)?;
    m.add("KIND_TRADE", event::KIND_TRADE)?;
    m.add("KIND_TICKER", event::KIND_TICKER)?;
    m.add("KIND_L3_ADD", event::KIND_L3_ADD)?;
    m.add("KIND_L3_MODIFY", event::KIND_L3_MODIFY)?;
    m.add("KIND_L3_CANCEL", event::KIND_L3_CANCEL)?;
    m.add("KIND_L3_EXECUTE", event::KIND_L3_EXECUTE)?;
    m.add("FLAG_BEGIN", event::FLAG_BEGIN)?;
    m.add("FLAG_END", event::FLAG_END)?;
    m.add("FLAG_EMPTY", event::FLAG_EMPTY)?;
    m.add("SIDE_BID", 0u8)?;
    m.add("SIDE_ASK", 1u8)?;
    m.add_class::<PyBatchResult>()?;
    Ok(())
}
