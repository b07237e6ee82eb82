"""Reader for Binance websocket captures: gzip lines `<receive ns> <raw JSON>`.

Each line becomes one atomic push into the Rust `EventBuilder`; bad lines are counted by
category and skipped, so one broken message never stops a replay.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import orjson

from adapters.data.linefile import (
    BAD_TIMESTAMP,
    CORRUPT_GZIP,
    NO_SEPARATOR,
    chunked,
    read_lines,
    split_capture_line,
)
from engine import _core
from engine.marketdata import DecodeStats, EventChunk
from engine.marketdata.instruments import (
    BINANCE_MARKETS,
    InstrumentSpec,
    UnknownInstrumentError,
    binance_instrument,
)
from engine.services.replay import ReplayReport, replay

__all__ = [
    "BAD_DECIMAL",
    "BAD_JSON",
    "BAD_TIMESTAMP",
    "BAD_VALUE",
    "CORRUPT_GZIP",
    "MISSING_FIELD",
    "NO_SEPARATOR",
    "SNAPSHOT",
    "BinanceCaptureReader",
    "CaptureError",
    "open_captures",
    "replay_captures",
]

# Malformed-line categories.
BAD_JSON = "bad_json"
MISSING_FIELD = "missing_field"
BAD_VALUE = "bad_value"
BAD_DECIMAL = "bad_decimal"

SNAPSHOT = "snapshot"
"""The `lines_by_stream` key of REST depth snapshot lines (they carry no `stream`)."""

NO_STREAM = "<no stream>"
"""The unknown-stream key of lines with neither `stream` nor `lastUpdateId`."""

DEFAULT_CHUNK_ROWS = 1 << 16
SNIFF_LINES = 5
SNIFF_MAX_LINES_FOR_DIFF = 10_000
SNIFF_MAX_LINE_BYTES = 1 << 22

_DIFF, _TRADE, _TICKER = 1, 2, 3
_NS_PER_MS = 1_000_000


class CaptureError(ValueError):
    """The file cannot be replayed at all: missing, not gzip, not a capture, wrong market."""


class _BadValue(Exception):
    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def _event_ns(data: dict[str, Any]) -> int:
    """`E` (exchange event time, ms) as ns; 0 when the message has none (spot tickers)."""
    event_ms = data.get("E")
    if event_ms is None:
        return 0
    if type(event_ms) is not int:
        raise _BadValue(f"field 'E' = {event_ms!r}: expected integer milliseconds")
    return event_ms * _NS_PER_MS


def _infer_from_name(path: Path) -> tuple[str | None, str | None]:
    """`usdm-btcusdt-20240808.gz` -> ("usdm", "BTCUSDT"); (None, None) if not that shape."""
    parts = path.name.split("-")
    if len(parts) >= 2 and parts[0] in BINANCE_MARKETS and parts[1]:
        return parts[0], parts[1].upper()
    return None, None


def _split_line(raw: bytes) -> tuple[int, Any] | None:
    sep = raw.find(b" ")
    if sep <= 0 or not raw[:sep].isdigit():
        return None
    try:
        return int(raw[:sep]), orjson.loads(raw[sep + 1 :])
    except orjson.JSONDecodeError:
        return None


class BinanceCaptureReader:
    """One capture file as an `EventSource`: streams it and yields `EventChunk`s.

    The market comes from the file name (`usdm-…` futures, `spot-…` spot) and is
    cross-checked against the first depth diff (`pu` is present on futures only);
    a file whose name does not say is identified from its content.
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
        self._instrument = self._identify(instrument)
        self._futures = self._instrument.sequence_rule == "futures"
        self._stats = DecodeStats(self.name)
        sym = self._instrument.symbol.lower()
        self._streams = {
            f"{sym}@depth@0ms": _DIFF,
            f"{sym}@depth@100ms": _DIFF,
            f"{sym}@depth": _DIFF,
            f"{sym}@trade": _TRADE,
            f"{sym}@bookTicker": _TICKER,
        }

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

    def _identify(self, given: InstrumentSpec | None) -> InstrumentSpec:
        """Reads the head of the file: is it a capture, and which market and symbol?"""
        market, symbol = _infer_from_name(self.path)
        if given is not None:
            market, symbol = given.market, given.symbol
        checked = good = 0
        first_bad: str | None = None
        diff: tuple[int, dict[str, Any]] | None = None
        try:
            with gzip.open(self.path, "rb") as fh:
                for lineno in range(1, SNIFF_MAX_LINES_FOR_DIFF + 1):
                    raw = fh.readline(SNIFF_MAX_LINE_BYTES)
                    if not raw:
                        break
                    if not raw.strip():
                        continue
                    parsed = _split_line(raw)
                    if checked < SNIFF_LINES:
                        checked += 1
                        if parsed is not None:
                            good += 1
                        elif first_bad is None:
                            first_bad = f"line {lineno}: {raw[:60]!r}"
                    if parsed is not None and diff is None:
                        msg = parsed[1]
                        data = msg.get("data") if isinstance(msg, dict) else None
                        stream = msg.get("stream") if isinstance(msg, dict) else None
                        if (
                            isinstance(stream, str)
                            and "@depth" in stream
                            and isinstance(data, dict)
                        ):
                            diff = (lineno, data)
                    if checked >= SNIFF_LINES and diff is not None:
                        break
        except (OSError, EOFError, zlib.error) as exc:
            raise CaptureError(
                f"{self.path}: gzip data is corrupt near the start ({exc})"
            ) from None
        if checked == 0:
            raise CaptureError(f"{self.path}: not a capture: it has no lines")
        if good == 0:
            raise CaptureError(
                f"{self.path}: not a capture: none of the first {checked} non-empty lines is "
                f"'<ns> <json>' ({first_bad})"
            )

        if diff is not None:
            lineno, data = diff
            content_market = "usdm" if "pu" in data else "spot"
            if market is not None and market != content_market:
                said = "the instrument given is" if given else "the name says"
                has = "has 'pu'" if content_market == "usdm" else "has no 'pu'"
                raise CaptureError(
                    f"{self.path}: {said} market {market!r} but the depth diff at line "
                    f"{lineno} {has}, which is {content_market!r}; rename the file or fix the data"
                )
            market = content_market
            if symbol is None and isinstance(data.get("s"), str):
                symbol = data["s"].upper()
        if given is not None:
            return given
        if market is None or symbol is None:
            raise CaptureError(
                f"{self.path}: cannot tell the market and symbol: the name is not "
                "'<usdm|spot>-<symbol>-…' and no depth diff was found near the start"
            )
        try:
            return binance_instrument(market, symbol)
        except UnknownInstrumentError as exc:
            raise CaptureError(f"{self.path}: {exc}") from None

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
            msg = orjson.loads(body)
        except orjson.JSONDecodeError as exc:
            stats.count_malformed(lineno, BAD_JSON, str(exc))
            return 0
        if not isinstance(msg, dict):
            stats.count_malformed(
                lineno, BAD_VALUE, f"message is a JSON {type(msg).__name__}, expected an object"
            )
            return 0

        stream = msg.get("stream")
        label = SNAPSHOT if stream is None else str(stream)
        try:
            if stream is None:
                if "lastUpdateId" not in msg:
                    stats.count_unknown(NO_STREAM)
                    return 0
                added = builder.push_snapshot(
                    ts_recv, _event_ns(msg), msg["lastUpdateId"], msg["bids"], msg["asks"]
                )
            else:
                kind = self._streams.get(stream) if isinstance(stream, str) else None
                if kind is None:
                    stats.count_unknown(str(stream))
                    return 0
                data = msg["data"]
                if not isinstance(data, dict):
                    raise _BadValue(
                        f"field 'data' is a JSON {type(data).__name__}, expected an object"
                    )
                if kind == _DIFF:
                    prev_id = data["pu"] if self._futures else -1
                    added = builder.push_diff(
                        ts_recv,
                        _event_ns(data),
                        data["U"],
                        data["u"],
                        prev_id,
                        data["b"],
                        data["a"],
                    )
                elif kind == _TRADE:
                    added = builder.push_trade(
                        ts_recv, _event_ns(data), data["t"], data["p"], data["q"], data["m"]
                    )
                else:
                    added = builder.push_ticker(
                        ts_recv,
                        _event_ns(data),
                        data["u"],
                        data["b"],
                        data["B"],
                        data["a"],
                        data["A"],
                    )
        except KeyError as exc:
            stats.count_malformed(lineno, MISSING_FIELD, f"{label}: missing field {exc.args[0]!r}")
            return 0
        except _BadValue as exc:
            stats.count_malformed(lineno, BAD_VALUE, f"{label}: {exc.detail}")
            return 0
        except _core.FixedPointError as exc:
            stats.count_malformed(lineno, BAD_DECIMAL, f"{label}: {exc}")
            return 0
        except (TypeError, ValueError, OverflowError) as exc:
            stats.count_malformed(lineno, BAD_VALUE, f"{label}: {exc}")
            return 0
        by_stream = stats.by_stream
        by_stream[label] = by_stream.get(label, 0) + 1
        return added


def open_captures(paths: Sequence[Path | str]) -> list[BinanceCaptureReader]:
    """Opens and identifies every file before any replay starts, so errors come first."""
    return [BinanceCaptureReader(path) for path in paths]


def replay_captures(paths: Sequence[Path | str]) -> ReplayReport:
    """Replays capture files in order into one book (the CLI's and the tests' entry point)."""
    return replay(open_captures(paths))
