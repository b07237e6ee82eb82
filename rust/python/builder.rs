//! `EventBuilder` for Python: one call per exchange message, decimals parsed in Rust.

use numpy::PyArray1;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyString, PyTuple};

use super::errors::FixedPointError;
use super::fixed::PyGrid;
use crate::builder::{EventBuilder, LevelError};
use crate::event::{Event, KIND_DIFF, KIND_SNAPSHOT};
use crate::Side;

#[pyclass(module = "engine._core", name = "EventBuilder")]
pub(crate) struct PyEventBuilder {
    inner: EventBuilder,
}

fn level_err(name: &str, index: usize, e: LevelError) -> PyErr {
    FixedPointError::new_err(format!("{name}[{index}].{}: {}", e.field, e.error))
}

fn str_item<'a>(item: &'a Bound<'_, PyAny>, name: &str, index: usize, field: &str) -> PyResult<&'a str> {
    item.cast::<PyString>()
        .map_err(|_| {
            PyTypeError::new_err(format!(
                "{name}[{index}].{field}: expected a decimal string, got {}",
                item.get_type().name().map(|n| n.to_string()).unwrap_or_default()
            ))
        })?
        .to_str()
}

impl PyEventBuilder {
    /// Adds the levels of one side to the open message.
    fn levels(&mut self, side: Side, name: &str, levels: &Bound<'_, PyAny>) -> PyResult<()> {
        let pair_err = |i: usize| PyTypeError::new_err(format!("{name}[{i}]: expected [price, qty] strings"));
        let mut push = |i: usize, p: &Bound<'_, PyAny>, q: &Bound<'_, PyAny>| -> PyResult<()> {
            let price = str_item(p, name, i, "price")?;
            let qty = str_item(q, name, i, "qty")?;
            self.inner.level(side, price, qty).map_err(|e| level_err(name, i, e))
        };
        if let Ok(list) = levels.cast::<PyList>() {
            for (i, item) in list.iter().enumerate() {
                if let Ok(pair) = item.cast::<PyList>() {
                    if pair.len() != 2 {
                        return Err(pair_err(i));
                    }
                    push(i, &pair.get_item(0)?, &pair.get_item(1)?)?;
                } else if let Ok(pair) = item.cast::<PyTuple>() {
                    if pair.len() != 2 {
                        return Err(pair_err(i));
                    }
                    push(i, &pair.get_item(0)?, &pair.get_item(1)?)?;
                } else {
                    return Err(pair_err(i));
                }
            }
            Ok(())
        } else {
            Err(PyTypeError::new_err(format!("{name}: expected a list of [price, qty] pairs")))
        }
    }

    #[allow(clippy::too_many_arguments)]
    fn push_book(
        &mut self,
        kind: u8,
        ts_recv: i64,
        ts_event: i64,
        ids: (i64, i64, i64),
        bids: &Bound<'_, PyAny>,
        asks: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        self.inner.begin(kind, ts_recv, ts_event, ids);
        let r = self
            .levels(Side::Bid, "bids", bids)
            .and_then(|_| self.levels(Side::Ask, "asks", asks));
        match r {
            Ok(()) => Ok(self.inner.commit()),
            Err(e) => {
                self.inner.rollback();
                Err(e)
            }
        }
    }
}

#[pymethods]
impl PyEventBuilder {
    #[new]
    fn new(grid: &PyGrid) -> PyEventBuilder {
        PyEventBuilder {
            inner: EventBuilder::new(grid.grid.clone()),
        }
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    fn push_snapshot(
        &mut self,
        ts_recv: i64,
        ts_event: i64,
        last_update_id: i64,
        bids: &Bound<'_, PyAny>,
        asks: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        self.push_book(KIND_SNAPSHOT, ts_recv, ts_event, (0, last_update_id, -1), bids, asks)
    }

    #[allow(clippy::too_many_arguments)]
    fn push_diff(
        &mut self,
        ts_recv: i64,
        ts_event: i64,
        first_id: i64,
        last_id: i64,
        prev_id: i64,
        bids: &Bound<'_, PyAny>,
        asks: &Bound<'_, PyAny>,
    ) -> PyResult<usize> {
        self.push_book(KIND_DIFF, ts_recv, ts_event, (first_id, last_id, prev_id), bids, asks)
    }

    fn push_trade(
        &mut self,
        ts_recv: i64,
        ts_event: i64,
        trade_id: u64,
        price: &str,
        qty: &str,
        buyer_is_maker: bool,
    ) -> PyResult<usize> {
        self.inner
            .trade(ts_recv, ts_event, trade_id, price, qty, buyer_is_maker)
            .map_err(|e| FixedPointError::new_err(format!("trade.{}: {}", e.field, e.error)))
    }

    #[allow(clippy::too_many_arguments)]
    fn push_ticker(
        &mut self,
        ts_recv: i64,
        ts_event: i64,
        update_id: i64,
        bid_price: &str,
        bid_qty: &str,
        ask_price: &str,
        ask_qty: &str,
    ) -> PyResult<usize> {
        self.inner
            .ticker(ts_recv, ts_event, update_id, (bid_price, bid_qty), (ask_price, ask_qty))
            .map_err(|(side, e)| {
                let name = if side == Side::Bid { "bid" } else { "ask" };
                FixedPointError::new_err(format!("ticker.{name}_{}: {}", e.field, e.error))
            })
    }

    fn finish<'py>(&mut self, py: Python<'py>) -> Bound<'py, PyArray1<Event>> {
        PyArray1::from_vec(py, self.inner.finish())
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyEventBuilder>()?;
    Ok(())
}
