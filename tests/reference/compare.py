"""Assertions shared by the stateful tests: a Rust book and a reference book agree."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from hypothesis import event

from .l2 import RefBookError, RefSequenceGapError

T = TypeVar("T")

QUERY_NS = (0, 1, 2, 5, 10_000)
QUERY_QTYS = (0, 1, 3, 7, 20, 10**12)
QUERY_BANDS = (0, 1, 2, 5, 100, 10**9)


def book_levels(book: Any) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    return book.levels(0), book.levels(1)


def assert_queries_agree(rust: Any, ref: Any, prices: Iterable[int] = ()) -> None:
    """Every query of the shared query API gives the same answer on both books."""
    assert rust.levels(0) == ref.levels(0)
    assert rust.levels(1) == ref.levels(1)
    assert rust.best_bid() == ref.best_bid()
    assert rust.best_ask() == ref.best_ask()
    assert rust.top() == (ref.best_bid(), ref.best_ask())
    assert rust.spread() == ref.spread()
    assert rust.mid_x2() == ref.mid_x2()
    assert rust.mid() == ref.mid()
    assert rust.is_crossed() == ref.is_crossed()
    for side in (0, 1):
        assert rust.level_count(side) == ref.level_count(side)
        for n in QUERY_NS:
            assert rust.depth(side, n) == ref.depth(side, n), (side, n)
        for qty in QUERY_QTYS:
            assert rust.walk(side, qty) == ref.walk(side, qty), (side, qty)
        for band in QUERY_BANDS:
            assert rust.size_within(side, band) == ref.size_within(side, band), (side, band)
        for price in {*prices, *(p for p, _ in ref.levels(side)[:3])}:
            assert rust.volume_at(side, price) == ref.volume_at(side, price), (side, price)


def call_both(
    rust_call: Callable[[], T],
    ref_call: Callable[[], T],
    rust_state: Callable[[], object],
    book_error: type[BaseException],
    gap_error: type[BaseException],
    label: str | None = None,
) -> T | None:
    """Runs one operation on both books: same result, or both refuse it the same way.

    Refusals come in three kinds that must match: a sequence gap (SequenceGapError), a
    refused operation (BookError) and a bad argument (another ValueError, OverflowError).
    A refusal must leave the Rust book unchanged; a gap changes it by design (stale), and
    the caller's invariants compare it with the reference."""
    try:
        expected: T | None = ref_call()
        ref_exc: BaseException | None = None
    except (ValueError, OverflowError) as e:
        expected, ref_exc = None, e
    before = rust_state()
    try:
        got: T | None = rust_call()
        rust_exc: BaseException | None = None
    except (ValueError, OverflowError) as e:
        got, rust_exc = None, e
    if label is not None:  # outcome statistics: pytest --hypothesis-show-statistics
        outcome = (
            type(ref_exc).__name__ if ref_exc else expected if isinstance(expected, str) else "ok"
        )
        event(f"{label}: {outcome}")
    if ref_exc is None:
        assert rust_exc is None, f"Rust raised {rust_exc!r}; the reference returned {expected!r}"
        assert got == expected
        return got
    assert rust_exc is not None, f"the reference raised {ref_exc!r}; Rust returned {got!r}"
    if isinstance(ref_exc, RefSequenceGapError):
        assert isinstance(rust_exc, gap_error), f"expected a gap, Rust raised {rust_exc!r}"
        return None
    if isinstance(ref_exc, RefBookError):
        assert isinstance(rust_exc, book_error), f"expected a BookError, got {rust_exc!r}"
        assert not isinstance(rust_exc, gap_error), f"unexpected gap {rust_exc!r}"
    else:
        assert not isinstance(rust_exc, book_error), f"expected {ref_exc!r}, got {rust_exc!r}"
        assert isinstance(rust_exc, type(ref_exc)), f"expected {ref_exc!r}, got {rust_exc!r}"
    assert rust_state() == before, f"Rust book changed by a refused call: {rust_exc!r}"
    return None
