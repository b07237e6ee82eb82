//! quantx core: exact fixed-point numbers, L2 and L3 order books, batch replay.
//!
//! Plain Rust; the PyO3 bindings live in `python/` behind the `python` feature so
//! `cargo test` and the criterion benches need no Python.

pub mod accounting;
pub mod bars;
pub mod batch;
pub mod builder;
pub mod event;
pub mod fixed;
pub mod l2;
pub mod l3;
pub mod money;
pub mod plan;
pub mod query;
pub mod risk;
pub mod side;
pub mod sim;
pub mod stats;
pub mod trigger;

#[cfg(feature = "python")]
mod python;

pub use side::Side;
