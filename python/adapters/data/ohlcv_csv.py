"""OHLCV bars from CSV files, and a documented synthetic market to backtest on bars.

Reading (`read_ohlcv_csv`). The file is UTF-8 (a BOM is allowed) or gzip (`.gz`),
comma-separated, with a header row. Column names are matched case-insensitively after
trimming and turning spaces and hyphens into `_`; columns not listed are ignored:

    time     timestamp, time, date, datetime, date_time, open_time, opentime, ts
    open     open, o        high    high, h       low     low, l      close   close, c
    volume   volume, vol, v
    trades   trades, count, trade_count, num_trades, number_of_trades   (optional)

The timestamp is the bar's OPEN time; the bar is `[ts_open, ts_open + interval_ns)`.
`interval_ns` is given by the caller or, when omitted, is the smallest gap between two
consecutive rows. A timestamp is either
- an integer count since the epoch whose unit is told by its magnitude: below 10^11
  seconds, below 10^14 milliseconds, below 10^17 microseconds, otherwise nanoseconds
  (a finer unit's band starts at 1973-03-03, and int64 nanoseconds end in 2262, so
  dates in 1973-2262 are never ambiguous); every row must be in the first row's unit;
- or ISO 8601 with a time zone: `2024-08-08T23:54:15Z`, `2024-08-08 23:54:15.5+02:00`
  (up to 9 fraction digits, kept exactly; `T` or a space; zone `Z`, `+HH:MM`, `+HHMM`
  or `+HH`). A bare date `2024-08-08` is that day at 00:00 UTC (daily bars are
  labelled by their day). A time without a zone is an error: it would be guessed.
Prices and volumes are decimal strings converted exactly to the instrument's ticks and
market-data lots (`tick_size`, `book_lot_size`): a value off the grid is an error, never
rounded, since bars that do not fit the instrument describe some other market.

Every problem raises `OhlcvCsvError` naming `file:line`, the column and the value: a
missing or ambiguous column, a bad number, time not strictly increasing, bars closer
than `interval_ns`, `high < max(open, close)`, `low > min(open, close)`, a negative
volume. The result is a `BAR_DTYPE` array (`trades` is 0 when the file has no count).

The synthetic market (`bars_to_events`). A bar carries four prices and no order, so
each bar becomes a path of four points, each a book snapshot followed by a trade print
at the same time: open, the first extreme, the second extreme, close. The move against
the bar's direction comes first: an up or flat bar (close >= open) goes open -> low ->
high -> close, a down bar open -> high -> low -> close. That is the pessimistic order
for a position the bar favours (a long's stop below is tested before its target above
in an up bar, a short's likewise in a down bar) and, for a random walk that ended up
(down), the likelier order too. Details, all deterministic:
- times: point k of a bar is at `ts_open + k * (ts_close - ts_open - 1) // 3`, so the
  open is at the bar's open and the close 1 ns before its end;
- snapshot: a bid at `price - half_spread_ticks` and an ask at `price +
  half_spread_ticks`, `depth_lots` each (two rows, update id = 1, 2, ... over the whole
  array, so every snapshot is newer than the last under either sequence rule);
- print: `price`, aggressor buy when the price rose from the previous point (across
  bars too), sell when it fell, the previous print's side when it did not move (buy for
  the very first); size: the bar's volume split in four, `volume // 4` each and the
  remainder one lot at a time from the first point; a point with 0 lots (volume < 4)
  gets no print; trade ids count 1, 2, ... over the array.
So `bars_from_events(bars_to_events(bars), interval)` gives the bars back (with
`trades` = 4) whenever every volume is at least 4 lots and the bars are aligned.
"""

from __future__ import annotations

import _csv
import csv
import datetime as dt
import gzip
import io
import re
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt

from engine import _core
from engine.marketdata.instruments import InstrumentSpec

__all__ = [
    "COLUMN_ALIASES",
    "OhlcvCsvError",
    "bars_to_events",
    "parse_timestamp",
    "read_ohlcv_csv",
    "write_ohlcv_csv",
]

COLUMN_ALIASES: dict[str, tuple[str, ...]] = {
    "timestamp": (
        "timestamp",
        "time",
        "date",
        "datetime",
        "date_time",
        "open_time",
        "opentime",
        "ts",
    ),
    "open": ("open", "o"),
    "high": ("high", "h"),
    "low": ("low", "l"),
    "close": ("close", "c"),
    "volume": ("volume", "vol", "v"),
    "trades": ("trades", "count", "trade_count", "num_trades", "number_of_trades"),
}
"""Field -> accepted header names (normalized: lower case, `_` for spaces and hyphens)."""

_REQUIRED = ("timestamp", "open", "high", "low", "close", "volume")
_BY_ALIAS = {alias: field for field, names in COLUMN_ALIASES.items() for alias in names}

TimeUnit = Literal["s", "ms", "us", "ns"]
_NS_PER: dict[TimeUnit, int] = {"s": 10**9, "ms": 10**6, "us": 10**3, "ns": 1}
# Upper bounds (exclusive) of each unit's band of magnitudes, in detection order.
_UNIT_BANDS: tuple[tuple[int, TimeUnit], ...] = ((10**11, "s"), (10**14, "ms"), (10**17, "us"))
_NS_PER_DAY = 86_400 * 10**9
_EPOCH_ORDINAL = dt.date(1970, 1, 1).toordinal()
_INT = re.compile(r"[0-9]+")
_ISO = re.compile(
    r"(\d{4})-(\d{2})-(\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?"
    r"(?:([Zz])|([+-])(\d{2})(?::?(\d{2}))?)?)?"
)
_INT64_MAX = 2**63 - 1
_PRICE_LIMIT = 2**62
_MAX_BAR_NS = 2**61  # so that 3 * length, the last point's offset numerator, fits in int64


class OhlcvCsvError(ValueError):
    """A CSV file that cannot be read as OHLCV bars of the instrument; names file:line."""


def parse_timestamp(text: str) -> tuple[int, str]:
    """`text` -> (ns since the epoch, its form: "s", "ms", "us", "ns" or "iso").

    Raises ValueError naming the value and the rule (see the module docs)."""
    if _INT.fullmatch(text):
        value = int(text)
        unit: TimeUnit = "ns"
        for bound, name in _UNIT_BANDS:
            if value < bound:
                unit = name
                break
        ns = value * _NS_PER[unit]
        if ns > _INT64_MAX:
            raise ValueError(f"timestamp {text!r} does not fit in int64 nanoseconds")
        return ns, unit
    m = _ISO.fullmatch(text)
    if m is None:
        raise ValueError(
            f"timestamp {text!r} is neither an integer (s/ms/us/ns since the epoch) nor "
            "ISO 8601 with a time zone (rule: e.g. 2024-08-08T23:54:15Z)"
        )
    year, month, day, hour, minute, second, frac, zulu, sign, off_h, off_m = m.groups()
    try:
        date = dt.date(int(year), int(month), int(day))
    except ValueError as exc:
        raise ValueError(f"timestamp {text!r}: {exc}") from None
    ns = (date.toordinal() - _EPOCH_ORDINAL) * _NS_PER_DAY
    if hour is None:
        return ns, "iso"
    if zulu is None and sign is None:
        raise ValueError(
            f"timestamp {text!r} has no time zone (rule: end it with Z or +HH:MM; "
            "a local time would be a guess)"
        )
    h, mi, s = int(hour), int(minute), int(second or 0)
    if h > 23 or mi > 59 or s > 59:
        raise ValueError(f"timestamp {text!r}: time of day out of range (rule: 00:00:00-23:59:59)")
    ns += ((h * 60 + mi) * 60 + s) * 10**9 + int((frac or "0").ljust(9, "0"))
    if sign is not None:
        oh, om = int(off_h), int(off_m or 0)
        if oh > 23 or om > 59:
            raise ValueError(f"timestamp {text!r}: zone offset out of range (rule: -23:59..+23:59)")
        offset = (oh * 60 + om) * 60 * 10**9
        ns -= offset if sign == "+" else -offset
    if not -(2**63) <= ns <= _INT64_MAX:
        raise ValueError(f"timestamp {text!r} does not fit in int64 nanoseconds")
    return ns, "iso"


def _normalize(name: str) -> str:
    return re.sub(r"[\s\-]+", "_", name.strip().lstrip("\ufeff").strip().lower())


def _open_text(path: Path) -> io.TextIOBase:
    with open(path, "rb") as fh:
        magic = fh.read(2)
    if magic == b"\x1f\x8b":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8-sig", newline="")
    return open(path, encoding="utf-8-sig", newline="")


def _columns(src: str, header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, raw in enumerate(header):
        field = _BY_ALIAS.get(_normalize(raw))
        if field is None:
            continue
        if field in found:
            raise OhlcvCsvError(
                f"{src}:1: columns {header[found[field]]!r} and {raw!r} both name the "
                f"{field} (rule: one column per field)"
            )
        found[field] = index
    for field in _REQUIRED:
        if field not in found:
            first = header[0].strip() if header else ""
            looks_like_data = bool(first) and (first[0].isdigit() or first[0] in "+-.")
            hint = (
                f"; line 1 looks like data ({first!r}): a header row is required"
                if looks_like_data
                else ""
            )
            raise OhlcvCsvError(
                f"{src}:1: no {field} column (accepted names: "
                f"{', '.join(COLUMN_ALIASES[field])}; header: {header}){hint}"
            )
    return found


def _rows(reader: _csv.Reader) -> Iterator[tuple[int, list[str]]]:
    """Non-blank records with the line each starts on (a quoted field may span lines)."""
    line = reader.line_num + 1
    for record in reader:
        start = line
        line = reader.line_num + 1
        if not record or all(not cell.strip() for cell in record):
            continue
        yield start, record


_FORM_NAMES = {
    "s": "integer seconds",
    "ms": "integer milliseconds",
    "us": "integer microseconds",
    "ns": "integer nanoseconds",
    "iso": "ISO 8601",
}

_BarRow = tuple[int, int, int, int, int, int, int, int]


class _RowParser:
    """Turns one CSV record into a bar row; remembers what the rows before it said."""

    def __init__(self, src: str, header: list[str], instrument: InstrumentSpec) -> None:
        self.src = src
        self.header = header
        self.cols = _columns(src, header)
        self.instrument = instrument
        self.form = ""
        self.prev: tuple[int, str, int] | None = None

    def _cell(self, where: str, record: list[str], field: str) -> str:
        value = record[self.cols[field]].strip()
        if not value:
            raise OhlcvCsvError(f"{where}: column {self.header[self.cols[field]]!r} is empty")
        return value

    def _units(self, where: str, record: list[str], field: str, step: str, what: str) -> int:
        value = self._cell(where, record, field)
        try:
            return _core.to_units(value, step)
        except _core.FixedPointError as exc:
            raise OhlcvCsvError(
                f"{where}: column {self.header[self.cols[field]]!r}: {exc} ({what} {step} of "
                f"{self.instrument.key})"
            ) from None

    def _time(self, where: str, record: list[str], line: int) -> int:
        column = self.header[self.cols["timestamp"]]
        raw = self._cell(where, record, "timestamp")
        try:
            ts, form = parse_timestamp(raw)
        except ValueError as exc:
            raise OhlcvCsvError(f"{where}: column {column!r}: {exc}") from None
        if not self.form:
            self.form = form
        elif form != self.form:
            raise OhlcvCsvError(
                f"{where}: column {column!r} value {raw!r} is {_FORM_NAMES[form]} but the "
                f"first row's is {_FORM_NAMES[self.form]} (rule: one timestamp form per file)"
            )
        if self.prev is not None and ts <= self.prev[0]:
            raise OhlcvCsvError(
                f"{where}: column {column!r} value {raw!r} is not after {self.prev[1]!r} at "
                f"line {self.prev[2]} (rule: strictly increasing time)"
            )
        self.prev = (ts, raw, line)
        return ts

    def parse(self, line: int, record: list[str]) -> _BarRow:
        where = f"{self.src}:{line}"
        width = len(self.header)
        if len(record) != width:
            raise OhlcvCsvError(
                f"{where}: {len(record)} fields, the header has {width} (rule: one value per "
                "column)"
            )
        ts = self._time(where, record, line)
        tick = self.instrument.tick_size
        o, h, lo, c = (
            self._units(where, record, f, tick, "tick size")
            for f in ("open", "high", "low", "close")
        )
        for field, value in (("open", o), ("high", h), ("low", lo), ("close", c)):
            if value >= _PRICE_LIMIT:
                raise OhlcvCsvError(
                    f"{where}: column {self.header[self.cols[field]]!r} value "
                    f"{self._cell(where, record, field)!r} is out of range (rule: < 2^62 ticks)"
                )
        text = {f: self._cell(where, record, f) for f in ("open", "high", "low", "close")}
        if h < max(o, c):
            raise OhlcvCsvError(
                f"{where}: high {text['high']} is below max(open {text['open']}, close "
                f"{text['close']}) (rule: high >= max(open, close))"
            )
        if lo > min(o, c):
            raise OhlcvCsvError(
                f"{where}: low {text['low']} is above min(open {text['open']}, close "
                f"{text['close']}) (rule: low <= min(open, close))"
            )
        lot = self.instrument.book_lot_size
        volume = self._units(where, record, "volume", lot, "lot size")
        trades = 0
        if "trades" in self.cols:
            count = self._cell(where, record, "trades")
            if not _INT.fullmatch(count) or int(count) > _INT64_MAX:
                raise OhlcvCsvError(
                    f"{where}: column {self.header[self.cols['trades']]!r} value {count!r} is "
                    "not a count (rule: integer >= 0)"
                )
            trades = int(count)
        return ts, 0, o, h, lo, c, volume, trades


def read_ohlcv_csv(
    path: Path | str, instrument: InstrumentSpec, *, interval_ns: int | None = None
) -> npt.NDArray[np.void]:
    """Reads an OHLCV CSV file into a `BAR_DTYPE` array (rules in the module docs)."""
    path = Path(path)
    src = str(path)
    if interval_ns is not None and interval_ns <= 0:
        raise OhlcvCsvError(f"{src}: interval_ns {interval_ns} is not positive (rule: > 0)")
    if not path.is_file():
        raise OhlcvCsvError(f"{src}: no such file")
    out: list[_BarRow] = []
    lines: list[int] = []
    try:
        with _open_text(path) as fh:
            reader = csv.reader(fh)
            header = next(reader, None)
            if header is None:
                raise OhlcvCsvError(f"{src}:1: the file is empty (rule: a header row first)")
            parser = _RowParser(src, header, instrument)
            for line, record in _rows(reader):
                out.append(parser.parse(line, record))
                lines.append(line)
    except (UnicodeDecodeError, csv.Error, OSError, EOFError, zlib.error) as exc:
        raise OhlcvCsvError(f"{src}: unreadable as a CSV text file ({exc})") from None
    bars = np.array(out, dtype=_core.BAR_DTYPE)
    if len(bars) == 0:
        return bars
    gaps = np.diff(bars["ts_open"])
    if interval_ns is None:
        if len(bars) == 1:
            raise OhlcvCsvError(
                f"{src}:{lines[0]}: one bar says nothing about the bar length (rule: pass "
                "interval_ns)"
            )
        interval_ns = int(gaps.min())
    else:
        short = np.flatnonzero(gaps < interval_ns)
        if len(short):
            i = int(short[0])
            raise OhlcvCsvError(
                f"{src}:{lines[i + 1]}: bar opens {int(gaps[i])} ns after the bar at line "
                f"{lines[i]}, less than interval_ns {interval_ns} (rule: bars do not overlap)"
            )
    if int(bars["ts_open"][-1]) > _INT64_MAX - interval_ns:
        raise OhlcvCsvError(f"{src}:{lines[-1]}: the bar's close time overflows int64 ns")
    bars["ts_close"] = bars["ts_open"] + interval_ns
    return bars


def write_ohlcv_csv(
    path: Path | str,
    bars: npt.NDArray[np.void],
    instrument: InstrumentSpec,
    *,
    time_unit: TimeUnit = "ms",
) -> None:
    """Writes bars as `timestamp,open,high,low,close,volume,trades` (timestamp = open time
    as an integer in `time_unit`; exact decimals of the instrument's grid; `\\n` endings),
    the form `read_ohlcv_csv` reads back. Raises ValueError, writing nothing, when an open
    time is not a whole number of `time_unit`s or would be read back in another unit."""
    per = _NS_PER[time_unit]
    grid = _core.Grid(instrument.tick_size, instrument.book_lot_size)
    rows = ["timestamp,open,high,low,close,volume,trades"]
    for i, bar in enumerate(bars.tolist()):
        ts_open, _, o, h, lo, c, volume, trades = bar
        stamp, rest = divmod(int(ts_open), per)
        if rest or parse_timestamp(str(stamp))[1] != time_unit:
            raise ValueError(
                f"bars[{i}].ts_open {ts_open}: not writable as integer {time_unit} that reads "
                f"back as {time_unit} (rule: a whole number in that unit's magnitude band)"
            )
        values = [grid.ticks_to_price(int(p)) for p in (o, h, lo, c)]
        rows.append(f"{stamp},{','.join(values)},{grid.lots_to_qty(int(volume))},{int(trades)}")
    Path(path).write_text("\n".join(rows) + "\n", encoding="utf-8", newline="")


def _check_bars(bars: npt.NDArray[np.void], half_spread_ticks: int, depth_lots: int) -> None:
    if bars.dtype != _core.BAR_DTYPE:
        raise ValueError(f"bars: dtype {bars.dtype} is not BAR_DTYPE")
    if not 1 <= half_spread_ticks < 2**40:
        raise ValueError(
            f"half_spread_ticks {half_spread_ticks} out of range (rule: 1 <= half_spread_ticks "
            "< 2^40, so the synthetic book is never locked)"
        )
    if not 1 <= depth_lots < 2**62:
        raise ValueError(f"depth_lots {depth_lots} out of range (rule: 1 <= depth_lots < 2^62)")
    checks: Sequence[tuple[str, npt.NDArray[np.bool_]]] = (
        ("ts_close > ts_open", bars["ts_close"] <= bars["ts_open"]),
        ("high >= max(open, close)", bars["high"] < np.maximum(bars["open"], bars["close"])),
        ("low <= min(open, close)", bars["low"] > np.minimum(bars["open"], bars["close"])),
        ("volume >= 0", bars["volume"] < 0),
        (
            "|price| + half_spread_ticks < 2^62",
            (np.abs(bars["high"]) >= _PRICE_LIMIT - half_spread_ticks)
            | (np.abs(bars["low"]) >= _PRICE_LIMIT - half_spread_ticks),
        ),
    )
    for rule, bad in checks:
        if bad.any():
            i = int(np.flatnonzero(bad)[0])
            raise ValueError(f"bars[{i}] = {bars[i]}: breaks the rule {rule}")
    # ts_close > ts_open now, so the unsigned difference is the exact length.
    length = bars["ts_close"].astype(np.int64).view(np.uint64) - bars["ts_open"].astype(
        np.int64
    ).view(np.uint64)
    if (length > _MAX_BAR_NS).any():
        i = int(np.flatnonzero(length > _MAX_BAR_NS)[0])
        raise ValueError(
            f"bars[{i}] = {bars[i]}: breaks the rule ts_close - ts_open <= 2^61 ns (73 years)"
        )
    if len(bars) > 1:
        overlap = np.flatnonzero(bars["ts_open"][1:] < bars["ts_close"][:-1])
        if len(overlap):
            i = int(overlap[0]) + 1
            raise ValueError(
                f"bars[{i}].ts_open {int(bars['ts_open'][i])} is before bars[{i - 1}].ts_close "
                f"{int(bars['ts_close'][i - 1])} (rule: bars in time order, not overlapping)"
            )


def bars_to_events(
    bars: npt.NDArray[np.void], *, half_spread_ticks: int, depth_lots: int
) -> npt.NDArray[np.void]:
    """The synthetic market of the module docs: per bar four (snapshot, print) points.

    Raises ValueError naming the bar, the value and the rule on a bar that is not a bar
    (inverted interval, high/low not enclosing open and close, negative volume, bars out
    of order or overlapping) or a spread or depth out of range."""
    _check_bars(bars, half_spread_ticks, depth_lots)
    n = len(bars)
    if n == 0:
        return np.zeros(0, dtype=_core.EVENT_DTYPE)
    ts_open = bars["ts_open"].astype(np.int64)
    span = bars["ts_close"].astype(np.int64) - ts_open - 1
    k = np.arange(4, dtype=np.int64)
    times = ts_open[:, None] + (k[None, :] * span[:, None]) // 3
    up = bars["close"] >= bars["open"]
    first = np.where(up, bars["low"], bars["high"])
    second = np.where(up, bars["high"], bars["low"])
    prices = np.stack([bars["open"], first, second, bars["close"]], axis=1).astype(np.int64)
    volume = bars["volume"].astype(np.int64)
    qty = (volume // 4)[:, None] + (k[None, :] < (volume % 4)[:, None])

    # Aggressor by the move into each point along the whole path; no move repeats the last.
    path = prices.reshape(-1)
    move = np.sign(np.diff(path, prepend=path[0]))
    last_move = np.where(move != 0, np.arange(len(path)), 0)
    np.maximum.accumulate(last_move, out=last_move)
    carried = move[last_move]
    aggressor = np.where(carried < 0, _core.SIDE_ASK, _core.SIDE_BID).reshape(n, 4)

    # Rows per point: bid, ask, print; prints of 0 lots are dropped afterwards.
    rows = np.zeros((n, 4, 3), dtype=_core.EVENT_DTYPE)
    rows["ts_event"] = times[:, :, None]
    rows["ts_recv"] = times[:, :, None]
    rows["seq_prev"] = -1
    update_id = np.arange(1, 4 * n + 1, dtype=np.int64).reshape(n, 4)
    for j, (side, offset, flags) in enumerate(
        (
            (_core.SIDE_BID, -half_spread_ticks, _core.FLAG_BEGIN),
            (_core.SIDE_ASK, half_spread_ticks, _core.FLAG_END),
        )
    ):
        level = rows[:, :, j]
        level["kind"] = _core.KIND_SNAPSHOT
        level["seq_last"] = update_id
        level["price"] = prices + offset
        level["qty"] = depth_lots
        level["side"] = side
        level["flags"] = flags
    prints = rows[:, :, 2]
    prints["kind"] = _core.KIND_TRADE
    prints["price"] = prices
    prints["qty"] = qty
    prints["side"] = aggressor
    prints["flags"] = _core.FLAG_BEGIN | _core.FLAG_END
    flat = rows.reshape(-1)
    keep = (flat["kind"] != _core.KIND_TRADE) | (flat["qty"] > 0)
    out = flat[keep]
    is_trade = out["kind"] == _core.KIND_TRADE
    out["order_id"][is_trade] = np.arange(1, int(is_trade.sum()) + 1, dtype=np.uint64)
    events: npt.NDArray[np.void] = out
    return events
