"""Replay of normalized events into one L2 book, checked against the venue's bookTicker.

The book persists across sources, so a file that continues an earlier one needs no new
snapshot. Pure: the caller supplies the sources and, if it wants, the clock.
"""

from __future__ import annotations

import bisect
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from engine import _core
from engine.marketdata import DecodeStats, EventChunk, EventSource, LineIssue
from engine.marketdata.instruments import InstrumentSpec

__all__ = [
    "BookReplay",
    "Gap",
    "Quote",
    "ReplayError",
    "ReplayReport",
    "TickerMismatch",
    "replay",
]

MAX_MISMATCH_EXAMPLES = 5


class ReplayError(ValueError):
    """The sources cannot be replayed together (for example, different instruments)."""


@dataclass(frozen=True, slots=True)
class Quote:
    """One side of the top of book, as decimal strings of the instrument."""

    price: str
    qty: str

    def as_dict(self) -> dict[str, str]:
        return {"price": self.price, "qty": self.qty}


@dataclass(frozen=True, slots=True)
class Gap:
    """A diff that broke the sequence chain: the book went stale at this line.

    A diff buffered while the book waited for a snapshot is reported when that snapshot
    replays it, still at its own line.
    """

    source: str
    line: int
    first_id: int
    last_id: int
    prev_id: int

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "line": self.line,
            "first_id": self.first_id,
            "last_id": self.last_id,
            "prev_id": self.prev_id,
        }


@dataclass(frozen=True, slots=True)
class TickerMismatch:
    """A bookTicker that disagrees with the book rebuilt up to the same update id."""

    source: str
    line: int
    update_id: int
    book_bid: Quote
    book_ask: Quote
    ticker_bid: Quote
    ticker_ask: Quote

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "line": self.line,
            "update_id": self.update_id,
            "book": {"bid": self.book_bid.as_dict(), "ask": self.book_ask.as_dict()},
            "ticker": {"bid": self.ticker_bid.as_dict(), "ask": self.ticker_ask.as_dict()},
        }


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """Everything a replay found, summed over its sources in order."""

    instrument: InstrumentSpec
    sources: tuple[str, ...]
    # what the readers made of the lines
    lines: int
    blank_lines: int
    lines_by_stream: Mapping[str, int]
    unknown_streams: Mapping[str, int]
    malformed: Mapping[str, int]
    malformed_examples: tuple[LineIssue, ...]
    # what the book did
    messages: int
    events: int
    snapshots: int
    diffs_applied: int
    diffs_dropped: int
    diffs_buffered: int
    levels_applied: int
    trades: int
    tickers: int
    gaps: tuple[Gap, ...]
    book_errors: int
    first_book_error: str | None
    # the bookTicker oracle
    ticker_comparisons: int
    ticker_agreed: int
    ticker_prices_agreed: int
    ticker_mismatches: tuple[TickerMismatch, ...]
    # the end state
    best_bid: Quote | None
    best_ask: Quote | None
    last_update_id: int | None
    book_stale: bool
    # speed (wall clock of the whole replay, decoding included)
    elapsed_s: float
    book_s: float
    per_source_lines: Mapping[str, int] = field(default_factory=dict)

    @property
    def malformed_lines(self) -> int:
        return sum(self.malformed.values())

    @property
    def unknown_stream_lines(self) -> int:
        return sum(self.unknown_streams.values())

    @property
    def events_per_s(self) -> float:
        return self.events / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def messages_per_s(self) -> float:
        return self.messages / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def book_events_per_s(self) -> float:
        """Rows per second inside `L2Book.apply_events` alone (the Rust hot path)."""
        return self.events / self.book_s if self.book_s > 0 else 0.0

    def as_dict(self) -> dict[str, object]:
        """A JSON-ready dict (plain str/int/float/bool/None, lists and dicts)."""
        return {
            "instrument": {
                "venue": self.instrument.venue,
                "market": self.instrument.market,
                "symbol": self.instrument.symbol,
                "tick_size": self.instrument.tick_size,
                "lot_size": self.instrument.lot_size,
                "book_lot_size": self.instrument.book_lot_size,
                "sequence_rule": self.instrument.sequence_rule,
            },
            "sources": list(self.sources),
            "lines": self.lines,
            "lines_per_source": dict(self.per_source_lines),
            "blank_lines": self.blank_lines,
            "lines_by_stream": dict(self.lines_by_stream),
            "unknown_streams": dict(self.unknown_streams),
            "unknown_stream_lines": self.unknown_stream_lines,
            "malformed": dict(self.malformed),
            "malformed_lines": self.malformed_lines,
            "malformed_examples": [issue.as_dict() for issue in self.malformed_examples],
            "messages": self.messages,
            "events": self.events,
            "snapshots": self.snapshots,
            "diffs_applied": self.diffs_applied,
            "diffs_dropped": self.diffs_dropped,
            "diffs_buffered": self.diffs_buffered,
            "levels_applied": self.levels_applied,
            "trades": self.trades,
            "tickers": self.tickers,
            "gap_count": len(self.gaps),
            "gaps": [gap.as_dict() for gap in self.gaps],
            "book_errors": self.book_errors,
            "first_book_error": self.first_book_error,
            "ticker_comparisons": self.ticker_comparisons,
            "ticker_agreed": self.ticker_agreed,
            "ticker_prices_agreed": self.ticker_prices_agreed,
            "ticker_mismatches": [m.as_dict() for m in self.ticker_mismatches],
            "best_bid": self.best_bid.as_dict() if self.best_bid else None,
            "best_ask": self.best_ask.as_dict() if self.best_ask else None,
            "last_update_id": self.last_update_id,
            "book_stale": self.book_stale,
            "elapsed_s": self.elapsed_s,
            "events_per_s": self.events_per_s,
            "messages_per_s": self.messages_per_s,
            "book_s": self.book_s,
            "book_events_per_s": self.book_events_per_s,
        }


class BookReplay:
    """Feeds event chunks into one `L2Book` and keeps what the report needs.

    Tops (after each applied diff) and tickers are kept until the end because the two
    streams are not ordered with respect to each other, not even within one file.
    """

    def __init__(
        self, instrument: InstrumentSpec, clock: Callable[[], float] = time.perf_counter
    ) -> None:
        self.instrument = instrument
        self._grid = _core.Grid(instrument.tick_size, instrument.book_lot_size)
        self._book = _core.L2Book(instrument.sequence_rule)
        self._clock = clock
        self._sources: list[str] = []
        self._counters: dict[str, int] = dict.fromkeys(_BATCH_COUNTERS, 0)
        self._gaps: list[Gap] = []
        self._book_errors = 0
        self._first_book_error: str | None = None
        self._tops: list[npt.NDArray[np.void]] = []
        self._tickers: list[npt.NDArray[np.void]] = []
        self._ticker_lines: list[npt.NDArray[np.int64]] = []
        self._ticker_sources: list[npt.NDArray[np.int32]] = []
        self._book_s = 0.0
        self._diffs_buffered = 0
        self._rows_total = 0
        self._chunk_starts: list[int] = []
        self._chunk_places: list[tuple[str, npt.NDArray[np.int64]]] = []

    @property
    def book(self) -> _core.L2Book:
        return self._book

    def apply(self, chunk: EventChunk) -> None:
        """Hands one chunk to the book in a single call into Rust.

        Rows are numbered over the whole replay (`row_offset`), so a diff buffered in one
        chunk that breaks the chain when a later snapshot replays it still maps to its
        file and line.
        """
        if not self._sources or self._sources[-1] != chunk.source:
            self._sources.append(chunk.source)
        offset = self._rows_total
        self._chunk_starts.append(offset)
        self._chunk_places.append((chunk.source, chunk.lines))
        self._rows_total += len(chunk.events)
        started = self._clock()
        result = self._book.apply_events(chunk.events, record_tops=True, row_offset=offset)
        self._book_s += self._clock() - started
        for name in _BATCH_COUNTERS:
            self._counters[name] += int(getattr(result, name))
        # A state, not a flow: the diffs still held when this batch ended.
        self._diffs_buffered = result.diffs_buffered
        for row, (first_id, last_id, prev_id) in zip(result.gap_rows, result.gap_ids, strict=True):
            source, line = self._where(row)
            self._gaps.append(
                Gap(source=source, line=line, first_id=first_id, last_id=last_id, prev_id=prev_id)
            )
        if result.errors:
            self._book_errors += result.errors
            if self._first_book_error is None:
                err_row = result.first_error_row
                place = "" if err_row is None else "{}:{}: ".format(*self._where(err_row))
                self._first_book_error = f"{place}{result.first_error}"
        if result.tops is not None and len(result.tops):
            self._tops.append(result.tops)
        self._collect_tickers(chunk, self._sources.index(chunk.source))

    def _where(self, row: int) -> tuple[str, int]:
        """File and line of a replay-wide row number."""
        k = bisect.bisect_right(self._chunk_starts, row) - 1
        source, lines = self._chunk_places[k]
        return source, int(lines[row - self._chunk_starts[k]])

    def _collect_tickers(self, chunk: EventChunk, source_index: int) -> None:
        events = chunk.events
        is_ticker = events["kind"] == _core.KIND_TICKER
        if not is_ticker.any():
            return
        # A ticker message is two rows, bid then ask, both carrying u in seq_last.
        bid_mask = is_ticker & (events["side"] == _core.SIDE_BID)
        ask_mask = is_ticker & (events["side"] == _core.SIDE_ASK)
        bids = events[bid_mask]
        asks = events[ask_mask]
        if len(bids) != len(asks) or not np.array_equal(bids["seq_last"], asks["seq_last"]):
            raise ReplayError(
                f"{chunk.source}: bookTicker rows are not bid/ask pairs with one update id "
                f"({len(bids)} bid rows, {len(asks)} ask rows); EventBuilder broke its contract"
            )
        tickers = np.empty(len(bids), dtype=_core.TOP_DTYPE)
        tickers["seq"] = bids["seq_last"]
        tickers["bid_price"] = bids["price"]
        tickers["bid_qty"] = bids["qty"]
        tickers["ask_price"] = asks["price"]
        tickers["ask_qty"] = asks["qty"]
        self._tickers.append(tickers)
        self._ticker_lines.append(chunk.lines[bid_mask].astype(np.int64, copy=False))
        self._ticker_sources.append(np.full(len(bids), source_index, dtype=np.int32))

    def report(self, decode: Sequence[DecodeStats], elapsed_s: float) -> ReplayReport:
        """Joins tops with tickers and sums the readers' statistics into one report."""
        comparisons, agreed, prices_agreed, mismatches = self._compare_tickers()
        lines_by_stream: dict[str, int] = {}
        unknown: dict[str, int] = {}
        malformed: dict[str, int] = {}
        examples: list[LineIssue] = []
        for stats in decode:
            _add_counts(lines_by_stream, stats.by_stream)
            _add_counts(unknown, stats.unknown_streams)
            _add_counts(malformed, stats.malformed)
            examples.extend(stats.examples)
        counters = self._counters
        return ReplayReport(
            instrument=self.instrument,
            sources=tuple(stats.source for stats in decode) or tuple(self._sources),
            lines=sum(stats.lines for stats in decode),
            blank_lines=sum(stats.blank for stats in decode),
            lines_by_stream=lines_by_stream,
            unknown_streams=unknown,
            malformed=malformed,
            malformed_examples=tuple(examples),
            messages=counters["messages"],
            events=counters["rows"],
            snapshots=counters["snapshots"],
            diffs_applied=counters["diffs_applied"],
            diffs_dropped=counters["diffs_dropped"],
            diffs_buffered=self._diffs_buffered,
            levels_applied=counters["levels_applied"],
            trades=counters["trades"],
            tickers=counters["tickers"],
            gaps=tuple(self._gaps),
            book_errors=self._book_errors,
            first_book_error=self._first_book_error,
            ticker_comparisons=comparisons,
            ticker_agreed=agreed,
            ticker_prices_agreed=prices_agreed,
            ticker_mismatches=tuple(mismatches),
            best_bid=self._quote(self._book.best_bid()),
            best_ask=self._quote(self._book.best_ask()),
            last_update_id=self._book.last_update_id,
            book_stale=self._book.stale,
            elapsed_s=elapsed_s,
            book_s=self._book_s,
            per_source_lines={stats.source: stats.lines for stats in decode},
        )

    def _compare_tickers(self) -> tuple[int, int, int, list[TickerMismatch]]:
        """Compares each ticker with the top after the applied diff whose u is the same."""
        if not self._tops or not self._tickers:
            return 0, 0, 0, []
        tops = np.concatenate(self._tops)
        tickers = np.concatenate(self._tickers)
        # Stable sort, then the rightmost equal seq: if a u were ever applied twice (a
        # re-sync replaying it) the later state is the one that stands.
        order = np.argsort(tops["seq"], kind="stable")
        top_seq = tops["seq"][order]
        pos = np.searchsorted(top_seq, tickers["seq"], side="right") - 1
        valid = pos >= 0
        pos_ok = np.where(valid, pos, 0)
        matched = valid & (top_seq[pos_ok] == tickers["seq"])
        ticker_idx = np.flatnonzero(matched)
        ours = tops[order[pos_ok[ticker_idx]]]
        theirs = tickers[ticker_idx]
        prices_equal = (ours["bid_price"] == theirs["bid_price"]) & (
            ours["ask_price"] == theirs["ask_price"]
        )
        all_equal = (
            prices_equal
            & (ours["bid_qty"] == theirs["bid_qty"])
            & (ours["ask_qty"] == theirs["ask_qty"])
        )
        mismatches: list[TickerMismatch] = []
        if not all_equal.all():
            lines = np.concatenate(self._ticker_lines)
            sources = np.concatenate(self._ticker_sources)
            for k in np.flatnonzero(~all_equal)[:MAX_MISMATCH_EXAMPLES]:
                t = int(ticker_idx[k])
                mismatches.append(
                    TickerMismatch(
                        source=self._sources[int(sources[t])],
                        line=int(lines[t]),
                        update_id=int(theirs["seq"][k]),
                        book_bid=self._side_quote(ours["bid_price"][k], ours["bid_qty"][k]),
                        book_ask=self._side_quote(ours["ask_price"][k], ours["ask_qty"][k]),
                        ticker_bid=self._side_quote(theirs["bid_price"][k], theirs["bid_qty"][k]),
                        ticker_ask=self._side_quote(theirs["ask_price"][k], theirs["ask_qty"][k]),
                    )
                )
        return (
            len(ticker_idx),
            int(all_equal.sum()),
            int(prices_equal.sum()),
            mismatches,
        )

    def _side_quote(self, price: np.int64, qty: np.int64) -> Quote:
        return Quote(self._grid.ticks_to_price(int(price)), self._grid.lots_to_qty(int(qty)))

    def _quote(self, level: tuple[int, int] | None) -> Quote | None:
        if level is None:
            return None
        return Quote(self._grid.ticks_to_price(level[0]), self._grid.lots_to_qty(level[1]))


_BATCH_COUNTERS = (
    "rows",
    "messages",
    "snapshots",
    "diffs_applied",
    "diffs_dropped",
    "levels_applied",
    "trades",
    "tickers",
)


def _add_counts(total: dict[str, int], more: Mapping[str, int]) -> None:
    for key, count in more.items():
        total[key] = total.get(key, 0) + count


def replay(
    sources: Sequence[EventSource], clock: Callable[[], float] = time.perf_counter
) -> ReplayReport:
    """Replays the sources in order into one book (a later one may continue an earlier one).

    Raises ReplayError if the sources are not all the same instrument: one book cannot
    hold two instruments' levels.
    """
    if not sources:
        raise ReplayError("nothing to replay: no sources given")
    instrument = sources[0].instrument
    for source in sources[1:]:
        if source.instrument != instrument:
            raise ReplayError(
                f"{source.name} is {source.instrument.key} but {sources[0].name} is "
                f"{instrument.key}; one replay holds one instrument's book"
            )
    session = BookReplay(instrument, clock=clock)
    started = clock()
    for source in sources:
        for chunk in source.chunks():
            session.apply(chunk)
    elapsed = clock() - started
    return session.report([source.stats for source in sources], elapsed)
