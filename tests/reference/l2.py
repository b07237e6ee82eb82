"""Reference L2 book: `engine._core.L2Book` semantics in plain Python.

Self-contained (no imports from the package or from `engine`) so the benchmark can load
this file by path as its baseline. Constants mirror `rust/event.rs`; the tests check them
against `engine._core`.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

Level = tuple[int, int]
Row = tuple[int, int, int, int, int, int, int, int]
"""kind, side, flags, seq_first, seq_last, seq_prev, price, qty"""
Top = tuple[int, int, int, int, int]
Outcome = Literal["applied", "dropped", "buffered"]

KIND_SNAPSHOT = 1
KIND_DIFF = 2
KIND_TRADE = 3
KIND_TICKER = 4
KIND_L3_ADD = 5
KIND_L3_MODIFY = 6
KIND_L3_CANCEL = 7
KIND_L3_EXECUTE = 8
FLAG_BEGIN = 1
FLAG_END = 2
FLAG_EMPTY = 4
BID = 0
ASK = 1
PER_CALL_ROW = 2**64 - 1
"""The row reference of a diff buffered by `apply_diff` (as the Rust book: u64::MAX)."""


class RefBookError(ValueError):
    """An operation the reference book refused; the book is unchanged."""


class RefSequenceGapError(RefBookError):
    """A diff broke the chain; the book is stale until the next snapshot."""


def _check_side(side: int) -> int:
    """A bad argument, not a refused operation: ValueError, not RefBookError."""
    if side not in (BID, ASK):
        raise ValueError(f"side {side} is not 0 (bid) or 1 (ask)")
    return side


def _check_levels(name: str, levels: Sequence[Level]) -> list[Level]:
    out = [(int(p), int(q)) for p, q in levels]
    for price, qty in out:
        if qty < 0:
            raise RefBookError(f"{name} level at price {price} has negative qty {qty}")
    return out


class LevelQueries:
    """The shared queries, written over `levels(side)` (best first), as in the .pyi."""

    def levels(self, side: int) -> list[Level]:
        raise NotImplementedError

    def best_bid(self) -> Level | None:
        lv = self.levels(BID)
        return lv[0] if lv else None

    def best_ask(self) -> Level | None:
        lv = self.levels(ASK)
        return lv[0] if lv else None

    def spread(self) -> int | None:
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None:
            return None
        return ask[0] - bid[0]

    def mid_x2(self) -> int | None:
        bid, ask = self.best_bid(), self.best_ask()
        if bid is None or ask is None:
            return None
        return ask[0] + bid[0]

    def mid(self) -> float | None:
        x2 = self.mid_x2()
        return None if x2 is None else x2 / 2

    def is_crossed(self) -> bool:
        spread = self.spread()
        return spread is not None and spread <= 0

    def depth(self, side: int, n: int) -> list[Level]:
        if n < 0:
            raise OverflowError(f"depth n {n} is negative")
        return self.levels(side)[:n]

    def level_count(self, side: int) -> int:
        return len(self.levels(side))

    def volume_at(self, side: int, price: int) -> int:
        return dict(self.levels(side)).get(price, 0)

    def walk(self, side: int, qty: int) -> tuple[int, int, int]:
        """(filled lots, sum of price*lots, levels touched) for a market order of `qty`."""
        filled = notional = touched = 0
        left = qty
        for price, size in self.levels(side):
            if left <= 0:
                break
            take = min(size, left)
            filled += take
            notional += price * take
            touched += 1
            left -= take
        return filled, notional, touched

    def size_within(self, side: int, band: int) -> int:
        """Sum of sizes whose price is within `band` ticks of the touch (touch included)."""
        if band < 0:
            raise ValueError(f"band {band} is negative")
        levels = self.levels(side)
        if not levels:
            return 0
        touch = levels[0][0]
        return sum(q for p, q in levels if abs(p - touch) <= band)


@dataclass
class _Diff:
    first_id: int
    last_id: int
    prev_id: int
    bids: list[Level]
    asks: list[Level]
    row: int = PER_CALL_ROW  # first row in the batch it came from


@dataclass
class RefBatchResult:
    """Counters with the same names as `engine._core.BatchResult`."""

    rows: int = 0
    messages: int = 0
    snapshots: int = 0
    diffs_applied: int = 0
    diffs_dropped: int = 0
    diffs_buffered: int = 0
    levels_applied: int = 0
    trades: int = 0
    tickers: int = 0
    gaps: int = 0
    gap_rows: list[int] = field(default_factory=list)
    errors: int = 0
    first_error: str | None = None
    first_error_row: int | None = None
    tops: list[Top] | None = None

    def error(self, row: int, msg: str) -> None:
        self.errors += 1
        if self.first_error is None:
            self.first_error, self.first_error_row = msg, row


class RefL2Book(LevelQueries):
    """Snapshot + diffs under Binance's rules (see the `L2Book` docstring in the .pyi)."""

    def __init__(
        self, rule: Literal["spot", "futures"], max_buffered_rows: int = 1_000_000
    ) -> None:
        if rule not in ("spot", "futures"):
            raise ValueError(f"rule {rule!r} is not 'spot' or 'futures'")
        self._rule = rule
        self._max_buffered_rows = max_buffered_rows
        self._sides: list[dict[int, int]] = [{}, {}]
        self._stale = True
        self._last_update_id: int | None = None
        self._need_straddle = True  # no diff applied since the snapshot yet
        self._buffer: list[_Diff] = []
        # Hooks for apply_rows: outcomes of diffs replayed from the buffer.
        self._replayed: list[tuple[str, _Diff, Top]] = []

    # --- state ----------------------------------------------------------------------
    @property
    def rule(self) -> str:
        return self._rule

    @property
    def stale(self) -> bool:
        return self._stale

    @property
    def last_update_id(self) -> int | None:
        """The last applied id (snapshot lastUpdateId or diff u); None while stale."""
        return self._last_update_id

    @property
    def buffered(self) -> int:
        """Diffs held for the next snapshot."""
        return len(self._buffer)

    def top(self, seq: int) -> Top:
        """(seq, bid price, bid qty, ask price, ask qty), zeros for an empty side."""
        bid, ask = self.best_bid() or (0, 0), self.best_ask() or (0, 0)
        return (seq, bid[0], bid[1], ask[0], ask[1])

    def levels(self, side: int) -> list[Level]:
        book = self._sides[_check_side(side)]
        return sorted(book.items(), reverse=(side == BID))

    # --- updates --------------------------------------------------------------------
    def clear(self) -> None:
        """Back to the state of a new book: empty, stale, nothing buffered."""
        self._sides = [{}, {}]
        self._stale = True
        self._last_update_id = None
        self._need_straddle = True
        self._buffer = []
        self._replayed = []

    def set_level(self, side: int, price: int, qty: int) -> None:
        _check_side(side)
        if qty < 0:
            raise RefBookError(f"qty {qty} at price {price} is negative")
        self._set(side, price, qty)

    def apply_snapshot(
        self, last_update_id: int, bids: Sequence[Level], asks: Sequence[Level]
    ) -> None:
        """Replaces the book, then replays the buffer. If a buffered diff breaks the chain
        the snapshot stays applied, the book goes stale and RefSequenceGapError is raised."""
        bids_, asks_ = _check_levels("bid", bids), _check_levels("ask", asks)
        self._sides = [{}, {}]
        for side, levels in ((BID, bids_), (ASK, asks_)):
            for price, qty in levels:
                self._set(side, price, qty)
        self._last_update_id = last_update_id
        self._stale = False
        self._need_straddle = True
        pending, self._buffer = self._buffer, []
        self._replayed = []
        gap: RefSequenceGapError | None = None
        for diff in pending:
            if self._stale:  # a gap in the replay: keep the rest for the next snapshot
                self._buffer.append(diff)
                continue
            outcome: str
            try:
                outcome = self._sequence(diff)
            except RefSequenceGapError as exc:
                outcome, gap = "gap", exc
            self._replayed.append((outcome, diff, self.top(diff.last_id)))
        if gap is not None:
            raise gap

    def apply_diff(
        self,
        first_id: int,
        last_id: int,
        prev_id: int,
        bids: Sequence[Level],
        asks: Sequence[Level],
    ) -> Outcome:
        if last_id < first_id:
            raise RefBookError(f"diff ids U={first_id} u={last_id}: rule U <= u")
        diff = _Diff(
            first_id, last_id, prev_id, _check_levels("bid", bids), _check_levels("ask", asks)
        )
        return self._diff(diff)

    def _diff(self, diff: _Diff) -> Outcome:
        if self._stale:
            self._hold(diff)
            return "buffered"
        return self._sequence(diff)

    def _sequence(self, diff: _Diff) -> Outcome:
        """Drop, apply, or (on a break) go stale and hold the diff as newer data.

        Dropped: before the first applied diff, futures u < lastUpdateId and spot
        u <= lastUpdateId (the .pyi rules); after it, any u <= the last applied u (a
        re-delivered diff whose content is already in the book, as rust/l2/mod.rs says).
        """
        lid = self._last_update_id
        assert lid is not None
        futures = self._rule == "futures"
        if self._need_straddle:
            if diff.last_id < lid if futures else diff.last_id <= lid:
                return "dropped"
            target = lid if futures else lid + 1
            ok = diff.first_id <= target <= diff.last_id
            what = f"does not straddle {target}"
        elif diff.last_id <= lid:
            return "dropped"
        elif futures:
            ok = diff.prev_id == lid
            what = f"pu {diff.prev_id} != previous u {lid}"
        else:
            ok = diff.first_id == lid + 1
            what = f"U {diff.first_id} != previous u {lid} + 1"
        if not ok:
            self._stale = True
            self._last_update_id = None
            self._hold(diff)
            raise RefSequenceGapError(
                f"sequence gap: diff U={diff.first_id} u={diff.last_id} pu={diff.prev_id} {what}"
            )
        for side, levels in ((BID, diff.bids), (ASK, diff.asks)):
            for price, qty in levels:
                self._set(side, price, qty)
        self._last_update_id = diff.last_id
        self._need_straddle = False
        return "applied"

    def _hold(self, diff: _Diff) -> None:
        """Buffers a diff. Past the cap (counted in levels) the oldest diffs go first: only
        the newest can chain onto a new snapshot. The new diff itself is always kept."""
        size = len(diff.bids) + len(diff.asks)
        held = sum(len(d.bids) + len(d.asks) for d in self._buffer)
        while self._buffer and held + size > self._max_buffered_rows:
            old = self._buffer.pop(0)
            held -= len(old.bids) + len(old.asks)
        self._buffer.append(diff)

    def _set(self, side: int, price: int, qty: int) -> None:
        if qty == 0:
            self._sides[side].pop(price, None)
        else:
            self._sides[side][price] = qty

    # --- batches --------------------------------------------------------------------
    def apply_events(self, events: Any, record_tops: bool = False) -> RefBatchResult:
        """Applies an EVENT_DTYPE numpy array: converts it to tuples, then `apply_rows`."""
        return self.apply_rows(events_to_rows(events), record_tops)

    def apply_rows(self, rows: Sequence[Row], record_tops: bool = False) -> RefBatchResult:
        """Applies rows (kind, side, flags, seq_first, seq_last, seq_prev, price, qty).

        A snapshot or diff message runs from a FLAG_BEGIN row to the next FLAG_END row; a
        malformed one (no END before the next BEGIN, rows disagreeing on kind or ids, a bad
        side, a negative qty) is counted as an error and skipped whole. Trades are one row
        each; a ticker counts once, at its FLAG_BEGIN row. Processing never stops early.
        """
        res = RefBatchResult(rows=len(rows), tops=[] if record_tops else None)
        i, n = 0, len(rows)
        while i < n:
            kind, flags = rows[i][0], rows[i][2]
            if kind in (KIND_SNAPSHOT, KIND_DIFF):
                end = _message_end(rows, i)
                if end is None:
                    res.error(i, f"row {i}: message has no END row before the next message")
                    i += 1
                    while i < n and not rows[i][2] & FLAG_BEGIN:
                        i += 1
                    continue
                res.messages += 1
                self._message(res, i, rows[i : end + 1])
                i = end + 1
                continue
            if kind == KIND_TRADE:
                res.messages += 1
                res.trades += 1
            elif kind == KIND_TICKER:
                if flags & FLAG_BEGIN:
                    res.messages += 1
                    res.tickers += 1
            else:
                res.error(i, f"row {i}: kind {kind} is not an L2 event")
            i += 1
        res.diffs_buffered = len(self._buffer)
        return res

    def _message(self, res: RefBatchResult, start: int, msg: Sequence[Row]) -> None:
        kind, _, _, first, last, prev, _, _ = msg[0]
        bids: list[Level] = []
        asks: list[Level] = []
        for r_kind, side, flags, r_first, r_last, _, price, qty in msg:
            if (r_kind, r_first, r_last) != (kind, first, last):
                res.error(start, f"row {start}: rows of one message disagree on kind or ids")
                return
            if flags & FLAG_EMPTY:
                continue
            if side not in (BID, ASK) or qty < 0:
                res.error(start, f"row {start}: bad level side {side} qty {qty}")
                return
            (bids if side == BID else asks).append((price, qty))
        if kind == KIND_SNAPSHOT:
            with contextlib.suppress(RefSequenceGapError):  # counted from _replayed
                self.apply_snapshot(last, bids, asks)
            res.snapshots += 1
            res.levels_applied += len(bids) + len(asks)
            for outcome, diff, top in self._replayed:
                self._count(res, outcome, diff, top)
            return
        if last < first:
            res.error(start, f"row {start}: diff ids U={first} u={last}: rule U <= u")
            return
        diff = _Diff(first, last, prev, bids, asks, start)
        try:
            result: str = self._diff(diff)
        except RefSequenceGapError:
            result = "gap"
        self._count(res, result, diff)

    def _count(
        self, res: RefBatchResult, outcome: str, diff: _Diff, top: Top | None = None
    ) -> None:
        if outcome == "applied":
            res.diffs_applied += 1
            res.levels_applied += len(diff.bids) + len(diff.asks)
            if res.tops is not None:
                res.tops.append(top or self.top(diff.last_id))
        elif outcome == "dropped":
            res.diffs_dropped += 1
        elif outcome == "gap":
            res.gaps += 1
            res.gap_rows.append(diff.row)
            if res.first_error is None:  # a gap is reported, though not counted as an error
                res.first_error = f"row {diff.row}: sequence gap"
                res.first_error_row = diff.row


def _message_end(rows: Sequence[Row], start: int) -> int | None:
    """Index of the END row of the message beginning at `start` (None: malformed)."""
    if not rows[start][2] & FLAG_BEGIN:
        return None
    for j in range(start, len(rows)):
        if j > start and rows[j][2] & FLAG_BEGIN:
            return None
        if rows[j][2] & FLAG_END:
            return j
    return None


_ROW_FIELDS = ("kind", "side", "flags", "seq_first", "seq_last", "seq_prev", "price", "qty")


def events_to_rows(events: Any) -> list[Row]:
    """EVENT_DTYPE array -> list of plain-int tuples in `apply_rows` order (by field name,
    so the dtype's field order does not matter)."""
    return list(zip(*(events[name].tolist() for name in _ROW_FIELDS), strict=True))
