//! PyO3 bindings: the `engine._core` extension. Thin: conversions and errors only.

mod accounting;
mod args;
mod bars;
mod books;
mod builder;
mod errors;
mod events;
mod fixed;
mod l3;
mod plan;
mod risk;
mod sim;
mod stats;
mod trigger;

use pyo3::prelude::*;

#[pymodule]
fn _core(m: &Bound<'_, PyModule>) -> PyResult<()> {
    errors::register(m)?;
    events::register(m)?;
    fixed::register(m)?;
    builder::register(m)?;
    books::register(m)?;
    l3::register(m)?;
    plan::register(m)?;
    risk::register(m)?;
    accounting::register(m)?;
    sim::register(m)?;
    stats::register(m)?;
    trigger::register(m)?;
    bars::register(m)?;
    Ok(())
}
