"""Real Binance data end to end: the chain holds, and the book agrees with every bookTicker.

The expected tops and counts were computed independently with a Decimal-dict book
written for this purpose (not the Rust core) and agree with the data README.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable
from pathlib import Path

import orjson
import pytest

from adapters.data.binance_capture import BinanceCaptureReader, replay_captures
from engine.services.replay import Quote, ReplayError, ReplayReport, replay

ReadLines = Callable[[Path], list[bytes]]
WriteLines = Callable[[str, Iterable[bytes]], Path]


@pytest.fixture(scope="module")
def futures_report(usdm_capture: Path) -> ReplayReport:
    return replay_captures([usdm_capture])


@pytest.fixture(scope="module")
def spot_report(spot_captures: list[Path]) -> ReplayReport:
    return replay_captures(spot_captures)


def test_futures_capture_chains_end_to_end(futures_report: ReplayReport) -> None:
    r = futures_report
    assert r.lines_by_stream == {
        "snapshot": 1,
        "btcusdt@depth@0ms": 6_551,
        "btcusdt@trade": 21_313,
        "btcusdt@bookTicker": 66_089,
    }
    assert r.gaps == ()
    assert r.book_errors == 0
    assert r.snapshots == 1
    # 4 diffs end before the snapshot's lastUpdateId; every other one chains on pu
    assert (r.diffs_applied, r.diffs_dropped, r.diffs_buffered) == (6_547, 4, 0)
    assert r.trades == 21_313
    assert r.tickers == 66_089
    assert r.messages == 93_954
    assert r.malformed == {} and r.unknown_streams == {}
    assert not r.book_stale


def test_futures_book_equals_every_matching_book_ticker(futures_report: ReplayReport) -> None:
    r = futures_report
    assert r.ticker_comparisons == 629
    assert r.ticker_agreed == r.ticker_comparisons  # prices and sizes, 100%
    assert r.ticker_mismatches == ()
    assert r.best_bid == Quote("61659.7", "1.486")
    assert r.best_ask == Quote("61659.8", "0.981")


def test_spot_pair_continues_across_files(spot_report: ReplayReport) -> None:
    r = spot_report
    assert r.sources == ("spot-btcusdt-20240808.gz", "spot-btcusdt-20240809.gz")
    assert r.lines_by_stream == {
        "snapshot": 1,
        "btcusdt@depth@100ms": 3_451 + 3_044,
        "btcusdt@trade": 9_757 + 10_147,
        "btcusdt@bookTicker": 28_040 + 45_134,
    }
    assert r.per_source_lines == {
        "spot-btcusdt-20240808.gz": 41_249,
        "spot-btcusdt-20240809.gz": 58_325,
    }
    assert r.gaps == ()
    assert r.book_errors == 0
    assert (r.diffs_applied, r.diffs_dropped, r.diffs_buffered) == (6_493, 2, 0)
    assert r.ticker_comparisons == 1_072
    assert r.ticker_agreed == r.ticker_comparisons
    assert r.best_bid == Quote("61602.01", "1.67177000")
    assert r.best_ask == Quote("61602.02", "2.66795000")
    assert not r.book_stale


def test_the_continuation_alone_waits_for_a_snapshot(spot_captures: list[Path]) -> None:
    r = replay_captures([spot_captures[1]])
    assert r.snapshots == 0
    assert r.diffs_applied == 0
    assert r.diffs_buffered == 3_044
    assert r.gaps == ()
    assert r.ticker_comparisons == 0
    assert r.book_stale
    assert r.best_bid is None and r.best_ask is None


def _drop_one_diff(lines: list[bytes], nth: int) -> tuple[list[bytes], int]:
    """Removes the nth diff line; returns the lines and the 1-based line, in the new file,
    of the diff that followed it (where the chain must break)."""
    diffs = [i for i, line in enumerate(lines) if b"@depth" in line]
    removed, following = diffs[nth], diffs[nth + 1]
    kept = lines[:removed] + lines[removed + 1 :]
    return kept, following  # 0-based `following` is its 1-based line once one line is gone


def test_a_missing_futures_diff_is_a_gap_at_the_next_diff(
    usdm_capture: Path, read_gzip_lines: ReadLines, write_gzip_lines: WriteLines
) -> None:
    lines, gap_line = _drop_one_diff(read_gzip_lines(usdm_capture), 3_000)
    path = write_gzip_lines("usdm-btcusdt-20240808-minus-one.gz", lines)
    r = replay_captures([path])
    assert [(g.source, g.line) for g in r.gaps] == [(path.name, gap_line)]
    assert r.book_stale  # never silently patched: it waits for a snapshot that never comes
    assert r.diffs_applied == 3_000 - 4
    assert r.diffs_buffered == 6_551 - 1 - 3_000
    assert r.ticker_agreed == r.ticker_comparisons


def test_a_missing_spot_diff_in_the_second_file_is_a_gap_there(
    spot_captures: list[Path], read_gzip_lines: ReadLines, write_gzip_lines: WriteLines
) -> None:
    lines, gap_line = _drop_one_diff(read_gzip_lines(spot_captures[1]), 1_500)
    path = write_gzip_lines("spot-btcusdt-20240809-minus-one.gz", lines)
    r = replay_captures([spot_captures[0], path])
    assert [(g.source, g.line) for g in r.gaps] == [(path.name, gap_line)]
    gap = r.gaps[0]
    assert gap.prev_id == -1 and gap.first_id <= gap.last_id
    assert r.book_stale


def test_chunk_size_does_not_change_the_result(
    usdm_capture: Path, futures_report: ReplayReport
) -> None:
    small = replay([BinanceCaptureReader(usdm_capture, chunk_rows=3_000)])
    timing = {"elapsed_s", "book_s", "events_per_s", "messages_per_s", "book_events_per_s"}
    got = {k: v for k, v in small.as_dict().items() if k not in timing}
    want = {k: v for k, v in futures_report.as_dict().items() if k not in timing}
    assert got == want


def test_elapsed_time_comes_from_the_clock_it_is_given(spot_captures: list[Path]) -> None:
    ticks = itertools.count()
    r = replay([BinanceCaptureReader(spot_captures[0])], clock=lambda: float(next(ticks)))
    assert r.elapsed_s > 0 and r.elapsed_s == int(r.elapsed_s)
    assert r.events_per_s == r.events / r.elapsed_s


def test_one_replay_holds_one_instrument(usdm_capture: Path, spot_captures: list[Path]) -> None:
    sources = [BinanceCaptureReader(usdm_capture), BinanceCaptureReader(spot_captures[0])]
    with pytest.raises(ReplayError, match=r"spot-btcusdt-20240808.gz is binance:spot:BTCUSDT"):
        replay(sources)


@pytest.mark.parametrize("chunk_rows", [1, 100, 65_536])
def test_a_gap_among_diffs_buffered_before_the_snapshot_is_placed_exactly(
    usdm_capture: Path, read_gzip_lines: ReadLines, write_gzip_lines: WriteLines, chunk_rows: int
) -> None:
    """Diffs at lines 1-50 arrive before the snapshot (line 55); the one at line 42 is the
    first to straddle it. Without it, the diff at old line 50 (new line 49) cannot follow the
    snapshot, whatever batches the rows were cut into."""
    lines = read_gzip_lines(usdm_capture)[:3_000]
    assert b"@depth" in lines[41] and b"lastUpdateId" in lines[54]
    path = write_gzip_lines("usdm-btcusdt-no-straddle.gz", lines[:41] + lines[42:])
    r = replay([BinanceCaptureReader(path, chunk_rows=chunk_rows)])
    assert [(g.source, g.line) for g in r.gaps] == [(path.name, 49)]
    assert r.diffs_applied == 0
    assert r.book_stale


def test_a_stale_resync_that_fails_again_is_a_second_gap(
    usdm_capture: Path, read_gzip_lines: ReadLines, write_gzip_lines: WriteLines
) -> None:
    """A gap mid-stream, then a snapshot too old for the buffered diffs: the book stays
    stale and the failed re-sync is a second gap, never a silent patch. The first buffered
    diff is the one that broke the chain, so the re-sync fails on it again, and it is
    reported at its own line although it was buffered in an earlier batch."""
    raw = read_gzip_lines(usdm_capture)
    lines, gap_line = _drop_one_diff(raw, 3_000)
    diffs = [i for i, line in enumerate(lines) if b"@depth" in line]
    resync_at = diffs[3_500] + 1
    lines = [*lines[:resync_at], raw[54], *lines[resync_at:]]
    path = write_gzip_lines("usdm-btcusdt-bad-resync.gz", lines)
    r = replay([BinanceCaptureReader(path, chunk_rows=20_000)])
    assert r.snapshots == 2
    assert [(g.source, g.line) for g in r.gaps] == [(path.name, gap_line), (path.name, gap_line)]
    assert r.book_stale
    assert r.diffs_applied == 3_000 - 4


def test_a_ticker_whose_size_disagrees_is_caught(
    usdm_capture: Path, read_gzip_lines: ReadLines, write_gzip_lines: WriteLines
) -> None:
    """The oracle compares sizes, not only prices: one altered bid size is one mismatch."""
    lines = read_gzip_lines(usdm_capture)
    diff_ids = {
        orjson.loads(line.split(b" ", 1)[1])["data"]["u"] for line in lines if b"@depth" in line
    }
    index = next(
        i
        for i, line in enumerate(lines)
        if i > 1_000
        and b"@bookTicker" in line
        and orjson.loads(line.split(b" ", 1)[1])["data"]["u"] in diff_ids
    )
    ns, payload = lines[index].split(b" ", 1)
    message = orjson.loads(payload)
    message["data"]["B"] = "123.456"
    lines[index] = ns + b" " + orjson.dumps(message) + b"\n"
    path = write_gzip_lines("usdm-btcusdt-altered-ticker.gz", lines)

    r = replay_captures([path])
    assert (r.ticker_comparisons, r.ticker_agreed, r.ticker_prices_agreed) == (629, 628, 629)
    (mismatch,) = r.ticker_mismatches
    assert (mismatch.source, mismatch.line) == (path.name, index + 1)
    assert mismatch.ticker_bid.qty == "123.456"
    assert mismatch.book_bid.price == mismatch.ticker_bid.price
    assert mismatch.book_bid.qty != "123.456"
