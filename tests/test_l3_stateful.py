"""The Rust L3 book against the pure-Python reference: ids come from a small pool so that
duplicates, unknown ids and crossing prices happen often."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule

import hypothesis_profiles  # noqa: F401  (registers and loads the settings profile)
from reference.compare import assert_queries_agree, call_both
from reference.l3 import RefL3Book

core: Any = pytest.importorskip("engine._core")

MID = 1_000
IDS = st.integers(1, 12)
PRICES = st.one_of(
    st.integers(MID - 6, MID + 6),
    st.integers(MID - 6, MID + 6),
    st.sampled_from([MID - (1 << 16), MID + (1 << 16) + 3, 0]),
)
QTYS = st.integers(-1, 6)
SIDES = st.sampled_from([0, 1])
POOL = range(1, 13)


def state(book: Any) -> tuple[object, ...]:
    """Everything observable: levels, and every level's queue with sizes, in order."""
    queues = tuple(
        (side, price, tuple(book.orders_at(side, price)))
        for side in (0, 1)
        for price, _ in book.levels(side)
    )
    orders = tuple(book.order(i) for i in POOL)
    return (book.levels(0), book.levels(1), queues, orders, book.order_count())


class L3Machine(RuleBasedStateMachine):
    """Adds, modifies, cancels, executes and matches on both books."""

    def __init__(self) -> None:
        super().__init__()
        self.rust: Any = core.L3Book()
        self.ref = RefL3Book()

    def both(self, name: str, *args: Any) -> Any:
        note(f"{name}{args!r}")
        return call_both(
            lambda: getattr(self.rust, name)(*args),
            lambda: getattr(self.ref, name)(*args),
            lambda: state(self.rust),
            core.BookError,
            core.SequenceGapError,
            label=name,
        )

    @initialize(
        orders=st.lists(st.tuples(IDS, SIDES, st.integers(0, 1), st.integers(1, 5)), max_size=10)
    )
    def seed(self, orders: list[tuple[int, int, int, int]]) -> None:
        """A populated, uncrossed book to start from: bids below MID, asks above."""
        for order_id, side, away, qty in orders:
            price = MID - 1 - away if side == 0 else MID + 1 + away
            self.both("add", order_id, side, price, qty)

    def resting(self, data: st.DataObject) -> int | None:
        ids = sorted(self.ref._orders)
        return data.draw(st.sampled_from(ids), label="resting id") if ids else None

    @rule(data=st.data(), price=PRICES, qty=st.integers(1, 8))
    def modify_resting(self, data: st.DataObject, price: int, qty: int) -> None:
        order_id = self.resting(data)
        if order_id is not None:
            self.modify(order_id, price, qty, False)

    @rule(data=st.data(), delta=st.integers(-2, 2))
    def resize_resting(self, data: st.DataObject, delta: int) -> None:
        """Same price, a little smaller (keeps its place), equal, or larger (goes back)."""
        order_id = self.resting(data)
        if order_id is not None:
            _, price, qty = self.ref._orders[order_id]
            self.both("modify", order_id, price, max(1, qty + delta))

    @rule(data=st.data(), extra=st.integers(-3, 1))
    def execute_resting(self, data: st.DataObject, extra: int) -> None:
        order_id = self.resting(data)
        if order_id is not None:
            resting = self.ref.order(order_id)
            assert resting is not None
            self.both("execute", order_id, max(1, resting[2] + extra))

    @rule(data=st.data())
    def cancel_resting(self, data: st.DataObject) -> None:
        order_id = self.resting(data)
        if order_id is not None:
            self.both("cancel", order_id)

    @rule(order_id=IDS, side=SIDES, price=PRICES, qty=QTYS)
    def add(self, order_id: int, side: int, price: int, qty: int) -> None:
        self.both("add", order_id, side, price, qty)

    @rule(order_id=IDS, side=SIDES, price=PRICES, qty=QTYS)
    def add_again(self, order_id: int, side: int, price: int, qty: int) -> None:
        """More adds than removals keep the book populated."""
        self.both("add", order_id, side, price, qty)

    @rule(order_id=IDS, price=PRICES, qty=QTYS, same_price=st.booleans())
    def modify(self, order_id: int, price: int, qty: int, same_price: bool) -> None:
        current = self.ref.order(order_id)
        if same_price and current is not None:
            price = current[1]  # exercise the keep-priority and back-of-queue rules
        self.both("modify", order_id, price, qty)

    @rule(order_id=IDS)
    def cancel(self, order_id: int) -> None:
        self.both("cancel", order_id)

    @rule(order_id=IDS, qty=st.integers(-1, 7))
    def execute(self, order_id: int, qty: int) -> None:
        self.both("execute", order_id, qty)

    @rule(
        side=SIDES,
        qty=st.integers(-1, 25),
        limit=st.one_of(st.none(), st.integers(MID - 8, MID + 8)),
    )
    def match_order(self, side: int, qty: int, limit: int | None) -> None:
        self.both("match_order", side, qty, limit)

    @rule(order_id=IDS)
    def queue_ahead(self, order_id: int) -> None:
        self.both("queue_ahead", order_id)

    @rule(side=st.sampled_from([-1, 2, 9]), order_id=IDS)
    def bad_side(self, side: int, order_id: int) -> None:
        self.both("add", order_id, side, MID, 1)

    @rule(side=SIDES, n=st.integers(0, 20), qty=st.integers(-2, 40), band=st.integers(-3, 30))
    def query(self, side: int, n: int, qty: int, band: int) -> None:
        for name, args in (
            ("depth", (side, n)),
            ("walk", (side, qty)),
            ("size_within", (side, band)),
        ):
            self.both(name, *args)

    @invariant()
    def books_agree(self) -> None:
        assert state(self.rust) == state(self.ref)
        for order_id in POOL:
            if self.ref.order(order_id) is not None:
                assert self.rust.queue_ahead(order_id) == self.ref.queue_ahead(order_id)
        assert_queries_agree(self.rust, self.ref, range(MID - 6, MID + 7))


TestL3Stateful = L3Machine.TestCase


def test_priority_rules_by_example() -> None:
    """The written rules, spelled out once on the reference (the model must be right)."""
    book = RefL3Book()
    book.add(1, 0, 100, 5)
    book.add(2, 0, 100, 3)
    book.add(3, 0, 100, 2)
    book.modify(1, 100, 4)  # reduction at the same price: keeps its place
    assert book.orders_at(0, 100) == [(1, 4), (2, 3), (3, 2)]
    book.modify(2, 100, 6)  # increase: back of the queue
    assert book.orders_at(0, 100) == [(1, 4), (3, 2), (2, 6)]
    assert book.queue_ahead(2) == 6
    book.add(4, 1, 101, 1)
    with pytest.raises(ValueError):
        book.add(5, 1, 100, 1)  # would cross (lock) the best bid
    assert book.match_order(1, 5, 100) == [(1, 100, 4), (3, 100, 1)]
    assert book.orders_at(0, 100) == [(3, 1), (2, 6)]


# --- batches: apply_events against per-call methods and the reference ----------------

L3Op = tuple[int, int, int, int, int]
"""kind, order_id, side, price, qty"""

L3_OPS = st.one_of(
    st.tuples(st.just(5), IDS, st.sampled_from([0, 1, 0, 1, 3]), PRICES, QTYS),  # add
    st.tuples(st.just(6), IDS, st.just(0), PRICES, QTYS),  # modify
    st.tuples(st.just(7), IDS, st.just(0), st.just(0), st.just(0)),  # cancel
    st.tuples(st.just(8), IDS, st.just(0), st.just(0), st.integers(-1, 7)),  # execute
    st.tuples(st.sampled_from([3, 4, 2, 9]), IDS, SIDES, PRICES, QTYS),  # counted or refused
)


def l3_events(ops: list[L3Op]) -> Any:
    """One row per operation (flags BEGIN|END), in an EVENT_DTYPE array."""
    arr = np.zeros(len(ops), dtype=core.EVENT_DTYPE)
    for name, i in (("kind", 0), ("order_id", 1), ("side", 2), ("price", 3), ("qty", 4)):
        arr[name] = [op[i] for op in ops]
    arr["flags"] = core.FLAG_BEGIN | core.FLAG_END
    return arr


def per_call_l3(book: Any, ops: list[L3Op]) -> int:
    """The same operations one call each; returns how many the book accepted."""
    accepted = 0
    for kind, order_id, side, price, qty in ops:
        try:
            if kind == 5:
                book.add(order_id, side, price, qty)
            elif kind == 6:
                book.modify(order_id, price, qty)
            elif kind == 7:
                book.cancel(order_id)
            elif kind == 8:
                book.execute(order_id, qty)
            else:
                continue
        except ValueError:
            continue
        accepted += 1
    return accepted


@given(ops=st.lists(L3_OPS, max_size=60), offset=st.sampled_from([0, 1_000]))
def test_l3_apply_events_matches_per_call_and_reference(ops: list[L3Op], offset: int) -> None:
    events = l3_events(ops)
    batch, calls, ref = core.L3Book(), core.L3Book(), RefL3Book()
    res = batch.apply_events(events, offset)
    accepted = per_call_l3(calls, ops)
    ref_res = ref.apply_events(events, offset)
    assert state(batch) == state(calls) == state(ref)
    assert res.levels_applied == accepted == ref_res.levels_applied
    for name in ("rows", "messages", "trades", "tickers", "errors", "first_error_row"):
        assert getattr(res, name) == getattr(ref_res, name), name
    assert (res.first_error is None) == (ref_res.first_error is None)
