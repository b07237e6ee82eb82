"""The Rust L2 book against the pure-Python reference: the same operations, step by step,
must leave the same book, answer every query alike and refuse the same calls."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, note
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
)

import hypothesis_profiles  # noqa: F401  (registers and loads the settings profile)
from reference import l2 as ref_l2
from reference.compare import assert_queries_agree, call_both
from reference.l2 import RefL2Book, events_to_rows

core: Any = pytest.importorskip("engine._core")

Level = tuple[int, int]
MID = 10_000
WINDOW = 1 << 16  # rust/l2/ladder.rs DEFAULT_WINDOW: far prices exercise its fallback

# Mostly near a mid (so levels collide and both sides overlap: an L2 feed may cross),
# sometimes far (outside the dense window, or re-centring it), never absurd.
PRICES = st.one_of(
    st.integers(MID - 12, MID + 12),
    st.integers(MID - 12, MID + 12),
    st.sampled_from([MID - WINDOW, MID + WINDOW, MID - WINDOW - 1, MID + 2 * WINDOW, 0, 1]),
    st.integers(-(2**40), 2**40),
)
QTYS = st.integers(0, 6)
LEVELS = st.lists(st.tuples(PRICES, QTYS), max_size=8)
SIDES = st.sampled_from([0, 1])


def state(book: Any) -> tuple[object, ...]:
    """Everything observable about an L2 book's state."""
    return (book.levels(0), book.levels(1), book.stale, book.last_update_id)


class L2Machine(RuleBasedStateMachine):
    """Plays an exchange publishing a diff stream (with losses, re-deliveries and
    snapshots taken at various points) into both books."""

    def __init__(self) -> None:
        super().__init__()
        self.rust: Any = None
        self.ref: RefL2Book | None = None
        self.ex_u = 1_000  # the exchange's latest update id
        self.published: list[tuple[int, int, int, list[Level], list[Level]]] = []
        self.prices: set[int] = set()

    @initialize(
        rule_name=st.sampled_from(["spot", "futures"]),
        cap=st.sampled_from([1_000_000, 1_000_000, 12, 0]),
        synced=st.booleans(),
        bids=LEVELS,
        asks=LEVELS,
    )
    def start(
        self, rule_name: str, cap: int, synced: bool, bids: list[Level], asks: list[Level]
    ) -> None:
        """A new book, half the time synced at once (so most steps see a live book)."""
        note(f"L2Book({rule_name!r}, max_buffered_rows={cap})")
        self.rust = core.L2Book(rule_name, cap)
        self.ref = RefL2Book(rule_name, cap)  # type: ignore[arg-type]
        if synced:
            self.both("apply_snapshot", self.ex_u, bids, asks)

    # --- helpers --------------------------------------------------------------------
    def both(self, name: str, *args: Any) -> Any:
        note(f"{name}{args!r}")
        for arg in args:
            if isinstance(arg, list):
                self.prices.update(p for p, _ in arg)
        return call_both(
            lambda: getattr(self.rust, name)(*args),
            lambda: getattr(self.ref, name)(*args),
            lambda: state(self.rust),
            core.BookError,
            core.SequenceGapError,
            label=name,
        )

    def publish(self, skip: int, width: int, bids: list[Level], asks: list[Level]) -> tuple:
        """The exchange's next diff: futures chain by pu (U may skip ids), spot by U."""
        assert self.ref is not None
        pu = self.ex_u
        first = pu + 1 + (skip if self.ref.rule == "futures" else 0)
        last = first + width
        self.ex_u = last
        diff = (first, last, pu, bids, asks)
        self.published.append(diff)
        return diff

    # --- rules ----------------------------------------------------------------------
    @rule(skip=st.integers(0, 3), width=st.integers(0, 4), bids=LEVELS, asks=LEVELS)
    def chained_diff(self, skip: int, width: int, bids: list[Level], asks: list[Level]) -> None:
        self.both("apply_diff", *self.publish(skip, width, bids, asks))

    @rule(skip=st.integers(0, 3), width=st.integers(0, 4))
    def lost_diff(self, skip: int, width: int) -> None:
        """A message the exchange sent and we never got: the next diff breaks the chain."""
        self.publish(skip, width, [], [])

    @rule(
        count=st.integers(2, 6),
        levels=st.lists(st.tuples(SIDES, PRICES, QTYS), max_size=12),
    )
    def chained_burst(self, count: int, levels: list[tuple[int, int, int]]) -> None:
        """Several chained diffs in a row: a synced book spends most of its life here."""
        for i in range(count):
            mine = levels[i::count]
            bids = [(p, q) for s, p, q in mine if s == 0]
            asks = [(p, q) for s, p, q in mine if s == 1]
            self.both("apply_diff", *self.publish(0, i % 3, bids, asks))

    @rule(data=st.data())
    def redelivered_diff(self, data: st.DataObject) -> None:
        if self.published:
            self.both("apply_diff", *data.draw(st.sampled_from(self.published[-6:])))

    @rule(
        first=st.integers(-3, 3),
        width=st.integers(-1, 3),
        prev=st.integers(-3, 3),
        bids=LEVELS,
        asks=LEVELS,
    )
    def arbitrary_ids_diff(
        self, first: int, width: int, prev: int, bids: list[Level], asks: list[Level]
    ) -> None:
        """Ids near the stream's head with no care for the chain (and U > u sometimes)."""
        u = self.ex_u
        self.both("apply_diff", u + first, u + first + width, u + prev, bids, asks)

    @rule(back=st.integers(-4, 10), bids=LEVELS, asks=LEVELS)
    def snapshot(self, back: int, bids: list[Level], asks: list[Level]) -> None:
        """A REST snapshot taken at some point around the stream's head."""
        self.both("apply_snapshot", self.ex_u - back, bids, asks)

    @rule(side=SIDES, price=PRICES, qty=QTYS)
    def set_level(self, side: int, price: int, qty: int) -> None:
        self.prices.add(price)
        self.both("set_level", side, price, qty)

    @rule(side=SIDES, price=PRICES, qty=st.integers(-5, -1), where=st.integers(0, 2))
    def negative_qty(self, side: int, price: int, qty: int, where: int) -> None:
        levels = [(price, qty)]
        if where == 0:
            self.both("set_level", side, price, qty)
        elif where == 1:
            self.both("apply_snapshot", self.ex_u, levels, [])
        else:
            self.both("apply_diff", self.ex_u + 1, self.ex_u + 1, self.ex_u, [], levels)

    @rule(side=st.sampled_from([-1, 2, 7]))
    def bad_side(self, side: int) -> None:
        self.both("set_level", side, MID, 1)

    @rule()
    def clear(self) -> None:
        self.both("clear")

    @rule(side=SIDES, n=st.integers(0, 20), qty=st.integers(-2, 60), band=st.integers(-3, 30))
    def query(self, side: int, n: int, qty: int, band: int) -> None:
        for name, args in (
            ("depth", (side, n)),
            ("walk", (side, qty)),
            ("size_within", (side, band)),
        ):
            self.both(name, *args)

    # --- invariants -----------------------------------------------------------------
    @invariant()
    def books_agree(self) -> None:
        if self.ref is None:
            return
        assert state(self.rust) == state(self.ref)
        assert self.rust.rule == self.ref.rule
        assert_queries_agree(self.rust, self.ref, sorted(self.prices)[:20])


TestL2Stateful = L2Machine.TestCase


# --- batches: apply_events against per-call methods and the reference ----------------


def test_constants_match_reference() -> None:
    """The reference's copies of the event constants are the extension's."""
    for name in (
        "KIND_SNAPSHOT",
        "KIND_DIFF",
        "KIND_TRADE",
        "KIND_TICKER",
        "KIND_L3_ADD",
        "KIND_L3_MODIFY",
        "KIND_L3_CANCEL",
        "KIND_L3_EXECUTE",
        "FLAG_BEGIN",
        "FLAG_END",
        "FLAG_EMPTY",
    ):
        assert getattr(core, name) == getattr(ref_l2, name), name
    assert core.SIDE_BID == ref_l2.BID and core.SIDE_ASK == ref_l2.ASK
    assert core.EVENT_DTYPE.itemsize == 72


Message = tuple[int, int, int, int, list[tuple[int, int, int]]]
"""kind, seq_first, seq_last, seq_prev, [(side, price, qty)]"""


@st.composite
def message_streams(draw: st.DrawFn, messy: bool = False) -> list[Message]:
    """A stream of snapshots, diffs (mostly chained, some lost or re-delivered), trades
    and tickers, as the capture readers produce it."""
    futures = draw(st.booleans())
    msgs: list[Message] = []
    head = 1_000
    published: list[Message] = []
    level = st.tuples(SIDES, PRICES, QTYS)
    for _ in range(draw(st.integers(0, 30))):
        what = draw(st.sampled_from(["diff"] * 6 + ["lost", "old", "snapshot", "trade", "ticker"]))
        if what in ("diff", "lost"):
            first = head + 1 + (draw(st.integers(0, 2)) if futures else 0)
            last = first + draw(st.integers(0, 3))
            m = (
                ref_l2.KIND_DIFF,
                first,
                last,
                head if futures else -1,
                draw(st.lists(level, max_size=6)),
            )
            head = last
            published.append(m)
            if what == "diff":
                msgs.append(m)
        elif what == "old" and published:
            msgs.append(draw(st.sampled_from(published[-4:])))
        elif what == "snapshot":
            lid = head - draw(st.integers(-2, 6))
            msgs.append((ref_l2.KIND_SNAPSHOT, lid, lid, -1, draw(st.lists(level, max_size=8))))
        elif what == "trade":
            msgs.append((ref_l2.KIND_TRADE, 7, 7, -1, [draw(level)]))
        elif what == "ticker":
            bid, ask = draw(PRICES), draw(PRICES)
            msgs.append((ref_l2.KIND_TICKER, head, head, -1, [(0, bid, 1), (1, ask, 1)]))
        if messy and draw(st.integers(0, 9)) == 0:
            kind = draw(st.sampled_from([5, 9, ref_l2.KIND_DIFF]))
            msgs.append((kind, head, head - 1, -1, draw(st.lists(level, max_size=2))))
    return msgs


def to_events(msgs: list[Message], spoil: list[tuple[int, str]] | None = None) -> Any:
    """Builds the EVENT_DTYPE array: FLAG_BEGIN on a message's first row, FLAG_END on its
    last, and one FLAG_EMPTY row for a message with no levels. `spoil` damages rows."""
    cols: dict[str, list[int]] = {
        k: []
        for k in (
            "kind",
            "side",
            "flags",
            "seq_first",
            "seq_last",
            "seq_prev",
            "price",
            "qty",
            "order_id",
            "ts_event",
            "ts_recv",
        )
    }
    for kind, first, last, prev, levels in msgs:
        rows = levels or [(0, 0, 0)]
        for j, (side, price, qty) in enumerate(rows):
            flags = (ref_l2.FLAG_BEGIN if j == 0 else 0) | (
                ref_l2.FLAG_END if j == len(rows) - 1 else 0
            )
            if not levels:
                flags |= ref_l2.FLAG_EMPTY
            for k, v in (
                ("kind", kind),
                ("side", side),
                ("flags", flags),
                ("seq_first", first),
                ("seq_last", last),
                ("seq_prev", prev),
                ("price", price),
                ("qty", qty),
                ("order_id", 0),
                ("ts_event", 0),
                ("ts_recv", len(cols["kind"])),
            ):
                cols[k].append(v)
    for row, how in spoil or []:
        if row < len(cols["kind"]):
            if how == "flags":
                cols["flags"][row] ^= ref_l2.FLAG_END
            elif how == "side":
                cols["side"][row] = 3
            elif how == "qty":
                cols["qty"][row] = -1
            elif how == "begin":
                cols["flags"][row] ^= ref_l2.FLAG_BEGIN
    arr = np.zeros(len(cols["kind"]), dtype=core.EVENT_DTYPE)
    for k, v in cols.items():
        arr[k] = v
    return arr


def per_call(book: Any, msgs: list[Message]) -> dict[str, int]:
    """Feeds messages one call each, as a live feed handler would."""
    out = {"applied": 0, "dropped": 0, "buffered": 0, "gaps": 0}
    for kind, first, last, prev, levels in msgs:
        bids = [(p, q) for s, p, q in levels if s == 0]
        asks = [(p, q) for s, p, q in levels if s == 1]
        try:
            if kind == ref_l2.KIND_SNAPSHOT:
                book.apply_snapshot(last, bids, asks)  # raises if the replay hits a gap
            elif kind == ref_l2.KIND_DIFF:
                out[book.apply_diff(first, last, prev, bids, asks)] += 1
        except core.SequenceGapError:
            out["gaps"] += 1
    return out


COUNTERS = (
    "rows",
    "messages",
    "snapshots",
    "diffs_applied",
    "diffs_dropped",
    "diffs_buffered",
    "levels_applied",
    "trades",
    "tickers",
    "gaps",
    "gap_rows",
    "errors",
    "first_error_row",
)


def assert_batch_agrees(res: Any, ref_res: ref_l2.RefBatchResult) -> None:
    for name in COUNTERS:
        assert getattr(res, name) == getattr(ref_res, name), name
    assert (res.first_error is None) == (ref_res.first_error is None)


@given(msgs=message_streams(), rule_name=st.sampled_from(["spot", "futures"]))
def test_apply_events_matches_per_call_and_reference(msgs: list[Message], rule_name: str) -> None:
    events = to_events(msgs)
    batch, calls = core.L2Book(rule_name), core.L2Book(rule_name)
    ref = RefL2Book(rule_name)  # type: ignore[arg-type]
    res = batch.apply_events(events, record_tops=True)
    per_call(calls, msgs)
    ref_res = ref.apply_events(events, record_tops=True)
    assert state(batch) == state(calls) == state(ref)
    assert_batch_agrees(res, ref_res)
    assert res.errors == 0
    assert res.tops is not None and ref_res.tops is not None
    assert [tuple(int(x) for x in t) for t in res.tops.tolist()] == ref_res.tops
    assert set(res.as_dict()) >= {"rows", "levels_applied", "gaps"}


@given(
    msgs=message_streams(messy=True),
    rule_name=st.sampled_from(["spot", "futures"]),
    spoil=st.lists(
        st.tuples(st.integers(0, 60), st.sampled_from(["flags", "side", "qty", "begin"])),
        max_size=3,
    ),
)
def test_apply_events_malformed_matches_reference(
    msgs: list[Message], rule_name: str, spoil: list[tuple[int, str]]
) -> None:
    """Bad rows are counted, their message skipped whole, and processing goes on."""
    events = to_events(msgs, spoil)
    book, ref = core.L2Book(rule_name), RefL2Book(rule_name)  # type: ignore[arg-type]
    res = book.apply_events(events)
    ref_res = ref.apply_events(events)
    assert_batch_agrees(res, ref_res)
    assert res.tops is None
    assert state(book) == state(ref)


@given(
    msgs=message_streams(), rule_name=st.sampled_from(["spot", "futures"]), cut=st.integers(0, 40)
)
def test_apply_events_in_chunks_equals_one_call(
    msgs: list[Message], rule_name: str, cut: int
) -> None:
    """Splitting a stream at a message boundary changes nothing (the buffer persists)."""
    whole, parts = core.L2Book(rule_name), core.L2Book(rule_name)
    whole.apply_events(to_events(msgs))
    cut = min(cut, len(msgs))
    parts.apply_events(to_events(msgs[:cut]))
    parts.apply_events(to_events(msgs[cut:]))
    assert state(whole) == state(parts)


def test_events_to_rows_uses_field_names() -> None:
    arr = to_events([(ref_l2.KIND_DIFF, 5, 6, 4, [(1, 100, 2)])])
    assert events_to_rows(arr) == [(ref_l2.KIND_DIFF, 1, 3, 5, 6, 4, 100, 2)]
