"""What the ccxt venue tests share: a CcxtVenue on its own asyncio thread over a ccxt.pro
client pointed at the fake, a recording sleep, and bounded waits for events."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any, Literal

import ccxt.pro as ccxtpro

from adapters.exchanges.aioloop import AsyncioThread
from adapters.exchanges.backoff import BackoffPolicy
from adapters.exchanges.markets import instrument_from_market
from adapters.venues.ccxt_venue import CcxtVenue
from engine.domain.enums import OrderSide, OrderType, TimeInForce
from engine.domain.events import OrderEvent
from engine.domain.order import OrderTerms
from fakex import FakeBinance

NOW_NS = 1_800_000_000_000_000_000
"""The local clock the tests give the venue (2027): every event must carry it, never
the fake exchange's 2024 time."""
SPOT = "BTC/USDT"
USDM = "BTC/USDT:USDT"
Market = Literal["spot", "futures"]


class FixedClock:
    def now_ns(self) -> int:
        return NOW_NS


class Sleeps:
    """The venue's injected sleep: records every wait, really waits at most `cap_s`."""

    def __init__(self, cap_s: float = 0.01) -> None:
        self.cap_s = cap_s
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        await asyncio.sleep(min(seconds, self.cap_s))


@contextmanager
def venue_on(
    fake: FakeBinance,
    market: Market,
    *,
    timeout_ms: int = 1500,
    sleeps: Sleeps | None = None,
    backoff: BackoffPolicy | None = None,
    **kwargs: Any,
) -> Iterator[tuple[CcxtVenue, Sleeps, list[str]]]:
    """A started venue on `market` of `fake` (its private stream subscribed in "ws"
    mode); closed and its loop stopped at the end."""
    loop = AsyncioThread(name="test-ccxt-venue")
    cls = ccxtpro.binance if market == "spot" else ccxtpro.binanceusdm
    # ccxt's own throttle off: the fake has no limits, and the venue's token bucket is the
    # limiter under test (it stays on in production)
    exchange = cls({"timeout": timeout_ms, "enableRateLimit": False})
    fake.configure(exchange)
    sleeps = sleeps or Sleeps()
    logs: list[str] = []
    try:
        loop.call(exchange.load_markets(), 10)
        symbol = SPOT if market == "spot" else USDM
        instruments = {symbol: instrument_from_market(exchange.market(symbol))}
        venue = CcxtVenue(
            exchange,
            instruments,
            clock=FixedClock(),
            loop=loop,
            backoff=backoff or BackoffPolicy(initial_s=0.05, max_s=0.2, max_retries=3),
            sleep=sleeps,
            log=logs.append,
            **kwargs,
        )
        try:
            venue.start()
            if kwargs.get("reports", "ws") == "ws":
                fake.wait_for(lambda: fake.user_subscribers(market) == 1)
            yield venue, sleeps, logs
        finally:
            venue.close()
    finally:
        if loop.running:
            loop.call(exchange.close(), 5)
        loop.stop()


def terms(
    cid: str,
    side: str,
    quantity: str,
    price: str | None = None,
    *,
    symbol: str = SPOT,
    tif: TimeInForce = TimeInForce.GTC,
    **fields: Any,
) -> OrderTerms:
    return OrderTerms(
        client_order_id=cid,
        symbol=symbol,
        side=OrderSide(side.upper()),
        order_type=OrderType.MARKET if price is None else OrderType.LIMIT,
        quantity=Decimal(quantity),
        price=None if price is None else Decimal(price),
        time_in_force=tif,
        **fields,
    )


def fixed_touch(
    bid: str | None, ask: str | None
) -> Callable[[str], tuple[Decimal | None, Decimal | None]]:
    """The venue's `touch`: the same (best bid, best ask) for every symbol."""
    top = (None if bid is None else Decimal(bid), None if ask is None else Decimal(ask))
    return lambda symbol: top


def wait_events(
    venue: CcxtVenue,
    until: Callable[[list[OrderEvent]], bool],
    got: list[OrderEvent] | None = None,
    timeout_s: float = 5.0,
) -> list[OrderEvent]:
    """Drains until `until(events so far)` holds (bounded), then once more after a
    short settle so that an unexpected extra event shows up too."""
    events = got if got is not None else []
    end = time.monotonic() + timeout_s
    while not until(events):
        if time.monotonic() > end:
            raise AssertionError(f"events never satisfied the condition: {events}")
        events.extend(venue.drain())
        time.sleep(0.01)
    time.sleep(0.15)
    events.extend(venue.drain())
    return events


def kinds(events: list[OrderEvent]) -> list[str]:
    return [type(e).__name__ for e in events]


def posts(fake: FakeBinance, path_end: str = "/order") -> list[dict[str, Any]]:
    return [r for r in fake.requests if r["method"] == "POST" and r["path"].endswith(path_end)]
