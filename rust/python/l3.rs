//! `L3Book` for Python.

use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::books::book_queries;
use super::errors::{side_arg, BookError};
use super::events::PyBatchResult;
use crate::event::Event;
use crate::l3::{Fill, L3Book, L3Error};
use crate::query::BookQueries;

fn l3_err(e: L3Error) -> PyErr {
    BookError::new_err(e.to_string())
}

/// Order-by-order book: FIFO within a level; adds that would cross are refused.
#[pyclass(module = "engine._core", name = "L3Book")]
pub(crate) struct PyL3Book {
    inner: L3Book,
    fills: Vec<Fill>,
}

#[pymethods]
impl PyL3Book {
    #[new]
    fn new() -> PyL3Book {
        PyL3Book {
            inner: L3Book::new(),
            fills: Vec::new(),
        }
    }

    fn add(&mut self, order_id: u64, side: i64, price: i64, qty: i64) -> PyResult<()> {
        self.inner.add(order_id, side_arg(side)?, price, qty).map_err(l3_err)
    }

    fn modify(&mut self, order_id: u64, price: i64, qty: i64) -> PyResult<()> {
        self.inner.modify(order_id, price, qty).map_err(l3_err)
    }

    fn cancel(&mut self, order_id: u64) -> PyResult<i64> {
        self.inner.cancel(order_id).map_err(l3_err)
    }

    fn execute(&mut self, order_id: u64, qty: i64) -> PyResult<i64> {
        self.inner.execute(order_id, qty).map_err(l3_err)
    }

    #[pyo3(signature = (side, qty, limit_price = None))]
    fn match_order(&mut self, side: i64, qty: i64, limit_price: Option<i64>) -> PyResult<Vec<(u64, i64, i64)>> {
        let side = side_arg(side)?;
        self.fills.clear();
        self.inner.match_order(side, qty, limit_price, &mut self.fills);
        Ok(self.fills.iter().map(|f| (f.maker_id, f.price, f.qty)).collect())
    }

    fn order(&self, order_id: u64) -> Option<(u8, i64, i64)> {
        self.inner.order(order_id).map(|(s, p, q)| (s as u8, p, q))
    }

    fn queue_ahead(&self, order_id: u64) -> PyResult<i64> {
        self.inner
            .queue_ahead(order_id)
            .ok_or_else(|| BookError::new_err(format!("order_id {order_id} is not resting (rule: a known order id)")))
    }

    fn orders_at(&self, side: i64, price: i64) -> PyResult<Vec<(u64, i64)>> {
        Ok(self.inner.orders_at(side_arg(side)?, price))
    }

    fn order_count(&self) -> usize {
        self.inner.order_count()
    }

    #[pyo3(signature = (events, row_offset = 0))]
    fn apply_events(&mut self, py: Python<'_>, events: PyReadonlyArray1<'_, Event>, row_offset: u64) -> PyResult<PyBatchResult> {
        let rows = events
            .as_slice()
            .map_err(|_| PyValueError::new_err("events: array must be C-contiguous (rule: use np.ascontiguousarray)"))?;
        let book = &mut self.inner;
        let stats = py.detach(|| book.apply_events(rows, row_offset));
        Ok(PyBatchResult::new(py, stats, false))
    }

    fn __repr__(&self) -> String {
        format!(
            "L3Book(orders={}, best_bid={:?}, best_ask={:?})",
            self.inner.order_count(),
            self.inner.best_bid(),
            self.inner.best_ask()
        )
    }
}

book_queries!(PyL3Book);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyL3Book>()?;
    Ok(())
}

