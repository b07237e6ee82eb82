"""FakeUpbit: a loopback Upbit (KRW-BTC spot, REST only) for ccxt's own `upbit` class.

Every state change runs on the server's loop (a daemon thread, `fakex.loop.LoopThread`);
the test-facing methods hop onto it and wait (bounded). Rules of the market:
`fakex.upbit_venue`. What is served and what `configure` sets: tests/fakex/README.md.
"""

from __future__ import annotations

import asyncio
import gzip
import json
import random
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import parse_qsl, unquote

from aiohttp import web

from fakex import upbit_auth, upbit_rest
from fakex.faults import Faults
from fakex.loop import LoopThread
from fakex.matching import Clock
from fakex.upbit_venue import Book, Order, Trade, UpbitError, UpbitVenue

CODE = "KRW-BTC"
# Upbit's rate-limit header (group and seconds left); constant here: the fake does not meter
REMAINING_REQ = {"Remaining-Req": "group=default; min=1800; sec=29"}


def _capture_lines(path: Path) -> Iterator[dict[str, Any]]:
    """`<receive ns> <JSON>` lines; numbers kept exact (Decimal), e.g. 8.4717E7 -> 84717000."""
    with gzip.open(path, "rb") as fh:
        for line in fh:
            _, _, raw = line.partition(b" ")
            msg = json.loads(raw, parse_float=Decimal)
            if isinstance(msg, dict):
                yield msg


class FakeUpbit:
    """A loopback Upbit for ccxt's `upbit` (sync and async_support), REST only."""

    def __init__(
        self,
        *,
        capture: Path | None = None,
        api_key: str = "upbit-test-access-key",
        secret: str = "upbit-test-secret-key",
        seed: int = 0,
    ) -> None:
        self.api_key, self.secret = api_key, secret
        self.clock = Clock()
        self.faults = Faults()
        self.venue = UpbitVenue(self.clock, random.Random(seed))
        self.requests: list[dict[str, Any]] = []
        self.nonces: set[str] = set()
        self._capture: Iterator[dict[str, Any]] | None = None
        if capture is not None:
            self._capture = _capture_lines(capture)
            for msg in self._capture:  # the first orderbook seeds the book
                if msg.get("type") == "orderbook" and msg.get("code") == CODE:
                    self._apply_book(msg)
                    break
            else:
                raise ValueError(f"{capture}: no {CODE} orderbook message")
        self._routes = {(r.method, r.path): r for r in upbit_rest.routes(self)}
        self._server = LoopThread("fakex-upbit")
        self.url = ""

    # --- lifecycle -----------------------------------------------------------------------
    def start(self) -> FakeUpbit:
        def make_app() -> web.Application:
            app = web.Application()
            app.router.add_route("*", "/{tail:.*}", self._dispatch)
            return app

        self.url = self._server.start(make_app)
        return self

    def stop(self) -> None:
        self._server.stop()

    def __enter__(self) -> FakeUpbit:
        return self.start()

    def __exit__(
        self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # --- ccxt wiring ---------------------------------------------------------------------
    def configure(self, exchange: Any) -> None:
        """Points a ccxt `upbit` (sync, async_support or pro) at the fake; see the README."""
        ws = self.url.replace("http://", "ws://")
        api = dict(exchange.urls.get("api", {}))
        api.update({"public": self.url, "private": self.url, "ws": f"{ws}/unserved/websocket/v1"})
        exchange.urls["api"] = api
        exchange.hostname = self.url.removeprefix("http://")  # anything left on {hostname}
        exchange.apiKey, exchange.secret = self.api_key, self.secret

    # --- state views ---------------------------------------------------------------------
    @property
    def orders(self) -> dict[str, Order]:
        return dict(self.venue.orders)

    def order(self, identifier: str) -> Order:
        """An order by its identifier (ccxt's clientOrderId)."""
        return self.venue.by_identifier[identifier]

    @property
    def trades(self) -> list[Trade]:
        return [t for o in self.venue.orders.values() for t in o.trades]

    @property
    def balances(self) -> dict[str, tuple[Decimal, Decimal]]:
        """currency -> (balance, locked): Upbit's `balance` is what is free."""
        return {c: (b[0], b[1]) for c, b in self.venue.balances.items()}

    def book(self) -> Book:
        return self.venue.books[CODE]

    # --- driving the market --------------------------------------------------------------
    def set_time(self, ms: int) -> None:
        self._server.do(lambda: setattr(self.clock, "ms", ms))

    def set_balance(self, currency: str, amount: Decimal | str | int) -> None:
        self._server.do(lambda: self.venue.set_balance(currency, Decimal(amount)))

    def set_book(
        self,
        bids: Sequence[tuple[str | Decimal, str | Decimal]],
        asks: Sequence[tuple[str | Decimal, str | Decimal]],
    ) -> None:
        """Replaces the KRW-BTC book (Upbit has no diffs: every book is whole)."""

        def run() -> None:
            book = self.venue.books[CODE]
            book.bids = {Decimal(p): Decimal(q) for p, q in bids}
            book.asks = {Decimal(p): Decimal(q) for p, q in asks}

        self._server.do(run)

    def fill(self, order: str, volume: Decimal | str, price: Decimal | str | None = None) -> Trade:
        """Forces a (maker) fill of a resting limit order, by identifier or uuid."""

        def run() -> Trade:
            found = self.venue.by_identifier.get(order) or self.venue.orders[order]
            return self.venue.fill(
                found.uuid, Decimal(volume), None if price is None else Decimal(price)
            )

        return self._server.do(run)

    def push_trade(self, price: Decimal | str, volume: Decimal | str) -> list[Trade]:
        """A public print: resting orders it prints through fill."""
        return self._server.do(lambda: self.venue.on_print(CODE, Decimal(price), Decimal(volume)))

    def advance(self, n_messages: int) -> int:
        """Applies the next `n_messages` capture messages (books replace the book, trades
        fill resting orders they print through); returns how many there were."""

        def run() -> int:
            assert self._capture is not None, "FakeUpbit: no capture given"
            done = 0
            for msg in self._capture:
                if msg.get("code") != CODE:
                    continue
                if msg.get("type") == "orderbook":
                    self._apply_book(msg)
                elif msg.get("type") == "trade" and msg.get("stream_type") != "SNAPSHOT":
                    self.clock.ms = max(self.clock.ms, int(msg["timestamp"]))
                    self.venue.on_print(
                        CODE, Decimal(msg["trade_price"]), Decimal(msg["trade_volume"])
                    )
                else:
                    continue
                done += 1
                if done >= n_messages:
                    break
            return done

        return self._server.do(run)

    def _apply_book(self, msg: dict[str, Any]) -> None:
        book = self.venue.books[CODE]
        units = msg["orderbook_units"]
        book.bids = {
            Decimal(u["bid_price"]): Decimal(u["bid_size"]) for u in units if u["bid_size"]
        }
        book.asks = {
            Decimal(u["ask_price"]): Decimal(u["ask_size"]) for u in units if u["ask_size"]
        }
        book.timestamp = int(msg["timestamp"])
        self.clock.ms = max(self.clock.ms, book.timestamp)

    # --- internals -----------------------------------------------------------------------
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

    async def _dispatch(self, request: web.Request) -> web.StreamResponse:
        body = await request.text()
        pairs: upbit_rest.Params = parse_qsl(request.query_string, keep_blank_values=True)
        body_pairs: list[tuple[str, Any]] = []
        if body:
            try:
                parsed = json.loads(body, parse_float=Decimal)
            except ValueError:
                parsed = None
            if not isinstance(parsed, dict):
                return self._error(
                    UpbitError(400, "validation_error", "body must be a JSON object")
                )
            body_pairs = list(parsed.items())
            pairs = pairs + [(k, upbit_auth.value_text(v)) for k, v in body_pairs]
        params = dict(pairs)
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
            if fault.body is not None:
                return web.Response(status=fault.status, text=fault.body, headers=headers)
            text = (
                "Too many API requests." if fault.status in (418, 429) else "Internal Server Error"
            )
            return web.Response(status=fault.status, text=text, headers=headers)
        route = self._routes.get((request.method, request.path))
        if route is None:
            return self._error(
                UpbitError(
                    404, "fakex_unserved", f"fakex does not serve {request.method} {request.path}"
                )
            )
        try:
            if route.private:
                query = unquote(request.query_string) if request.method != "POST" else None
                if request.method == "POST":
                    query = upbit_auth.query_string(body_pairs)
                upbit_auth.check(
                    request.headers.get("Authorization"),
                    query,
                    api_key=self.api_key,
                    secret=self.secret,
                    seen_nonces=self.nonces,
                )
            result = await route.handler(request, params, pairs)
        except UpbitError as e:
            return self._error(e)
        status = 201 if request.method == "POST" else 200
        return web.Response(
            status=status,
            text=upbit_rest.to_json(result),
            content_type="application/json",
            headers=REMAINING_REQ,
        )

    @staticmethod
    def _error(e: UpbitError) -> web.Response:
        return web.Response(
            status=e.status, text=upbit_rest.to_json(e.body()), content_type="application/json"
        )
