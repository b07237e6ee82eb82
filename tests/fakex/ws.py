"""Websockets: market streams (SUBSCRIBE), the futures listenKey user stream and the spot
WebSocket API user-data subscription (userDataStream.subscribe.signature), plus the user events
ccxt.pro parses."""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import WSMsgType, web

from fakex.auth import check_ws
from fakex.errors import BinanceError
from fakex.markets import Market, fmt
from fakex.matching import ZERO, Event, Venue

if TYPE_CHECKING:
    from fakex.server import FakeBinance


@dataclass
class Conn:
    ws: web.WebSocketResponse
    market: Market
    kind: str  # "market", "user" (listenKey stream) or "wsapi"
    streams: set[str] = field(default_factory=set)
    user_sub: int | None = None  # ws-api subscriptionId once subscribed
    out: asyncio.Queue[str | None] = field(default_factory=asyncio.Queue)


async def serve(
    fake: FakeBinance, request: web.Request, market: Market, kind: str
) -> web.StreamResponse:
    if fake.ws_refused():
        return web.Response(status=503, text="refusing websocket connections (fault)")
    if kind == "user":
        key = request.query.get("listenKey") or request.match_info.get("key", "")
        if key not in fake.listen_keys[market]:
            return web.Response(status=400, text="invalid listenKey")
    ws = web.WebSocketResponse(autoping=True)
    await ws.prepare(request)
    conn = Conn(ws, market, kind)
    fake.conns.append(conn)
    writer = asyncio.ensure_future(_writer(conn))
    try:
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            reply = _on_text(fake, conn, msg.data)
            if reply is not None:
                conn.out.put_nowait(orjson.dumps(reply).decode())
    finally:
        if conn in fake.conns:
            fake.conns.remove(conn)
        conn.out.put_nowait(None)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(writer, 1.0)
    return ws


async def _writer(conn: Conn) -> None:
    while True:
        text = await conn.out.get()
        if text is None or conn.ws.closed:
            return
        try:
            await conn.ws.send_str(text)
        except (ConnectionError, RuntimeError):
            return


def _on_text(fake: FakeBinance, conn: Conn, text: str) -> dict[str, Any] | None:
    try:
        req = orjson.loads(text)
    except orjson.JSONDecodeError:
        return {"error": {"code": 3, "msg": "Invalid JSON"}}
    method, rid = req.get("method"), req.get("id")
    if method == "SUBSCRIBE":
        conn.streams.update(req.get("params", []))
        return {"result": None, "id": rid}
    if method == "UNSUBSCRIBE":
        conn.streams.difference_update(req.get("params", []))
        return {"result": None, "id": rid}
    if method == "userDataStream.subscribe.signature":
        try:
            check_ws(req.get("params", {}), fake.api_key, fake.secret)
        except BinanceError as e:
            return {"id": rid, "status": e.status, "error": e.body()}
        conn.user_sub = fake.next_subscription()
        return {"id": rid, "status": 200, "result": {"subscriptionId": conn.user_sub}}
    return {"id": rid, "status": 400, "error": {"code": -1100, "msg": f"unknown method {method!r}"}}


def wants(conn: Conn, kind: str, symbol: str) -> bool:
    """Whether a market connection subscribed to `symbol`'s depth or trade stream (any rate)."""
    prefix = f"{symbol.lower()}@{kind}"
    return any(s == prefix or s.startswith(prefix + "@") for s in conn.streams)


def user_events(venue: Venue, event: Event, now: int) -> list[dict[str, Any]]:
    """User events of one change: executionReport (spot) or ORDER_TRADE_UPDATE (futures), then
    the account event (outboundAccountPosition, ACCOUNT_UPDATE) when balances moved."""
    what, order, fill = event
    out: list[dict[str, Any]] = []
    if order is not None:
        spec = venue.spec(order.symbol)
        pp, qp = spec.price_places, spec.qty_places
        if fill is not None:
            x = "TRADE"
        elif what == "amend":
            x = "AMENDMENT"
        else:
            x = order.status if order.status in ("CANCELED", "EXPIRED") else "NEW"
        last_q = fill.qty if fill else ZERO
        last_p = fill.price if fill else ZERO
        if venue.market == "spot":
            out.append(
                {
                    "e": "executionReport",
                    "E": now,
                    "s": order.symbol,
                    "c": order.client_id,
                    "S": order.side,
                    "o": order.type,
                    "f": order.tif or "GTC",
                    "q": fmt(order.orig_qty, qp),
                    "p": fmt(order.price, pp),
                    "P": "0.00000000",
                    "F": "0.00000000",
                    "g": -1,
                    "C": order.client_id if x == "CANCELED" else "",
                    "x": x,
                    "X": order.status,
                    "r": "NONE",
                    "i": order.order_id,
                    "l": fmt(last_q, qp),
                    "z": fmt(order.executed_qty, qp),
                    "L": fmt(last_p, pp),
                    "n": fmt(fill.commission, 8) if fill else "0",
                    "N": fill.commission_asset if fill else None,
                    "T": order.update_time,
                    "t": fill.trade_id if fill else -1,
                    "I": 0,
                    "w": order.is_open,
                    "m": fill.maker if fill else False,
                    "M": False,
                    "O": order.time,
                    "Z": fmt(order.cum_quote, 8),
                    "Y": fmt(last_p * last_q, 8),
                    "Q": "0.00000000",
                    "W": order.time,
                    "V": "EXPIRE_MAKER",
                }
            )
        else:
            avg = order.cum_quote / order.executed_qty if order.executed_qty else ZERO
            out.append(
                {
                    "e": "ORDER_TRADE_UPDATE",
                    "E": now,
                    "T": order.update_time,
                    "o": {
                        "s": order.symbol,
                        "c": order.client_id,
                        "S": order.side,
                        "o": order.type,
                        "f": order.tif or "GTC",
                        "q": fmt(order.orig_qty, qp),
                        "p": fmt(order.price, pp),
                        "ap": fmt(avg, pp),
                        "sp": "0",
                        "x": x,
                        "X": order.status,
                        "i": order.order_id,
                        "l": fmt(last_q, qp),
                        "z": fmt(order.executed_qty, qp),
                        "L": fmt(last_p, pp),
                        "N": fill.commission_asset if fill else "USDT",
                        "n": fmt(fill.commission, 8) if fill else "0",
                        "T": order.update_time,
                        "t": fill.trade_id if fill else 0,
                        "b": "0",
                        "a": "0",
                        "m": fill.maker if fill else False,
                        "R": order.reduce_only,
                        "wt": "CONTRACT_PRICE",
                        "ot": order.type,
                        "ps": "BOTH",
                        "cp": False,
                        "rp": fmt(fill.realized_pnl, 8) if fill else "0",
                        "pP": False,
                        "si": 0,
                        "ss": 0,
                        "V": "EXPIRE_MAKER",
                        "pm": "NONE",
                        "gtd": 0,
                    },
                }
            )
    touches_account = (
        what == "account"
        or fill is not None
        or (venue.market == "spot" and order is not None and order.type != "MARKET")
    )
    if touches_account:
        out.append(account_event(venue, now))
    return out


def account_event(venue: Venue, now: int) -> dict[str, Any]:
    if venue.market == "spot":
        return {
            "e": "outboundAccountPosition",
            "E": now,
            "u": now,
            "B": [
                {"a": a, "f": fmt(f, 8), "l": fmt(lk, 8)}
                for a, (f, lk) in sorted(venue.balances.items())
            ],
        }
    return {
        "e": "ACCOUNT_UPDATE",
        "E": now,
        "T": now,
        "a": {
            "m": "ORDER",
            "B": [
                {"a": a, "wb": fmt(f, 8), "cw": fmt(f, 8), "bc": "0"}
                for a, (f, _l) in sorted(venue.balances.items())
            ],
            "P": [
                {
                    "s": s,
                    "pa": fmt(p.amount, 3),
                    "ep": fmt(p.entry, 8),
                    "bep": fmt(p.entry, 8),
                    "cr": "0",
                    "up": fmt(venue.unrealized(s), 8),
                    "mt": "cross",
                    "iw": "0",
                    "ps": "BOTH",
                }
                for s, p in sorted(venue.positions.items())
            ],
        },
    }
