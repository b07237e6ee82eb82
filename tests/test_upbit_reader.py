"""The Upbit instrument facts and the Upbit capture reader, on hand-written lines."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable
from decimal import Decimal
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest

from adapters.data.upbit_capture import (
    BAD_DECIMAL,
    BAD_JSON,
    BAD_TIMESTAMP,
    BAD_VALUE,
    CORRUPT_GZIP,
    CROSSED_BOOK,
    MISSING_FIELD,
    NO_SEPARATOR,
    CaptureError,
    UpbitCaptureReader,
    is_upbit_capture,
    open_upbit_capture,
)
from engine import _core
from engine.domain import InstrumentKind, PrecisionError
from engine.marketdata.instruments import InstrumentSpec, UnknownInstrumentError
from engine.marketdata.upbit import (
    KRW_BTC,
    UNIFIED_SYMBOLS,
    UPBIT_INSTRUMENT_DEFAULTS,
    upbit_instrument,
    upbit_trading_instrument,
)

WriteLines = Callable[[str, Iterable[bytes]], Path]
MS = 1_000_000
T0 = 1_723_161_255_300  # ms


def unit(bid: tuple[object, object], ask: tuple[object, object]) -> str:
    return f'{{"ask_price":{ask[0]},"bid_price":{bid[0]},"ask_size":{ask[1]},"bid_size":{bid[1]}}}'


def book(ms: int, *units: str, extra: str = "") -> str:
    return (
        f'{{"type":"orderbook","code":"KRW-BTC","timestamp":{ms},"total_ask_size":1.0,'
        f'"total_bid_size":1.0,"orderbook_units":[{",".join(units)}],"stream_type":"REALTIME",'
        f'"level":0{extra}}}'
    )


def trade(ms: int, price: object, volume: object, ask_bid: str, seq: int, extra: str = "") -> str:
    return (
        f'{{"type":"trade","code":"KRW-BTC","timestamp":{ms},"trade_timestamp":{ms - 1},'
        f'"trade_price":{price},"trade_volume":{volume},"ask_bid":"{ask_bid}",'
        f'"sequential_id":{seq},"stream_type":"REALTIME"{extra}}}'
    )


def capture(write: WriteLines, *messages: str | bytes, name: str = "upbit.gz") -> Path:
    """Lines `<recv ns> <message>`, receive times 1, 2, 3, ... seconds; bytes go as they are."""
    return write(
        name,
        [
            m if isinstance(m, bytes) else f"{i * 10**9} {m}\n".encode()
            for i, m in enumerate(messages, 1)
        ],
    )


def read(path: Path, **kw: object) -> tuple[UpbitCaptureReader, npt.NDArray[np.void], list[int]]:
    reader = UpbitCaptureReader(path, **kw)  # type: ignore[arg-type]
    chunks = list(reader.chunks())
    if not chunks:
        return reader, np.zeros(0, dtype=_core.EVENT_DTYPE), []
    events = np.concatenate([c.events for c in chunks])
    lines = np.concatenate([c.lines for c in chunks]).tolist()
    return reader, events, lines


def levels(events: npt.NDArray[np.void]) -> list[tuple[int, int, int]]:
    """(side, price ticks, lots) of the level rows."""
    rows = events[(events["flags"] & _core.FLAG_EMPTY) == 0]
    return list(
        zip(rows["side"].tolist(), rows["price"].tolist(), rows["qty"].tolist(), strict=True)
    )


# --- instrument facts --------------------------------------------------------------------
def test_krw_btc_spec_and_lookup() -> None:
    assert (KRW_BTC.venue, KRW_BTC.market, KRW_BTC.symbol) == ("upbit", "spot", "KRW-BTC")
    assert (KRW_BTC.tick_size, KRW_BTC.lot_size, KRW_BTC.sequence_rule) == (
        "1000",
        "0.00000001",
        "spot",
    )
    assert KRW_BTC.book_lot_size == "0.00000001"
    assert KRW_BTC.key == "upbit:spot:KRW-BTC"
    assert UNIFIED_SYMBOLS == {"KRW-BTC": "BTC/KRW"}
    assert upbit_instrument("spot", "krw-btc") is KRW_BTC
    with pytest.raises(UnknownInstrumentError, match=r"symbol='KRW-ETH'; known: spot KRW-BTC"):
        upbit_instrument("spot", "KRW-ETH")


def test_trading_instrument_from_the_upbit_code() -> None:
    inst = upbit_trading_instrument(KRW_BTC)
    assert (inst.symbol, inst.base, inst.quote, inst.kind) == (
        "BTC/KRW",  # traded under its unified symbol; the code stays in the spec
        "BTC",
        "KRW",
        InstrumentKind.SPOT,
    )
    assert (inst.tick_size, inst.lot_size) == (Decimal(1000), Decimal("0.00000001"))
    assert (inst.price_precision, inst.quantity_precision) == (0, 8)
    assert inst.min_notional == Decimal(5000)
    assert (inst.maker_fee_rate, inst.taker_fee_rate) == (Decimal("0.0005"), Decimal("0.0005"))
    # 1,000,000,000 KRW max order amount at 2,000,000 KRW, the bottom of the 1,000 tick band
    assert inst.max_quantity == Decimal(500)
    assert inst.min_quantity == Decimal("0.00000001")
    assert inst.price_to_ticks(Decimal("84717000")) == 84_717
    with pytest.raises(PrecisionError):
        inst.price_to_ticks(Decimal("84717500"))
    assert inst.qty_to_lots(Decimal("0.00077720")) == 77_720
    assert set(UPBIT_INSTRUMENT_DEFAULTS) == {"spot"}
    binance = InstrumentSpec("binance", "spot", "BTCUSDT", "0.01", "0.00001", "spot")
    with pytest.raises(UnknownInstrumentError, match="venue must be 'upbit'"):
        upbit_trading_instrument(binance)
    odd = InstrumentSpec("upbit", "spot", "KRWBTC", "1000", "0.00000001", "spot")
    with pytest.raises(UnknownInstrumentError, match=r"not '\{quote\}-\{base\}'"):
        upbit_trading_instrument(odd)


# --- books --------------------------------------------------------------------------------
def test_each_orderbook_replaces_the_book(write_gzip_lines: WriteLines) -> None:
    path = capture(
        write_gzip_lines,
        book(
            T0,
            unit(("8.4717E7", "0.5"), ("8.4718E7", "0.3")),
            unit(("8.4716E7", "0.2"), ("8.4719E7", "0.1")),
            unit(("8.4715E7", "0.7"), ("8.4720E7", "0.4")),
        ),
        # next: 84,716,000 and 84,720,000 are gone, 84,714,000 is new, sizes changed
        book(
            T0 + 100,
            unit(("84717000", "0.25"), ("84718000.0", "0.3")),
            unit(("84715000", "0.7"), ("84719000", "0.15")),
            unit(("84714000", "1.0"), ("0", "0")),
        ),
    )
    reader, events, lines = read(path)
    assert reader.instrument is KRW_BTC
    assert reader.stats.by_stream == {"orderbook:KRW-BTC": 2}
    assert set(events["kind"].tolist()) == {_core.KIND_SNAPSHOT}
    first = events[np.asarray(lines) == 1]
    assert levels(first) == [
        (0, 84_717, 50_000_000),
        (0, 84_716, 20_000_000),
        (0, 84_715, 70_000_000),
        (1, 84_718, 30_000_000),
        (1, 84_719, 10_000_000),
        (1, 84_720, 40_000_000),
    ]
    # one message: BEGIN on the first row, END on the last; seq_last = timestamp (ms)
    assert first["flags"].tolist() == [_core.FLAG_BEGIN, 0, 0, 0, 0, _core.FLAG_END]
    assert set(first["seq_last"].tolist()) == {T0}
    assert set(first["ts_event"].tolist()) == {T0 * MS}
    assert set(first["ts_recv"].tolist()) == {10**9}

    l2 = _core.L2Book(KRW_BTC.sequence_rule)
    l2.apply_events(first)
    assert l2.depth(_core.SIDE_BID, 5) == [
        (84_717, 50_000_000),
        (84_716, 20_000_000),
        (84_715, 70_000_000),
    ]
    result = l2.apply_events(events[np.asarray(lines) == 2])
    assert (result.snapshots, result.gaps, result.errors) == (1, 0, 0)
    # exactly the second message's levels: the empty ask slot of its last unit is no level
    assert l2.levels(_core.SIDE_BID) == [
        (84_717, 25_000_000),
        (84_715, 70_000_000),
        (84_714, 100_000_000),
    ]
    assert l2.levels(_core.SIDE_ASK) == [(84_718, 30_000_000), (84_719, 15_000_000)]
    assert not l2.stale
    assert l2.last_update_id == T0 + 100


def test_an_empty_orderbook_empties_the_book(write_gzip_lines: WriteLines) -> None:
    path = capture(
        write_gzip_lines,
        book(T0, unit(("84717000", "0.5"), ("84718000", "0.3"))),
        book(T0 + 100),
    )
    _, events, lines = read(path)
    empty = events[np.asarray(lines) == 2]
    assert len(empty) == 1
    assert empty["flags"][0] == _core.FLAG_BEGIN | _core.FLAG_END | _core.FLAG_EMPTY
    l2 = _core.L2Book("spot")
    l2.apply_events(events)
    assert (l2.best_bid(), l2.best_ask(), l2.stale) == (None, None, False)


@pytest.mark.parametrize(
    ("price", "size", "ticks", "lots"),
    [
        ("8.4717E7", "0.00077720", 84_717, 77_720),
        ("84717000.0", "1E-8", 84_717, 1),
        ("84717000", "0.1", 84_717, 10_000_000),
        ("8.4717E+7", "12.34567891", 84_717, 1_234_567_891),
        ("1.0E8", "5", 100_000, 500_000_000),
        ("2000000", "0.00000001", 2_000, 1),
    ],
)
def test_numbers_are_read_exactly(
    write_gzip_lines: WriteLines, price: str, size: str, ticks: int, lots: int
) -> None:
    path = capture(
        write_gzip_lines,
        book(T0, unit((price, size), ("1.5E8", "1"))),
        trade(T0 + 1, price, size, "BID", 7),
    )
    reader, events, _ = read(path)
    assert reader.stats.malformed == {}
    assert levels(events)[0] == (0, ticks, lots)
    assert (int(events["price"][-1]), int(events["qty"][-1])) == (ticks, lots)


# --- trades -------------------------------------------------------------------------------
def test_trades_carry_the_taker_side_and_the_sequential_id(write_gzip_lines: WriteLines) -> None:
    path = capture(
        write_gzip_lines,
        trade(T0, "8.4717E7", "0.048", "ASK", 17231612553990000),
        trade(T0 + 5, "8.4718E7", "0.00009", "BID", 17231612553990001),
    )
    reader, events, lines = read(path)
    assert reader.stats.by_stream == {"trade:KRW-BTC": 2}
    assert lines == [1, 2]
    assert events["kind"].tolist() == [_core.KIND_TRADE] * 2
    # ASK: the seller took a bid -> aggressor Ask (1); BID: the buyer took -> Bid (0)
    assert events["side"].tolist() == [_core.SIDE_ASK, _core.SIDE_BID]
    assert events["price"].tolist() == [84_717, 84_718]
    assert events["qty"].tolist() == [4_800_000, 9_000]
    assert events["order_id"].tolist() == [17231612553990000, 17231612553990001]
    assert events["ts_event"].tolist() == [
        T0 * MS,
        (T0 + 5) * MS,
    ]  # `timestamp`, not trade_timestamp
    assert events["ts_recv"].tolist() == [10**9, 2 * 10**9]
    assert set(events["flags"].tolist()) == {_core.FLAG_BEGIN | _core.FLAG_END}


# --- what is skipped ----------------------------------------------------------------------
def test_bad_lines_are_counted_by_category_and_skipped(write_gzip_lines: WriteLines) -> None:
    good_book = book(T0, unit(("84717000", "0.5"), ("84718000", "0.3")))
    bad: list[tuple[str | bytes, str]] = [
        (b"no-space\n", NO_SEPARATOR),
        (f"12x {good_book}\n".encode(), BAD_TIMESTAMP),
        ('{"type":"orderbook",', BAD_JSON),
        ("[1, 2]", BAD_VALUE),
        ('{"type":"trade","code":"KRW-BTC","timestamp":1}', MISSING_FIELD),  # trade fields
        (book(T0).replace('"orderbook_units":[],', ""), MISSING_FIELD),
        (trade(T0, "84717000", "0.1", "SELL", 1), BAD_VALUE),
        (trade(T0, '"84717000"', "0.1", "ASK", 1), BAD_VALUE),  # a string, not a number
        (trade(T0, "84717000", "0.1", "ASK", -1), BAD_VALUE),
        (book(T0).replace(f"{T0}", f'"{T0}"'), BAD_VALUE),
        (book(T0).replace("[]", "{}"), BAD_VALUE),
        (book(T0, "[1]"), BAD_VALUE),
        (book(T0, unit(("84717500", "0.5"), ("84718000", "0.3"))), BAD_DECIMAL),
        (trade(T0, "84717000", "0.000000001", "ASK", 1), BAD_DECIMAL),
        (book(T0, unit(("84717000", "-0.5"), ("84718000", "0.3"))), BAD_DECIMAL),
        (trade(T0, "1E+999999999", "0.1", "ASK", 1), BAD_DECIMAL),
        (book(T0, unit(("84718000", "0.5"), ("84718000", "0.3"))), CROSSED_BOOK),
    ]
    path = capture(write_gzip_lines, good_book, *(text for text, _ in bad), good_book)
    # a blank line too
    lines_raw = gzip.decompress(path.read_bytes()) + b"\n"
    path.write_bytes(gzip.compress(lines_raw))
    reader, events, lines = read(path)
    stats = reader.stats
    expected: dict[str, int] = {}
    for _, category in bad:
        expected[category] = expected.get(category, 0) + 1
    assert stats.malformed == expected
    assert stats.by_stream == {"orderbook:KRW-BTC": 2}
    assert stats.blank == 1
    assert stats.lines == len(bad) + 3
    assert sorted(set(lines)) == [1, len(bad) + 2]
    assert len(events) == 4
    details = {e.line: e.detail for e in stats.examples}
    # line = index in `bad` + 2; the first five examples of each category are kept
    assert details[2 + 4] == "trade:KRW-BTC: missing field 'sequential_id'"
    assert details[2 + 5] == "orderbook:KRW-BTC: missing field 'orderbook_units'"
    assert details[2 + 6] == "trade:KRW-BTC: field 'ask_bid' = 'SELL': expected 'ASK' or 'BID'"
    assert details[2 + 7] == (
        "trade:KRW-BTC: field 'trade_price' = '84717000': expected a JSON number"
    )
    assert details[2 + 12] == (
        'orderbook:KRW-BTC: orderbook_units[0].bid_price: value "84717500" is not a multiple '
        "of step 1000 (rule: on the grid)"
    )
    assert details[2 + 13].startswith('trade:KRW-BTC: trade_volume: value "0.000000001"')
    assert "orderbook_units[0].bid_size" in details[2 + 14]
    assert details[2 + 15].startswith("trade:KRW-BTC: field 'trade_price' = 1E+999999999")
    assert details[2 + 16] == (
        "orderbook:KRW-BTC: crossed book: best bid 84718000 >= best ask 84718000"
    )


def test_error_names_the_unit_after_skipped_empty_slots(write_gzip_lines: WriteLines) -> None:
    path = capture(
        write_gzip_lines,
        book(
            T0,
            unit(("84717000", "0.5"), ("84718000", "0.3")),
            unit(("0", "0"), ("84719000", "0.3")),
            unit(("0", "0"), ("84720500", "0.3")),
        ),
        name="slots.gz",
    )
    reader, events, _ = read(path, instrument=KRW_BTC)
    assert len(events) == 0
    (issue,) = reader.stats.examples
    assert issue.category == BAD_DECIMAL
    assert issue.detail.startswith(
        'orderbook:KRW-BTC: orderbook_units[2].ask_price: value "84720500"'
    )


def test_streams_not_replayed_are_counted_as_unknown(write_gzip_lines: WriteLines) -> None:
    path = capture(
        write_gzip_lines,
        book(T0, unit(("84717000", "0.5"), ("84718000", "0.3"))),
        '{"type":"ticker","code":"KRW-BTC","trade_price":84717000.0}',
        book(T0, unit(("3000000", "1"), ("3001000", "1"))).replace("KRW-BTC", "KRW-ETH"),
        book(T0, unit(("84700000", "0.5"), ("84800000", "0.3"))).replace(
            '"level":0', '"level":100000'
        ),
        trade(T0, "84717000", "0.1", "ASK", 1).replace("REALTIME", "SNAPSHOT"),
        '{"status":"UP"}',
        '{"error":{"name":"WRONG_FORMAT","message":"x"}}',
        trade(T0, "84717000", "0.1", "ASK", 2),
    )
    reader, events, lines = read(path)
    stats = reader.stats
    assert stats.unknown_streams == {
        "ticker:KRW-BTC": 1,
        "orderbook:KRW-ETH": 1,
        "orderbook:KRW-BTC:level=100000": 1,
        "trade:KRW-BTC:SNAPSHOT": 1,
        "<no type>": 2,
    }
    assert stats.by_stream == {"orderbook:KRW-BTC": 1, "trade:KRW-BTC": 1}
    assert stats.malformed == {}
    assert sorted(set(lines)) == [1, 8]
    assert events["order_id"].tolist()[-1] == 2


def test_chunks_hold_whole_messages_with_their_lines(write_gzip_lines: WriteLines) -> None:
    books = [
        book(T0 + i, unit((f"{84717000 - 1000 * i}", "0.5"), (f"{84718000 + 1000 * i}", "0.3")))
        for i in range(10)
    ]
    path = capture(write_gzip_lines, *books)
    reader = UpbitCaptureReader(path, chunk_rows=3)
    chunks = list(reader.chunks())
    assert [len(c.events) for c in chunks] == [4] * 5  # two messages of two rows each
    assert chunks[1].lines.tolist() == [3, 3, 4, 4]
    assert chunks[4].events["price"].tolist() == [84_709, 84_726, 84_708, 84_727]
    # stats restart with every pass
    assert sum(len(c.events) for c in reader.chunks()) == 20
    assert reader.stats.by_stream == {"orderbook:KRW-BTC": 10}


def test_a_truncated_file_ends_with_corrupt_gzip(write_gzip_lines: WriteLines) -> None:
    books = [
        book(T0 + i, unit((f"{84717000 + i * 1000}", "0.5"), ("99999000", "1")))
        for i in range(4000)
    ]
    path = capture(write_gzip_lines, *books)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])
    reader, _, _ = read(path)
    assert reader.stats.malformed.get(CORRUPT_GZIP) == 1
    assert 0 < reader.stats.by_stream["orderbook:KRW-BTC"] < 4000


# --- opening ------------------------------------------------------------------------------
def test_opening_errors_say_what_is_wrong(
    write_gzip_lines: WriteLines, tmp_path: Path, spot_captures: list[Path]
) -> None:
    with pytest.raises(CaptureError, match="no such file"):
        open_upbit_capture(tmp_path / "missing.gz")
    with pytest.raises(CaptureError, match="is a directory"):
        open_upbit_capture(tmp_path)
    plain = tmp_path / "plain.gz"
    plain.write_text("not gzip")
    with pytest.raises(CaptureError, match="not a readable gzip file"):
        open_upbit_capture(plain)
    with pytest.raises(CaptureError, match="it has no lines"):
        open_upbit_capture(write_gzip_lines("empty.gz", []))
    with pytest.raises(CaptureError, match=r"no line of the first 2 is '<ns> <json object>'"):
        open_upbit_capture(write_gzip_lines("text.gz", [b"hello\n", b"1 [1]\n"]))
    with pytest.raises(CaptureError, match="line 1 is a Binance message"):
        open_upbit_capture(spot_captures[0])
    eth = capture(
        write_gzip_lines, trade(T0, "3000000", "1", "ASK", 1).replace("KRW-BTC", "KRW-ETH")
    )
    with pytest.raises(CaptureError, match=r"line 1: no tick/lot spec .* symbol='KRW-ETH'"):
        open_upbit_capture(eth)
    ticker = capture(write_gzip_lines, '{"type":"ticker","code":"KRW-BTC"}', name="t.gz")
    with pytest.raises(CaptureError, match="cannot tell the pair"):
        open_upbit_capture(ticker)
    # An instrument given up front skips the identification.
    assert UpbitCaptureReader(ticker, instrument=KRW_BTC).instrument is KRW_BTC


def test_is_upbit_capture_sniffs_the_content(
    write_gzip_lines: WriteLines, tmp_path: Path, spot_captures: list[Path]
) -> None:
    upbit = capture(write_gzip_lines, "", trade(T0, "84717000", "0.1", "ASK", 1))
    assert is_upbit_capture(upbit)
    assert not is_upbit_capture(spot_captures[0])
    assert not is_upbit_capture(write_gzip_lines("empty.gz", []))
    assert not is_upbit_capture(write_gzip_lines("text.gz", [b"x\n"]))
    plain = tmp_path / "plain.gz"
    plain.write_text("not gzip")
    assert not is_upbit_capture(plain)
    assert not is_upbit_capture(tmp_path / "missing.gz")
