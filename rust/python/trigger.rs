//! `TriggerBook` for Python: conversions only; the rules live in `crate::trigger`.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

use super::errors::side_arg;
use crate::trigger::{TrailOffset, TriggerBook, TriggerError, TriggerKind, TriggerSource, TriggerSpec};

fn trigger_err(e: TriggerError) -> PyErr {
    PyValueError::new_err(e.to_string())
}

fn kind_arg(kind: &str) -> PyResult<TriggerKind> {
    match kind {
        "stop" => Ok(TriggerKind::Stop),
        "take_profit" => Ok(TriggerKind::TakeProfit),
        "trailing_stop" => Ok(TriggerKind::TrailingStop),
        _ => Err(PyValueError::new_err(format!(
            "kind {kind:?} is not \"stop\", \"take_profit\" or \"trailing_stop\""
        ))),
    }
}

fn source_arg(source: &str) -> PyResult<TriggerSource> {
    match source {
        "last" => Ok(TriggerSource::Last),
        "bid_ask" => Ok(TriggerSource::BidAsk),
        "mark" => Ok(TriggerSource::Mark),
        _ => Err(PyValueError::new_err(format!(
            "source {source:?} is not \"last\", \"bid_ask\" or \"mark\""
        ))),
    }
}

/// One offset from the two keyword arguments; giving both is refused.
fn offset_arg(ticks: Option<i64>, bps: Option<i64>) -> PyResult<Option<TrailOffset>> {
    match (ticks, bps) {
        (Some(t), Some(b)) => Err(PyValueError::new_err(format!(
            "offset_ticks {t} and offset_bps {b} are exclusive: give one of them"
        ))),
        (Some(t), None) => Ok(Some(TrailOffset::Ticks(t))),
        (None, Some(b)) => match u32::try_from(b) {
            Ok(b) => Ok(Some(TrailOffset::Bps(b))),
            Err(_) => Err(trigger_err(TriggerError::OffsetBps { value: b })),
        },
        (None, None) => Ok(None),
    }
}

/// Builds and validates a spec (everything but the id's uniqueness).
#[allow(clippy::too_many_arguments)]
fn spec_arg(
    id: u64,
    side: i64,
    kind: &str,
    source: &str,
    trigger_price: Option<i64>,
    offset_ticks: Option<i64>,
    offset_bps: Option<i64>,
    user_stop: Option<i64>,
    reference: Option<i64>,
) -> PyResult<TriggerSpec> {
    let spec = TriggerSpec {
        id,
        side: side_arg(side)?,
        kind: kind_arg(kind)?,
        source: source_arg(source)?,
        trigger_price,
        offset: offset_arg(offset_ticks, offset_bps)?,
        user_stop,
        reference,
    };
    spec.validate().map_err(trigger_err)?;
    Ok(spec)
}

/// Conditional entries (stops, take-profits, trailing stops) of one instrument.
#[pyclass(module = "engine._core", name = "TriggerBook")]
pub(crate) struct PyTriggerBook {
    inner: TriggerBook,
}

#[pymethods]
impl PyTriggerBook {
    #[new]
    fn new() -> PyTriggerBook {
        PyTriggerBook { inner: TriggerBook::new() }
    }

    #[pyo3(signature = (
        id, side, kind, source, trigger_price = None, offset_ticks = None, offset_bps = None,
        user_stop = None, reference = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn add(
        &mut self,
        id: u64,
        side: i64,
        kind: &str,
        source: &str,
        trigger_price: Option<i64>,
        offset_ticks: Option<i64>,
        offset_bps: Option<i64>,
        user_stop: Option<i64>,
        reference: Option<i64>,
    ) -> PyResult<()> {
        if self.inner.contains(id) {
            return Err(trigger_err(TriggerError::DuplicateId { id }));
        }
        let spec =
            spec_arg(id, side, kind, source, trigger_price, offset_ticks, offset_bps, user_stop, reference)?;
        self.inner.add(&spec).map_err(trigger_err)
    }

    /// Would this entry fire if added now and `price` were the next price it observes?
    #[staticmethod]
    #[pyo3(signature = (
        side, kind, source, price, trigger_price = None, offset_ticks = None, offset_bps = None,
        user_stop = None, reference = None
    ))]
    #[allow(clippy::too_many_arguments)]
    fn would_fire(
        side: i64,
        kind: &str,
        source: &str,
        price: i64,
        trigger_price: Option<i64>,
        offset_ticks: Option<i64>,
        offset_bps: Option<i64>,
        user_stop: Option<i64>,
        reference: Option<i64>,
    ) -> PyResult<bool> {
        let spec =
            spec_arg(0, side, kind, source, trigger_price, offset_ticks, offset_bps, user_stop, reference)?;
        Ok(TriggerBook::would_fire(&spec, price))
    }

    fn remove(&mut self, id: u64) -> bool {
        self.inner.remove(id)
    }

    fn amend_trigger(&mut self, id: u64, price: i64) -> PyResult<()> {
        self.inner.amend_trigger(id, price).map_err(trigger_err)
    }

    fn set_user_stop(&mut self, id: u64, price: Option<i64>) -> PyResult<()> {
        self.inner.set_user_stop(id, price).map_err(trigger_err)
    }

    fn effective_stop(&self, id: u64) -> Option<i64> {
        self.inner.effective_stop(id)
    }

    fn on_last(&mut self, price: i64) -> PyResult<Vec<u64>> {
        let mut out = Vec::new();
        self.inner.on_last(price, &mut out).map_err(trigger_err)?;
        Ok(out)
    }

    fn on_mark(&mut self, price: i64) -> PyResult<Vec<u64>> {
        let mut out = Vec::new();
        self.inner.on_mark(price, &mut out).map_err(trigger_err)?;
        Ok(out)
    }

    fn on_bid_ask(&mut self, bid: Option<i64>, ask: Option<i64>) -> PyResult<Vec<u64>> {
        let mut out = Vec::new();
        self.inner.on_bid_ask(bid, ask, &mut out).map_err(trigger_err)?;
        Ok(out)
    }

    fn __len__(&self) -> usize {
        self.inner.len()
    }

    /// Any int may be asked about; ids outside u64 are simply not in the book.
    fn __contains__(&self, id: i128) -> bool {
        u64::try_from(id).is_ok_and(|id| self.inner.contains(id))
    }

    fn __repr__(&self) -> String {
        format!("TriggerBook(len={})", self.inner.len())
    }
}

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyTriggerBook>()?;
    Ok(())
}
