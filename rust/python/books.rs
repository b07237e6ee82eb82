//! `L2Book` (and the queries shared with `L3Book`) for Python.

use numpy::PyReadonlyArray1;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::errors::{side_arg, BookError, SequenceGapError};
use super::events::PyBatchResult;
use crate::event::Event;
use crate::l2::{L2Book, L2Error, Rule};
use crate::query::{BookQueries, Level};
use crate::Side;

/// Generates the query methods shared by both books over `self.inner`.
macro_rules! book_queries {
    ($ty:ty) => {
        #[pymethods]
        impl $ty {
            fn best_bid(&self) -> Option<$crate::query::Level> {
                $crate::query::BookQueries::best_bid(&self.inner)
            }
            fn best_ask(&self) -> Option<$crate::query::Level> {
                $crate::query::BookQueries::best_ask(&self.inner)
            }
            /// (best bid, best ask) in one call: what a caller watching the top reads
            /// at every step.
            #[allow(clippy::type_complexity)]
            fn top(&self) -> (Option<$crate::query::Level>, Option<$crate::query::Level>) {
                let book = &self.inner;
                ($crate::query::BookQueries::best_bid(book), $crate::query::BookQueries::best_ask(book))
            }
            fn spread(&self) -> Option<i64> {
                $crate::query::BookQueries::spread(&self.inner)
            }
            fn mid(&self) -> Option<f64> {
                $crate::query::BookQueries::mid_x2(&self.inner).map(|m| m as f64 / 2.0)
            }
            fn mid_x2(&self) -> Option<i64> {
                $crate::query::BookQueries::mid_x2(&self.inner)
            }
            fn is_crossed(&self) -> bool {
                $crate::query::BookQueries::is_crossed(&self.inner)
            }
            fn depth(&self, side: i64, n: usize) -> PyResult<Vec<$crate::query::Level>> {
                Ok($crate::query::BookQueries::depth(&self.inner, side_arg(side)?, n))
            }
            fn levels(&self, side: i64) -> PyResult<Vec<$crate::query::Level>> {
                Ok($crate::query::BookQueries::depth(&self.inner, side_arg(side)?, usize::MAX))
            }
            fn level_count(&self, side: i64) -> PyResult<usize> {
                Ok($crate::query::LevelSource::level_count(&self.inner, side_arg(side)?))
            }
            fn volume_at(&self, side: i64, price: i64) -> PyResult<i64> {
                Ok($crate::query::LevelSource::volume_at(&self.inner, side_arg(side)?, price))
            }
            fn walk(&self, side: i64, qty: i64) -> PyResult<(i64, i128, u32)> {
                let w = $crate::query::BookQueries::walk(&self.inner, side_arg(side)?, qty);
                Ok((w.filled, w.notional, w.levels))
            }
            fn size_within(&self, side: i64, band: i64) -> PyResult<i64> {
                if band < 0 {
                    return Err(PyValueError::new_err(format!(
                        "band {band} is negative (rule: band >= 0)"
                    )));
                }
                Ok($crate::query::BookQueries::size_within(&self.inner, side_arg(side)?, band))
            }
        }
    };
}
pub(crate) use book_queries;

fn l2_err(e: L2Error) -> PyErr {
    match e {
        L2Error::Gap { .. } => SequenceGapError::new_err(e.to_string()),
        _ => BookError::new_err(e.to_string()),
    }
}

/// Aggregated price levels kept in sync by snapshot + diffs.
#[pyclass(module = "engine._core", name = "L2Book")]
pub(crate) struct PyL2Book {
    inner: L2Book,
}

fn side_levels(bids: Vec<Level>, asks: Vec<Level>) -> Vec<(Side, i64, i64)> {
    let mut v = Vec::with_capacity(bids.len() + asks.len());
    v.extend(bids.into_iter().map(|(p, q)| (Side::Bid, p, q)));
    v.extend(asks.into_iter().map(|(p, q)| (Side::Ask, p, q)));
    v
}

#[pymethods]
impl PyL2Book {
    #[new]
    #[pyo3(signature = (rule, max_buffered_rows = 1_000_000))]
    fn new(rule: &str, max_buffered_rows: usize) -> PyResult<PyL2Book> {
        let r = Rule::parse(rule).ok_or_else(|| {
            PyValueError::new_err(format!("rule {rule:?} is not a sequence rule (rule: \"spot\" or \"futures\")"))
        })?;
        Ok(PyL2Book {
            inner: L2Book::with_window(r, crate::l2::DEFAULT_WINDOW, max_buffered_rows),
        })
    }

    #[getter]
    fn rule(&self) -> &'static str {
        self.inner.rule().as_str()
    }

    #[getter]
    fn stale(&self) -> bool {
        self.inner.is_stale()
    }

    #[getter]
    fn last_update_id(&self) -> Option<i64> {
        self.inner.last_update_id()
    }

    /// Replaces the book, then replays buffered diffs. Raises SequenceGapError if a
    /// buffered diff does not chain (the book is then stale, the snapshot's levels kept).
    fn apply_snapshot(&mut self, last_update_id: i64, bids: Vec<Level>, asks: Vec<Level>) -> PyResult<()> {
        let levels = side_levels(bids, asks);
        let r = self.inner.apply_snapshot(last_update_id, &levels, false).map_err(l2_err)?;
        match r.gap {
            Some((_, e)) => Err(l2_err(e)),
            None => Ok(()),
        }
    }

    fn apply_diff(
        &mut self,
        first_id: i64,
        last_id: i64,
        prev_id: i64,
        bids: Vec<Level>,
        asks: Vec<Level>,
    ) -> PyResult<&'static str> {
        let levels = side_levels(bids, asks);
        self.inner
            .apply_diff(first_id, last_id, prev_id, &levels, u64::MAX)
            .map(|o| o.as_str())
            .map_err(l2_err)
    }

    fn set_level(&mut self, side: i64, price: i64, qty: i64) -> PyResult<()> {
        self.inner.set_level(side_arg(side)?, price, qty).map_err(l2_err)
    }

    fn clear(&mut self) {
        self.inner.clear();
    }

    #[pyo3(signature = (events, record_tops = false, row_offset = 0))]
    fn apply_events(
        &mut self,
        py: Python<'_>,
        events: PyReadonlyArray1<'_, Event>,
        record_tops: bool,
        row_offset: u64,
    ) -> PyResult<PyBatchResult> {
        let rows = events
            .as_slice()
            .map_err(|_| PyValueError::new_err("events: array must be C-contiguous (rule: use np.ascontiguousarray)"))?;
        let book = &mut self.inner;
        let stats = py.detach(|| book.apply_events(rows, record_tops, row_offset));
        Ok(PyBatchResult::new(py, stats, record_tops))
    }

    fn __repr__(&self) -> String {
        format!(
            "L2Book(rule={:?}, stale={}, best_bid={:?}, best_ask={:?})",
            self.inner.rule().as_str(),
            self.inner.is_stale(),
            self.inner.best_bid(),
            self.inner.best_ask()
        )
    }
}

book_queries!(PyL2Book);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyL2Book>()?;
    Ok(())
}
