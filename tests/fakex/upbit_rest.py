"""The Upbit REST (/v1) that ccxt's `upbit` class calls for the unified methods the fake serves.

Shapes follow Upbit's API reference: the quotation API writes numbers as JSON numbers, the
exchange API as decimal strings.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fakex.upbit_venue import FEE, MARKETS, MAX_TOTAL, MIN_TOTAL, ZERO, Order, UpbitError, _s

if TYPE_CHECKING:
    from aiohttp import web

    from fakex.upbit import FakeUpbit

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
Params = list[tuple[str, str]]  # in the order sent (query string, then JSON body)
Handler = Callable[["web.Request", dict[str, str], Params], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    private: bool
    handler: Handler


def to_json(obj: Any) -> str:
    """JSON with Decimals written as plain numbers (exact, never through float)."""
    if isinstance(obj, Decimal):
        return f"{obj:f}"
    if isinstance(obj, dict):
        return "{" + ",".join(f"{json.dumps(k)}:{to_json(v)}" for k, v in obj.items()) + "}"
    if isinstance(obj, list | tuple):
        return "[" + ",".join(to_json(v) for v in obj) + "]"
    return json.dumps(obj, ensure_ascii=False)


def _int(p: dict[str, str], name: str, default: int, low: int, high: int) -> int:
    text = p.get(name)
    if text is None:
        return default
    try:
        value = int(text)
    except ValueError:
        raise UpbitError(400, "validation_error", f"{name} does not have a valid value") from None
    if not low <= value <= high:
        raise UpbitError(400, "validation_error", f"{name} must be in [{low}, {high}]")
    return value


def _time(text: str | None) -> int | None:
    """start_time / end_time: ms since the epoch, or ISO 8601."""
    if text is None:
        return None
    if text.isdigit():
        return int(text)
    try:
        t = dt.datetime.fromisoformat(text)
        return (t - _EPOCH) // dt.timedelta(milliseconds=1)
    except (ValueError, TypeError):
        raise UpbitError(400, "validation_error", f"time {text!r} is not valid") from None


def routes(fake: FakeUpbit) -> list[Route]:
    venue = fake.venue

    async def market_all(_r: web.Request, _p: dict[str, str], _pl: Params) -> Any:
        return [
            {"market": code, "korean_name": kr, "english_name": en}
            for code, (_, _, kr, en) in MARKETS.items()
        ]

    async def orderbook(_r: web.Request, p: dict[str, str], _pl: Params) -> Any:
        codes = [c for c in p.get("markets", "").split(",") if c]
        if not codes:
            raise UpbitError(400, "validation_error", "markets is missing")
        count = _int(p, "count", 15, 1, 30)
        out = []
        for code in codes:
            venue.market(code)
            book = venue.books[code]
            bids, asks = book.levels("bids", count), book.levels("asks", count)
            units = []
            for i in range(max(len(bids), len(asks))):
                ask = asks[i] if i < len(asks) else (ZERO, ZERO)
                bid = bids[i] if i < len(bids) else (ZERO, ZERO)
                units.append(
                    {
                        "ask_price": ask[0],
                        "bid_price": bid[0],
                        "ask_size": ask[1],
                        "bid_size": bid[1],
                    }
                )
            out.append(
                {
                    "market": code,
                    "timestamp": book.timestamp or fake.clock.now(),
                    "total_ask_size": sum((q for _, q in asks), ZERO),
                    "total_bid_size": sum((q for _, q in bids), ZERO),
                    "orderbook_units": units,
                    "level": 0,
                }
            )
        return out

    async def accounts(_r: web.Request, _p: dict[str, str], _pl: Params) -> Any:
        return [
            {
                "currency": cur,
                "balance": _s(free),
                "locked": _s(locked),
                "avg_buy_price": "0",
                "avg_buy_price_modified": False,
                "unit_currency": "KRW",
            }
            for cur, (free, locked) in sorted(venue.balances.items())
        ]

    async def chance(_r: web.Request, p: dict[str, str], _pl: Params) -> Any:
        code = p.get("market")
        base, quote = venue.market(code)

        def account(cur: str) -> dict[str, Any]:
            free, locked = venue.balances.get(cur, [ZERO, ZERO])
            return {
                "currency": cur,
                "balance": _s(free),
                "locked": _s(locked),
                "avg_buy_price": "0",
                "avg_buy_price_modified": False,
                "unit_currency": "KRW",
            }

        return {
            "bid_fee": _s(FEE),
            "ask_fee": _s(FEE),
            "maker_bid_fee": _s(FEE),
            "maker_ask_fee": _s(FEE),
            "market": {
                "id": code,
                "name": f"{base}/{quote}",
                "order_types": [],
                "order_sides": ["ask", "bid"],
                "bid_types": ["limit", "price", "limit_ioc", "limit_fok", "post_only"],
                "ask_types": ["limit", "market", "limit_ioc", "limit_fok", "post_only"],
                "bid": {"currency": quote, "min_total": _s(MIN_TOTAL)},
                "ask": {"currency": base, "min_total": _s(MIN_TOTAL)},
                "max_total": _s(MAX_TOTAL),
                "state": "active",
            },
            "bid_account": account(quote),
            "ask_account": account(base),
        }

    async def create(r: web.Request, p: dict[str, str], _pl: Params) -> Any:
        order = venue.create(p)
        await fake.after_create(r)
        return venue.order_json(order, with_trades=False)

    async def get_order(_r: web.Request, p: dict[str, str], _pl: Params) -> Any:
        return venue.order_json(venue.find(p.get("uuid"), p.get("identifier")), with_trades=True)

    async def cancel(_r: web.Request, p: dict[str, str], _pl: Params) -> Any:
        _, before = venue.cancel(p.get("uuid"), p.get("identifier"))
        return before

    def listing(p: dict[str, str], pl: Params, states: set[str], default: set[str]) -> list[Order]:
        wanted = {v for k, v in pl if k in ("state", "states[]")} or default
        if not wanted <= states:
            raise UpbitError(400, "validation_error", f"state must be one of {sorted(states)}")
        code = p.get("market")
        if code is not None:
            venue.market(code)
        limit = _int(p, "limit", 100, 1, 1000 if "done" in states else 100)
        page = _int(p, "page", 1, 1, 1_000_000)
        start, end = _time(p.get("start_time")), _time(p.get("end_time"))
        out = [
            o
            for o in venue.orders.values()
            if o.state in wanted
            and (code is None or o.market == code)
            and (start is None or o.created >= start)
            and (end is None or o.created <= end)
        ]
        if p.get("order_by", "desc") == "desc":
            out.reverse()
        return out[(page - 1) * limit : page * limit]

    async def open_orders(_r: web.Request, p: dict[str, str], pl: Params) -> Any:
        found = listing(p, pl, {"wait", "watch"}, {"wait"})
        return [venue.order_json(o, with_trades=False) for o in found]

    async def closed_orders(_r: web.Request, p: dict[str, str], pl: Params) -> Any:
        found = listing(p, pl, {"done", "cancel"}, {"done", "cancel"})
        return [venue.order_json(o, with_trades=False) for o in found]

    return [
        Route("GET", "/v1/market/all", False, market_all),
        Route("GET", "/v1/orderbook", False, orderbook),
        Route("GET", "/v1/accounts", True, accounts),
        Route("GET", "/v1/orders/chance", True, chance),
        Route("POST", "/v1/orders", True, create),
        Route("GET", "/v1/order", True, get_order),
        Route("DELETE", "/v1/order", True, cancel),
        Route("GET", "/v1/orders/open", True, open_orders),
        Route("GET", "/v1/orders/closed", True, closed_orders),
    ]
