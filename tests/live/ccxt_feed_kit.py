"""What the CcxtFeed tests share: the fake Binance, a ccxt.pro client on an asyncio
thread, a feed over it, and a consumer that plays the kernel's part (an L2Book fed every
message, the alerts drained), with bounded waits."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import ccxt.pro as ccxtpro

from adapters.clocks import LiveClock
from adapters.exchanges.aioloop import AsyncioThread
from adapters.exchanges.backoff import BackoffPolicy
from adapters.exchanges.markets import instruments_from_markets
from adapters.feeds.ccxt_ws import CcxtFeed
from engine import _core
from engine.domain.instrument import Instrument
from engine.ports.feed import FeedAlert, FeedAlertKind, FeedMessage
from fakex import FakeBinance
from fakex.captures import Capture
from fakex.testing import CAPTURES

Market = Literal["spot", "futures"]
SYMBOL: dict[Market, str] = {"spot": "BTC/USDT", "futures": "BTC/USDT:USDT"}
FAST = BackoffPolicy(initial_s=0.05, max_s=0.4)
"""Test-only retry timing (the fault tests are about reactions, not waits)."""


async def _nonce(exchange: Any, symbol: str) -> int | None:
    book = exchange.orderbooks.get(symbol)
    return None if book is None else book["nonce"]


async def _ccxt_top(exchange: Any, symbol: str, n: int) -> dict[str, list[list[float]]]:
    book = exchange.orderbooks[symbol]
    return {side: [list(x) for x in book[side][:n]] for side in ("bids", "asks")}


@dataclass
class Rig:
    fake: FakeBinance
    loop: AsyncioThread
    exchange: Any
    feed: CcxtFeed
    market: Market
    symbol: str
    instrument: Instrument
    lot: Decimal
    book: Any = field(init=False)
    alerts: list[FeedAlert] = field(default_factory=list)
    books: int = 0
    trades: list[FeedMessage] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.book = _core.L2Book(self.feed.markets[0].rule)

    # --- the kernel's part ---------------------------------------------------------------
    def take(self, timeout_s: float = 0.05) -> FeedMessage | None:
        message = self.feed.next_message(timeout_s)
        self.alerts += self.feed.take_alerts()
        if message is None or message.symbol != self.symbol:
            return message
        if message.events["kind"][0] == _core.KIND_TRADE:
            self.trades.append(message)
        else:
            self.book.apply_events(message.events)
            self.books += 1
        return message

    def pump(self, until: Callable[[], bool], timeout_s: float = 8.0, what: str = "") -> None:
        """Takes messages until `until()` holds; fails after `timeout_s`."""
        end = time.monotonic() + timeout_s
        while not until():
            if time.monotonic() > end:
                kinds = [a.kind.value for a in self.alerts]
                raise AssertionError(f"timed out waiting for {what or until}; alerts {kinds}")
            self.take()

    def wait(self, until: Callable[[], bool], timeout_s: float = 8.0, what: str = "") -> None:
        """Waits, taking nothing, until `until()` holds; fails after `timeout_s`."""
        end = time.monotonic() + timeout_s
        while not until():
            if time.monotonic() > end:
                raise AssertionError(f"timed out waiting for {what or until}")
            time.sleep(0.01)

    def drain(self, quiet_s: float = 0.2) -> None:
        """Takes messages until none came for `quiet_s`."""
        while self.take(quiet_s) is not None:
            pass

    def kinds(self, symbol: str | None = None) -> list[FeedAlertKind]:
        return [a.kind for a in self.alerts if symbol is None or a.symbol == symbol]

    # --- the exchange's side -------------------------------------------------------------
    def subscribed(self, kinds: tuple[str, ...] = ("depth", "trade")) -> None:
        self.fake.wait_for(lambda: all(self.fake.subscribers(self.market, k) == 1 for k in kinds))

    def advance(self, n: int) -> int:
        return self.fake.advance(n, self.market)

    def ccxt_caught_up(self) -> bool:
        last = self.fake.venue(self.market).books["BTCUSDT"].last_update_id
        return bool(self.loop.call(_nonce(self.exchange, self.symbol), 5) == last)

    def fake_levels(self, side: str, n: int = 20) -> list[tuple[Decimal, Decimal]]:
        return [(p, q) for p, q in self.fake.venue(self.market).books["BTCUSDT"].levels(side, n)]

    def our_levels(self, side: str, n: int = 20) -> list[tuple[Decimal, Decimal]]:
        tick = self.instrument.tick_size
        rows = self.book.depth(0 if side == "bids" else 1, n)
        return [(tick * p, self.lot * q) for p, q in rows]

    def _books_match(self) -> bool:
        return all(self.our_levels(side) == self.fake_levels(side) for side in ("bids", "asks"))

    def ccxt_levels(self, side: str, n: int = 20) -> list[list[float]]:
        return self.loop.call(_ccxt_top(self.exchange, self.symbol, n), 5)[side]

    def synced(self, timeout_s: float = 8.0) -> None:
        """Waits until ccxt applied every diff the fake sent and the feed delivered the
        book that followed, then checks the kernel's book against the fake's. The feed
        may be between a restart and its fresh snapshot when ccxt has caught up (a
        silent fake goes stale every `stale_after_s`), so the kernel's book is given
        until `timeout_s` to arrive; a book that never matches still fails."""
        self.pump(self.ccxt_caught_up, timeout_s, "ccxt to catch up with the fake")
        self.drain()
        self.pump(self._books_match, timeout_s, "the feed's book to equal the fake's")
        for side in ("bids", "asks"):
            assert self.our_levels(side) == self.fake_levels(side), side
            ccxt_side = [[float(p), float(q)] for p, q in self.our_levels(side)]
            assert ccxt_side == self.ccxt_levels(side), side


def capture_kinds(market: Market, n: int) -> list[str]:
    """The kinds ("depth", "trade") of the first `n` messages the fake will send."""
    capture = Capture(CAPTURES[market], futures=market == "futures")
    return [kind for _, (kind, _data) in zip(range(n), capture, strict=False)]


@contextmanager
def rig(
    market: Market,
    *,
    extra_symbols: tuple[str, ...] = (),
    subscribe: bool = True,
    **feed_kwargs: Any,
) -> Iterator[Rig]:
    """A started feed on the fake's BTCUSDT (spot or the perpetual); `extra_symbols` are
    watched too, with BTCUSDT's instrument under another name (the fake does not know
    them)."""
    cls = ccxtpro.binance if market == "spot" else ccxtpro.binanceusdm
    symbol = SYMBOL[market]
    with FakeBinance(captures=CAPTURES) as fake, AsyncioThread() as loop:
        exchange = cls({"timeout": 3000})
        fake.configure(exchange)
        loop.call(exchange.load_markets(), 10)
        instrument = instruments_from_markets(exchange.markets.values())[symbol]
        instruments = {symbol: instrument}
        for extra in extra_symbols:
            instruments[extra] = dataclasses.replace(instrument, symbol=extra)
        feed_kwargs.setdefault("backoff", FAST)
        feed = CcxtFeed(exchange, instruments, clock=LiveClock(), loop=loop, **feed_kwargs)
        lot = Decimal(feed.markets[0].data_lot_size)
        r = Rig(fake, loop, exchange, feed, market, symbol, instrument, lot)
        feed.start()
        try:
            if subscribe:
                r.subscribed(("depth", "trade") if feed_kwargs.get("trades", True) else ("depth",))
            yield r
        finally:
            feed.close()
            loop.call(exchange.close(), 10)
