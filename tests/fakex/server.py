"""FakeBinance: the aiohttp server (REST + websockets) on its own event loop in a background thread
(`fakex.loop.LoopThread`, shared with FakeUpbit).

Every state change happens on the server's loop: REST and websocket handlers run there, and the
test-facing methods (`set_book`, `advance`, `fill`, ...) hop onto it and wait (bounded) for
the result.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from collections.abc import Callable, Coroutine, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any, Literal, TypeVar
from urllib.parse import parse_qsl

import orjson
from aiohttp import web

from fakex import rest_futures, rest_spot, ws
from fakex.auth import check_key, check_rest
from fakex.captures import Capture
from fakex.errors import BinanceError
from fakex.faults import Faults
from fakex.loop import LoopThread
from fakex.markets import Market
from fakex.matching import Clock, Event, Fill, Order, Position, Venue
from fakex.rest_common import Route

T = TypeVar("T")


class FakeBinance:
    """A loopback Binance (spot + USDⓈ-M futures) for ccxt's `binance` / `binanceusdm` classes."""

    def __init__(
        self,
        *,
        captures: Mapping[str, Path | Sequence[Path]] | None = None,
        api_key: str = "test-key",
        secret: str = "test-secret",
        seed: int = 0,
    ) -> None:
        self.api_key, self.secret = api_key, secret
        self.rng = random.Random(seed)
        self.clock = Clock()
        self.faults = Faults()
        self.spot = Venue("spot", self.clock, self._emit)
        self.futures = Venue("futures", self.clock, self._emit)
        self.requests: list[dict[str, Any]] = []
        self.listen_keys: dict[Market, set[str]] = {"spot": set(), "futures": set()}
        self.conns: list[ws.Conn] = []
        self.ws_sent: dict[Market, int] = {"spot": 0, "futures": 0}
        self._captures: dict[Market, Capture] = {}
        for market, paths in (captures or {}).items():
            if market not in ("spot", "futures"):
                raise ValueError(f"captures key {market!r}: must be 'spot' or 'futures'")
            self._load_capture(market, paths)  # type: ignore[arg-type]
        self._subs = 0
        self._held: dict[Market, tuple[str, str, str] | None] = {"spot": None, "futures": None}
        self._user_held: dict[Market, dict[str, Any]] = {}
        self._refuse_until = 0.0
        self._routes: dict[tuple[str, str], Route] = {}
        for r in rest_spot.routes(self) + rest_futures.routes(self):
            self._routes[(r.method, r.path)] = r
        self._server = LoopThread("fakex")
        self._play: asyncio.Task[None] | None = None
        self.url = ""

    # --- state views ---------------------------------------------------------------------
    def venue(self, market: Market) -> Venue:
        return self.spot if market == "spot" else self.futures

    @property
    def orders(self) -> dict[int, Order]:
        return {**self.spot.orders, **self.futures.orders}

    @property
    def trades(self) -> list[Fill]:
        return self.spot.fills + self.futures.fills

    @property
    def balances(self) -> dict[Market, dict[str, tuple[Decimal, Decimal]]]:
        return {
            m: {a: (b[0], b[1]) for a, b in self.venue(m).balances.items()}
            for m in ("spot", "futures")
        }

    @property
    def positions(self) -> dict[str, Position]:
        return dict(self.futures.positions)

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> FakeBinance:
        def make_app() -> web.Application:
            app = web.Application()
            app.router.add_route("GET", "/spot/ws-api/v3", self._ws_api)
            app.router.add_route("GET", "/spot/ws/{key}", self._ws_spot)
            app.router.add_route("GET", "/futures/public/ws/{n}", self._ws_futures_market)
            app.router.add_route("GET", "/futures/market/ws/{n}", self._ws_futures_market)
            app.router.add_route("GET", "/futures/private/ws", self._ws_futures_user)
            app.router.add_route("*", "/{tail:.*}", self._dispatch)
            return app

        self.url = self._server.start(make_app)
        return self

    def stop(self) -> None:
        async def close_all() -> None:
            if self._play is not None:
                self._play.cancel()
            for c in list(self.conns):
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(c.ws.close(), 1.0)

        self._server.stop(before=close_all)

    def __enter__(self) -> FakeBinance:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def _call(self, coro: Coroutine[Any, Any, T]) -> T:
        return self._server.call(coro)

    def _do(self, fn: Callable[[], T]) -> T:
        return self._server.do(fn)

    # --- ccxt wiring ---------------------------------------------------------------------
    def ccxt_urls(self, market: Literal["spot", "futures"]) -> dict[str, Any]:
        """The `exchange.urls['api']` entries pointing at this fake (REST, and ws for ccxt.pro)."""
        h, w = self.url, self.url.replace("http://", "ws://")
        rest: dict[str, Any] = {
            "public": f"{h}/api/v3",
            "private": f"{h}/api/v3",
            "v1": f"{h}/api/v1",
            "fapiPublic": f"{h}/fapi/v1",
            "fapiPublicV2": f"{h}/fapi/v2",
            "fapiPublicV3": f"{h}/fapi/v3",
            "fapiPrivate": f"{h}/fapi/v1",
            "fapiPrivateV2": f"{h}/fapi/v2",
            "fapiPrivateV3": f"{h}/fapi/v3",
            "fapiData": f"{h}/futures/data",
        }
        # endpoints the fake does not serve answer 404 here (never the real exchange)
        for name in (
            "sapi",
            "sapiV2",
            "sapiV3",
            "sapiV4",
            "dapiPublic",
            "dapiPrivate",
            "dapiPrivateV2",
            "dapiData",
            "eapiPublic",
            "eapiPrivate",
            "papi",
            "papiV2",
        ):
            rest[name] = f"{h}/unserved/{name}"
        rest["ws"] = {
            "spot": f"{w}/spot/ws",
            "margin": f"{w}/spot/ws",
            "linear": f"{w}/futures/ws",
            "inverse": f"{w}/unserved/ws",
            "ws-api": {"spot": f"{w}/spot/ws-api/v3", "linear": f"{w}/unserved/ws-fapi"},
        }
        del market  # both markets share one URL table: ccxt picks by market type
        return rest

    def configure(self, exchange: Any) -> None:
        """Points a ccxt binance / binanceusdm (sync, async_support or pro) at the fake."""
        futures = exchange.id == "binanceusdm"
        api = dict(exchange.urls.get("api", {}))
        api.update(self.ccxt_urls("futures" if futures else "spot"))
        exchange.urls["api"] = api
        exchange.apiKey, exchange.secret = self.api_key, self.secret
        # only the market type this class trades: the fake has no dapi/eapi/sapi
        exchange.options["fetchMarkets"] = {"types": ["linear" if futures else "spot"]}
        exchange.options["fetchCurrencies"] = False  # sapi capital/config/getall: not served
        exchange.options["fetchMargins"] = False  # sapi margin pairs: not served
        exchange.options["adjustForTimeDifference"] = False
        exchange.options["warnOnFetchOpenOrdersWithoutSymbol"] = False
        if futures:
            exchange.options["defaultType"] = "swap"
        # ccxt picks its per-market error table by the real hostname; loopback URLs would lose it,
        # so the market's table is merged into the common one (codes then map as on the real hosts)
        per_market = exchange.exceptions.get("linear" if futures else "spot", {})
        for kind in ("exact", "broad"):
            merged = dict(exchange.exceptions.get(kind, {}))
            merged.update(per_market.get(kind, {}))
            exchange.exceptions[kind] = merged

    # --- driving the market --------------------------------------------------------------
    def set_time(self, ms: int) -> None:
        self._do(lambda: setattr(self.clock, "ms", ms))

    def set_balance(self, asset: str, amount: Decimal | str | int, market: Market = "spot") -> None:
        self._do(lambda: self.venue(market).set_balance(asset, Decimal(amount)))

    def set_book(
        self,
        symbol: str,
        bids: Sequence[tuple[str | Decimal, str | Decimal]],
        asks: Sequence[tuple[str | Decimal, str | Decimal]],
        market: Market = "spot",
        update_id: int | None = None,
    ) -> None:
        """Replaces the book (no diff is streamed; clients re-sync from the REST snapshot)."""

        def run() -> None:
            book = self.venue(market).books[self.venue(market).spec(symbol).symbol]
            book.bids = {Decimal(p): Decimal(q) for p, q in bids}
            book.asks = {Decimal(p): Decimal(q) for p, q in asks}
            if update_id is not None:
                book.last_update_id = update_id

        self._do(run)

    def push_trade(
        self,
        symbol: str,
        price: Decimal | str,
        qty: Decimal | str,
        side: str,
        market: Market = "spot",
    ) -> list[Fill]:
        """A public trade print (streamed on @trade); resting orders it prints through fill."""

        async def run() -> list[Fill]:
            spec = self.venue(market).spec(symbol)
            self._trade_seq = getattr(self, "_trade_seq", 9_000_000_000) + 1
            now = self.clock.now()
            data = {
                "e": "trade",
                "E": now,
                "T": now,
                "s": spec.symbol,
                "t": self._trade_seq,
                "p": str(price),
                "q": str(qty),
                "m": side.upper() == "SELL",
                "M": True,
            }
            if market == "futures":
                data["X"] = "MARKET"
            return await self._market_message(market, "trade", data)

        return self._call(run())

    def fill(self, order_id: int, qty: Decimal | str, price: Decimal | str | None = None) -> Fill:
        """Forces a (maker) fill of a resting order, e.g. to make a partial fill on demand."""

        def run() -> Fill:
            venue = self.spot if order_id in self.spot.orders else self.futures
            return venue.fill(order_id, Decimal(qty), None if price is None else Decimal(price))

        return self._do(run)

    def advance(self, n_messages: int, market: Market = "spot") -> int:
        """Feeds the next `n_messages` capture messages (diffs, trades); returns how many."""
        return self._call(self._advance(market, n_messages))

    async def _advance(self, market: Market, n: int) -> int:
        cap = self._captures[market]
        done = 0
        for kind, data in cap:
            await self._market_message(market, kind, data)
            done += 1
            if done >= n:
                break
        return done

    def play(self, market: Market = "spot", speed: float = 1.0) -> None:
        """Feeds the capture in the background at `speed` x its recorded pace (event times)."""

        async def run() -> None:
            cap = self._captures[market]
            last: int | None = None
            for kind, data in cap:
                e = int(data["E"])
                if last is not None and e > last:
                    await asyncio.sleep((e - last) / 1000 / speed)
                last = e
                await self._market_message(market, kind, data)

        async def start() -> None:
            self._play = asyncio.ensure_future(run())

        self._call(start())

    def stop_play(self) -> None:
        async def run() -> None:
            if self._play is not None:
                self._play.cancel()

        self._call(run())

    def book_top(
        self,
        market: Market = "spot",
        symbol: str = "BTCUSDT",
    ) -> tuple[Decimal | None, Decimal | None]:
        book = self.venue(market).books[symbol]
        return (max(book.bids) if book.bids else None, min(book.asks) if book.asks else None)

    def wait_for(self, cond: Callable[[], bool], timeout: float = 5.0) -> None:
        """Polls `cond` on the server loop until it holds (bounded)."""

        async def run() -> None:
            loop = asyncio.get_running_loop()
            end = loop.time() + timeout
            while not cond():
                if loop.time() > end:
                    raise TimeoutError("fakex.wait_for: condition not met")
                await asyncio.sleep(0.01)

        asyncio.run_coroutine_threadsafe(run(), self._loop_or_fail()).result(timeout + 1)

    def subscribers(self, market: Market, kind: str = "depth", symbol: str = "BTCUSDT") -> int:
        return sum(1 for c in self.conns if c.market == market and ws.wants(c, kind, symbol))

    def user_subscribers(self, market: Market) -> int:
        return sum(
            1
            for c in self.conns
            if c.market == market and (c.kind == "user" or c.user_sub is not None)
        )

    def _loop_or_fail(self) -> asyncio.AbstractEventLoop:
        assert self._server.loop is not None, "fakex: start() the server first"
        return self._server.loop

    # --- internals -----------------------------------------------------------------------
    def _load_capture(self, market: Market, paths: Path | Sequence[Path]) -> None:
        cap = Capture(paths, futures=market == "futures")
        self._captures[market] = cap
        venue = self.venue(market)
        snap = cap.snapshot
        book = venue.books["BTCUSDT"]
        book.apply(snap["bids"], snap["asks"])
        book.last_update_id = int(snap["lastUpdateId"])
        if "E" in snap:
            self.clock.ms = max(self.clock.ms, int(snap["E"]))

    def new_listen_key(self, market: Market) -> str:
        key = f"{self.rng.getrandbits(256):064x}"
        if market == "futures" and self.listen_keys["futures"]:
            return sorted(self.listen_keys["futures"])[0]  # Binance futures reuses the live key
        self.listen_keys[market].add(key)
        return key

    def next_subscription(self) -> int:
        self._subs += 1
        return self._subs - 1

    def ws_refused(self) -> bool:
        return asyncio.get_running_loop().time() < self._refuse_until

    async def after_create(self, request: web.Request) -> None:
        """The 'placed but the answer is lost' fault: delay the answer or drop the connection."""
        if not self.faults.take("create_timeouts"):
            return
        if self.faults.create_timeout_mode == "delay":
            await asyncio.sleep(self.faults.create_delay_s)
            return
        if request.transport is not None:
            request.transport.close()
        raise ConnectionResetError("fakex: create answer dropped (fault)")

    def _emit(self, market: Market, event: Event) -> None:
        now = self.clock.now()
        venue = self.venue(market)
        for msg in ws.user_events(venue, event, now):
            for spoiled in self._user_faults(market, msg):
                self._send_user(market, spoiled)

    def _user_faults(self, market: Market, msg: dict[str, Any]) -> list[dict[str, Any] | None]:
        """The user messages to send for `msg` under `faults.user_ws` (None: malformed)."""
        if msg.get("e") not in ("executionReport", "ORDER_TRADE_UPDATE"):
            return [msg]
        held = self._user_held.pop(market, None)
        if held is None and self.faults.take("user_swaps"):
            self._user_held[market] = msg
            return []
        if self.faults.take("user_malformed"):
            out: list[dict[str, Any] | None] = [None]
        else:
            out = [msg, msg] if self.faults.take("user_duplicates") else [msg]
        return out if held is None else [*out, held]

    def _send_user(self, market: Market, msg: dict[str, Any] | None) -> None:
        for c in self.conns:
            if c.market != market or (c.kind != "user" and c.user_sub is None):
                continue
            body = msg if c.kind == "user" else {"subscriptionId": c.user_sub, "event": msg}
            text = orjson.dumps(body).decode()
            if msg is None:  # the malformed fault: cut the frame in the middle
                text = '{"e":"executionReport","E":' if c.kind == "user" else text[:20]
            c.out.put_nowait(text)

    async def _market_message(self, market: Market, kind: str, data: dict[str, Any]) -> list[Fill]:
        venue = self.venue(market)
        symbol = str(data["s"])
        if "E" in data:
            self.clock.ms = max(self.clock.ms, int(data["E"]))
        fills: list[Fill] = []
        if kind == "depth":
            book = venue.books[symbol]
            book.apply(data["b"], data["a"])
            book.last_update_id = int(data["u"])
            if self.faults.take("depth_gaps"):
                return fills
        else:
            fills = venue.on_print(symbol, Decimal(data["p"]), Decimal(data["q"]))
        text = orjson.dumps(data).decode()
        if self.faults.take("ws_malformed"):
            text = (
                text[: len(text) // 2]
                if self.faults.ws_malformed_style == "truncated"
                else text[:-1] + ",}"
            )
        copies = 2 if self.faults.take("ws_duplicates") else 1
        # reorder: hold this message back and send it right after the next one of the same stream
        held = self._held[market]
        if held is not None and held[0] != kind:
            held = None  # only a message of the same stream can overtake it; keep holding
        elif held is not None:
            self._held[market] = None
        if (
            held is None
            and self._held[market] is None
            and self.faults.ws_swap_kind in (None, kind)
            and self.faults.take("ws_swaps")
        ):
            self._held[market] = (kind, symbol, text)
            return fills
        for c in self.conns:
            if c.market == market and c.kind == "market" and ws.wants(c, kind, symbol):
                for _ in range(copies):
                    c.out.put_nowait(text)
                if held is not None:
                    c.out.put_nowait(held[2])
        self.ws_sent[market] += 1
        await self._maybe_drop()
        await asyncio.sleep(0)  # let the writers run
        return fills

    async def _maybe_drop(self) -> None:
        f = self.faults
        if f.ws_drop_after is None:
            return
        if f.ws_drop_after > 0:
            f.ws_drop_after -= 1
            return
        f.ws_drop_after = None
        f.note_fired("ws_drops")
        self._refuse_until = asyncio.get_running_loop().time() + f.ws_refuse_s
        for c in list(self.conns):
            await asyncio.wait_for(c.ws.close(code=1006), 2.0)

    async def _ws_api(self, request: web.Request) -> web.StreamResponse:
        return await ws.serve(self, request, "spot", "wsapi")

    async def _ws_spot(self, request: web.Request) -> web.StreamResponse:
        key = request.match_info["key"]
        return await ws.serve(self, request, "spot", "user" if len(key) == 64 else "market")

    async def _ws_futures_market(self, request: web.Request) -> web.StreamResponse:
        return await ws.serve(self, request, "futures", "market")

    async def _ws_futures_user(self, request: web.Request) -> web.StreamResponse:
        return await ws.serve(self, request, "futures", "user")

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.text()
        params = dict(parse_qsl(request.query_string, keep_blank_values=True))
        params.update(parse_qsl(body, keep_blank_values=True))
        params.pop("signature", None)
        self.requests.append(
            {
                "method": request.method,
                "path": request.path,
                "params": params,
                "time": self.clock.now(),
            }
        )
        fault = self.faults.take_http(request.path, request.method)
        if fault is not None:
            headers = {} if fault.retry_after is None else {"Retry-After": str(fault.retry_after)}
            msg = {
                429: "Too many requests; current limit is 6000 request weight per 1 MINUTE.",
                418: "Way too many requests; IP banned until later.",
            }.get(fault.status, "Internal error")
            code = {429: -1003, 418: -1003}.get(fault.status, -1001)
            if fault.body is not None:
                return web.Response(status=fault.status, text=fault.body, headers=headers)
            if fault.status >= 500:  # Binance's gateway answers 5xx with a plain page, not JSON
                return web.Response(
                    status=fault.status, text="Internal Server Error", headers=headers
                )
            return web.json_response(
                {"code": code, "msg": msg}, status=fault.status, headers=headers
            )
        route = self._routes.get((request.method, request.path))
        if route is None:
            return web.json_response(
                {"code": -5000, "msg": f"fakex does not serve {request.method} {request.path}"},
                status=404,
            )
        try:
            if route.auth != "public":
                check_key(request.headers.get("X-MBX-APIKEY"), self.api_key)
            if route.auth == "signed":
                check_rest(request.query_string, body, self.secret)
            result = await route.handler(request, params)
        except BinanceError as e:
            return web.json_response(e.body(), status=e.status)
        return web.Response(body=orjson.dumps(result), content_type="application/json")
