"""The Binance capture reader: bundled data, market detection, bad lines counted not fatal."""

from __future__ import annotations

import gzip
import hashlib
from collections.abc import Callable, Iterable
from pathlib import Path

import numpy as np
import orjson
import pytest

from adapters.data import DEFAULT_CAPTURE, bundled_capture
from adapters.data.binance_capture import (
    BAD_DECIMAL,
    BAD_JSON,
    BAD_TIMESTAMP,
    BAD_VALUE,
    CORRUPT_GZIP,
    MISSING_FIELD,
    NO_SEPARATOR,
    SNAPSHOT,
    BinanceCaptureReader,
    CaptureError,
    replay_captures,
)
from engine import _core

ReadLines = Callable[[Path], list[bytes]]
WriteLines = Callable[[str, Iterable[bytes]], Path]

# From shared/data/binance/README.md: the data must ship unchanged.
SHA256 = {
    "usdm-btcusdt-20240808.gz": "0ad7b3a0f5cff220761ea890cfd6e3c15f6899edc7f94637ec915043d7a72251",
    "spot-btcusdt-20240808.gz": "5d263f4c5379cfc27379ef0e22779aa33804463d1b69c292e9c0714e31f2e1b4",
    "spot-btcusdt-20240809.gz": "2981a27474b8903133cc66e25f4da561140dd061c942b84801b9d8c60e4b3599",
}

# Lines by stream, from the same README.
STREAM_COUNTS = {
    "usdm-btcusdt-20240808.gz": {
        SNAPSHOT: 1,
        "btcusdt@depth@0ms": 6_551,
        "btcusdt@trade": 21_313,
        "btcusdt@bookTicker": 66_089,
    },
    "spot-btcusdt-20240808.gz": {
        SNAPSHOT: 1,
        "btcusdt@depth@100ms": 3_451,
        "btcusdt@trade": 9_757,
        "btcusdt@bookTicker": 28_040,
    },
    "spot-btcusdt-20240809.gz": {
        "btcusdt@depth@100ms": 3_044,
        "btcusdt@trade": 10_147,
        "btcusdt@bookTicker": 45_134,
    },
}


def read_all(reader: BinanceCaptureReader) -> tuple[np.ndarray, np.ndarray]:
    chunks = list(reader.chunks())
    events = np.concatenate([c.events for c in chunks])
    lines = np.concatenate([c.lines for c in chunks])
    return events, lines


@pytest.mark.parametrize("name", sorted(SHA256))
def test_bundled_capture_is_unchanged_and_licensed(binance_dir: Path, name: str) -> None:
    digest = hashlib.sha256((binance_dir / name).read_bytes()).hexdigest()
    assert digest == SHA256[name]
    assert "MIT License" in (binance_dir / "LICENSE-source-MIT.txt").read_text()
    assert "hftbacktest" in (binance_dir / "README.md").read_text()
    assert bundled_capture(name) == binance_dir / name


def test_default_capture_is_the_futures_one() -> None:
    assert DEFAULT_CAPTURE.name == "usdm-btcusdt-20240808.gz"
    with pytest.raises(FileNotFoundError, match=r"no bundled capture named 'nope\.gz'"):
        bundled_capture("nope.gz")


@pytest.mark.parametrize("name", sorted(STREAM_COUNTS))
def test_every_line_decodes_into_its_stream(binance_dir: Path, name: str) -> None:
    reader = BinanceCaptureReader(binance_dir / name)
    events, lines = read_all(reader)
    stats = reader.stats
    assert stats.by_stream == STREAM_COUNTS[name]
    assert stats.lines == sum(STREAM_COUNTS[name].values())
    assert stats.malformed == {}
    assert stats.unknown_streams == {}
    assert stats.blank == 0
    # one line number per row, in file order, every line producing at least one row
    assert len(lines) == len(events)
    assert np.all(np.diff(lines) >= 0)
    assert len(np.unique(lines)) == stats.lines
    begins = (events["flags"] & _core.FLAG_BEGIN) != 0
    assert int(begins.sum()) == stats.lines


def test_market_comes_from_the_name(usdm_capture: Path, spot_captures: list[Path]) -> None:
    futures = BinanceCaptureReader(usdm_capture).instrument
    assert (futures.market, futures.symbol, futures.sequence_rule) == ("usdm", "BTCUSDT", "futures")
    assert (futures.tick_size, futures.lot_size) == ("0.1", "0.001")
    spot = BinanceCaptureReader(spot_captures[0]).instrument
    assert (spot.market, spot.symbol, spot.sequence_rule) == ("spot", "BTCUSDT", "spot")
    assert (spot.tick_size, spot.lot_size) == ("0.01", "0.00001")


def test_rows_keep_their_line_ids_and_units(usdm_capture: Path, read_gzip_lines: ReadLines) -> None:
    """The snapshot (line 55) and the first diff (line 1) land with the right ids and units."""
    reader = BinanceCaptureReader(usdm_capture, chunk_rows=4_096)
    chunks = reader.chunks()
    first = next(chunks)
    chunks.close()
    raw = read_gzip_lines(usdm_capture)
    snapshot = orjson.loads(raw[54].split(b" ", 1)[1])
    rows = first.events[first.lines == 55]
    assert set(rows["kind"].tolist()) == {_core.KIND_SNAPSHOT}
    assert len(rows) == len(snapshot["bids"]) + len(snapshot["asks"])
    assert set(rows["seq_last"].tolist()) == {snapshot["lastUpdateId"]}
    assert int(rows["ts_recv"][0]) == int(raw[54].split(b" ", 1)[0])
    assert int(rows["ts_event"][0]) == snapshot["E"] * 1_000_000
    best_bid = rows[rows["side"] == _core.SIDE_BID]["price"].max()
    assert best_bid == round(float(snapshot["bids"][0][0]) * 10)  # tick 0.1

    diff = orjson.loads(raw[0].split(b" ", 1)[1])["data"]
    rows = first.events[first.lines == 1]
    assert set(rows["kind"].tolist()) == {_core.KIND_DIFF}
    assert (int(rows["seq_first"][0]), int(rows["seq_last"][0]), int(rows["seq_prev"][0])) == (
        diff["U"],
        diff["u"],
        diff["pu"],
    )


def test_spot_diffs_have_no_previous_id(spot_captures: Path) -> None:
    reader = BinanceCaptureReader(spot_captures[1], chunk_rows=1_000)
    chunks = reader.chunks()
    first = next(chunks)
    chunks.close()
    diffs = first.events[first.events["kind"] == _core.KIND_DIFF]
    assert len(diffs) > 0
    assert set(diffs["seq_prev"].tolist()) == {-1}


def _inject(lines: list[bytes], at: dict[int, bytes]) -> tuple[list[bytes], dict[bytes, int]]:
    """Inserts lines so each lands at the given 1-based line number; returns where each went."""
    out = list(lines)
    where: dict[bytes, int] = {}
    for lineno in sorted(at):
        out.insert(lineno - 1, at[lineno])
        where[at[lineno]] = lineno
    return out, where


def test_bad_lines_are_counted_and_the_replay_goes_on(
    usdm_capture: Path, read_gzip_lines: ReadLines, write_gzip_lines: WriteLines
) -> None:
    raw = read_gzip_lines(usdm_capture)[:3_000]
    ns = raw[0].split(b" ", 1)[0]
    trade = next(line for line in raw if b"@trade" in line)
    diff = next(line for line in raw[100:] if b"@depth" in line)
    ticker = next(line for line in raw[100:] if b"@bookTicker" in line)
    trade_without_price = trade.replace(b'"p":', b'"price":')
    diff_without_u = diff.replace(b'"u":', b'"uu":')
    ticker_ns, ticker_json = ticker.split(b" ", 1)
    ticker_msg = orjson.loads(ticker_json)
    ticker_msg["data"]["b"] = "61800.25"  # not on the 0.1 tick grid
    ticker_off_tick = ticker_ns + b" " + orjson.dumps(ticker_msg) + b"\n"
    bad = {
        60: b"no-separator-here\n",
        61: b"17231612x5030314667 {}\n",
        62: ns + b' {"stream": "btcusdt@trade", "data": \n',
        63: ns + b' {"stream":"btcusdt@kline_1m","data":{}}\n',
        64: ns + b' {"stream":"ethusdt@trade","data":{}}\n',
        65: trade_without_price,
        66: diff_without_u,
        67: ticker_off_tick,
        68: ns + b" [1, 2, 3]\n",
        69: b"\n",
        70: ns + b' {"result":null,"id":1}\n',
    }
    lines, where = _inject(raw, bad)
    path = write_gzip_lines("usdm-btcusdt-broken.gz", lines)

    report = replay_captures([path])

    assert report.malformed == {
        NO_SEPARATOR: 1,
        BAD_TIMESTAMP: 1,
        BAD_JSON: 1,
        MISSING_FIELD: 2,
        BAD_DECIMAL: 1,
        BAD_VALUE: 1,
    }
    assert report.unknown_streams == {"btcusdt@kline_1m": 1, "ethusdt@trade": 1, "<no stream>": 1}
    assert report.blank_lines == 1
    assert report.lines == len(lines)
    examples = {(e.line, e.category): e.detail for e in report.malformed_examples}
    assert set(examples) == {
        (60, NO_SEPARATOR),
        (61, BAD_TIMESTAMP),
        (62, BAD_JSON),
        (65, MISSING_FIELD),
        (66, MISSING_FIELD),
        (67, BAD_DECIMAL),
        (68, BAD_VALUE),
    }
    assert "missing field 'p'" in examples[(65, MISSING_FIELD)]
    assert "btcusdt@trade" in examples[(65, MISSING_FIELD)]
    assert "missing field 'u'" in examples[(66, MISSING_FIELD)]
    assert "61800.25" in examples[(67, BAD_DECIMAL)]
    assert all(e.source == path.name for e in report.malformed_examples)
    assert where[diff_without_u] == 66

    # every good line still went through: the chain holds and the oracle still agrees
    assert report.gaps == ()
    assert report.snapshots == 1
    assert report.diffs_applied > 100
    assert report.ticker_comparisons > 0
    assert report.ticker_agreed == report.ticker_comparisons
    assert report.book_errors == 0


def test_examples_are_capped_per_category(
    usdm_capture: Path, read_gzip_lines: ReadLines, write_gzip_lines: WriteLines
) -> None:
    raw = read_gzip_lines(usdm_capture)[:200]
    path = write_gzip_lines("usdm-btcusdt-junk.gz", raw + [b"1 {bad\n"] * 50)
    reader = BinanceCaptureReader(path)
    read_all(reader)
    assert reader.stats.malformed == {BAD_JSON: 50}
    assert [e.line for e in reader.stats.examples] == [201, 202, 203, 204, 205]


def test_a_truncated_gzip_is_reported_and_the_good_part_replayed(
    spot_captures: list[Path], tmp_path: Path
) -> None:
    data = spot_captures[0].read_bytes()
    path = tmp_path / "spot-btcusdt-truncated.gz"
    path.write_bytes(data[: len(data) // 2])
    report = replay_captures([path])
    assert report.malformed.get(CORRUPT_GZIP) == 1
    assert report.lines > 10_000
    assert report.gaps == ()
    assert report.ticker_comparisons > 0
    assert report.ticker_agreed == report.ticker_comparisons


def test_not_a_capture(tmp_path: Path, write_gzip_lines: WriteLines) -> None:
    text = tmp_path / "usdm-btcusdt-plain.gz"
    text.write_text("hello\n")
    with pytest.raises(CaptureError, match="not a readable gzip file"):
        BinanceCaptureReader(text)

    prose = write_gzip_lines("usdm-btcusdt-prose.gz", [b"hello world\n"] * 10)
    with pytest.raises(CaptureError, match=r"not a capture: none of the first 5 non-empty lines"):
        BinanceCaptureReader(prose)

    empty = write_gzip_lines("usdm-btcusdt-empty.gz", [])
    with pytest.raises(CaptureError, match="it has no lines"):
        BinanceCaptureReader(empty)

    with pytest.raises(CaptureError, match="no such file"):
        BinanceCaptureReader(tmp_path / "missing.gz")
    with pytest.raises(CaptureError, match="is a directory"):
        BinanceCaptureReader(tmp_path)


def test_name_and_content_must_agree_on_the_market(
    spot_captures: list[Path], read_gzip_lines: ReadLines, write_gzip_lines: WriteLines
) -> None:
    spot_as_futures = write_gzip_lines(
        "usdm-btcusdt-20240808.gz", read_gzip_lines(spot_captures[0])[:50]
    )
    with pytest.raises(CaptureError, match=r"name says market 'usdm'.*line 1 has no 'pu'"):
        BinanceCaptureReader(spot_as_futures)


def test_a_file_with_an_unhelpful_name_is_identified_by_content(
    usdm_capture: Path, read_gzip_lines: ReadLines, write_gzip_lines: WriteLines
) -> None:
    path = write_gzip_lines("capture.gz", read_gzip_lines(usdm_capture)[:100])
    instrument = BinanceCaptureReader(path).instrument
    assert (instrument.market, instrument.symbol) == ("usdm", "BTCUSDT")


def test_an_unknown_symbol_names_what_is_known(
    usdm_capture: Path, read_gzip_lines: ReadLines, write_gzip_lines: WriteLines
) -> None:
    path = write_gzip_lines("usdm-ethusdt-20240808.gz", read_gzip_lines(usdm_capture)[:10])
    with pytest.raises(CaptureError, match=r"symbol='ETHUSDT'.*known: spot BTCUSDT, usdm BTCUSDT"):
        BinanceCaptureReader(path)


def test_gzip_reader_streams(usdm_capture: Path) -> None:
    """Chunks stay near chunk_rows, so memory does not grow with the file."""
    reader = BinanceCaptureReader(usdm_capture, chunk_rows=10_000)
    sizes = [len(c.events) for c in reader.chunks()]
    assert len(sizes) > 10
    # a chunk ends at the first message that reaches the limit: one diff at most past it
    assert max(sizes) < 10_000 + 2_001
    with gzip.open(usdm_capture, "rb") as fh:
        assert reader.stats.lines == sum(1 for _ in fh)


def test_spot_sizes_finer_than_the_order_lot_are_kept(
    spot_captures: list[Path], read_gzip_lines: ReadLines
) -> None:
    """Line 1886 of the 0808 spot capture has an ask of 25.42618900: 6 decimals, below the
    0.00001 order step. The book counts spot sizes in 1e-8 BTC so such levels stay exact."""
    reader = BinanceCaptureReader(spot_captures[0])
    assert (reader.instrument.lot_size, reader.instrument.book_lot_size) == (
        "0.00001",
        "0.00000001",
    )
    events, lines = read_all(reader)
    assert reader.stats.malformed == {}
    assert b'"25.42618900"' in read_gzip_lines(spot_captures[0])[1885]
    rows = events[(lines == 1886) & (events["side"] == _core.SIDE_ASK)]
    assert 2_542_618_900 in rows["qty"].tolist()
