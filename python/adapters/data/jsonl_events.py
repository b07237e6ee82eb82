"""JSONL market events: a documented line format any tool can write, a reader and a writer.

Format (also in docs/jsonl-events.md, with an example). UTF-8, one JSON object per
line, `\\n` line ends; the file may be gzip-compressed (told by its first bytes). Every
object has:

    "type"      "snapshot" | "diff" | "trade" | "ticker"
    "ts"        receive time: integer nanoseconds since the epoch (`ts_recv` of the rows)
    "symbol"    the instrument's symbol, matched without regard to case
    "ts_event"  optional: the venue's own event time, integer ns; absent means unknown (0)

and, by type (prices and sizes are decimal STRINGS, exact on the instrument's grid:
`tick_size` for prices, `book_lot_size` for sizes; a JSON number is refused because a
binary float cannot carry a decimal exactly):

    snapshot  "id": int (last update id), "bids": [["price", "qty"], ...], "asks": [...]
              the full book; it replaces whatever was there
    diff      "first_id": int, "last_id": int, "prev_id": int (optional, the previous
              diff's last_id on venues that chain that way, e.g. futures; absent: -1),
              "bids", "asks": changed levels, "qty" "0" removes the level
    trade     "id": int >= 0, "price", "qty", "side": "buy" | "sell" (the AGGRESSOR:
              "buy" when the buyer took liquidity)
    ticker    "id": int (update id), "bid", "bid_qty", "ask", "ask_qty" (best bid/offer)

Other keys are ignored, so writers may add their own. A snapshot or diff becomes one
event row per level (bids first, in the order given; one FLAG_EMPTY row when it has no
level), a trade one row, a ticker two rows (bid, ask): exactly what `EventBuilder` makes
of a venue's message, so the L2 book and the simulated venue take them unchanged.

Reading (`JsonlEventReader`, an `EventSource`): a bad line never stops a replay; it is
counted by category (`bad_json`, `missing_field`, `bad_timestamp`, `bad_value`,
`bad_decimal`) with file:line examples in `stats`. Lines of another symbol are counted
in `stats.unknown_streams` under `symbol:<SYMBOL>`, lines of an unknown type under the
type; lines used are counted per type in `stats.by_stream`.

Writing (`JsonlEventWriter`): rows go back to lines with the instrument's grid, keys in
the order listed above, no spaces, `ts_event` only when known, `prev_id` only when not
-1. The bytes depend on the rows alone (a `.gz` target gets a gzip header with no name
and time 0), so recording the same feed twice gives identical files, and reading a
written file gives the rows back exactly. Rows the format cannot give back exactly
(L3 kinds, a snapshot whose seq_first is not 0, a negative price, ...) are refused.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Protocol

import numpy as np
import numpy.typing as npt
import orjson

from adapters.data.binance_capture import (
    BAD_DECIMAL,
    BAD_JSON,
    BAD_TIMESTAMP,
    BAD_VALUE,
    MISSING_FIELD,
)
from adapters.data.linefile import chunked, read_lines
from engine import _core
from engine.marketdata import DecodeStats, EventChunk
from engine.marketdata.instruments import InstrumentSpec

__all__ = [
    "TYPES",
    "JsonlEventError",
    "JsonlEventReader",
    "JsonlEventWriter",
]

TYPES = ("snapshot", "diff", "trade", "ticker")
"""The line types of the format, in the order the module docs describe them."""

DEFAULT_CHUNK_ROWS = 1 << 16
_INT64 = (-(2**63), 2**63 - 1)
_GZIP_MAGIC = b"\x1f\x8b"


class JsonlEventError(ValueError):
    """A file that cannot be read at all, or rows the writer cannot write."""


class _BadLine(Exception):
    def __init__(self, category: str, detail: str) -> None:
        super().__init__(detail)
        self.category = category
        self.detail = detail


def _int(msg: dict[str, Any], key: str, *, unsigned: bool = False) -> int:
    value = msg[key]
    low, high, text = (0, 2**64 - 1, "[0, 2^64)") if unsigned else (*_INT64, "[-2^63, 2^63)")
    if type(value) is not int or not low <= value <= high:
        raise _BadLine(BAD_VALUE, f"field {key!r} = {value!r}: expected an integer in {text}")
    return value


def _text(msg: dict[str, Any], key: str) -> str:
    value = msg[key]
    if not isinstance(value, str):
        raise _BadLine(
            BAD_VALUE, f'field {key!r} = {value!r}: expected a decimal string such as "1.5"'
        )
    return value


def _time(msg: dict[str, Any], key: str) -> int:
    value = msg[key]
    if type(value) is not int or not _INT64[0] <= value <= _INT64[1]:
        raise _BadLine(
            BAD_TIMESTAMP, f"field {key!r} = {value!r}: expected integer ns since the epoch"
        )
    return value


def _is_gzip(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(2) == _GZIP_MAGIC


class JsonlEventReader:
    """One JSONL event file of one instrument as an `EventSource`."""

    def __init__(
        self, path: Path | str, instrument: InstrumentSpec, *, chunk_rows: int = DEFAULT_CHUNK_ROWS
    ) -> None:
        self.path = Path(path)
        if not self.path.is_file():
            what = "is a directory" if self.path.is_dir() else "no such file"
            raise JsonlEventError(f"{self.path}: {what}, expected a JSONL event file")
        if chunk_rows < 1:
            raise JsonlEventError(f"chunk_rows {chunk_rows} is not positive (rule: >= 1)")
        self.chunk_rows = chunk_rows
        self._instrument = instrument
        self._symbol = instrument.symbol.upper()
        self._gzip = _is_gzip(self.path)
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

    def chunks(self) -> Iterator[EventChunk]:
        """Streams the file; yields chunks of about `chunk_rows` rows, whole lines each."""
        self._stats = stats = DecodeStats(self.name)
        spec = self._instrument
        builder = _core.EventBuilder(_core.Grid(spec.tick_size, spec.book_lot_size))
        yield from chunked(
            self.name,
            builder,
            read_lines(self.path, stats, gzipped=self._gzip),
            self._decode,
            stats,
            self.chunk_rows,
        )

    def _decode(
        self, builder: _core.EventBuilder, raw: bytes, lineno: int, stats: DecodeStats
    ) -> int:
        """One line -> one atomic push; returns the rows added (0 when skipped)."""
        if not raw.strip():
            stats.blank += 1
            return 0
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError as exc:
            stats.count_malformed(lineno, BAD_JSON, str(exc))
            return 0
        if not isinstance(msg, dict):
            stats.count_malformed(
                lineno, BAD_VALUE, f"line is a JSON {type(msg).__name__}, expected an object"
            )
            return 0
        kind = msg.get("type")
        label = kind if isinstance(kind, str) else "<no type>"
        try:
            if kind not in TYPES:
                if kind is None:
                    raise KeyError("type")
                stats.count_unknown(str(kind))
                return 0
            symbol = msg["symbol"]
            if not isinstance(symbol, str):
                raise _BadLine(BAD_VALUE, f"field 'symbol' = {symbol!r}: expected a string")
            if symbol.upper() != self._symbol:
                stats.count_unknown(f"symbol:{symbol.upper()}")
                return 0
            added = self._push(builder, kind, msg)
        except KeyError as exc:
            stats.count_malformed(lineno, MISSING_FIELD, f"{label}: missing field {exc.args[0]!r}")
            return 0
        except _BadLine as exc:
            stats.count_malformed(lineno, exc.category, f"{label}: {exc.detail}")
            return 0
        except _core.FixedPointError as exc:
            stats.count_malformed(lineno, BAD_DECIMAL, f"{label}: {exc}")
            return 0
        except (TypeError, ValueError, OverflowError) as exc:
            stats.count_malformed(lineno, BAD_VALUE, f"{label}: {exc}")
            return 0
        stats.count_stream(kind)
        return added

    @staticmethod
    def _push(builder: _core.EventBuilder, kind: str, msg: dict[str, Any]) -> int:
        ts_recv = _time(msg, "ts")
        ts_event = _time(msg, "ts_event") if "ts_event" in msg else 0
        if kind == "trade":
            side = msg["side"]
            if side not in ("buy", "sell"):
                raise _BadLine(
                    BAD_VALUE, f'field \'side\' = {side!r}: expected "buy" or "sell" (aggressor)'
                )
            return builder.push_trade(
                ts_recv,
                ts_event,
                _int(msg, "id", unsigned=True),
                _text(msg, "price"),
                _text(msg, "qty"),
                side == "sell",
            )
        if kind == "ticker":
            return builder.push_ticker(
                ts_recv,
                ts_event,
                _int(msg, "id"),
                _text(msg, "bid"),
                _text(msg, "bid_qty"),
                _text(msg, "ask"),
                _text(msg, "ask_qty"),
            )
        if kind == "snapshot":
            return builder.push_snapshot(
                ts_recv, ts_event, _int(msg, "id"), msg["bids"], msg["asks"]
            )
        prev_id = _int(msg, "prev_id") if "prev_id" in msg else -1
        return builder.push_diff(
            ts_recv,
            ts_event,
            _int(msg, "first_id"),
            _int(msg, "last_id"),
            prev_id,
            msg["bids"],
            msg["asks"],
        )


# Row tuple positions (EVENT_DTYPE order, from ndarray.tolist()).
_TS_EVENT, _TS_RECV, _SEQ_FIRST, _SEQ_LAST, _SEQ_PREV, _PRICE, _QTY, _ORDER_ID = range(8)
_KIND, _SIDE, _FLAGS = 8, 9, 10
_KIND_NAMES = {
    _core.KIND_SNAPSHOT: "snapshot",
    _core.KIND_DIFF: "diff",
    _core.KIND_TRADE: "trade",
    _core.KIND_TICKER: "ticker",
}


class _Sink(Protocol):
    def write(self, data: bytes, /) -> int: ...
    def flush(self) -> None: ...
    def close(self) -> None: ...


class JsonlEventWriter:
    """Records EVENT_DTYPE rows of one instrument as JSONL lines (format in the module docs).

    `write` takes rows in order; a snapshot or diff may be split across calls (its rows
    wait for its END row). Errors name rows by their index among all rows given so far.
    Each call is atomic: on an error nothing of it is written and the writer is as
    before. `close` refuses to drop an unfinished message.
    """

    def __init__(self, target: Path | str | IO[bytes], instrument: InstrumentSpec) -> None:
        self._instrument = instrument
        self._grid = _core.Grid(instrument.tick_size, instrument.book_lot_size)
        self._symbol = instrument.symbol
        # Files opened here, closed in this order by close(); a stream passed in is only
        # flushed.
        self._owned: list[_Sink] = []
        if isinstance(target, (str, Path)):
            path = Path(target)
            raw = open(path, "wb")  # noqa: SIM115 (kept open across calls; closed in close())
            self._out: _Sink = raw
            if path.name.endswith(".gz"):
                self._out = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0)
                self._owned.append(self._out)
            self._owned.append(raw)
            self.name = str(path)
        else:
            self._out = target
            self.name = str(getattr(target, "name", "<stream>"))
        self._pending: list[tuple[Any, ...]] = []
        self._price_text: dict[int, str] = {}
        self._qty_text: dict[int, str] = {}
        self._pending_row = 0
        self._rows_seen = 0
        self.lines_written = 0
        self._closed = False

    def __enter__(self) -> JsonlEventWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        if exc[0] is None:
            self.close()
        else:
            self._release()

    def write(self, events: npt.NDArray[np.void]) -> int:
        """Writes the complete messages among `events`; returns the lines written."""
        if self._closed:
            raise JsonlEventError(f"{self.name}: the writer is closed")
        if events.dtype != _core.EVENT_DTYPE:
            raise JsonlEventError(f"events: dtype {events.dtype} is not EVENT_DTYPE")
        rows: list[tuple[Any, ...]] = self._pending + events.tolist()
        first_row = self._pending_row if self._pending else self._rows_seen
        self._texts(events, self._pending)
        lines, used = self._encode(rows, first_row)
        self._out.write(b"".join(lines))
        self._pending = rows[used:]
        self._pending_row = first_row + used
        self._rows_seen += len(events)
        self.lines_written += len(lines)
        return len(lines)

    def close(self) -> None:
        """Flushes and closes (a stream passed in is flushed, not closed)."""
        if self._closed:
            return
        if self._pending:
            self._release()
            raise JsonlEventError(
                f"{self.name}: row {self._pending_row}: a {len(self._pending)}-row message has "
                "no END row; it was not written (rule: messages end with FLAG_END)"
            )
        self._release()

    def _release(self) -> None:
        self._closed = True
        self._out.flush()
        for fh in self._owned:
            fh.close()

    # --- encoding ---------------------------------------------------------------------
    def _texts(self, events: npt.NDArray[np.void], pending: list[tuple[Any, ...]]) -> None:
        """Decimal text of each distinct price and size, formatted once per call."""
        prices = set(np.unique(events["price"]).tolist())
        sizes = set(np.unique(events["qty"]).tolist())
        prices.update(row[_PRICE] for row in pending)
        sizes.update(row[_QTY] for row in pending)
        grid = self._grid
        self._price_text = {p: grid.ticks_to_price(p) for p in prices}
        self._qty_text = {q: grid.lots_to_qty(q) for q in sizes}

    def _encode(self, rows: list[tuple[Any, ...]], first_row: int) -> tuple[list[bytes], int]:
        """Lines for the complete messages of `rows`, and how many rows they used."""
        out: list[bytes] = []
        i, n = 0, len(rows)
        while i < n:
            row = rows[i]
            where = f"row {first_row + i}"
            kind = row[_KIND]
            name = _KIND_NAMES.get(kind)
            if name is None:
                raise JsonlEventError(
                    f"{where}: kind {kind} has no JSONL form (rule: snapshot, diff, trade, ticker)"
                )
            if not row[_FLAGS] & _core.FLAG_BEGIN:
                raise JsonlEventError(f"{where}: a {name} row starts no message (FLAG_BEGIN unset)")
            end = i
            while not rows[end][_FLAGS] & _core.FLAG_END:
                end += 1
                if end == n:
                    return out, i  # unfinished: wait for the rest
                if rows[end][_FLAGS] & _core.FLAG_BEGIN:
                    raise JsonlEventError(
                        f"row {first_row + end}: a new message begins before {where}'s {name} "
                        "ends (rule: FLAG_END closes every message)"
                    )
            out.append(self._line(name, rows[i : end + 1], where))
            i = end + 1
        return out, n

    def _line(self, name: str, msg: list[tuple[Any, ...]], where: str) -> bytes:
        head = msg[0]
        for j, row in enumerate(msg):
            same = row[_KIND] == head[_KIND] and row[:_PRICE] == head[:_PRICE]
            if not same or row[_SIDE] > 1 or (row[_PRICE] < 0 or row[_QTY] < 0):
                raise JsonlEventError(
                    f"{where}+{j}: {name} row {row[: _FLAGS + 1]} cannot be written exactly "
                    "(rule: rows of a message share kind, times and ids; side 0 or 1; price "
                    "and qty >= 0)"
                )
        obj: dict[str, Any] = {"type": name, "ts": head[_TS_RECV]}
        if head[_TS_EVENT] != 0:
            obj["ts_event"] = head[_TS_EVENT]
        obj["symbol"] = self._symbol
        price, qty = self._price_text, self._qty_text
        seq = (head[_SEQ_FIRST], head[_SEQ_LAST], head[_SEQ_PREV])
        if name == "trade":
            if len(msg) != 1 or seq != (0, 0, -1):
                raise self._cannot(where, name, "one row with seq (0, 0, -1)")
            obj["id"] = head[_ORDER_ID]
            obj["price"] = price[head[_PRICE]]
            obj["qty"] = qty[head[_QTY]]
            obj["side"] = "sell" if head[_SIDE] else "buy"
        elif name == "ticker":
            if (
                len(msg) != 2
                or (msg[0][_SIDE], msg[1][_SIDE]) != (0, 1)
                or seq != (seq[1], seq[1], -1)
                or head[_ORDER_ID] != 0
            ):
                raise self._cannot(where, name, "a bid row then an ask row, seq (u, u, -1)")
            obj["id"] = seq[1]
            obj["bid"] = price[msg[0][_PRICE]]
            obj["bid_qty"] = qty[msg[0][_QTY]]
            obj["ask"] = price[msg[1][_PRICE]]
            obj["ask_qty"] = qty[msg[1][_QTY]]
        else:
            if name == "snapshot":
                if seq[0] != 0 or seq[2] != -1:
                    raise self._cannot(where, name, "seq_first 0 and seq_prev -1")
                obj["id"] = seq[1]
            else:
                obj["first_id"] = seq[0]
                obj["last_id"] = seq[1]
                if seq[2] != -1:
                    obj["prev_id"] = seq[2]
            levels: tuple[list[list[str]], list[list[str]]] = ([], [])
            empty = head[_FLAGS] & _core.FLAG_EMPTY
            if empty and len(msg) != 1:
                raise self._cannot(where, name, "an EMPTY row is the whole message")
            seen_ask = False
            for row in msg if not empty else ():
                if row[_ORDER_ID] != 0:
                    raise self._cannot(where, name, "order_id 0")
                if row[_SIDE] == 0 and seen_ask:
                    raise self._cannot(where, name, "bid rows before ask rows")
                seen_ask = seen_ask or row[_SIDE] == 1
                levels[row[_SIDE]].append([price[row[_PRICE]], qty[row[_QTY]]])
            obj["bids"], obj["asks"] = levels
        return orjson.dumps(obj) + b"\n"

    @staticmethod
    def _cannot(where: str, name: str, rule: str) -> JsonlEventError:
        return JsonlEventError(
            f"{where}: this {name} message cannot be written exactly (rule: {rule}, as "
            "EventBuilder makes it)"
        )
