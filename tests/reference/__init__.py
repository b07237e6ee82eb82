"""Pure-Python reference books: the model the Rust books are tested against, and the
baseline the hot-path benchmark measures them against. Slow on purpose: plain dicts and
lists, sorted on every query, so that each rule is easy to check by reading."""

from .l2 import (
    RefBatchResult,
    RefBookError,
    RefL2Book,
    RefSequenceGapError,
    events_to_rows,
)
from .l3 import RefL3Book

__all__ = [
    "RefBatchResult",
    "RefBookError",
    "RefL2Book",
    "RefL3Book",
    "RefSequenceGapError",
    "events_to_rows",
]
