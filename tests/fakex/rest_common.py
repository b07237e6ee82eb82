"""Helpers shared by the spot and futures REST handlers."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web

from fakex.markets import exchange_info
from fakex.matching import Fill, Venue

if TYPE_CHECKING:
    from fakex.server import FakeBinance

Auth = Literal["public", "key", "signed"]
Handler = Callable[[web.Request, dict[str, str]], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    auth: Auth
    handler: Handler


def public_routes(fake: FakeBinance, market: Literal["spot", "futures"], base: str) -> list[Route]:
    """ping, time, exchangeInfo and depth: the same in both markets but for the venue."""
    venue = fake.venue(market)

    async def ping(_r: web.Request, _p: dict[str, str]) -> Any:
        return {}

    async def time(_r: web.Request, _p: dict[str, str]) -> Any:
        return {"serverTime": fake.clock.now()}

    async def info(_r: web.Request, _p: dict[str, str]) -> Any:
        return exchange_info(market, fake.clock.now())

    async def depth(_r: web.Request, p: dict[str, str]) -> Any:
        return depth_json(venue, p)

    return [
        Route("GET", f"{base}/ping", "public", ping),
        Route("GET", f"{base}/time", "public", time),
        Route("GET", f"{base}/exchangeInfo", "public", info),
        Route("GET", f"{base}/depth", "public", depth),
    ]


def depth_json(venue: Venue, p: dict[str, str]) -> dict[str, Any]:
    spec = venue.spec(p.get("symbol"))
    limit = int(p.get("limit", "100"))
    book = venue.books[spec.symbol]

    def side(name: str) -> list[list[str]]:
        return [
            [f"{pr:.{spec.price_places}f}", f"{q:.{spec.qty_places}f}"]
            for pr, q in book.levels(name, limit)
        ]

    body: dict[str, Any] = {"lastUpdateId": book.last_update_id}
    if venue.market == "futures":
        body["E"] = body["T"] = venue.clock.now()
    body["bids"] = side("bids")
    body["asks"] = side("asks")
    return body


def my_trades(venue: Venue, p: dict[str, str]) -> list[dict[str, Any]]:
    """Oldest first; startTime/endTime/fromId/orderId filter, then the first `limit`."""
    symbol = venue.spec(p.get("symbol")).symbol
    start = int(p.get("startTime", "0"))
    end = int(p["endTime"]) if "endTime" in p else None
    from_id = int(p.get("fromId", "0"))
    order_id = int(p["orderId"]) if "orderId" in p else None
    limit = min(int(p.get("limit", "500")), 1000)
    out: list[Fill] = [
        f
        for f in venue.fills
        if f.symbol == symbol
        and f.time >= start
        and (end is None or f.time <= end)
        and f.trade_id >= from_id
        and (order_id is None or f.order_id == order_id)
    ]
    return [venue.trade_json(f) for f in out[:limit]]


def open_orders(venue: Venue, p: dict[str, str]) -> list[dict[str, Any]]:
    symbol = venue.spec(p["symbol"]).symbol if "symbol" in p else None
    return [
        venue.order_json(o) for o in venue.resting.values() if symbol is None or o.symbol == symbol
    ]


def dec(value: Decimal, places: int = 8) -> str:
    return f"{value:.{places}f}"
