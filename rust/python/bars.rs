//! Bars for Python: the `BAR_DTYPE` record, `bars_from_events` and `BarBuilder`.

use numpy::{Element, PyArray1, PyArrayDescr, PyArrayDescrMethods, PyReadonlyArray1};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyList;

use crate::bars::{self, Bar, BarBuilder};
use crate::event::Event;

/// (ts_open, ts_close, open, high, low, close, volume, trades), the dtype's field order.
type BarTuple = (i64, i64, i64, i64, i64, i64, i64, u64);

fn as_tuple(b: Bar) -> BarTuple {
    (b.ts_open, b.ts_close, b.open, b.high, b.low, b.close, b.volume, b.trades)
}

// SAFETY: Bar is #[repr(C)], Copy, seven i64 and one u64 at the offsets the dtype lists
// (the size is asserted when the module loads).
unsafe impl Element for Bar {
    const IS_COPY: bool = true;

    fn get_dtype(py: Python<'_>) -> Bound<'_, PyArrayDescr> {
        static DTYPE: PyOnceLock<Py<PyArrayDescr>> = PyOnceLock::new();
        DTYPE
            .get_or_init(py, || {
                let fields = [
                    ("ts_open", "<i8"),
                    ("ts_close", "<i8"),
                    ("open", "<i8"),
                    ("high", "<i8"),
                    ("low", "<i8"),
                    ("close", "<i8"),
                    ("volume", "<i8"),
                    ("trades", "<u8"),
                ];
                let spec = PyList::new(py, fields).expect("dtype field list");
                PyArrayDescr::new(py, spec).expect("valid dtype spec").unbind()
            })
            .clone_ref(py)
            .into_bound(py)
    }

    fn clone_ref(&self, _py: Python<'_>) -> Self {
        *self
    }
}

fn interval_err(e: bars::BadInterval) -> PyErr {
    PyValueError::new_err(e.to_string())
}

/// Bars of the KIND_TRADE rows of an EVENT_DTYPE array, the last partial bar included.
#[pyfunction]
fn bars_from_events<'py>(
    py: Python<'py>,
    events: PyReadonlyArray1<'py, Event>,
    interval_ns: i64,
) -> PyResult<Bound<'py, PyArray1<Bar>>> {
    let rows = events.as_slice().map_err(|_| {
        PyValueError::new_err("events: array must be C-contiguous (rule: use np.ascontiguousarray)")
    })?;
    let out = py.detach(|| bars::bars_from_events(rows, interval_ns)).map_err(interval_err)?;
    Ok(PyArray1::from_vec(py, out))
}

/// Streaming bar builder (see the Rust `bars` module for the rules).
#[pyclass(module = "engine._core", name = "BarBuilder")]
pub(crate) struct PyBarBuilder {
    inner: BarBuilder,
}

#[pymethods]
impl PyBarBuilder {
    #[new]
    fn new(interval_ns: i64) -> PyResult<PyBarBuilder> {
        Ok(PyBarBuilder {
            inner: BarBuilder::new(interval_ns).map_err(interval_err)?,
        })
    }

    #[getter]
    fn interval_ns(&self) -> i64 {
        self.inner.interval_ns()
    }

    #[getter]
    fn late_trades(&self) -> u64 {
        self.inner.late_trades()
    }

    /// Refuses `qty <= 0` (the Rust builder skips such prints; a caller passing one by
    /// hand has made a mistake worth hearing about). The builder is then unchanged.
    fn on_trade(&mut self, ts: i64, price: i64, qty: i64) -> PyResult<Option<BarTuple>> {
        if qty <= 0 {
            return Err(PyValueError::new_err(format!("qty {qty} is not positive (rule: qty > 0 lots)")));
        }
        Ok(self.inner.on_trade(ts, price, qty).map(as_tuple))
    }

    fn flush(&mut self) -> Option<BarTuple> {
        self.inner.flush().map(as_tuple)
    }

    fn current(&self) -> Option<BarTuple> {
        self.inner.current().copied().map(as_tuple)
    }

    fn __repr__(&self) -> String {
        let open = self.inner.current().is_some();
        format!("BarBuilder(interval_ns={}, open={open})", self.inner.interval_ns())
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let dt = Bar::get_dtype(m.py());
    // The dtype must lay fields out exactly like the Rust struct.
    assert_eq!(dt.itemsize(), std::mem::size_of::<Bar>());
    m.add("BAR_DTYPE", dt)?;
    m.add_function(wrap_pyfunction!(bars_from_events, m)?)?;
    m.add_class::<PyBarBuilder>()?;
    Ok(())
}
