"""Upbit books through the simulated venue: every orderbook message is a snapshot, and a
snapshot moves a resting order's queue position by one rule (sim/queue.rs, "A snapshot
clamps every resting order"): queue_ahead = min(queue_ahead, size of its level now).

What that means on a snapshot-only feed such as Upbit's (pinned below, for both queue
models, through fills since the queue position itself is not exposed):
- a level that shrinks moves us up to its new size (read as cancellations ahead of us,
  the optimistic reading, where a diff under the conservative model would not move us);
- a level that grows changes nothing (the newcomers are behind us);
- a level absent from a snapshot has size 0, so our queue_ahead becomes 0 and stays 0
  when the level comes back: the next print at our price fills us first. On a feed that
  shows only the top N levels, a level that merely scrolled out of view gets the same
  treatment, which is optimistic for orders resting deep in the book.
"""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from adapters.data.upbit_capture import UpbitCaptureReader
from engine import _core
from engine.marketdata.upbit import KRW_BTC

MS = 1_000_000
OUR_PRICE = 84_717  # ticks of 1,000 KRW: 84,717,000 KRW
LOTS_PER_BTC = 100_000_000


def book(ms: int, bids: list[tuple[str, str]], asks: list[tuple[str, str]]) -> str:
    pairs = []
    for i in range(max(len(bids), len(asks))):
        bp, bs = bids[i] if i < len(bids) else ("0", "0")
        ap, az = asks[i] if i < len(asks) else ("0", "0")
        pairs.append(f'{{"ask_price":{ap},"bid_price":{bp},"ask_size":{az},"bid_size":{bs}}}')
    units = ",".join(pairs)
    return f'{{"type":"orderbook","code":"KRW-BTC","timestamp":{ms},"orderbook_units":[{units}]}}'


def trade(ms: int, price: str, volume: str, ask_bid: str, trade_id: int) -> str:
    return (
        f'{{"type":"trade","code":"KRW-BTC","timestamp":{ms},"trade_timestamp":{ms},'
        f'"trade_price":{price},"trade_volume":{volume},"ask_bid":"{ask_bid}",'
        f'"sequential_id":{trade_id},"stream_type":"REALTIME"}}'
    )


ASKS = [("8.4718E7", "0.30000000")]
FEED = {
    "start": book(1_000, [("8.4717E7", "0.50000000"), ("8.4716E7", "0.2")], ASKS),
    # our order rests at 1_100 behind 0.5 BTC
    "shrinks": book(1_200, [("8.4717E7", "0.20000000"), ("8.4716E7", "0.2")], ASKS),
    "grows": book(1_300, [("8.4717E7", "0.90000000"), ("8.4716E7", "0.2")], ASKS),
    "print_015": trade(1_400, "84717000", "0.15", "ASK", 1),
    "level_gone": book(1_500, [("8.4716E7", "1.0")], ASKS),
    "level_back": book(1_600, [("8.4717E7", "2.0"), ("8.4716E7", "1.0")], ASKS),
    "print_0001": trade(1_700, "84717000.0", "0.001", "ASK", 2),
}


def rows_by_name(tmp_path: Path) -> dict[str, npt.NDArray[np.void]]:
    """Every FEED message through the real reader, as its own EVENT_DTYPE array."""
    path = tmp_path / "feed.gz"
    with gzip.open(path, "wb") as fh:
        for i, line in enumerate(FEED.values()):
            fh.write(f"{(i + 1) * 1_000} {line}\n".encode())
    reader = UpbitCaptureReader(path)
    chunks = list(reader.chunks())
    assert reader.stats.malformed == {}
    events = np.concatenate([c.events for c in chunks])
    lines = np.concatenate([c.lines for c in chunks])
    return {name: events[lines == i + 1] for i, name in enumerate(FEED)}


def venue(model: str) -> _core.SimVenue:
    return _core.SimVenue(
        KRW_BTC.tick_size,
        KRW_BTC.lot_size,
        rule=KRW_BTC.sequence_rule,
        maker_fee="0.0005",
        taker_fee="0.0005",
        queue_model=model,  # type: ignore[arg-type]
    )


def run(
    rows: dict[str, npt.NDArray[np.void]], skip: str = "", model: str = "conservative"
) -> list[tuple[object, ...]]:
    """Replays FEED with one buy of 0.01 BTC resting at OUR_PRICE from 1_100 ms; the fills."""
    sim = venue(model)
    order = None
    for name, events in rows.items():
        if name == skip:
            continue
        sim.apply_events(events)
        if name == "start":
            order = sim.submit(1_100 * MS, 0, "limit", LOTS_PER_BTC // 100, price=OUR_PRICE)
    assert order is not None
    return [r for r in sim.drain_reports() if r[2] == "filled"]


@pytest.mark.parametrize("model", ["conservative", "probabilistic"])
def test_a_removed_level_puts_us_at_the_front(tmp_path: Path, model: str) -> None:
    rows = rows_by_name(tmp_path)
    # start: 0.5 BTC ahead. shrinks to 0.2: ahead 0.2. grows to 0.9: still 0.2 (behind us).
    # The print of 0.15 eats 0.15 of it: 0.05 ahead, no fill. level_gone: ahead 0.
    # level_back (2.0 BTC): still 0. The print of 0.001 fills 0.001 of ours at once:
    # 84,717,000 x 0.001 x 0.0005 = 42.3585 KRW maker fee.
    fills = run(rows, model=model)
    assert [(r[3], r[4], r[5], r[6], r[7]) for r in fills] == [
        (OUR_PRICE, 100_000, "maker", "42.3585", 900_000)
    ]
    assert fills[0][0] == 1_700 * MS


@pytest.mark.parametrize("model", ["conservative", "probabilistic"])
def test_without_the_removal_the_queue_holds(tmp_path: Path, model: str) -> None:
    rows = rows_by_name(tmp_path)
    # Same feed without level_gone: level_back clamps 0.05 to min(0.05, 2.0) = 0.05 ahead,
    # and the 0.001 print only eats from it.
    assert run(rows, skip="level_gone", model=model) == []


@pytest.mark.parametrize("shrinks", [True, False])
def test_a_shrinking_level_moves_us_up_a_growing_one_does_not(
    tmp_path: Path, shrinks: bool
) -> None:
    rows = rows_by_name(tmp_path)
    sim = venue("conservative")
    sim.apply_events(rows["start"])
    sim.submit(1_100 * MS, 0, "limit", LOTS_PER_BTC // 100, price=OUR_PRICE)  # 0.5 ahead
    if shrinks:
        sim.apply_events(rows["shrinks"])  # min(0.5, 0.2): 0.2 ahead
    sim.apply_events(rows["grows"])  # 0.9 BTC at the level: unchanged
    sim.apply_events(rows["print_015"])  # 0.15 eaten: 0.05 (or 0.35) ahead
    assert [r for r in sim.drain_reports() if r[2] == "filled"] == []
    sim.apply_events(rows["print_015"])  # eats 0.05 and fills all 0.01 of ours (or 0.2 ahead)
    fills = [(r[4], r[7]) for r in sim.drain_reports() if r[2] == "filled"]
    assert fills == ([(1_000_000, 0)] if shrinks else [])
