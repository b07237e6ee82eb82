"""The kernel's step plan (`engine._core.plan`, Rust) against the numpy planner it
replaced (`tests/reference/plan.py`): the same steps on the real captures, with and
without watched prints, so backtests cut their batches exactly where they did."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from adapters.backtest import load_streams
from adapters.data import BUNDLED_BINANCE_DIR
from engine import _core
from reference.plan import plan_steps as reference_plan

CAPTURES = sorted(BUNDLED_BINANCE_DIR.glob("*.gz"))


@pytest.mark.parametrize("capture", CAPTURES, ids=lambda p: p.name)
@pytest.mark.parametrize("watch_trades", [False, True], ids=["book", "prints"])
def test_the_rust_plan_equals_the_numpy_reference(capture, watch_trades: bool) -> None:  # type: ignore[no-untyped-def]
    streams, _ = load_streams([capture])
    for idx, stream in enumerate(streams):
        got, updates = _core.plan(stream.events, stream.rule, watch_trades, idx)
        assert got == reference_plan(stream.events, stream.rule, watch_trades, idx)
        assert updates == _core.level_updates(stream.events)  # counted in the same pass
        # Steps tile the rows in order; a file with a snapshot has book changes (the
        # second spot file continues the first and has none alone).
        assert got[0][2] == 0 and got[-1][3] == len(stream.events)
        assert all(a[3] == b[2] for a, b in itertools.pairwise(got))
        has_snapshot = bool((stream.events["kind"] == 1).any())
        assert any(step[4] == 2 for step in got) == has_snapshot
        assert (not watch_trades) or any(step[4] == 1 for step in got)


def test_a_bad_rule_or_a_strided_array_is_refused_by_name() -> None:
    streams, _ = load_streams([CAPTURES[0]])
    events = streams[0].events
    with pytest.raises(ValueError, match='rule "swap" is not a sequence rule'):
        _core.plan(events, "swap", False)
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.plan(events[::2], "futures", False)
    assert _core.plan(np.zeros(0, dtype=events.dtype), "spot", True) == ([], 0)


def test_level_updates_count_the_rows_with_a_level() -> None:
    """Snapshot and diff rows that carry a level: the numpy count the backtest used before,
    on each bundled capture (the hand-built cases are in `rust/plan/tests.rs`)."""
    for capture in CAPTURES:
        streams, _ = load_streams([capture])
        for stream in streams:
            ev = stream.events
            expected = int(np.count_nonzero((ev["kind"] <= 2) & ((ev["flags"] & 4) == 0)))
            assert _core.level_updates(ev) == expected > 0
    events = load_streams([CAPTURES[0]])[0][0].events
    assert _core.level_updates(events[:0]) == 0
    with pytest.raises(ValueError, match="C-contiguous"):
        _core.level_updates(events[::2])
