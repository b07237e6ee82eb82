"""CcxtFeed: live order books and trades from a ccxt.pro exchange, as a MarketDataFeed.

ccxt.pro keeps each book in sync itself (REST snapshot, then the diff stream, with the
exchange's sequence rules), so every book update is handed to the kernel as one
snapshot message of the top `depth` levels: the kernel's book is then exactly ccxt's,
whatever ccxt did to get there. Trade prints are one message each.

Threads: the watches run as tasks on an `AsyncioThread`; the kernel takes messages,
alerts and counters from a `Handoff` (bounded, conflating; see handoff.py). Nothing
here touches engine state.

Per symbol there is one task per stream (book; trades when asked), so one bad symbol
stops nothing else. Each task is a reconnect loop:
- network trouble (a dropped or refused websocket, a failed REST snapshot): wait
  `BackoffPolicy.delay` (1-60 s, equal jitter from a seeded source) and watch again;
  the first data after it raises RECONNECTED (for a book: ccxt fetched a fresh
  snapshot on the new subscription, so the book is re-synced);
- a sequence gap (ccxt's ChecksumError or InvalidNonce; ccxt has dropped the book):
  watch again at once, which makes ccxt subscribe anew and fetch a fresh snapshot; the
  first book after it raises RESYNCED;
- the exchange refusing the symbol (BadSymbol and the rest of ccxt's exchange family):
  GAVE_UP at once, never retried;
- after `max_retries` retries have failed in a row (max_retries + 1 failed attempts;
  a gap or a restart retried at once counts too): GAVE_UP and the task ends;
- anything ccxt raises that is not a ccxt error (it failed on what it received) counts
  as malformed and is retried like a network error; a bug in the feed itself gives the
  symbol up (GAVE_UP, logged with its traceback) rather than ending the task silently.

Staleness is judged on the feed's Clock, per symbol, on its book: no book update for
`stale_after_s` raises STALE (checked by a periodic task and on every `next_message`),
the next book raises FRESH. A stale book stream whose current watch has itself hung for
`stale_after_s` is restarted: its websocket is failed on purpose, so ccxt reconnects and
takes a fresh snapshot (a refused dial fails by itself and is left to the backoff; a
re-subscription gets the same time to bring its snapshot). A quiet market therefore
costs one REST snapshot per `stale_after_s`, which is also what re-verifies a book
nobody has updated.

Numbers: ccxt hands prices and sizes as floats; each is read back through its shortest
text (`repr`), which is the exchange's decimal for values of up to 15 significant
digits, and must then lie on the instrument's grid exactly (never rounded). Prices
count in the instrument's tick. Sizes count in `data_lot_size`: by default the lot for
swaps (Binance futures prints book sizes in lot steps) and, for spot, the finer of the
lot and 1e-8 (Binance spot books carry sizes below the order lot, printed with 8
decimals). A message that does not fit is counted as malformed, logged and skipped.

ccxt 4.5 quirks handled here (pinned by tests/test_fakex_ws_*.py and tests/live):
- a frame that does not decode (or a handler that raises on it) escapes ccxt's receive
  callback and silently stops that connection for good (only its 3-minute keepalive
  would notice). The feed wraps each websocket client's decoder so the frame is
  counted as malformed and skipped; the stream goes on (a lost depth diff then shows
  as a gap and re-syncs). The staleness restart stays as the net for stalls of any
  other cause.
- ccxt also backs off re-dials of a URL that refused it (0.2 s doubling, up to 30 s)
  inside the next watch, on top of the caller's own waits: after a few refusals a
  reconnect would lag seconds behind the policy. The feed clears that entry for the
  stream's URL before it waits, so the policy alone sets the pace (a Retry-After sent
  on the handshake is still honoured).
- watches resolve on the next message after the call; a book read then is ccxt's
  latest state (updates in between are conflated by ccxt itself).
"""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Callable, Mapping
from decimal import Decimal
from typing import Any, Final, Literal

import ccxt
import numpy as np
import numpy.typing as npt

from adapters.exchanges.aioloop import AsyncioThread
from adapters.exchanges.backoff import BackoffPolicy
from adapters.exchanges.errors import Outcome, classify
from adapters.feeds.handoff import Handoff
from engine import _core
from engine.domain.enums import InstrumentKind
from engine.domain.instrument import Instrument
from engine.ports.clock import Clock
from engine.ports.feed import (
    FeedAlert,
    FeedAlertKind,
    FeedMarket,
    FeedMessage,
    FeedSymbolStatus,
)

__all__ = [
    "MARKET_DATA_BACKOFF",
    "CcxtFeed",
    "StaleRestart",
    "decimal_text",
    "default_data_lot_size",
]

Stream = Literal["book", "trades"]

SPOT_BOOK_STEP: Final = Decimal("0.00000001")
"""The finest size Binance spot market data prints (8 decimals)."""
MARKET_DATA_BACKOFF: Final = BackoffPolicy(initial_s=0.25)
"""The retry timing recommended for market data: the first retries come 4x sooner than
the 1 s default (a lone dropped socket is back in well under 2 s; tests/live/README.md
has the figures), the same 60 s cap. A refused dial is cheap for the exchange, and
ccxt's rate limiter still spaces the REST snapshots."""
_NS_PER_MS: Final = 1_000_000
_CLOSE_TIMEOUT_S: Final = 5.0


class StaleRestart(ccxt.NetworkError):  # type: ignore[misc]  # ccxt is untyped
    """The feed failed a websocket on purpose: its book stream had gone stale."""


def default_data_lot_size(instrument: Instrument) -> str:
    """The size unit of a symbol's rows when none is given (see the module doc)."""
    lot = instrument.lot_size
    step = min(lot, SPOT_BOOK_STEP) if instrument.kind is InstrumentKind.SPOT else lot
    return format(step.normalize(), "f")


def decimal_text(value: object) -> str:
    """A ccxt number as plain decimal text ("1e-05" -> "0.00001"); ValueError when it
    is not a finite number."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise ValueError(f"value {value!r} is not a number")
    text = repr(value) if isinstance(value, float) else str(value)
    if "e" in text or "E" in text:
        try:
            number = Decimal(text)
        except ArithmeticError:
            raise ValueError(f"value {value!r} is not a decimal number") from None
        if not number.is_finite():
            raise ValueError(f"value {value!r} is not finite")
        text = format(number, "f")
    elif text in ("nan", "inf", "-inf"):
        raise ValueError(f"value {value!r} is not finite")
    return text


def _levels(side: Any, depth: int) -> list[list[str]]:
    return [[decimal_text(level[0]), decimal_text(level[1])] for level in side[:depth]]


def _ms_to_ns(ms: object) -> int:
    return int(ms) * _NS_PER_MS if isinstance(ms, int | float) and not isinstance(ms, bool) else 0


class _Symbol:
    """What the loop thread keeps for one symbol (never read by the kernel thread)."""

    __slots__ = ("book_watch_since", "builder", "clients", "gave_up", "snapshot_id", "symbol")

    def __init__(self, symbol: str, grid: _core.Grid) -> None:
        self.symbol = symbol
        self.builder = _core.EventBuilder(grid)
        self.snapshot_id = 0
        self.book_watch_since: int | None = None
        """When the pending book watch started (None: backing off or not started)."""
        self.gave_up = False
        self.clients: dict[Stream, Any] = {}
        """The ccxt websocket client each stream was last seen on."""


class CcxtFeed:
    def __init__(
        self,
        exchange: Any,
        instruments: Mapping[str, Instrument],
        *,
        clock: Clock,
        loop: AsyncioThread,
        depth: int = 20,
        trades: bool = True,
        backoff: BackoffPolicy | None = None,
        max_retries: int = 10,
        stale_after_s: float = 5.0,
        queue_capacity: int = 1024,
        data_lot_size: Mapping[str, str] | None = None,
        log: logging.Logger | None = None,
        seed: int = 0,
    ) -> None:
        """Watches every symbol of `instruments` (ccxt unified symbols) on `exchange`
        (a ccxt.pro instance that stays the caller's: close it after `close()`), once
        `start()` is called. `seed` makes the backoff jitter reproducible."""
        if not instruments:
            raise ValueError("instruments is empty (rule: at least one symbol to watch)")
        if depth < 1:
            raise ValueError(f"depth {depth!r} is below 1 (rule: levels per side >= 1)")
        if max_retries < 0:
            raise ValueError(f"max_retries {max_retries!r} is negative (rule: >= 0)")
        if not stale_after_s > 0:
            raise ValueError(f"stale_after_s {stale_after_s!r} is not positive (rule: > 0)")
        self._exchange = exchange
        self._clock = clock
        self._loop = loop
        self._depth = depth
        self._trades = trades
        policy = backoff if backoff is not None else BackoffPolicy()
        self._backoff = BackoffPolicy(policy.initial_s, policy.max_s, policy.factor, max_retries)
        self._stale_after_s = float(stale_after_s)
        self._log = log if log is not None else logging.getLogger("quantx.feed")
        self._seed = seed
        lots = dict(data_lot_size or {})
        unknown = sorted(set(lots) - set(instruments))
        if unknown:
            raise ValueError(f"data_lot_size names {unknown} (rule: symbols of instruments)")
        markets: list[FeedMarket] = []
        self._symbols: dict[str, _Symbol] = {}
        for symbol, instrument in instruments.items():
            if symbol != instrument.symbol:
                rule = "(rule: keyed by the instrument's own symbol)"
                raise ValueError(f"instruments[{symbol!r}] is {instrument.symbol!r} {rule}")
            lot = lots.get(symbol) or default_data_lot_size(instrument)
            grid = _core.Grid(format(instrument.tick_size.normalize(), "f"), lot)
            swap = instrument.kind is InstrumentKind.LINEAR_PERPETUAL
            markets.append(FeedMarket(symbol, "futures" if swap else "spot", grid.lot_size))
            self._symbols[symbol] = _Symbol(symbol, grid)
        self._markets = tuple(markets)
        self._handoff = Handoff(
            list(self._symbols), clock, queue_capacity, round(self._stale_after_s * 1e9)
        )
        self._tasks: list[asyncio.Task[None]] = []
        self._started = False
        self._guarded = False

    # --- the MarketDataFeed port -----------------------------------------------------------
    @property
    def markets(self) -> tuple[FeedMarket, ...]:
        return self._markets

    def next_message(self, timeout_s: float, until_ns: int | None = None) -> FeedMessage | None:
        self._handoff.check_stale()
        wait = timeout_s
        if until_ns is not None:
            wait = min(wait, max(0, until_ns - self._clock.now_ns()) / 1e9)
        return self._handoff.take(max(0.0, wait))

    @property
    def exhausted(self) -> bool:
        """True once closed. A feed that gave up on every symbol is not exhausted: the
        kernel halts on GAVE_UP and keeps running (timers, the emergency stop)."""
        return self._handoff.closed

    def close(self) -> None:
        """Stops every watch (bounded wait) and restores the exchange's client factory;
        the exchange itself stays open (it may be shared with a venue adapter)."""
        if self._handoff.closed:
            return
        self._handoff.close()
        if self._started and self._loop.running:
            try:
                self._loop.call(self._shutdown(), _CLOSE_TIMEOUT_S)
            except TimeoutError:
                self._log.warning("feed: watches did not stop within %s s", _CLOSE_TIMEOUT_S)

    # --- live-feed extras ------------------------------------------------------------------
    def start(self) -> None:
        """Starts the watches on the loop thread (once)."""
        if self._started:
            raise RuntimeError("CcxtFeed.start called twice (rule: start once)")
        if self._handoff.closed:
            raise RuntimeError("CcxtFeed.start after close (rule: start before close)")
        self._started = True
        self._loop.call(self._launch(), _CLOSE_TIMEOUT_S)

    def take_alerts(self) -> list[FeedAlert]:
        return self._handoff.take_alerts()

    def status(self) -> dict[str, FeedSymbolStatus]:
        self._handoff.check_stale()
        return self._handoff.status()

    @property
    def queued(self) -> int:
        """Messages waiting for the kernel (at most symbols + queue_capacity)."""
        return self._handoff.queued

    # --- on the loop thread ----------------------------------------------------------------
    async def _launch(self) -> None:
        self._guard_clients()
        self._handoff.started()
        for symbol in self._symbols:
            self._handoff.stream_state(symbol, "book", up=False)
            if self._trades:
                self._handoff.stream_state(symbol, "trades", up=False)
        for symbol in self._symbols:
            self._tasks.append(asyncio.create_task(self._run(symbol, "book")))
            if self._trades:
                self._tasks.append(asyncio.create_task(self._run(symbol, "trades")))
        self._tasks.append(asyncio.create_task(self._watchdog()))

    async def _shutdown(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        if self._guarded:
            del self._exchange.client  # the class's own factory again
            self._guarded = False

    async def _watch(self, symbol: str, stream: Stream) -> Any:
        if stream == "book":
            return await self._exchange.watch_order_book(symbol)
        return await self._exchange.watch_trades(symbol)

    async def _run(self, symbol: str, stream: Stream) -> None:
        """One stream, until it gives up or the feed closes; a bug in the feed itself
        gives the symbol up loudly instead of ending the task in silence."""
        try:
            await self._follow(symbol, stream)
        except asyncio.CancelledError:
            raise
        except Exception as err:
            self._log.exception("feed %s %s: stopped by an internal error", symbol, stream)
            self._symbols[symbol].gave_up = True
            self._handoff.stream_state(symbol, stream, up=False)
            self._handoff.give_up(symbol, f"{stream}: internal error {err!r}")

    async def _follow(self, symbol: str, stream: Stream) -> None:
        """One stream's reconnect loop (see the module doc)."""
        rng = random.Random(f"{self._seed}/{symbol}/{stream}")
        state = self._symbols[symbol]
        failures = 0
        lost_at: int | None = None  # when the stream last delivered before it failed
        recover: set[str] = set()  # what the next delivery completes: reconnect, resync
        while True:
            if stream == "book":
                state.book_watch_since = self._clock.now_ns()
            try:
                # called straight away, not as a task of its own: a watch resolves only
                # on messages that come after the call, so no loop turn may pass first
                result = await self._watch(symbol, stream)
            except asyncio.CancelledError:
                raise
            except Exception as err:  # every failure is judged below
                if stream == "book":
                    state.book_watch_since = None
                failures += 1
                if lost_at is None:
                    lost_at = self._clock.now_ns()
                self._handoff.stream_state(symbol, stream, up=False)
                delay = self._judge(state, stream, err, failures, rng, recover)
                if delay is None:
                    state.gave_up = True
                    return
                if delay > 0:
                    await asyncio.sleep(delay)
                continue
            if stream == "book":
                messages = self._book_message(state, result)
            else:
                messages = self._trade_messages(state, result)
            if messages is None:
                continue  # nothing usable came: not a recovery yet
            if failures:
                self._recovered(symbol, stream, failures, lost_at, recover)
            failures = 0
            lost_at = None
            recover.clear()
            self._handoff.stream_state(symbol, stream, up=True)
            for message in messages:
                if stream == "book":
                    self._handoff.put_book(message)
                else:
                    self._handoff.put_trade(message)

    def _judge(
        self,
        state: _Symbol,
        stream: Stream,
        err: Exception,
        failures: int,
        rng: random.Random,
        recover: set[str],
    ) -> float | None:
        """Counts a failed watch and says how long to wait before the next (None: give
        up). The wait is the policy's alone: ccxt's own re-dial backoff for the stream's
        URL is cleared (a Retry-After the exchange sent on the handshake still counts)."""
        symbol = state.symbol
        client = state.clients.get(stream)
        retry_after = getattr(client, "last_retry_after", None)
        verdict = classify(
            err,
            changes_state=False,
            retry_after_s=retry_after if isinstance(retry_after, int | float) else None,
        )
        self._forget_dial_backoff(client)
        where = f"{symbol} {stream}"
        at_once = False
        if isinstance(err, StaleRestart):
            recover.add("reconnect")
            at_once = True
        elif isinstance(err, ccxt.InvalidNonce):  # ChecksumError too: a sequence gap
            if stream == "book":
                self._handoff.update(symbol, resyncs=1)
            recover.add("resync")
            at_once = True
        elif not isinstance(err, ccxt.BaseError):
            # Not an exchange answer: ccxt failed on what it received. Counted, retried.
            self._handoff.update(symbol, malformed=1)
            self._log.warning("feed %s: ccxt raised %r; retrying", where, err)
            recover.add("reconnect")
        elif verdict.outcome is Outcome.REJECT:
            self._handoff.give_up(symbol, f"{stream}: {verdict.reason} (never retried)")
            self._log.error("feed %s: gave up: %s", where, verdict.reason)
            return None
        else:
            recover.add("reconnect")
        if self._backoff.gives_up(failures):
            detail = f"{stream}: {failures} attempts failed in a row, last {verdict.reason}"
            self._handoff.give_up(symbol, detail)
            self._log.error("feed %s: gave up: %s", where, detail)
            return None
        # A gap or a restart is answered at once the first time; again, it backs off.
        if at_once and failures == 1:
            delay = 0.0
        else:
            attempt = failures - 2 if at_once else failures - 1
            delay = self._backoff.delay(attempt, rng, verdict.retry_after_s)
        self._log.warning(
            "feed %s: %s; attempt %d, next in %.3f s", where, verdict.reason, failures, delay
        )
        return delay

    def _recovered(
        self, symbol: str, stream: Stream, failures: int, lost_at: int | None, recover: set[str]
    ) -> None:
        down_s = (self._clock.now_ns() - lost_at) / 1e9 if lost_at is not None else 0.0
        detail = f"{stream}: after {failures} failed attempts, down {down_s:.3f} s"
        if "reconnect" in recover:
            self._handoff.update(symbol, reconnects=1)
            self._handoff.alert(FeedAlertKind.RECONNECTED, symbol, detail)
        if "resync" in recover and stream == "book":
            self._handoff.alert(FeedAlertKind.RESYNCED, symbol, f"fresh snapshot; {detail}")
        self._log.info("feed %s %s: %s", symbol, " and ".join(sorted(recover)), detail)

    def _book_message(self, state: _Symbol, book: Any) -> list[FeedMessage] | None:
        """ccxt's book as one snapshot message of the top `depth` levels (None: it did
        not fit, counted as malformed)."""
        now = self._clock.now_ns()
        try:
            bids = _levels(book["bids"], self._depth)
            asks = _levels(book["asks"], self._depth)
            state.snapshot_id += 1
            state.builder.push_snapshot(
                now, _ms_to_ns(book.get("timestamp")), state.snapshot_id, bids, asks
            )
        except (KeyError, TypeError, ValueError, _core.FixedPointError) as err:
            self._malformed(state.symbol, "book", err)
            return None
        return [FeedMessage(state.symbol, now, state.builder.finish())]

    def _trade_messages(self, state: _Symbol, trades: Any) -> list[FeedMessage] | None:
        """Each new print as a message of its own; a print that does not fit is
        counted and skipped, the others go on (None: none of them fit)."""
        now = self._clock.now_ns()
        out: list[FeedMessage] = []
        for trade in trades:
            try:
                rows = self._trade_rows(state, trade, now)
            except (KeyError, TypeError, ValueError, _core.FixedPointError) as err:
                self._malformed(state.symbol, "trade", err)
                continue
            out.append(FeedMessage(state.symbol, now, rows))
        return out if out or not trades else None

    def _trade_rows(self, state: _Symbol, trade: Any, now: int) -> npt.NDArray[np.void]:
        trade_id = str(trade.get("id") or "")
        side = trade["side"]
        if side not in ("buy", "sell"):
            raise ValueError(f"trade side {side!r} (rule: 'buy' or 'sell', the taker's)")
        state.builder.push_trade(
            now,
            _ms_to_ns(trade.get("timestamp")),
            int(trade_id) if trade_id.isdigit() else 0,
            decimal_text(trade["price"]),
            decimal_text(trade["amount"]),
            side == "sell",  # the taker sold: the buyer was the maker
        )
        return state.builder.finish()

    def _malformed(self, symbol: str, what: str, err: BaseException) -> None:
        self._handoff.update(symbol, malformed=1)
        self._log.warning("feed %s: malformed %s skipped: %s", symbol, what, err)

    # --- staleness -------------------------------------------------------------------------
    async def _watchdog(self) -> None:
        period = max(0.02, min(0.5, self._stale_after_s / 5))
        stale_ns = round(self._stale_after_s * 1e9)
        restarted: dict[str, int] = {}
        while True:
            await asyncio.sleep(period)
            now = self._clock.now_ns()
            for symbol in self._handoff.check_stale():
                state = self._symbols[symbol]
                since = state.book_watch_since
                if since is None or state.gave_up:
                    continue  # backing off already, or for good
                if now - since < stale_ns or now - restarted.get(symbol, 0) < stale_ns:
                    continue  # one watch must hang for the whole limit: not a slow re-subscription
                client = state.clients.get("book")
                if client is None or not _open(client):
                    continue  # still dialing: ccxt's connect timeout ends that by itself
                if (self._exchange.clients or {}).get(client.url) is not client:
                    continue  # ccxt replaced it already
                restarted[symbol] = now
                self._restart_book(symbol, client)

    def _restart_book(self, symbol: str, client: Any) -> None:
        """Fails the open websocket that carries `symbol`'s book, so ccxt drops it and
        the stream subscribes again on a new connection (fresh snapshot)."""
        self._handoff.update(symbol, restarts=1)
        stale_s = self._handoff.stale_for_ns(symbol) / 1e9
        self._log.warning(
            "feed %s: book stale for %.3f s; restarting its connection", symbol, stale_s
        )
        client.on_error(StaleRestart(f"{symbol} book stale for {stale_s:.3f} s"))

    # --- ccxt's websocket clients ----------------------------------------------------------
    def _note_client(self, client: Any) -> None:
        """Remembers `client` for the streams it carries (run once its watch has put
        its subscriptions in)."""
        for key in list(getattr(client, "subscriptions", {}) or {}):
            if not isinstance(key, str) or "::" not in key:
                continue
            topic, _, symbol = key.partition("::")
            state = self._symbols.get(symbol)
            if state is not None and topic in ("orderbook", "trade"):
                state.clients["book" if topic == "orderbook" else "trades"] = client

    def _forget_dial_backoff(self, client: Any) -> None:
        backoffs = getattr(self._exchange, "ws_dial_backoff", None)
        if client is not None and isinstance(backoffs, dict):
            backoffs.pop(getattr(client, "url", None), None)

    # --- malformed frames ------------------------------------------------------------------
    def _guard_clients(self) -> None:
        """Wraps ccxt's websocket client factory so every client skips (and counts) a
        frame it cannot decode or handle, instead of stopping its connection, and so
        the feed knows which client carries which stream."""
        if self._guarded or not hasattr(self._exchange, "client"):
            return
        if "client" in vars(self._exchange):
            return  # wrapped already (another feed on the same exchange)
        original: Callable[[str], Any] = self._exchange.client

        def client(url: str) -> Any:
            known = (self._exchange.clients or {}).get(url)
            made = original(url)
            if made is not known:  # a new socket: guard it, note it once subscribed
                self._guard(made)
                self._loop.loop.call_soon(self._note_client, made)
            return made

        self._exchange.client = client
        self._guarded = True
        for made in list((getattr(self._exchange, "clients", None) or {}).values()):
            self._guard(made)
            self._note_client(made)

    def _guard(self, client: Any) -> None:
        inner = getattr(client, "handle_text_or_binary_message", None)
        if inner is None or getattr(client, "_quantx_guarded", False):
            return

        def guarded(data: Any) -> None:
            try:
                inner(data)
            except Exception as err:  # a bad frame must not stop the stream
                self._on_bad_frame(client, data, err)

        client.handle_text_or_binary_message = guarded
        client._quantx_guarded = True

    def _on_bad_frame(self, client: Any, data: Any, err: Exception) -> None:
        keys = list(getattr(client, "subscriptions", {}) or {})
        hit = [s for s in self._symbols if any(_names_symbol(k, s) for k in keys)]
        for symbol in hit:
            self._handoff.update(symbol, malformed=1)
        sample = str(data)[:120]
        self._log.warning(
            "feed %s: malformed frame skipped (%s: %s): %r",
            ",".join(hit) or client.url,
            type(err).__name__,
            err,
            sample,
        )


def _names_symbol(key: object, symbol: str) -> bool:
    """ccxt's subscription keys end with `::<symbol>` ("orderbook::BTC/USDT")."""
    return isinstance(key, str) and key.endswith("::" + symbol)


def _open(client: Any) -> bool:
    """A ccxt client whose websocket is up (not dialing, not closed)."""
    return (
        client is not None and bool(getattr(client, "isConnected", False)) and not client.closed()
    )
