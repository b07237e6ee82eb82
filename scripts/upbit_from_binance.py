"""Builds the SYNTHETIC Upbit KRW-BTC recording from the bundled Binance spot capture.

    PYTHONPATH=python python scripts/upbit_from_binance.py [--check]

Writes python/adapters/data/upbit/spot-krwbtc-synthetic-20240808.gz: Upbit websocket
messages (`orderbook`, `trade`; DEFAULT format) one per line as `<receive ns> <JSON>`,
made from spot-btcusdt-20240808.gz. It is NOT Upbit data: every message carries
`"synthetic":true`, and the README beside the file says how it was made.

How: the Binance messages are read by the Binance capture reader and the depth kept in
an `engine._core.L2Book`. From the first moment the book is in sync, for WINDOW_MS of
exchange time (Binance `E`; the REST snapshot, which has none, takes the latest `E`
seen):
- an `orderbook` message with the top LEVELS levels per side whenever a 100 ms boundary
  of exchange time passes, stamped with the boundary, and just before every trade (the
  book the trade met), stamped with the trade's time; one that would repeat the last
  message's levels exactly is not written. The first is `stream_type` SNAPSHOT, as on
  subscribing; the rest REALTIME. Stamps never go back (max with the previous one).
- a `trade` message per Binance trade, `ask_bid` BID when the buyer took (Binance m =
  false), `sequential_id` = the Binance trade id, `trade_timestamp` = `timestamp` = `E`
  (the normalized events keep `E` only). Upbit fields this source cannot give
  (prev_closing_price, change, change_price, best_* quotes) are left out.
Prices: USDT x RATE_KRW_PER_USDT, then onto the 1,000 KRW grid: bids and sell-taker
trades round down, asks and buy-taker trades round up (never a crossed book; a trade
lands on the level it hit); levels that land on one KRW price are summed. Exact integer
arithmetic throughout. Sizes are Binance's (BTC, 8 decimals), unchanged. Prices are
spelt like a Java double (`8.4717E7`), as the real feed's are; sizes with 8 decimals.
The receive time of each line is that of the Binance line that caused it.

Deterministic: the same bytes on every run. `--check` rebuilds and compares with the
bundled file (the decompressed content must be identical; the gzip stream itself too,
unless this machine's zlib compresses differently, which is reported but not a failure).
"""

from __future__ import annotations

import gzip
import io
import sys
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path

import numpy as np
import numpy.typing as npt

from adapters.data import BUNDLED_BINANCE_DIR
from adapters.data.binance_capture import BinanceCaptureReader
from adapters.data.upbit_capture import BUNDLED_UPBIT_SYNTHETIC
from engine import _core
from engine.marketdata.upbit import KRW_BTC

SOURCE = BUNDLED_BINANCE_DIR / "spot-btcusdt-20240808.gz"
TARGET = BUNDLED_UPBIT_SYNTHETIC
RATE_KRW_PER_USDT = 1370
"""Fixed conversion rate (about the USDT/KRW rate of early August 2024); a constant on
purpose: the file is for replay tests, not a price history."""
WINDOW_MS = 180_000
INTERVAL_MS = 100
LEVELS = 15
CODE = KRW_BTC.symbol
SIZE_DECIMALS = 8

Level = tuple[int, int]  # (price in KRW ticks, size in lots)


class SourceError(RuntimeError):
    """The source capture cannot give a faithful conversion (a gap, a thin book)."""


def java_double(value: int) -> str:
    """A whole number as Java's Double.toString writes it: `84717000` -> `8.4717E7`,
    below 10^7 plainly with `.0`."""
    if value < 0:
        raise ValueError(f"price {value} is negative")
    if value < 10_000_000:
        return f"{value}.0"
    digits = str(value)
    return f"{digits[0]}.{digits[1:].rstrip('0') or '0'}E{len(digits) - 1}"


def size_text(lots: int) -> str:
    return f"{lots // 10**SIZE_DECIMALS}.{lots % 10**SIZE_DECIMALS:0{SIZE_DECIMALS}d}"


def utc_date_time(ms: int) -> tuple[str, str]:
    moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=ms)
    return moment.strftime("%Y-%m-%d"), moment.strftime("%H:%M:%S")


@dataclass(slots=True)
class Converter:
    """Binance ticks -> KRW ticks, and the aggregation of a Binance side into KRW levels."""

    factor: Fraction  # KRW ticks per Binance tick

    @classmethod
    def for_grids(cls, source_tick: str, target_tick: str, rate: int) -> Converter:
        return cls(Fraction(source_tick) * rate / Fraction(target_tick))

    def bid(self, ticks: int) -> int:
        return (ticks * self.factor.numerator) // self.factor.denominator

    def ask(self, ticks: int) -> int:
        return -((-ticks * self.factor.numerator) // self.factor.denominator)

    def side(self, book: _core.L2Book, side: int, levels: int) -> list[Level]:
        """The best `levels` KRW levels of a Binance side, each the sum of every Binance
        level that lands on its price (asked for deeper until the last one is complete)."""
        to_krw = self.bid if side == _core.SIDE_BID else self.ask
        depth = 256
        while True:
            source = book.depth(side, depth)
            out: list[Level] = []
            for ticks, lots in source:
                price = to_krw(ticks)
                if out and out[-1][0] == price:
                    out[-1] = (price, out[-1][1] + lots)
                elif len(out) == levels:
                    return out  # the next KRW price starts: the last level is complete
                else:
                    out.append((price, lots))
            if len(source) < depth:  # the whole side was read
                if len(out) < levels:
                    raise SourceError(f"side {side} has only {len(out)} KRW levels")
                return out
            depth *= 2


@dataclass(slots=True)
class Writer:
    """Upbit-format lines with never-decreasing stamps and no repeated book."""

    lines: list[bytes] = field(default_factory=list)
    last_book: tuple[list[Level], list[Level]] | None = None
    last_stamp: int = 0

    def book(self, ts_recv: int, stamp_ms: int, bids: list[Level], asks: list[Level]) -> None:
        if self.last_book == (bids, asks):
            return
        stream = "SNAPSHOT" if self.last_book is None else "REALTIME"
        self.last_book = (bids, asks)
        stamp = self._stamp(stamp_ms)
        tick = int(KRW_BTC.tick_size)
        units = ",".join(
            f'{{"ask_price":{java_double(ap * tick)},"bid_price":{java_double(bp * tick)},'
            f'"ask_size":{size_text(aq)},"bid_size":{size_text(bq)}}}'
            for (bp, bq), (ap, aq) in zip(bids, asks, strict=True)
        )
        total_ask = size_text(sum(q for _, q in asks))
        total_bid = size_text(sum(q for _, q in bids))
        self._add(
            ts_recv,
            f'{{"type":"orderbook","code":"{CODE}","timestamp":{stamp},'
            f'"total_ask_size":{total_ask},"total_bid_size":{total_bid},'
            f'"orderbook_units":[{units}],"stream_type":"{stream}","level":0,"synthetic":true}}',
        )

    def trade(
        self, ts_recv: int, stamp_ms: int, price: int, lots: int, buyer_took: bool, trade_id: int
    ) -> None:
        stamp = self._stamp(stamp_ms)
        day, clock = utc_date_time(stamp_ms)
        price_text = java_double(price * int(KRW_BTC.tick_size))
        self._add(
            ts_recv,
            f'{{"type":"trade","code":"{CODE}","timestamp":{stamp},"trade_date":"{day}",'
            f'"trade_time":"{clock}","trade_timestamp":{stamp_ms},"trade_price":{price_text},'
            f'"trade_volume":{size_text(lots)},"ask_bid":"{"BID" if buyer_took else "ASK"}",'
            f'"sequential_id":{trade_id},"stream_type":"REALTIME","synthetic":true}}',
        )

    def _stamp(self, ms: int) -> int:
        self.last_stamp = max(self.last_stamp, ms)
        return self.last_stamp

    def _add(self, ts_recv: int, payload: str) -> None:
        self.lines.append(f"{ts_recv} {payload}\n".encode())


def _messages(events: npt.NDArray[np.void]) -> list[tuple[int, int]]:
    """(start, end) of each message in a chunk: rows from a BEGIN row to the next one."""
    begins = np.flatnonzero(events["flags"] & _core.FLAG_BEGIN).tolist()
    ends = [*begins[1:], len(events)]
    return list(zip(begins, ends, strict=True))


def convert(source: Path = SOURCE, *, window_ms: int = WINDOW_MS) -> list[bytes]:
    """The synthetic lines, in order."""
    reader = BinanceCaptureReader(source)
    spec = reader.instrument
    if (spec.tick_size, spec.book_lot_size) != ("0.01", KRW_BTC.lot_size):
        raise SourceError(f"{source}: expected tick 0.01 and book lot {KRW_BTC.lot_size}")
    convert_price = Converter.for_grids(spec.tick_size, KRW_BTC.tick_size, RATE_KRW_PER_USDT)
    book = _core.L2Book(spec.sequence_rule)
    out = Writer()
    clock_ms = 0  # latest exchange time seen
    start_ms: int | None = None
    next_boundary = 0
    chunks = reader.chunks()
    try:
        for chunk in chunks:
            ev = chunk.events
            for begin, end in _messages(ev):
                row = ev[begin]
                kind = int(row["kind"])
                ts_recv = int(row["ts_recv"])
                clock_ms = max(clock_ms, int(row["ts_event"]) // 1_000_000)
                if start_ms is not None and clock_ms >= start_ms + window_ms:
                    return out.lines
                if kind in (_core.KIND_SNAPSHOT, _core.KIND_DIFF):
                    if start_ms is not None:
                        boundary = (clock_ms - 1) // INTERVAL_MS * INTERVAL_MS
                        if boundary >= next_boundary:
                            bids, asks = _top(book, convert_price)
                            out.book(ts_recv, boundary, bids, asks)
                            next_boundary = boundary + INTERVAL_MS
                    result = book.apply_events(ev[begin:end])
                    if result.gaps or result.errors:
                        line = chunk.lines[begin]
                        raise SourceError(f"{source}: line {line}: {result.first_error}")
                    if start_ms is None and not book.stale:
                        start_ms = clock_ms
                        next_boundary = (clock_ms // INTERVAL_MS + 1) * INTERVAL_MS
                        bids, asks = _top(book, convert_price)
                        out.book(ts_recv, clock_ms, bids, asks)
                elif kind == _core.KIND_TRADE and start_ms is not None:
                    bids, asks = _top(book, convert_price)
                    out.book(ts_recv, clock_ms, bids, asks)
                    buyer_took = int(row["side"]) == _core.SIDE_BID
                    ticks = int(row["price"])
                    price = convert_price.ask(ticks) if buyer_took else convert_price.bid(ticks)
                    trade_id = int(row["order_id"])
                    out.trade(ts_recv, clock_ms, price, int(row["qty"]), buyer_took, trade_id)
    finally:
        chunks.close()
    raise SourceError(f"{source}: ended before {window_ms} ms of synced book")


def _top(book: _core.L2Book, convert_price: Converter) -> tuple[list[Level], list[Level]]:
    return (
        convert_price.side(book, _core.SIDE_BID, LEVELS),
        convert_price.side(book, _core.SIDE_ASK, LEVELS),
    )


def gzip_bytes(lines: list[bytes]) -> bytes:
    """Deterministic gzip: no file name, mtime 0, level 9."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", mode="wb", fileobj=buf, compresslevel=9, mtime=0) as fh:
        fh.writelines(lines)
    return buf.getvalue()


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        lines = convert()
        fresh = gzip_bytes(lines)
        bundled = TARGET.read_bytes()
        if gzip.decompress(bundled) != b"".join(lines):
            print(f"{TARGET.name}: content DIFFERS from a fresh build")
            return 1
        if fresh != bundled:
            print(f"{TARGET.name}: content up to date (gzip bytes differ: another zlib)")
        else:
            print(f"{TARGET.name}: up to date")
        return 0
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    lines = convert()
    TARGET.parent.mkdir(parents=True, exist_ok=True)
    TARGET.write_bytes(gzip_bytes(lines))
    print(f"wrote {len(lines)} lines ({TARGET.stat().st_size:,} bytes) to {TARGET}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
