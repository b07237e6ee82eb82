"""JSONL market events: the documented example, bad lines, the writer, round trips."""

from __future__ import annotations

import gzip
import io
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import numpy.typing as npt
import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.data.binance_capture import BinanceCaptureReader, replay_captures
from adapters.data.jsonl_events import JsonlEventError, JsonlEventReader, JsonlEventWriter
from adapters.data.ohlcv_csv import bars_to_events
from engine import _core
from engine.marketdata import EventSource
from engine.marketdata.instruments import binance_instrument
from engine.services.replay import replay

REPO = Path(__file__).resolve().parents[1]
USDM = binance_instrument("usdm", "BTCUSDT")  # tick 0.1, lot 0.001, futures rule
SPOT = binance_instrument("spot", "BTCUSDT")
ROW_FIELDS = ["ts_event", "ts_recv", "seq_first", "seq_last", "seq_prev", "price", "qty"]
ROW_FIELDS += ["order_id", "kind", "side", "flags"]
SNAP, DIFF, TRADE, TICKER = (
    _core.KIND_SNAPSHOT,
    _core.KIND_DIFF,
    _core.KIND_TRADE,
    _core.KIND_TICKER,
)
B, E, BE = _core.FLAG_BEGIN, _core.FLAG_END, _core.FLAG_BEGIN | _core.FLAG_END


def doc_example() -> bytes:
    text = (REPO / "docs" / "jsonl-events.md").read_text(encoding="utf-8")
    block = re.search(r"## Example\n.*?```\n(.*?)```", text, re.S)
    assert block is not None
    return block.group(1).encode()


def read_all(reader: JsonlEventReader) -> tuple[npt.NDArray[np.void], npt.NDArray[np.int64]]:
    chunks = list(reader.chunks())
    if not chunks:
        return np.zeros(0, dtype=_core.EVENT_DTYPE), np.zeros(0, dtype=np.int64)
    return (np.concatenate([c.events for c in chunks]), np.concatenate([c.lines for c in chunks]))


def rows(events: npt.NDArray[np.void]) -> list[tuple[int, ...]]:
    return [tuple(int(x) for x in r) for r in events[ROW_FIELDS].tolist()]


# --- the documented example -----------------------------------------------------------
def test_the_documented_example(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_bytes(doc_example())
    reader = JsonlEventReader(path, USDM)
    events, lines = read_all(reader)
    t = 1_723_161_255_000_000_000
    ms = 1_000_000
    assert rows(events) == [
        # ts_event, ts_recv, U, u, pu, price, qty, id, kind, side, flags
        (0, t, 0, 100, -1, 618002, 2507, 0, SNAP, 0, B),
        (0, t, 0, 100, -1, 618001, 300, 0, SNAP, 0, 0),
        (0, t, 0, 100, -1, 618003, 2510, 0, SNAP, 1, E),
        (t + 98 * ms, t + 100 * ms, 95, 104, 94, 618001, 0, 0, DIFF, 0, B),
        (t + 98 * ms, t + 100 * ms, 95, 104, 94, 618004, 1000, 0, DIFF, 1, E),
        (t + 199 * ms, t + 200 * ms, 0, 0, -1, 618002, 6, 5266583935, TRADE, 1, BE),
        (0, t + 300 * ms, 104, 104, -1, 618002, 2507, 0, TICKER, 0, B),
        (0, t + 300 * ms, 104, 104, -1, 618003, 2510, 0, TICKER, 1, E),
    ]
    assert lines.tolist() == [1, 1, 1, 2, 2, 3, 4, 4]
    assert reader.stats.by_stream == {"snapshot": 1, "diff": 1, "trade": 1, "ticker": 1}
    assert reader.stats.malformed_total == 0
    # The book it describes, and the quote agrees with it.
    report = replay([reader])
    assert (report.diffs_applied, len(report.gaps), report.ticker_agreed) == (1, 0, 1)
    assert report.best_bid is not None and report.best_ask is not None
    assert (report.best_bid.price, report.best_bid.qty) == ("61800.2", "2.507")
    assert (report.best_ask.price, report.best_ask.qty) == ("61800.3", "2.510")
    # The example is in the writer's own form: the same bytes come back.
    out = io.BytesIO()
    with JsonlEventWriter(out, USDM) as writer:
        assert writer.write(events) == 4
    assert out.getvalue() == doc_example()


def test_the_reader_is_an_event_source(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_bytes(doc_example())
    source: EventSource = JsonlEventReader(path, USDM)
    assert (source.name, source.instrument) == ("feed.jsonl", USDM)


def test_gzip_symbol_case_and_small_chunks(tmp_path: Path) -> None:
    path = tmp_path / "feed.data"  # told by content, not by name
    path.write_bytes(gzip.compress(doc_example().replace(b'"BTCUSDT"', b'"btcusdt"')))
    reader = JsonlEventReader(path, USDM, chunk_rows=2)
    chunks = list(reader.chunks())
    # Whole lines per chunk: 3 rows, 2, then 1 + 2 (the trade alone is below 2 rows).
    assert [len(c.events) for c in chunks] == [3, 2, 3]
    assert [c.lines.tolist() for c in chunks] == [[1, 1, 1], [2, 2], [3, 4, 4]]


# --- bad lines ------------------------------------------------------------------------
def line(**fields: object) -> bytes:
    base: dict[str, object] = {"ts": 5, "symbol": "BTCUSDT"}
    return orjson.dumps({**base, **fields}) + b"\n"


TRADE_OK = {"type": "trade", "id": 1, "price": "61800.1", "qty": "0.001", "side": "buy"}


def test_bad_lines_are_counted_with_file_line_field_and_value(tmp_path: Path) -> None:
    content = [
        line(**TRADE_OK),  # 1: good
        b"{not json\n",  # 2
        b"[1, 2]\n",  # 3
        line(type="trade", id=2, price="61800.1", qty="0.001"),  # 4: no side
        orjson.dumps({"type": "trade", "symbol": "BTCUSDT", "id": 3}) + b"\n",  # 5: no ts
        line(**{**TRADE_OK, "ts": 1.5}),  # 6
        line(**{**TRADE_OK, "price": 61800.1}),  # 7: a number, not a string
        line(**{**TRADE_OK, "price": "61800.15"}),  # 8: off the 0.1 grid
        line(**{**TRADE_OK, "side": "hold"}),  # 9
        line(type="snapshot", id=7, bids=[["61800.0", "-1"]], asks=[]),  # 10
        line(type="diff", first_id=1, last_id="2", bids=[], asks=[]),  # 11
        line(type="ticker", id=1, bid="1.0", bid_qty="1", ask="1.1"),  # 12: no ask_qty
        line(type="funding", rate="0.0001"),  # 13: unknown type
        line(**{**TRADE_OK, "symbol": "ethusdt"}),  # 14: another symbol
        orjson.dumps({"ts": 1, "symbol": "BTCUSDT"}) + b"\n",  # 15: no type
        line(**{**TRADE_OK, "id": -4}),  # 16
        b"\n",  # 17: blank
        line(**{**TRADE_OK, "ts_event": "9"}),  # 18
        line(**{**TRADE_OK, "id": 9}),  # 19: good
    ]
    path = tmp_path / "bad.jsonl"
    path.write_bytes(b"".join(content))
    reader = JsonlEventReader(path, USDM)
    events, lines = read_all(reader)
    assert lines.tolist() == [1, 19]
    assert events["order_id"].tolist() == [1, 9]
    stats = reader.stats
    assert (stats.lines, stats.blank) == (19, 1)
    assert stats.by_stream == {"trade": 2}
    assert stats.unknown_streams == {"funding": 1, "symbol:ETHUSDT": 1}
    assert stats.malformed == {
        "bad_json": 1,
        "bad_value": 5,
        "missing_field": 4,
        "bad_timestamp": 2,
        "bad_decimal": 2,
    }
    detail = {issue.line: (issue.category, issue.detail) for issue in stats.examples}
    assert all(issue.source == "bad.jsonl" for issue in stats.examples)
    assert detail[3] == ("bad_value", "line is a JSON list, expected an object")
    assert detail[4] == ("missing_field", "trade: missing field 'side'")
    assert detail[5] == ("missing_field", "trade: missing field 'ts'")
    assert detail[6] == (
        "bad_timestamp",
        "trade: field 'ts' = 1.5: expected integer ns since the epoch",
    )
    assert detail[7] == (
        "bad_value",
        "trade: field 'price' = 61800.1: expected a decimal string such as \"1.5\"",
    )
    assert detail[8][0] == "bad_decimal"
    assert 'trade.price: value "61800.15" is not a multiple of step 0.1' in detail[8][1]
    assert detail[9] == (
        "bad_value",
        "trade: field 'side' = 'hold': expected \"buy\" or \"sell\" (aggressor)",
    )
    assert detail[10][0] == "bad_decimal"
    assert 'snapshot: bids[0].qty: value "-1" is negative' in detail[10][1]
    assert detail[11] == (
        "bad_value",
        "diff: field 'last_id' = '2': expected an integer in [-2^63, 2^63)",
    )
    assert detail[12] == ("missing_field", "ticker: missing field 'ask_qty'")
    assert detail[15] == ("missing_field", "<no type>: missing field 'type'")
    assert detail[16] == (
        "bad_value",
        "trade: field 'id' = -4: expected an integer in [0, 2^64)",
    )
    assert detail[18] == (
        "bad_timestamp",
        "trade: field 'ts_event' = '9': expected integer ns since the epoch",
    )
    assert detail[2][0] == "bad_json"


def test_a_damaged_gzip_ends_the_file_with_one_issue(tmp_path: Path) -> None:
    whole = gzip.compress(b"".join(line(**{**TRADE_OK, "id": i}) for i in range(20_000)))
    path = tmp_path / "cut.jsonl.gz"
    path.write_bytes(whole[: len(whole) * 3 // 4])
    reader = JsonlEventReader(path, USDM)
    events, _ = read_all(reader)
    assert 0 < len(events) < 20_000
    assert events["order_id"].tolist() == list(range(len(events)))
    assert reader.stats.malformed == {"corrupt_gzip": 1}


def test_reader_refuses_what_is_not_a_file(tmp_path: Path) -> None:
    with pytest.raises(JsonlEventError, match="no such file"):
        JsonlEventReader(tmp_path / "missing.jsonl", USDM)
    with pytest.raises(JsonlEventError, match="is a directory"):
        JsonlEventReader(tmp_path, USDM)
    (tmp_path / "x.jsonl").write_bytes(b"")
    with pytest.raises(JsonlEventError, match=r"chunk_rows 0 is not positive"):
        JsonlEventReader(tmp_path / "x.jsonl", USDM, chunk_rows=0)


# --- the writer -----------------------------------------------------------------------
def example_events() -> npt.NDArray[np.void]:
    b = _core.EventBuilder(_core.Grid("0.1", "0.001"))
    b.push_snapshot(10, 0, 100, [["1.0", "1"]], [])
    b.push_diff(11, 12, 101, 101, -1, [], [])  # no levels: one EMPTY row
    b.push_trade(13, 0, 7, "1.1", "0.5", False)
    b.push_ticker(14, 15, 102, "1.0", "1", "1.2", "2")
    return b.finish()


def test_writer_bytes_by_hand() -> None:
    out = io.BytesIO()
    writer = JsonlEventWriter(out, USDM)
    assert writer.write(example_events()) == 4
    writer.close()
    assert out.getvalue().decode().splitlines() == [
        '{"type":"snapshot","ts":10,"symbol":"BTCUSDT","id":100,"bids":[["1.0","1.000"]],"asks":[]}',
        '{"type":"diff","ts":11,"ts_event":12,"symbol":"BTCUSDT","first_id":101,"last_id":101,'
        '"bids":[],"asks":[]}',
        '{"type":"trade","ts":13,"symbol":"BTCUSDT","id":7,"price":"1.1","qty":"0.500","side":"buy"}',
        '{"type":"ticker","ts":14,"ts_event":15,"symbol":"BTCUSDT","id":102,"bid":"1.0",'
        '"bid_qty":"1.000","ask":"1.2","ask_qty":"2.000"}',
    ]
    assert writer.lines_written == 4
    assert not out.closed  # a stream passed in is the caller's


def test_writer_gzip_is_deterministic(tmp_path: Path) -> None:
    paths = [tmp_path / "a.jsonl.gz", tmp_path / "sub-b.jsonl.gz"]
    for path in paths:
        with JsonlEventWriter(path, USDM) as writer:
            writer.write(example_events())
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert len(gzip.decompress(paths[0].read_bytes()).splitlines()) == 4


def corrupt(events: npt.NDArray[np.void], index: int, **fields: int) -> npt.NDArray[np.void]:
    bad = events.copy()
    for name, value in fields.items():
        bad[index][name] = value
    return bad


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ((0, {"kind": _core.KIND_L3_ADD}), r"row 0: kind 5 has no JSONL form"),
        ((0, {"flags": 0}), r"row 0: a snapshot row starts no message"),
        ((0, {"seq_first": 3}), r"row 0: this snapshot message cannot be written exactly"),
        ((2, {"price": -1}), r"row 2\+0: trade row .* cannot be written exactly"),
        ((2, {"seq_last": 9}), r"row 2: this trade message cannot be written exactly"),
        ((3, {"side": 1}), r"row 3: this ticker message .*a bid row then an ask row"),
        ((4, {"seq_last": 5}), r"row 3\+1: ticker row .* share kind, times and ids"),
        ((3, {"flags": B | E}), r"row 3: this ticker message .*a bid row then an ask row"),
        ((2, {"flags": E}), r"row 2: a trade row starts no message"),
        ((1, {"flags": B}), r"row 2: a new message begins before row 1's diff ends"),
    ],
)
def test_writer_refuses_rows_it_cannot_give_back(
    change: tuple[int, dict[str, int]], message: str
) -> None:
    out = io.BytesIO()
    writer = JsonlEventWriter(out, USDM)
    index, fields = change
    with pytest.raises(JsonlEventError, match=message):
        writer.write(corrupt(example_events(), index, **fields))
    # Atomic: nothing was written, and the writer still works.
    assert out.getvalue() == b""
    assert writer.write(example_events()) == 4


def test_writer_messages_across_calls_and_close() -> None:
    events = example_events()
    out = io.BytesIO()
    writer = JsonlEventWriter(out, USDM)
    with pytest.raises(JsonlEventError, match="is not EVENT_DTYPE"):
        writer.write(np.zeros(1, dtype=_core.BAR_DTYPE))
    assert writer.write(events[:4]) == 3  # the ticker's ask row is still to come
    assert writer.write(events[4:]) == 1
    assert writer.write(events[:4]) == 3
    with pytest.raises(JsonlEventError, match=r"row 8: a 1-row message has no END row"):
        writer.close()
    with pytest.raises(JsonlEventError, match="the writer is closed"):
        writer.write(events)
    split = io.BytesIO()
    with JsonlEventWriter(split, USDM) as w:
        w.write(events[:4])
        w.write(events[4:])
    assert split.getvalue() == b"".join(out.getvalue().splitlines(keepends=True)[:4])


# --- round trips ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def usdm_recorded(
    tmp_path_factory: pytest.TempPathFactory, usdm_capture: Path
) -> tuple[npt.NDArray[np.void], Path, int]:
    """The futures capture's rows, and the JSONL file the writer made of them."""
    capture = BinanceCaptureReader(usdm_capture)
    chunks = list(capture.chunks())
    path = tmp_path_factory.mktemp("usdm") / "usdm.jsonl"
    with JsonlEventWriter(path, capture.instrument) as writer:
        for chunk in chunks:
            writer.write(chunk.events)
    return np.concatenate([c.events for c in chunks]), path, writer.lines_written


def test_capture_round_trip(usdm_recorded: tuple[npt.NDArray[np.void], Path, int]) -> None:
    original, path, lines_written = usdm_recorded
    # One line per capture message: 1 snapshot, 6551 diffs, 21313 trades, 66089 tickers.
    assert lines_written == 93_954
    reader = JsonlEventReader(path, USDM)
    events, lines = read_all(reader)
    assert np.array_equal(events, original)
    assert reader.stats.malformed_total == 0
    assert reader.stats.by_stream == {
        "snapshot": 1,
        "diff": 6_551,
        "trade": 21_313,
        "ticker": 66_089,
    }
    assert (int(lines[0]), int(lines[-1])) == (1, 93_954)


def test_replay_sees_the_same_book(
    usdm_recorded: tuple[npt.NDArray[np.void], Path, int], usdm_capture: Path
) -> None:
    _, path, _ = usdm_recorded
    a, b = replay_captures([usdm_capture]), replay([JsonlEventReader(path, USDM)])
    same = ["diffs_applied", "diffs_dropped", "ticker_comparisons", "ticker_agreed"]
    assert [getattr(b, k) for k in same] == [getattr(a, k) for k in same]
    assert (b.best_bid, b.best_ask, len(b.gaps)) == (a.best_bid, a.best_ask, 0)


def test_spot_round_trip_gzip(tmp_path: Path, spot_captures: list[Path]) -> None:
    # Spot: no prev_id on diffs, no event time on tickers, 8-decimal book sizes.
    path = tmp_path / "spot.jsonl.gz"
    capture = BinanceCaptureReader(spot_captures[0])
    chunks = list(capture.chunks())
    with JsonlEventWriter(path, SPOT) as writer:
        for chunk in chunks:
            writer.write(chunk.events)
    events, _ = read_all(JsonlEventReader(path, SPOT))
    assert np.array_equal(events, np.concatenate([c.events for c in chunks]))
    text = gzip.decompress(path.read_bytes())
    first_diff = next(ln for ln in text.splitlines() if b'"diff"' in ln)
    assert b"prev_id" not in first_diff
    first_ticker = next(ln for ln in text.splitlines() if b'"ticker"' in ln)
    assert b"ts_event" not in first_ticker


def test_synthetic_bar_market_round_trip(tmp_path: Path) -> None:
    bars = np.array([(0, 10, 100, 105, 98, 103, 10, 0)], dtype=_core.BAR_DTYPE)
    events = bars_to_events(bars, half_spread_ticks=1, depth_lots=5)
    path = tmp_path / "bars.jsonl"
    with JsonlEventWriter(path, USDM) as writer:
        writer.write(events)
    assert np.array_equal(read_all(JsonlEventReader(path, USDM))[0], events)


GRID = _core.Grid(USDM.tick_size, USDM.book_lot_size)
prices = st.integers(0, 10**7).map(GRID.ticks_to_price)
sizes = st.integers(0, 10**7).map(GRID.lots_to_qty)
levels = st.lists(st.tuples(prices, sizes).map(list), max_size=4)
times = st.tuples(st.integers(0, 2**62), st.sampled_from([0, 1, 2**62]))
Push = Callable[[_core.EventBuilder], int]


@st.composite
def pushes(draw: st.DrawFn) -> Push:
    """One venue message, as a call on an EventBuilder."""
    recv, event = draw(times)
    kind = draw(st.sampled_from(["snapshot", "diff", "trade", "ticker"]))
    if kind in ("snapshot", "diff"):
        bids, asks = draw(levels), draw(levels)
        first, last = draw(st.integers(0, 2**40)), draw(st.integers(0, 2**40))
        if kind == "snapshot":
            return lambda b: b.push_snapshot(recv, event, last, bids, asks)
        prev = draw(st.sampled_from([-1, 0, 2**40]))
        return lambda b: b.push_diff(recv, event, first, last, prev, bids, asks)
    if kind == "trade":
        trade_id, p, q = draw(st.integers(0, 2**64 - 1)), draw(prices), draw(sizes)
        maker = draw(st.booleans())
        return lambda b: b.push_trade(recv, event, trade_id, p, q, maker)
    uid = draw(st.integers(-(2**40), 2**40))
    bp, bq, ap, aq = draw(prices), draw(sizes), draw(prices), draw(sizes)
    return lambda b: b.push_ticker(recv, event, uid, bp, bq, ap, aq)


@given(st.lists(pushes(), max_size=12), st.integers(1, 7))
def test_builder_rows_round_trip(
    tmp_path_factory: pytest.TempPathFactory, msgs: list[Push], cut: int
) -> None:
    builder = _core.EventBuilder(GRID)
    for push in msgs:
        push(builder)
    events = builder.finish()
    whole, pieces = io.BytesIO(), io.BytesIO()
    with JsonlEventWriter(whole, USDM) as writer:
        writer.write(events)
    with JsonlEventWriter(pieces, USDM) as writer:
        for start in range(0, len(events), cut):
            writer.write(events[start : start + cut])
    assert pieces.getvalue() == whole.getvalue()
    assert whole.getvalue().count(b"\n") == len(msgs)
    path = tmp_path_factory.mktemp("jsonl") / "rt.jsonl"
    path.write_bytes(whole.getvalue())
    back, _ = read_all(JsonlEventReader(path, USDM))
    assert np.array_equal(back, events)
