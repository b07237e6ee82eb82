"""ReplayFeed and AcceleratedClock: messages cut and merged right, released on time."""

from __future__ import annotations

import numpy as np
import pytest

from adapters.clocks import AcceleratedClock
from adapters.feeds.replay import ReplayFeed
from engine import _core
from engine.kernel import MarketStream


class FakeTime:
    """A monotonic clock that only sleeping moves (recordings play instantly)."""

    def __init__(self) -> None:
        self.now = 1_000
        self.slept: list[float] = []

    def monotonic_ns(self) -> int:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += round(seconds * 1e9)


def rows(*specs: tuple[int, int, int]) -> np.ndarray:
    """(ts_recv, kind, flags) rows."""
    out = np.zeros(len(specs), dtype=_core.EVENT_DTYPE)
    for i, (ts, kind, flags) in enumerate(specs):
        out[i]["ts_recv"] = ts
        out[i]["ts_event"] = ts - 1
        out[i]["kind"] = kind
        out[i]["flags"] = flags
    return out


END = int(_core.FLAG_END)


def test_messages_end_at_the_end_flag_and_each_trade_is_its_own() -> None:
    ev = rows((10, 2, 0), (10, 2, END), (12, 3, 0), (13, 3, 0), (15, 2, END))
    feed = ReplayFeed([MarketStream("A", "futures", ev, "1")])
    t = FakeTime()
    feed.start(AcceleratedClock(0, 1.0, monotonic_ns=t.monotonic_ns))
    got = feed.skip_until(100)
    assert [(m.ts, len(m.events)) for m in got] == [(10, 2), (12, 1), (13, 1), (15, 1)]
    assert feed.exhausted


def test_streams_merge_by_receive_time_ties_by_stream_order() -> None:
    a = rows((10, 2, END), (30, 2, END))
    b = rows((10, 3, 0), (20, 3, 0))
    feed = ReplayFeed([MarketStream("A", "futures", a, "1"), MarketStream("B", "spot", b, "1")])
    assert feed.first_ts == 10
    got = [(m.symbol, m.ts) for m in feed.skip_until(1_000)]
    assert got == [("A", 10), ("B", 10), ("B", 20), ("A", 30)]


def test_a_message_is_released_when_the_accelerated_clock_reaches_it() -> None:
    ev = rows((1_000_000_000, 2, END), (3_000_000_000, 2, END))
    t = FakeTime()
    feed = ReplayFeed([MarketStream("A", "futures", ev, "1")], sleep=t.sleep)
    clock = AcceleratedClock(1_000_000_000, 4.0, monotonic_ns=t.monotonic_ns)
    feed.start(clock)
    first = feed.next_message(0.1)
    assert first is not None and first.ts == 1_000_000_000 and t.slept == []
    # 2 s of recording at 4x is 0.5 s of real time: two 0.1 s polls come back empty ...
    assert feed.next_message(0.1) is None
    assert feed.next_message(0.1) is None
    assert t.slept == [0.1, 0.1]
    # ... then the rest of the wait (0.3 s) is slept within one poll and the message comes.
    second = feed.next_message(1.0)
    assert second is not None and second.ts == 3_000_000_000
    assert t.slept[-1] == pytest.approx(0.3)
    assert clock.now_ns() == 3_000_000_000
    assert feed.next_message(0.1) is None and feed.exhausted


def test_accelerated_clock_never_goes_back_and_rejects_a_bad_speed() -> None:
    t = FakeTime()
    clock = AcceleratedClock(500, 2.0, monotonic_ns=t.monotonic_ns)
    assert clock.now_ns() == 500
    t.now += 100
    assert clock.now_ns() == 700
    t.now -= 50  # a monotonic source never does this; the clock holds anyway
    assert clock.now_ns() == 700
    assert clock.wall_seconds_until(700 + 2_000_000_000) == pytest.approx(1.0)
    for bad in (0, -1.0, float("nan")):
        with pytest.raises(ValueError, match="speed"):
            AcceleratedClock(0, bad)


def test_next_message_before_start_is_an_error() -> None:
    feed = ReplayFeed([MarketStream("A", "futures", rows((1, 2, END)), "1")])
    with pytest.raises(RuntimeError, match="start"):
        feed.next_message(0.1)
