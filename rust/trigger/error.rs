//! Why the trigger book refused a call: each message names the field, the value and the rule.

use std::fmt;

use super::TriggerKind;

/// A refused call; the book is unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerError {
    /// `add` with an id already in the book.
    DuplicateId { id: u64 },
    /// An amendment for an id not in the book.
    UnknownId { id: u64 },
    /// A field the kind requires is missing (`trigger_price` for stop and take-profit,
    /// `offset` for a trailing stop).
    Missing { field: &'static str, kind: TriggerKind },
    /// A field the kind does not take (an offset or reference on a non-trailing entry,
    /// a user stop on a take-profit).
    NotAllowed { field: &'static str, value: i64, kind: TriggerKind },
    /// A tick offset outside `1..PRICE_LIMIT`.
    OffsetTicks { value: i64 },
    /// A bps offset outside `1..10_000`.
    OffsetBps { value: i64 },
    /// A price with `|value| >= PRICE_LIMIT`.
    PriceRange { field: &'static str, value: i64 },
    /// `amend_trigger` on a trailing stop that would move it away from the price.
    WouldLoosen { field: &'static str, value: i64, current: i64 },
}

impl fmt::Display for TriggerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            TriggerError::DuplicateId { id } => {
                write!(f, "id {id} is already in the trigger book (ids must be unique)")
            }
            TriggerError::UnknownId { id } => write!(f, "id {id} is not in the trigger book"),
            TriggerError::Missing { field, kind } => {
                write!(f, "{field} is missing: a {} entry requires it", kind.name())
            }
            TriggerError::NotAllowed { field, value, kind } => {
                let only = if field == "user_stop" { "stop and trailing_stop" } else { "trailing_stop" };
                write!(f, "{field} {value} is not allowed for a {} entry ({only} only)", kind.name())
            }
            TriggerError::OffsetTicks { value } => {
                write!(f, "offset_ticks {value} is out of range: must be >= 1 and < 2^62")
            }
            TriggerError::OffsetBps { value } => {
                write!(f, "offset_bps {value} is out of range: must be >= 1 and <= 9999")
            }
            TriggerError::PriceRange { field, value } => {
                write!(f, "{field} {value} is out of range: |price| must be < 2^62 ticks")
            }
            TriggerError::WouldLoosen { field, value, current } => write!(
                f,
                "{field} {value} would loosen the trailing stop at {current} (a trailing stop only tightens)"
            ),
        }
    }
}

impl std::error::Error for TriggerError {}
