"""The kernel's step planning as it was written in numpy before it moved to Rust
(`engine._core.plan_steps`): the reference the Rust planner is held equal to."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

from engine import _core

_KIND_SNAPSHOT = 1
_KIND_DIFF = 2
_KIND_TRADE = 3
_FLAG_END = 2


def plan_steps(
    ev: npt.NDArray[np.void], rule: str, watch_trades: bool, stream: int = 0
) -> list[tuple[int, int, int, int, int, int]]:
    n = len(ev)
    if n == 0:
        return []
    kinds = ev["kind"]
    ends = np.flatnonzero(
        ((kinds == _KIND_SNAPSHOT) | (kinds == _KIND_DIFF)) & ((ev["flags"] & _FLAG_END) != 0)
    )
    scratch = _core.L2Book(rule)
    tops = scratch.apply_events(ev, record_tops=True).tops
    change_rows: npt.NDArray[np.int64] = np.zeros(0, dtype=np.int64)
    diff_ends = ends[kinds[ends] == _KIND_DIFF]
    if tops is not None and len(tops) and len(diff_ends):
        last_ids = ev["seq_last"][diff_ends]
        pos = np.clip(np.searchsorted(last_ids, tops["seq"]), 0, len(diff_ends) - 1)
        rows = diff_ends[pos]
        fields = ("bid_price", "bid_qty", "ask_price", "ask_qty")
        t = np.stack([tops[f] for f in fields], axis=1)
        changed = np.ones(len(t), dtype=bool)
        changed[1:] = np.any(t[1:] != t[:-1], axis=1)
        change_rows = rows[changed]
    snap_ends = ends[kinds[ends] == _KIND_SNAPSHOT]
    trade_rows = np.flatnonzero(kinds == _KIND_TRADE) if watch_trades else np.zeros(0, np.int64)
    book_cuts = np.union1d(change_rows, snap_ends)
    ts = np.maximum.accumulate(np.where(ev["ts_event"] != 0, ev["ts_event"], ev["ts_recv"]))
    marks = np.zeros(n, dtype=np.int8)
    marks[book_cuts] = 1
    marks[trade_rows] = 2
    cuts = np.flatnonzero(marks)
    bounds = np.union1d(np.concatenate([cuts + 1, trade_rows, [0, n]]), [])
    starts, ends_ = bounds[:-1].astype(np.int64), bounds[1:].astype(np.int64)
    last_marks = marks[ends_ - 1]
    kind = np.where((last_marks == 2) & (ends_ - starts == 1), 1, np.where(last_marks == 1, 2, 0))
    return [
        (int(ts[a]), stream, int(a), int(b), int(k), int(ts[b - 1]))
        for a, b, k in zip(starts, ends_, kind, strict=True)
    ]
