//! Why `compute` refused its inputs: each message names the field, the value and the rule.

use std::fmt;

/// Refused inputs; nothing was computed.
#[derive(Debug, Clone, PartialEq)]
pub enum StatsError {
    /// Two arrays that describe the same samples differ in length.
    LengthMismatch { field: &'static str, len: usize, other: &'static str, other_len: usize },
    /// A timestamp earlier than the one before it.
    Unsorted { field: &'static str, index: usize, value: i64, previous: i64 },
    /// NaN or an infinity in an array.
    NotFinite { field: &'static str, index: usize, value: f64 },
    /// An equity value that is zero or negative: returns and drawdowns divide by equity.
    NotPositive { field: &'static str, index: usize, value: f64 },
    /// A scalar argument outside its range; `value` as given, `rule` the allowed range.
    Param { field: &'static str, value: String, rule: &'static str },
    /// The curve spans more nanoseconds than an `i64` holds (durations are reported as `i64`).
    Span { first: i64, last: i64 },
}

impl fmt::Display for StatsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StatsError::LengthMismatch { field, len, other, other_len } => write!(
                f,
                "{field} has {len} elements but {other} has {other_len} \
                 (rule: one {field} value per {other} value)"
            ),
            StatsError::Unsorted { field, index, value, previous } => write!(
                f,
                "{field}[{index}] = {value} is before {field}[{}] = {previous} \
                 (rule: sorted ascending, ties allowed)",
                index - 1
            ),
            StatsError::NotFinite { field, index, value } => {
                write!(f, "{field}[{index}] = {value} is not finite (rule: no NaN or infinity)")
            }
            StatsError::NotPositive { field, index, value } => write!(
                f,
                "{field}[{index}] = {value} is not positive (rule: equity > 0, returns divide by it)"
            ),
            StatsError::Param { field, value, rule } => {
                write!(f, "{field} {value} is out of range (rule: {rule})")
            }
            StatsError::Span { first, last } => write!(
                f,
                "ts spans {first}..{last}, more than 2^63-1 ns (rule: last - first must fit in an i64)"
            ),
        }
    }
}

impl std::error::Error for StatsError {}
