//! Python exception types raised by the extension.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

pyo3::create_exception!(
    _core,
    FixedPointError,
    PyValueError,
    "A decimal that is not a whole number of steps, negative where not allowed, malformed, or overflowing."
);
pyo3::create_exception!(_core, BookError, PyValueError, "An operation the book refused; the book is unchanged.");
pyo3::create_exception!(
    _core,
    SequenceGapError,
    BookError,
    "A diff broke the sequence chain; the book is stale until the next snapshot."
);

pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("FixedPointError", py.get_type::<FixedPointError>())?;
    m.add("BookError", py.get_type::<BookError>())?;
    m.add("SequenceGapError", py.get_type::<SequenceGapError>())?;
    Ok(())
}

/// Decodes a side argument: 0 bid, 1 ask.
pub(crate) fn side_arg(side: i64) -> PyResult<crate::Side> {
    u8::try_from(side)
        .ok()
        .and_then(crate::Side::from_u8)
        .ok_or_else(|| PyValueError::new_err(format!("side {side} is not 0 (bid) or 1 (ask)")))
}
