//! Argument parsing shared by the bindings: errors name the argument, the value and the
//! rule.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;

/// Picks the value named by `text` from `choices`, or says which names are allowed.
pub(crate) fn choice<T: Copy>(field: &str, text: &str, choices: &[(&str, T)]) -> PyResult<T> {
    choices
        .iter()
        .find(|(name, _)| *name == text)
        .map(|(_, v)| *v)
        .ok_or_else(|| {
            let names: Vec<String> = choices.iter().map(|(n, _)| format!("\"{n}\"")).collect();
            let allowed = match names.split_last() {
                Some((last, [])) => last.clone(),
                Some((last, [only])) => format!("{only} or {last}"),
                Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
                None => String::new(),
            };
            PyValueError::new_err(format!("{field} {text:?} is not {allowed}"))
        })
}
