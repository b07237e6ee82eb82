"""The kernel's bridge to asyncio: results and errors come back to the caller, a hung
call times out and is cancelled, tasks run until stopped, and a stopped bridge refuses
new work by name."""

from __future__ import annotations

import asyncio
import threading

import pytest

from adapters.exchanges.aioloop import AsyncioThread


async def add(a: int, b: int) -> int:
    await asyncio.sleep(0)
    return a + b


async def fail() -> None:
    raise ValueError("from the loop")


def test_results_and_errors_cross_back_to_the_caller() -> None:
    with AsyncioThread() as bridge:
        assert bridge.call(add(2, 3), timeout_s=5) == 5
        assert bridge.loop is not None and bridge.running
        with pytest.raises(ValueError, match="from the loop"):
            bridge.call(fail(), timeout_s=5)


def test_a_hung_call_times_out_and_is_cancelled() -> None:
    cancelled = threading.Event()

    async def hang() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            cancelled.set()
            raise

    with AsyncioThread() as bridge:
        with pytest.raises(TimeoutError, match=r"within 0\.05 s"):
            bridge.call(hang(), timeout_s=0.05)
        assert cancelled.wait(5)


def test_a_task_runs_until_stop_and_a_stopped_bridge_refuses_work() -> None:
    seen: list[int] = []
    stopped = threading.Event()

    async def reader() -> None:
        try:
            while True:
                seen.append(1)
                await asyncio.sleep(0.001)
        finally:
            stopped.set()

    bridge = AsyncioThread()
    bridge.spawn(reader())
    bridge.call(asyncio.sleep(0.02), timeout_s=5)
    bridge.stop()
    bridge.stop()  # idempotent
    assert stopped.is_set() and seen
    assert not bridge.running
    for submit in (lambda c: bridge.call(c, timeout_s=1), bridge.spawn):
        with pytest.raises(RuntimeError, match="stopped"):
            submit(add(1, 1))
    with AsyncioThread() as other, pytest.raises(ValueError, match="not positive"):
        other.call(add(1, 1), timeout_s=0)
