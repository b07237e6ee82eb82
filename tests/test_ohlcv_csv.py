"""OHLCV CSV reader and writer, the bundled bar file, and the synthetic market on bars."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.data import BUNDLED_OHLCV
from adapters.data.binance_capture import BinanceCaptureReader
from adapters.data.ohlcv_csv import (
    OhlcvCsvError,
    bars_to_events,
    parse_timestamp,
    read_ohlcv_csv,
    write_ohlcv_csv,
)
from engine import _core
from engine.marketdata.instruments import InstrumentSpec, binance_instrument

S = 1_000_000_000
USDM = binance_instrument("usdm", "BTCUSDT")  # tick 0.1, lot 0.001
AUG9 = 1_723_161_600  # 2024-08-09T00:00:00Z in seconds


def bars_of(rows: list[tuple[int, int, int, int, int, int, int, int]]) -> npt.NDArray[np.void]:
    return np.array(rows, dtype=_core.BAR_DTYPE)


def write(tmp_path: Path, text: str, name: str = "bars.csv") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# --- timestamps -----------------------------------------------------------------------
@pytest.mark.parametrize(
    ("text", "ns", "form"),
    [
        ("1723161600", AUG9 * S, "s"),
        ("1723161600000", AUG9 * S, "ms"),
        ("1723161600000000", AUG9 * S, "us"),
        ("1723161600000000000", AUG9 * S, "ns"),
        ("9223372036", 9_223_372_036 * S, "s"),  # 2262-04-11, the end of int64 ns
        ("100000000000", 100_000_000_000 * 10**6, "ms"),  # the first ms value: 1973-03-03
        ("0", 0, "s"),
        ("2024-08-09T00:00:00Z", AUG9 * S, "iso"),
        ("2024-08-09 02:00:00+02:00", AUG9 * S, "iso"),
        ("2024-08-08T18:30-05:30", AUG9 * S, "iso"),
        ("2024-08-09T01:00:00.5+0100", AUG9 * S + 500_000_000, "iso"),
        ("2024-08-09T00:00:00,000000001+00", AUG9 * S + 1, "iso"),
        ("2024-08-08T23:59:59.123456789z", AUG9 * S - S + 123_456_789, "iso"),
        ("2024-08-09", AUG9 * S, "iso"),  # a bare date: the UTC day
    ],
)
def test_parse_timestamp(text: str, ns: int, form: str) -> None:
    assert parse_timestamp(text) == (ns, form)


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("2024-08-09T00:00:00", "has no time zone"),
        ("2024-08-09 00:00", "has no time zone"),
        ("2024-02-30T00:00:00Z", "day is out of range"),
        ("2024-08-09T24:00:00Z", r"time of day out of range \(rule: 00:00:00-23:59:59\)"),
        ("2024-08-09T00:00:60Z", "time of day out of range"),
        ("2024-08-09T00:00:00+24:00", "zone offset out of range"),
        ("1723161600.5", "neither an integer"),
        ("-1723161600", "neither an integer"),
        ("1e9", "neither an integer"),
        ("99999999999999999999", "does not fit in int64"),
        ("9223372037", "does not fit in int64"),  # seconds past 2262-04-11
        ("2024-08-09T00:00:00.1234567890Z", "neither an integer"),
    ],
)
def test_parse_timestamp_errors(text: str, why: str) -> None:
    with pytest.raises(ValueError, match=why) as err:
        parse_timestamp(text)
    assert repr(text) in str(err.value)


# --- reading --------------------------------------------------------------------------
def test_reads_iso_rows_with_a_header_of_any_case(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "\ufeffDate , Open,HIGH,Low,Close,Volume,Adj Close\n"
        "2024-08-09T00:00:00Z,61800.0,61810.5,61790.1,61805.0,1.5,x\n"
        "\n"
        "2024-08-09T00:01:00Z,61805.0,61805.0,61700.0,61700.0,0,x\n"
        "2024-08-09T00:04:00Z,61700.1,61700.1,61700.1,61700.1,0.001,x\n",
    )
    bars = read_ohlcv_csv(path, USDM)
    assert bars.dtype == _core.BAR_DTYPE
    # The interval is the smallest gap, one minute; the empty 00:02 and 00:03 stay gaps.
    m = 60 * S
    t0 = AUG9 * S
    assert bars.tolist() == [
        (t0, t0 + m, 618000, 618105, 617901, 618050, 1500, 0),
        (t0 + m, t0 + 2 * m, 618050, 618050, 617000, 617000, 0, 0),
        (t0 + 4 * m, t0 + 5 * m, 617001, 617001, 617001, 617001, 1, 0),
    ]


def test_reads_aliases_trade_counts_gzip_and_an_explicit_interval(tmp_path: Path) -> None:
    text = (
        "open_time,o,h,l,c,v,close_time,Number of Trades\n"
        "1723161600000,61800.0,61800.0,61800.0,61800.0,2.000,1723161659999,7\n"
        "1723161660000,61800.0,61801.0,61799.0,61800.5,0.250,1723161719999,3\n"
    )
    path = tmp_path / "bars.csv.gz"
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        fh.write(text)
    bars = read_ohlcv_csv(path, USDM, interval_ns=30 * S)
    t0 = AUG9 * S
    assert bars.tolist() == [
        (t0, t0 + 30 * S, 618000, 618000, 618000, 618000, 2000, 7),
        (t0 + 60 * S, t0 + 90 * S, 618000, 618010, 617990, 618005, 250, 3),
    ]
    header_only = write(tmp_path, "timestamp,open,high,low,close,volume\n", "empty.csv")
    assert len(read_ohlcv_csv(header_only, USDM)) == 0


GOOD = "1723161600,61800.0,61800.0,61800.0,61800.0,1\n"
HEADER = "timestamp,open,high,low,close,volume\n"


@pytest.mark.parametrize(
    ("text", "where", "needles"),
    [
        (
            HEADER + GOOD + "1723161601,61800.0,61800.0,61800.05,61800.0,1\n",
            3,
            ["column 'low'", '"61800.05"', "not a multiple of step 0.1", "binance:usdm:BTCUSDT"],
        ),
        (
            HEADER + GOOD + "1723161601,61800.0,61800.0,61800.0,61800.0,-2\n",
            3,
            ["column 'volume'", '"-2" is negative (rule: must be >= 0)', "lot size 0.001"],
        ),
        (
            HEADER + GOOD + "1723161601,61800.0,61800.0,61800.0,61800.0,0.0005\n",
            3,
            ["column 'volume'", '"0.0005"', "not a multiple of step 0.001"],
        ),
        (
            HEADER + "1723161600,61800.0,61799.9,61700.0,61750.0,1\n",
            2,
            ["high 61799.9 is below max(open 61800.0, close 61750.0)", "high >= max(open, close)"],
        ),
        (
            HEADER + "1723161600,61800.0,61900.0,61800.1,61850.0,1\n",
            2,
            ["low 61800.1 is above min(open 61800.0, close 61850.0)", "low <= min(open, close)"],
        ),
        (
            HEADER + GOOD + GOOD,
            3,
            ["'1723161600' is not after '1723161600' at line 2", "strictly increasing time"],
        ),
        (
            HEADER + GOOD + "1723161601000,61800.0,61800.0,61800.0,61800.0,1\n",
            3,
            ["'1723161601000' is integer milliseconds", "first row's is integer seconds"],
        ),
        (
            HEADER + GOOD + "2024-08-09T00:00:01,61800.0,61800.0,61800.0,61800.0,1\n",
            3,
            ["column 'timestamp'", "'2024-08-09T00:00:01' has no time zone"],
        ),
        (HEADER + GOOD + "1723161601,61800.0,61800.0,61800.0,61800.0\n", 3, ["5 fields", "has 6"]),
        (HEADER + GOOD + "1723161601,61800.0, ,61800.0,61800.0,1\n", 3, ["column 'high' is empty"]),
        (
            HEADER + "1723161600,61800.0,61800.0,6.18e4,61800.0,1\n",
            2,
            ["column 'low'", '"6.18e4" is not a decimal number'],
        ),
        (
            "timestamp,open,high,low,close,volume,trades\n"
            "1723161600,61800.0,61800.0,61800.0,61800.0,1,2.5\n",
            2,
            ["column 'trades' value '2.5' is not a count", "integer >= 0"],
        ),
        (
            GOOD + GOOD,
            1,
            ["no timestamp column", "line 1 looks like data", "header row is required"],
        ),
        ("time,open,high,low,close\n" + GOOD, 1, ["no volume column", "volume, vol, v"]),
        (
            "time,timestamp,open,high,low,close,volume\n",
            1,
            ["columns 'time' and 'timestamp' both name the timestamp"],
        ),
        ("", 1, ["the file is empty"]),
        (HEADER + GOOD, 2, ["one bar says nothing about the bar length", "pass interval_ns"]),
    ],
)
def test_every_error_names_file_line_column_and_value(
    tmp_path: Path, text: str, where: int, needles: list[str]
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(OhlcvCsvError) as err:
        read_ohlcv_csv(path, USDM)
    message = str(err.value)
    assert message.startswith(f"{path}:{where}: "), message
    for needle in needles:
        assert needle in message, (needle, message)


def test_interval_errors(tmp_path: Path) -> None:
    path = write(tmp_path, HEADER + GOOD + "1723161630,61800.0,61800.0,61800.0,61800.0,1\n")
    with pytest.raises(
        OhlcvCsvError, match=r":3: bar opens 30000000000 ns after the bar at line 2"
    ):
        read_ohlcv_csv(path, USDM, interval_ns=60 * S)
    with pytest.raises(OhlcvCsvError, match=r"interval_ns 0 is not positive"):
        read_ohlcv_csv(path, USDM, interval_ns=0)
    with pytest.raises(OhlcvCsvError, match="no such file"):
        read_ohlcv_csv(tmp_path / "missing.csv", USDM)
    binary = tmp_path / "binary.csv"
    binary.write_bytes(b"timestamp,open\xff\xfe\n")
    with pytest.raises(OhlcvCsvError, match="unreadable as a CSV text file"):
        read_ohlcv_csv(binary, USDM)
    whole = gzip.compress((HEADER + GOOD * 3).encode())
    cut = tmp_path / "cut.csv.gz"
    cut.write_bytes(whole[: len(whole) // 2])
    with pytest.raises(OhlcvCsvError, match=r"cut\.csv\.gz: unreadable as a CSV text file"):
        read_ohlcv_csv(cut, USDM)


# --- writing and round trips ----------------------------------------------------------
def test_writer_refuses_times_it_cannot_write_exactly(tmp_path: Path) -> None:
    bars = bars_of([(AUG9 * S + 1, AUG9 * S + S, 1, 1, 1, 1, 1, 0)])
    with pytest.raises(ValueError, match=r"bars\[0\]\.ts_open 1723161600000000001: not writable"):
        write_ohlcv_csv(tmp_path / "x.csv", bars, USDM, time_unit="ms")
    assert not (tmp_path / "x.csv").exists()
    early = bars_of([(10**9, 2 * 10**9, 1, 1, 1, 1, 1, 0)])  # 1 s after the epoch: reads as s
    with pytest.raises(ValueError, match="reads back as ms"):
        write_ohlcv_csv(tmp_path / "x.csv", early, USDM, time_unit="ms")


def bar_lists(draw: st.DrawFn) -> tuple[list[tuple[int, ...]], int]:
    interval = draw(st.sampled_from([1, 60, 3600]))  # seconds
    n = draw(st.integers(1, 12))
    out: list[tuple[int, ...]] = []
    ts = draw(st.integers(1_600_000_000, 1_800_000_000)) // interval * interval
    for _ in range(n):
        lo = draw(st.integers(1, 10**7))
        hi = lo + draw(st.integers(0, 10**5))
        o, c = draw(st.integers(lo, hi)), draw(st.integers(lo, hi))
        volume = draw(st.integers(0, 10**9))
        out.append((ts * S, (ts + interval) * S, o, hi, lo, c, volume, draw(st.integers(0, 99))))
        ts += interval * draw(st.integers(1, 3))
    return out, interval * S


@given(st.composite(bar_lists)(), st.sampled_from(["s", "ms", "us", "ns"]))
def test_csv_round_trip(
    tmp_path_factory: pytest.TempPathFactory, drawn: tuple[list[tuple[int, ...]], int], unit: str
) -> None:
    rows, interval_ns = drawn
    bars = np.array(rows, dtype=_core.BAR_DTYPE)
    path = tmp_path_factory.mktemp("rt") / "bars.csv"
    write_ohlcv_csv(path, bars, USDM, time_unit=unit)  # type: ignore[arg-type]
    back = read_ohlcv_csv(path, USDM, interval_ns=interval_ns)
    assert back.tolist() == bars.tolist()
    first = path.read_bytes()
    write_ohlcv_csv(path, bars, USDM, time_unit=unit)  # type: ignore[arg-type]
    assert path.read_bytes() == first


# --- the bundled bars -----------------------------------------------------------------
def test_bundled_bars_are_the_capture_trades(tmp_path: Path, usdm_capture: Path) -> None:
    bars = read_ohlcv_csv(BUNDLED_OHLCV, USDM)
    assert len(bars) == 344
    # First line of the file: 1723161256000,61800.3,61800.3,61800.0,61800.0,4.582,35
    t0 = 1_723_161_256 * S
    assert bars[0].tolist() == (t0, t0 + S, 618003, 618003, 618000, 618000, 4582, 35)
    assert int(bars["trades"].sum()) == 21_313  # every trade line of the capture
    reader = BinanceCaptureReader(usdm_capture)
    events = np.concatenate([c.events for c in reader.chunks()])
    assert bars.tolist() == _core.bars_from_events(events, S).tolist()
    # The generator is deterministic: a fresh build gives the bundled bytes.
    fresh = tmp_path / "fresh.csv"
    write_ohlcv_csv(fresh, _core.bars_from_events(events, S), reader.instrument)
    assert fresh.read_bytes() == BUNDLED_OHLCV.read_bytes()


# --- the synthetic market -------------------------------------------------------------
TWO_BARS = bars_of(
    [
        (1000, 1010, 100, 105, 98, 103, 10, 0),  # up: open, low, high, close
        (1010, 1020, 103, 104, 99, 100, 2, 0),  # down: open, high, low, close; 2 lots
    ]
)


def test_bars_to_events_by_hand() -> None:
    events = bars_to_events(TWO_BARS, half_spread_ticks=2, depth_lots=7)
    fields = ["ts_event", "ts_recv", "kind", "side", "price", "qty", "seq_last", "order_id"]
    snap, trade = _core.KIND_SNAPSHOT, _core.KIND_TRADE

    def point(
        ts: int, uid: int, price: int, print_: tuple[int, int, int] | None
    ) -> list[tuple[int, ...]]:
        rows: list[tuple[int, ...]] = [
            (ts, ts, snap, 0, price - 2, 7, uid, 0),
            (ts, ts, snap, 1, price + 2, 7, uid, 0),
        ]
        if print_ is not None:
            side, qty, trade_id = print_
            rows.append((ts, ts, trade, side, price, qty, 0, trade_id))
        return rows

    # Times: 1000 + k * (10 - 1) // 3. Volume 10 -> 3, 3, 2, 2; volume 2 -> 1, 1, 0, 0.
    # Aggressor: the first print buys; down -> sell, up -> buy; 103 after 103 repeats sell.
    expected = [
        *point(1000, 1, 100, (0, 3, 1)),
        *point(1003, 2, 98, (1, 3, 2)),
        *point(1006, 3, 105, (0, 2, 3)),
        *point(1009, 4, 103, (1, 2, 4)),
        *point(1010, 5, 103, (1, 1, 5)),
        *point(1013, 6, 104, (0, 1, 6)),
        *point(1016, 7, 99, None),
        *point(1019, 8, 100, None),
    ]
    assert events[fields].tolist() == expected
    assert set(events["seq_first"].tolist()) == {0}
    assert set(events["seq_prev"].tolist()) == {-1}
    flags = events["flags"].tolist()
    assert flags[:3] == [_core.FLAG_BEGIN, _core.FLAG_END, _core.FLAG_BEGIN | _core.FLAG_END]
    assert len(bars_to_events(TWO_BARS[:0], half_spread_ticks=1, depth_lots=1)) == 0


def test_the_book_and_the_sim_accept_the_synthetic_market() -> None:
    events = bars_to_events(TWO_BARS, half_spread_ticks=2, depth_lots=7)
    for rule in ("spot", "futures"):
        book = _core.L2Book(rule)
        result = book.apply_events(events)
        assert (result.snapshots, result.trades, result.gaps, result.errors) == (8, 6, 0, 0)
        assert (book.best_bid(), book.best_ask()) == ((98, 7), (102, 7))
    venue = _core.SimVenue("0.1", "0.001", maker_fee="0", taker_fee="0")
    venue.apply_events(events[:3])  # the open: book 98 x 102
    buy = venue.submit(1000, 0, "limit", 1, price=99)
    sell = venue.submit(1000, 1, "limit", 1, price=106)
    venue.apply_events(events[3:])
    fills = [r for r in venue.drain_reports() if r[2] == "filled"]
    # The low print at 98 (a sell) trades through the bid at 99; the high 105 < 106.
    assert [(r[0], r[1], r[3], r[4], r[5]) for r in fills] == [(1003, buy, 99, 1, "maker")]
    assert [o[0] for o in venue.open_orders()] == [sell]


@pytest.mark.parametrize(
    ("bars", "kwargs", "message"),
    [
        (TWO_BARS, {"half_spread_ticks": 0, "depth_lots": 1}, "half_spread_ticks 0 out of range"),
        (TWO_BARS, {"half_spread_ticks": 1, "depth_lots": 0}, "depth_lots 0 out of range"),
        (
            bars_of([(5, 5, 1, 1, 1, 1, 1, 0)]),
            {"half_spread_ticks": 1, "depth_lots": 1},
            r"bars\[0\] = .*: breaks the rule ts_close > ts_open",
        ),
        (
            bars_of([(0, 5, 1, 1, 1, 1, 1, 0), (5, 9, 1, 2, 1, 3, 1, 0)]),
            {"half_spread_ticks": 1, "depth_lots": 1},
            r"bars\[1\] = .*: breaks the rule high >= max\(open, close\)",
        ),
        (
            bars_of([(0, 5, 1, 1, 2, 1, 1, 0)]),
            {"half_spread_ticks": 1, "depth_lots": 1},
            r"low <= min\(open, close\)",
        ),
        (
            bars_of([(0, 5, 1, 1, 1, 1, -1, 0)]),
            {"half_spread_ticks": 1, "depth_lots": 1},
            "volume >= 0",
        ),
        (
            bars_of([(0, 10, 1, 1, 1, 1, 1, 0), (5, 15, 1, 1, 1, 1, 1, 0)]),
            {"half_spread_ticks": 1, "depth_lots": 1},
            r"bars\[1\]\.ts_open 5 is before bars\[0\]\.ts_close 10",
        ),
        (
            bars_of([(-(2**62), 2**62, 1, 1, 1, 1, 1, 0)]),
            {"half_spread_ticks": 1, "depth_lots": 1},
            r"ts_close - ts_open <= 2\^61 ns",
        ),
        (
            np.zeros(1, dtype=_core.EVENT_DTYPE),
            {"half_spread_ticks": 1, "depth_lots": 1},
            "is not BAR_DTYPE",
        ),
    ],
)
def test_bars_to_events_errors(
    bars: npt.NDArray[np.void], kwargs: dict[str, int], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        bars_to_events(bars, **kwargs)


@given(st.composite(bar_lists)(), st.integers(1, 50), st.integers(1, 10**6))
def test_events_give_the_bars_back(
    drawn: tuple[list[tuple[int, ...]], int], half_spread: int, depth: int
) -> None:
    rows, interval_ns = drawn
    bars = np.array(rows, dtype=_core.BAR_DTYPE)
    bars["volume"] = np.maximum(bars["volume"], 4)  # every point printed
    events = bars_to_events(bars, half_spread_ticks=half_spread, depth_lots=depth)
    back = _core.bars_from_events(events, interval_ns)
    expected = bars.copy()
    expected["trades"] = 4
    assert back.tolist() == expected.tolist()
    assert bool(np.all(np.diff(events["ts_recv"]) >= 0))
    book = _core.L2Book("futures")
    result = book.apply_events(events)
    assert (result.snapshots, result.gaps, result.errors) == (4 * len(bars), 0, 0)
    last = int(bars["close"][-1])
    assert (book.best_bid(), book.best_ask()) == (
        (last - half_spread, depth),
        (last + half_spread, depth),
    )


def test_instrument_grid_is_the_market_data_grid(tmp_path: Path) -> None:
    # Spot sizes are read on the book lot (1e-8), finer than the order lot (1e-5).
    spot = InstrumentSpec("binance", "spot", "BTCUSDT", "0.01", "0.00001", "spot", "0.00000001")
    path = write(tmp_path, HEADER + "1723161600,61800.01,61800.01,61800.01,61800.01,0.00000003\n")
    assert read_ohlcv_csv(path, spot, interval_ns=S)["volume"].tolist() == [3]
