"""Reader for Upbit websocket captures: gzip lines `<receive ns> <raw JSON>`, the
public quotation stream in its DEFAULT (long key) format.

- `orderbook` -> one KIND_SNAPSHOT message (the whole book: every message replaces it),
  `seq_last` = `timestamp` (ms; Upbit has no update ids), `ts_event` = `timestamp`.
- `trade` -> one KIND_TRADE row: `ask_bid` is the taker's side (Upbit FAQ: a buy that
  lifts an offer is BID, a sell that hits a bid is ASK), `order_id` = `sequential_id`,
  `ts_event` = `timestamp` (the message time, the clock the orderbook uses too).

Upbit writes numbers as JSON numbers (prices as doubles such as `1.16539E8`, sizes with
8 decimals), so the JSON is parsed with every number kept as its decimal text and turned
into ticks and lots exactly by the Rust grid; a value off the grid is a bad line
(`bad_decimal`), never rounded. Bad lines are counted by category and skipped.

Skipped as streams this reader does not replay (`unknown_streams`): other types and
codes, grouped books (`level` other than 0: sizes summed over price ranges), and trades
with `stream_type` SNAPSHOT (the last print from before the subscription, repeated on
every reconnect: replayed, it would fill simulated orders a second time).
"""

from __future__ import annotations

import gzip
import json
import re
import zlib
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

from adapters.data.binance_capture import (
    BAD_DECIMAL,
    BAD_JSON,
    BAD_TIMESTAMP,
    BAD_VALUE,
    DEFAULT_CHUNK_ROWS,
    MISSING_FIELD,
    NO_SEPARATOR,
    CaptureError,
)
from adapters.data.linefile import CORRUPT_GZIP, chunked, read_lines, split_capture_line
from engine import _core
from engine.marketdata import DecodeStats, EventChunk
from engine.marketdata.instruments import InstrumentSpec, UnknownInstrumentError
from engine.marketdata.upbit import upbit_instrument

__all__ = [
    "BAD_DECIMAL",
    "BAD_JSON",
    "BAD_TIMESTAMP",
    "BAD_VALUE",
    "BUNDLED_UPBIT_DIR",
    "BUNDLED_UPBIT_SYNTHETIC",
    "CORRUPT_GZIP",
    "CROSSED_BOOK",
    "MISSING_FIELD",
    "NO_SEPARATOR",
    "CaptureError",
    "UpbitCaptureReader",
    "is_upbit_capture",
    "open_upbit_capture",
]

BUNDLED_UPBIT_DIR = Path(__file__).resolve().parent / "upbit"
BUNDLED_UPBIT_SYNTHETIC = BUNDLED_UPBIT_DIR / "spot-krwbtc-synthetic-20240808.gz"
"""SYNTHETIC Upbit-format KRW-BTC data derived from the bundled Binance spot capture
(scripts/upbit_from_binance.py; see the README beside it). Not an Upbit recording."""

CROSSED_BOOK = "crossed_book"
"""Malformed-line category: an orderbook whose best bid is at or above its best ask."""

SNIFF_MAX_LINES = 10_000
SNIFF_MAX_LINE_BYTES = 1 << 22
NO_TYPE = "<no type>"
"""The unknown-stream key of objects without a `type` (PING replies, error objects)."""

_NS_PER_MS = 1_000_000
# A JSON number with a larger decimal exponent cannot be a price or a size; refusing it
# before formatting keeps a hostile `1e999999999` from becoming a billion-digit string.
_MAX_EXPONENT = 40
_BOOK_FIELD = re.compile(r"^(bids|asks)\[(\d+)\]\.(price|qty)")


class _BadValue(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


class _BadDecimal(_BadValue):
    pass


def _loads(payload: bytes) -> Any:
    """JSON with every non-integer number as a Decimal of its exact text."""
    return json.loads(payload, parse_float=Decimal)


def _decimal_text(value: object, field: str) -> str:
    """A JSON number as plain decimal text (`1.16539E8` -> `116539000`), exactly."""
    if type(value) is int:
        return str(value)
    if type(value) is Decimal:
        exponent = value.as_tuple().exponent
        if (
            not isinstance(exponent, int)
            or abs(exponent) > _MAX_EXPONENT
            or (abs(value.adjusted()) > _MAX_EXPONENT)
        ):
            raise _BadDecimal(f"field {field!r} = {value}: out of range for a price or size")
        return format(value, "f")
    raise _BadValue(f"field {field!r} = {value!r}: expected a JSON number")


def _int_field(msg: dict[str, Any], field: str) -> int:
    value = msg[field]
    if type(value) is not int or value < 0:
        raise _BadValue(f"field {field!r} = {value!r}: expected a non-negative integer")
    return value


def _split_head(raw: bytes) -> tuple[int, Any] | None:
    sep = raw.find(b" ")
    if sep <= 0 or not raw[:sep].isdigit():
        return None
    try:
        return int(raw[:sep]), _loads(raw[sep + 1 :])
    except ValueError:
        return None


def is_upbit_capture(path: Path | str) -> bool:
    """True when the first decodable line of a gzip file is an Upbit message (a JSON
    object with a string `type` and no Binance `stream`/`lastUpdateId`). For choosing a
    reader by content; unreadable files give False (the chosen reader then says why)."""
    try:
        with gzip.open(path, "rb") as fh:
            for _ in range(SNIFF_MAX_LINES):
                raw = fh.readline(SNIFF_MAX_LINE_BYTES)
                if not raw:
                    return False
                parsed = _split_head(raw.strip())
                if parsed is None:
                    continue
                msg = parsed[1]
                return (
                    isinstance(msg, dict)
                    and isinstance(msg.get("type"), str)
                    and "stream" not in msg
                    and "lastUpdateId" not in msg
                )
    except (OSError, EOFError, zlib.error):
        return False
    return False


class UpbitCaptureReader:
    """One Upbit capture file as an `EventSource` (the shape of BinanceCaptureReader):
    `.instrument`, `.stats`, and `.chunks()` yielding `EventChunk`s of EVENT_DTYPE rows.

    The pair comes from the first orderbook or trade message's `code` unless an
    instrument is given; messages for other codes are counted as unknown streams.
    """

    def __init__(
        self,
        path: Path | str,
        *,
        instrument: InstrumentSpec | None = None,
        chunk_rows: int = DEFAULT_CHUNK_ROWS,
    ) -> None:
        self.path = Path(path)
        self.chunk_rows = chunk_rows
        self._check_readable()
        self._instrument = instrument if instrument is not None else self._identify()
        self._code = self._instrument.symbol
        self._stats = DecodeStats(self.name)

    @property
    def name(self) -> str:
        return self.path.name

    @property
    def instrument(self) -> InstrumentSpec:
        return self._instrument

    @property
    def stats(self) -> DecodeStats:
        return self._stats

    # --- opening checks ------------------------------------------------------------
    def _check_readable(self) -> None:
        path = self.path
        if not path.exists():
            raise CaptureError(f"{path}: no such file")
        if path.is_dir():
            raise CaptureError(f"{path}: is a directory, expected a capture file (.gz)")
        try:
            with gzip.open(path, "rb") as fh:
                fh.read(1)
        except (OSError, EOFError, zlib.error) as exc:
            reason = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
            raise CaptureError(f"{path}: not a readable gzip file ({reason})") from None

    def _identify(self) -> InstrumentSpec:
        """The pair of the first orderbook or trade message near the start."""
        lines = good = 0
        try:
            with gzip.open(self.path, "rb") as fh:
                for lineno in range(1, SNIFF_MAX_LINES + 1):
                    raw = fh.readline(SNIFF_MAX_LINE_BYTES)
                    if not raw:
                        break
                    if not raw.strip():
                        continue
                    lines += 1
                    parsed = _split_head(raw.strip())
                    if parsed is None or not isinstance(parsed[1], dict):
                        continue
                    good += 1
                    msg = parsed[1]
                    if "stream" in msg or "lastUpdateId" in msg:
                        raise CaptureError(
                            f"{self.path}: line {lineno} is a Binance message, not Upbit; "
                            "read it with the Binance capture reader"
                        )
                    code = msg.get("code")
                    if msg.get("type") in ("orderbook", "trade") and isinstance(code, str):
                        try:
                            return upbit_instrument("spot", code)
                        except UnknownInstrumentError as exc:
                            raise CaptureError(f"{self.path}: line {lineno}: {exc}") from None
        except (OSError, EOFError, zlib.error) as exc:
            raise CaptureError(
                f"{self.path}: gzip data is corrupt near the start ({exc})"
            ) from None
        if lines == 0:
            raise CaptureError(f"{self.path}: not a capture: it has no lines")
        if good == 0:
            raise CaptureError(
                f"{self.path}: not a capture: no line of the first {lines} is '<ns> <json object>'"
            )
        raise CaptureError(
            f"{self.path}: no Upbit orderbook or trade message with a 'code' in the first "
            f"{lines} lines; cannot tell the pair (pass instrument=...)"
        )

    # --- reading -------------------------------------------------------------------
    def chunks(self) -> Iterator[EventChunk]:
        """Streams the file line by line; yields chunks of about `chunk_rows` rows."""
        self._stats = stats = DecodeStats(self.name)
        builder = _core.EventBuilder(
            _core.Grid(self._instrument.tick_size, self._instrument.book_lot_size)
        )
        yield from chunked(
            self.name, builder, read_lines(self.path, stats), self._decode, stats, self.chunk_rows
        )

    def _decode(
        self, builder: _core.EventBuilder, raw: bytes, lineno: int, stats: DecodeStats
    ) -> int:
        """One line -> one atomic push; returns rows added (0 when the line was skipped)."""
        framed = split_capture_line(raw, lineno, stats)
        if framed is None:
            return 0
        ts_recv, body = framed
        try:
            msg = _loads(body)
        except ValueError as exc:  # JSONDecodeError, bad UTF-8, an integer too long
            stats.count_malformed(lineno, BAD_JSON, str(exc))
            return 0
        if not isinstance(msg, dict):
            stats.count_malformed(
                lineno, BAD_VALUE, f"message is a JSON {type(msg).__name__}, expected an object"
            )
            return 0

        kind = msg.get("type")
        if not isinstance(kind, str):
            stats.count_unknown(NO_TYPE)
            return 0
        label = f"{kind}:{msg.get('code')}"
        if kind not in ("orderbook", "trade") or msg.get("code") != self._code:
            stats.count_unknown(label)
            return 0
        try:
            if kind == "orderbook":
                level = msg.get("level", 0)
                if level != 0:
                    stats.count_unknown(f"{label}:level={level}")
                    return 0
                added = self._push_book(builder, ts_recv, msg)
            else:
                if msg.get("stream_type") == "SNAPSHOT":
                    stats.count_unknown(f"{label}:SNAPSHOT")
                    return 0
                added = self._push_trade(builder, ts_recv, msg)
        except KeyError as exc:
            stats.count_malformed(lineno, MISSING_FIELD, f"{label}: missing field {exc.args[0]!r}")
            return 0
        except _BadDecimal as exc:
            stats.count_malformed(lineno, BAD_DECIMAL, f"{label}: {exc.detail}")
            return 0
        except _BadValue as exc:
            category = CROSSED_BOOK if exc.detail.startswith("crossed") else BAD_VALUE
            stats.count_malformed(lineno, category, f"{label}: {exc.detail}")
            return 0
        except _core.FixedPointError as exc:
            stats.count_malformed(lineno, BAD_DECIMAL, f"{label}: {_upbit_field_names(str(exc))}")
            return 0
        except (TypeError, ValueError, OverflowError) as exc:
            stats.count_malformed(lineno, BAD_VALUE, f"{label}: {exc}")
            return 0
        stats.count_stream(label)
        return added

    @staticmethod
    def _push_book(builder: _core.EventBuilder, ts_recv: int, msg: dict[str, Any]) -> int:
        timestamp = _int_field(msg, "timestamp")
        units = msg["orderbook_units"]
        if not isinstance(units, list):
            raise _BadValue(
                f"field 'orderbook_units' is a JSON {type(units).__name__}, expected a list"
            )
        bids: list[list[str]] = []
        asks: list[list[str]] = []
        # Index of each pushed level in orderbook_units, to name the unit in an error.
        where: dict[str, list[int]] = {"bids": [], "asks": []}
        best_bid: Decimal | None = None
        best_ask: Decimal | None = None
        for i, unit in enumerate(units):
            if not isinstance(unit, dict):
                raise _BadValue(
                    f"orderbook_units[{i}] is a JSON {type(unit).__name__}, expected an object"
                )
            for side, out in (("bid", bids), ("ask", asks)):
                size = _decimal_text(unit[f"{side}_size"], f"orderbook_units[{i}].{side}_size")
                # A zero size is no level (a side shorter than the other); not pushed.
                if Decimal(size) == 0:
                    continue
                price = _decimal_text(unit[f"{side}_price"], f"orderbook_units[{i}].{side}_price")
                out.append([price, size])
                where[f"{side}s"].append(i)
                value = Decimal(price)
                if side == "bid":
                    best_bid = value if best_bid is None else max(best_bid, value)
                else:
                    best_ask = value if best_ask is None else min(best_ask, value)
        if best_bid is not None and best_ask is not None and best_bid >= best_ask:
            raise _BadValue(f"crossed book: best bid {best_bid} >= best ask {best_ask}")
        try:
            return builder.push_snapshot(ts_recv, timestamp * _NS_PER_MS, timestamp, bids, asks)
        except _core.FixedPointError as exc:
            raise _core.FixedPointError(_unit_names(str(exc), where)) from None

    @staticmethod
    def _push_trade(builder: _core.EventBuilder, ts_recv: int, msg: dict[str, Any]) -> int:
        timestamp = _int_field(msg, "timestamp")
        trade_id = _int_field(msg, "sequential_id")
        price = _decimal_text(msg["trade_price"], "trade_price")
        volume = _decimal_text(msg["trade_volume"], "trade_volume")
        taker = msg["ask_bid"]
        if taker not in ("ASK", "BID"):
            raise _BadValue(f"field 'ask_bid' = {taker!r}: expected 'ASK' or 'BID'")
        # ASK: a seller took a bid, so the buyer was the maker.
        return builder.push_trade(
            ts_recv, timestamp * _NS_PER_MS, trade_id, price, volume, taker == "ASK"
        )


def _unit_names(detail: str, where: dict[str, list[int]]) -> str:
    """`bids[2].price: ...` -> `orderbook_units[3].bid_price: ...` (Upbit's own names)."""
    m = _BOOK_FIELD.match(detail)
    if m is None:
        return detail
    side, index, field = m.group(1), int(m.group(2)), m.group(3)
    unit = where[side][index]
    name = f"orderbook_units[{unit}].{side[:-1]}_{'price' if field == 'price' else 'size'}"
    return name + detail[m.end() :]


def _upbit_field_names(detail: str) -> str:
    """`trade.price: ...` -> `trade_price: ...`; book messages are renamed at the push."""
    for ours, theirs in (("trade.price", "trade_price"), ("trade.qty", "trade_volume")):
        if detail.startswith(ours):
            return theirs + detail[len(ours) :]
    return detail


def open_upbit_capture(path: Path | str) -> UpbitCaptureReader:
    """Opens and identifies an Upbit capture (raises CaptureError naming the problem)."""
    return UpbitCaptureReader(path)
