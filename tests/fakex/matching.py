"""Order book, orders, fills, balances and positions of one market of the fake (deterministic).

Rules (written down because tests hand-check money against them):
- Prices and quantities are `Decimal`; a price must be a multiple of the tick, a quantity of
  the step, within [minQty, maxQty], and price * qty (the walked average for market orders)
  at least the minimum notional; a failure is refused with Binance's filter error.
- A marketable order walks the opposite side of the current book level by level at each
  level's price (the book is not consumed: it is the captured market, our fills are too
  small to move it). IOC/MARKET remainders expire; FOK fills all or nothing; a GTC remainder
  rests. Post-only (spot LIMIT_MAKER, futures GTX) that would cross is refused.
- A resting order fills only when a trade prints strictly through its price (a buy when the
  print is below it, a sell above), at its own price, for at most the print's quantity;
  `fill()` forces a fill. Resting fills are maker fills.
- Fees are charged in the quote asset: spot 0.1 % both sides; futures 0.02 % maker, 0.05 %
  taker. Spot: a buy locks price * qty of the quote (market buys check the walked cost plus
  the fee), a sell locks the quantity. Futures: one-way positions, leverage fixed at 20,
  a new order needs notional / 20 of available margin; realised PnL and fees move the wallet.
  The entry price is the exact quotient (28 significant digits); realised PnL is rounded
  half-even to 1e-8 USDT (Binance's wallet precision), so the wallet stays an exact sum.
- Times come from the fake's clock (`Clock`), never the wall clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from fakex.errors import BAD_SYMBOL, INSUFFICIENT, NO_ORDER, UNKNOWN_ORDER, WOULD_TAKE, BinanceError
from fakex.markets import FEES, LEVERAGE, SPECS, Market, Spec, fmt

ZERO = Decimal(0)
PNL_UNIT = Decimal("1e-8")  # realised PnL is rounded half-even to 1e-8 USDT


class Clock:
    """The fake's time in ms: set by tests or by the capture's event times, never the wall clock."""

    def __init__(self, start_ms: int = 1723161255000) -> None:
        self.ms = start_ms

    def now(self) -> int:
        return self.ms


@dataclass
class Book:
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    last_update_id: int = 0

    def apply(self, bids: list[list[str]], asks: list[list[str]]) -> None:
        for side, levels in ((self.bids, bids), (self.asks, asks)):
            for p, q in levels:
                price, qty = Decimal(p), Decimal(q)
                if qty == 0:
                    side.pop(price, None)
                else:
                    side[price] = qty

    def levels(self, side: str, limit: int | None = None) -> list[tuple[Decimal, Decimal]]:
        book = self.bids if side == "bids" else self.asks
        out = sorted(book.items(), reverse=side == "bids")
        return out if limit is None else out[:limit]


@dataclass
class Order:
    market: Market
    symbol: str
    order_id: int
    client_id: str
    side: str
    type: str
    tif: str
    price: Decimal
    orig_qty: Decimal
    time: int
    reduce_only: bool = False
    executed_qty: Decimal = ZERO
    cum_quote: Decimal = ZERO
    status: str = "NEW"
    update_time: int = 0
    locked: Decimal = (
        ZERO  # spot: what this order still holds locked (quote for buys, base for sells)
    )

    @property
    def remaining(self) -> Decimal:
        return self.orig_qty - self.executed_qty

    @property
    def is_open(self) -> bool:
        return self.status in ("NEW", "PARTIALLY_FILLED")


@dataclass
class Fill:
    trade_id: int
    order_id: int
    symbol: str
    side: str
    price: Decimal
    qty: Decimal
    commission: Decimal
    commission_asset: str
    maker: bool
    time: int
    realized_pnl: Decimal = ZERO


@dataclass
class Position:
    amount: Decimal = ZERO  # signed: long > 0
    entry: Decimal = ZERO


# What the engine tells its listeners: ("order", order, fill or None) or ("account", None, None).
Event = tuple[str, Order | None, Fill | None]


class Venue:
    """One market (spot or futures) of the fake exchange."""

    def __init__(self, market: Market, clock: Clock, emit: Callable[[Market, Event], None]) -> None:
        self.market: Market = market
        self.clock = clock
        self.emit = emit
        self.books: dict[str, Book] = {s: Book() for s in SPECS[market]}
        self.orders: dict[int, Order] = {}
        self.resting: dict[int, Order] = {}  # open orders in id order (keeps prints O(open orders))
        self.by_client: dict[str, Order] = {}
        self.fills: list[Fill] = []
        self.balances: dict[str, list[Decimal]] = {}  # asset -> [free, locked] (futures: wallet, 0)
        self.positions: dict[str, Position] = {s: Position() for s in SPECS[market]}
        self._next_order = 1_000_001 if market == "spot" else 4_000_000_001
        self._next_trade = 1 if market == "spot" else 500_000_001
        self._next_client = 0

    # --- lookups -------------------------------------------------------------------------
    def spec(self, symbol: str | None) -> Spec:
        spec = SPECS[self.market].get(symbol or "")
        if spec is None:
            raise BinanceError(400, -1121, BAD_SYMBOL)
        return spec

    def find(
        self, symbol: str, order_id: str | None, client_id: str | None, *, cancel: bool = False
    ) -> Order:
        self.spec(symbol)
        order: Order | None = None
        if order_id is not None:
            order = self.orders.get(int(order_id))
        elif client_id is not None:
            order = self.by_client.get(client_id)
        else:
            raise BinanceError(
                400,
                -1102,
                "Param 'origClientOrderId' or 'orderId' must be sent, but both were empty/null!",
            )
        if order is None or order.symbol != symbol:
            raise BinanceError(
                400, -2011 if cancel else -2013, UNKNOWN_ORDER if cancel else NO_ORDER
            )
        return order

    def free(self, asset: str) -> Decimal:
        return self.balances.get(asset, [ZERO, ZERO])[0]

    def set_balance(self, asset: str, amount: Decimal) -> None:
        self.balances[asset] = [amount, self.balances.get(asset, [ZERO, ZERO])[1]]
        self.emit(self.market, ("account", None, None))

    def mark_price(self, symbol: str) -> Decimal:
        book = self.books[symbol]
        bid = max(book.bids) if book.bids else None
        ask = min(book.asks) if book.asks else None
        if bid is not None and ask is not None:
            return (bid + ask) / 2
        return bid or ask or self.positions[symbol].entry

    # --- order entry ---------------------------------------------------------------------
    def create(self, p: dict[str, str]) -> Order:
        spec = self.spec(p.get("symbol"))
        side = p.get("side", "")
        otype = p.get("type", "")
        if side not in ("BUY", "SELL"):
            raise BinanceError(400, -1117, "Invalid side.")
        if otype not in ("LIMIT", "MARKET", "LIMIT_MAKER"):
            raise BinanceError(400, -1116, "Invalid orderType.")
        if otype == "LIMIT_MAKER" and self.market == "futures":
            raise BinanceError(400, -1116, "Invalid orderType.")
        try:
            qty = Decimal(p["quantity"])
        except (KeyError, ArithmeticError):
            raise BinanceError(
                400,
                -1102,
                "Mandatory parameter 'quantity' was not sent, was empty/null, or malformed.",
            ) from None
        price = ZERO
        if otype != "MARKET":
            try:
                price = Decimal(p["price"])
            except (KeyError, ArithmeticError):
                raise BinanceError(
                    400,
                    -1102,
                    "Mandatory parameter 'price' was not sent, was empty/null, or malformed.",
                ) from None
        tif = p.get("timeInForce", "GTC" if otype == "LIMIT" else "")
        if otype == "LIMIT" and tif not in ("GTC", "IOC", "FOK", "GTX"):
            raise BinanceError(400, -1115, "Invalid timeInForce.")
        if tif == "GTX" and self.market == "spot":
            raise BinanceError(400, -1115, "Invalid timeInForce.")
        client_id = p.get("newClientOrderId") or self._auto_client_id()
        if client_id in self.by_client:  # unique for the life of the fake, on both markets
            if self.market == "futures":
                raise BinanceError(400, -4116, "ClientOrderId is duplicated.")
            raise BinanceError(400, -2010, "Duplicate order sent.")
        reduce_only = p.get("reduceOnly", "false").lower() == "true"
        if reduce_only and self.market == "spot":
            raise BinanceError(
                400, -1104, "Not all sent parameters were read; read 8 parameter(s) but was sent 9."
            )
        self._check_filters(spec, price, qty, otype)
        now = self.clock.now()
        order = Order(
            self.market,
            spec.symbol,
            self._next_order,
            client_id,
            side,
            otype,
            tif,
            price,
            qty,
            now,
            reduce_only,
            update_time=now,
        )
        takes = self._walk(spec.symbol, side, qty, None if otype == "MARKET" else price)
        taken = sum((q for _, q in takes), ZERO)
        if otype == "MARKET":
            notional = sum((pr * q for pr, q in takes), ZERO)
            if taken == 0 or notional < spec.min_notional:
                raise BinanceError(400, -1013, "Filter failure: NOTIONAL")
        if taken > 0 and (otype == "LIMIT_MAKER" or tif == "GTX"):
            if self.market == "futures":
                raise BinanceError(
                    400,
                    -5022,
                    "Due to the order could not be executed as maker, the Post "
                    "Only order will be rejected.",
                )
            raise BinanceError(400, -2010, WOULD_TAKE)
        if tif == "FOK" and taken < qty:
            order.status = "EXPIRED"  # Binance answers a FOK that cannot fill with an EXPIRED order
            takes = []
        self._check_funds(spec, order, takes)
        self._next_order += 1
        self.orders[order.order_id] = order
        self.by_client[client_id] = order
        if order.status == "EXPIRED":
            self._track(order)
            self.emit(self.market, ("order", order, None))
            return order
        self._lock(spec, order)
        self._track(order)
        self.emit(self.market, ("order", order, None))
        for pr, q in takes:
            self._execute(spec, order, pr, q, maker=False)
        if order.remaining > 0 and (otype == "MARKET" or tif in ("IOC", "FOK")):
            self._finish(spec, order, "EXPIRED")
        return order

    def _track(self, order: Order) -> None:
        if order.is_open:
            self.resting[order.order_id] = order
        else:
            self.resting.pop(order.order_id, None)

    def _auto_client_id(self) -> str:
        self._next_client += 1
        return f"fakex{self._next_client:016d}"

    def _check_filters(self, spec: Spec, price: Decimal, qty: Decimal, otype: str) -> None:
        if otype != "MARKET" and (price <= 0 or price % spec.tick != 0):
            raise BinanceError(400, -1013, "Filter failure: PRICE_FILTER")
        if qty <= 0 or qty % spec.step != 0 or qty < spec.min_qty or qty > spec.max_qty:
            raise BinanceError(400, -1013, "Filter failure: LOT_SIZE")
        if otype != "MARKET" and price * qty < spec.min_notional:
            if self.market == "futures":
                raise BinanceError(
                    400,
                    -4164,
                    f"Order's notional must be no smaller than "
                    f"{fmt(spec.min_notional, 0)} (unless you choose reduce only).",
                )
            raise BinanceError(400, -1013, "Filter failure: NOTIONAL")

    def _walk(
        self,
        symbol: str,
        side: str,
        qty: Decimal,
        limit: Decimal | None,
    ) -> list[tuple[Decimal, Decimal]]:
        """Levels a taker would hit: (price, qty) best first, up to `limit` and `qty`."""
        book = self.books[symbol]
        levels = book.levels("asks" if side == "BUY" else "bids")
        out: list[tuple[Decimal, Decimal]] = []
        left = qty
        for price, avail in levels:
            if left <= 0:
                break
            if limit is not None and (price > limit if side == "BUY" else price < limit):
                break
            q = min(left, avail)
            out.append((price, q))
            left -= q
        return out

    def _check_funds(self, spec: Spec, order: Order, takes: list[tuple[Decimal, Decimal]]) -> None:
        if order.status == "EXPIRED":
            return
        if self.market == "spot":
            if order.side == "BUY":
                if order.type == "MARKET":
                    need = sum((pr * q for pr, q in takes), ZERO) * (1 + FEES["spot"][1])
                else:
                    need = order.price * order.orig_qty
                have = self.free(spec.quote)
            else:
                need, have = order.orig_qty, self.free(spec.base)
            if need > have:
                raise BinanceError(400, -2010, INSUFFICIENT)
            return
        pos = self.positions[spec.symbol]
        signed = order.orig_qty if order.side == "BUY" else -order.orig_qty
        if order.reduce_only and (
            pos.amount == 0 or (pos.amount > 0) == (signed > 0) or abs(signed) > abs(pos.amount)
        ):
            raise BinanceError(400, -2022, "ReduceOnly Order is rejected.")
        if order.reduce_only:
            return
        price = order.price if order.type != "MARKET" else (takes[-1][0] if takes else ZERO)
        if order.orig_qty * price / LEVERAGE > self.available_margin():
            raise BinanceError(400, -2019, "Margin is insufficient.")

    def available_margin(self) -> Decimal:
        wallet = self.free("USDT")
        used = ZERO
        for symbol, pos in self.positions.items():
            used += abs(pos.amount) * pos.entry / LEVERAGE
            used -= self.unrealized(symbol) if self.unrealized(symbol) < 0 else ZERO
        for o in self.resting.values():
            if not o.reduce_only:
                used += o.remaining * o.price / LEVERAGE
        return wallet - used

    def unrealized(self, symbol: str) -> Decimal:
        pos = self.positions[symbol]
        return (self.mark_price(symbol) - pos.entry) * pos.amount if pos.amount else ZERO

    def _lock(self, spec: Spec, order: Order) -> None:
        if self.market != "spot" or order.type == "MARKET":
            return
        asset, amount = (
            (spec.quote, order.price * order.orig_qty)
            if order.side == "BUY"
            else (spec.base, order.orig_qty)
        )
        bal = self.balances.setdefault(asset, [ZERO, ZERO])
        bal[0] -= amount
        bal[1] += amount
        order.locked = amount

    def _release(self, spec: Spec, order: Order, amount: Decimal) -> None:
        """Moves `amount` of the order's lock back to free."""
        asset = spec.quote if order.side == "BUY" else spec.base
        bal = self.balances.setdefault(asset, [ZERO, ZERO])
        bal[0] += amount
        bal[1] -= amount
        order.locked -= amount

    def _execute(
        self, spec: Spec, order: Order, price: Decimal, qty: Decimal, *, maker: bool
    ) -> Fill:
        fee_rate = FEES[self.market][0 if maker else 1]
        quote = price * qty
        fee = quote * fee_rate
        pnl = ZERO
        if self.market == "spot":
            if order.type != "MARKET":
                # a resting buy locked its limit price; the fill releases that share of the lock
                self._release(spec, order, order.price * qty if order.side == "BUY" else qty)
            base = self.balances.setdefault(spec.base, [ZERO, ZERO])
            quote_bal = self.balances.setdefault(spec.quote, [ZERO, ZERO])
            if order.side == "BUY":
                base[0] += qty
                quote_bal[0] -= quote + fee
            else:
                base[0] -= qty
                quote_bal[0] += quote - fee
        else:
            pnl = self._move_position(spec.symbol, qty if order.side == "BUY" else -qty, price)
            wallet = self.balances.setdefault("USDT", [ZERO, ZERO])
            wallet[0] += pnl - fee
        fill = Fill(
            self._next_trade,
            order.order_id,
            spec.symbol,
            order.side,
            price,
            qty,
            fee,
            spec.quote,
            maker,
            self.clock.now(),
            pnl,
        )
        self._next_trade += 1
        self.fills.append(fill)
        order.executed_qty += qty
        order.cum_quote += quote
        order.update_time = self.clock.now()
        order.status = "FILLED" if order.remaining == 0 else "PARTIALLY_FILLED"
        if order.status == "FILLED" and order.locked:
            self._release(spec, order, order.locked)
        self._track(order)
        self.emit(self.market, ("order", order, fill))
        return fill

    def _move_position(self, symbol: str, signed: Decimal, price: Decimal) -> Decimal:
        """Applies a signed fill to the one-way position; returns the realised PnL."""
        pos = self.positions[symbol]
        pnl = ZERO
        if pos.amount == 0 or (pos.amount > 0) == (signed > 0):
            new = pos.amount + signed
            pos.entry = (pos.entry * abs(pos.amount) + price * abs(signed)) / abs(new)
            pos.amount = new
            return pnl
        closed = min(abs(signed), abs(pos.amount))
        direction = 1 if pos.amount > 0 else -1
        pnl = ((price - pos.entry) * closed * direction).quantize(PNL_UNIT)
        new = pos.amount + signed
        if new == 0:
            pos.entry = ZERO
        elif (new > 0) != (pos.amount > 0):
            pos.entry = price  # flipped: the rest opens at the fill price
        pos.amount = new
        return pnl

    def _finish(self, spec: Spec, order: Order, status: str) -> None:
        if order.locked:
            self._release(spec, order, order.locked)
        order.status = status
        order.update_time = self.clock.now()
        self._track(order)
        self.emit(self.market, ("order", order, None))

    def cancel(self, symbol: str, order_id: str | None, client_id: str | None) -> Order:
        order = self.find(symbol, order_id, client_id, cancel=True)
        if not order.is_open:
            raise BinanceError(400, -2011, UNKNOWN_ORDER)
        self._finish(self.spec(symbol), order, "CANCELED")
        return order

    def amend(self, p: dict[str, str]) -> Order:
        """Futures PUT /fapi/v1/order: new price and quantity, same order id (Binance's modify)."""
        order = self.find(p.get("symbol", ""), p.get("orderId"), p.get("origClientOrderId"))
        spec = self.spec(order.symbol)
        if not order.is_open or order.type != "LIMIT":
            raise BinanceError(400, -2013, NO_ORDER)
        price, qty = (
            Decimal(p.get("price", order.price)),
            Decimal(p.get("quantity", order.orig_qty)),
        )
        self._check_filters(spec, price, qty, "LIMIT")
        if qty <= order.executed_qty:
            raise BinanceError(400, -4005, "Quantity greater than max quantity.")
        if self._walk(spec.symbol, order.side, qty - order.executed_qty, price):
            raise BinanceError(
                400, -5027, "No need to modify the order."
            )  # the fake keeps amends passive
        order.price, order.orig_qty = price, qty
        order.update_time = self.clock.now()
        self.emit(self.market, ("amend", order, None))
        return order

    def fill(self, order_id: int, qty: Decimal, price: Decimal | None = None) -> Fill:
        order = self.orders[order_id]
        if not order.is_open or qty <= 0 or qty > order.remaining:
            raise ValueError(
                f"fill: qty {qty} does not fit order {order_id} "
                f"(status {order.status}, remaining {order.remaining})"
            )
        return self._execute(
            self.spec(order.symbol), order, order.price if price is None else price, qty, maker=True
        )

    def on_print(self, symbol: str, price: Decimal, qty: Decimal) -> list[Fill]:
        """A public trade: resting orders it prints through fill (lowest order id first)."""
        out: list[Fill] = []
        left = qty
        for order in list(self.resting.values()):
            if left <= 0:
                break
            if order.symbol != symbol or not order.is_open or order.type == "MARKET":
                continue
            through = price < order.price if order.side == "BUY" else price > order.price
            if through:
                q = min(left, order.remaining)
                out.append(self._execute(self.spec(symbol), order, order.price, q, maker=True))
                left -= q
        return out

    # --- JSON views ---------------------------------------------------------------------
    def order_json(self, o: Order) -> dict[str, Any]:
        spec = self.spec(o.symbol)
        pp, qp = spec.price_places, spec.qty_places
        avg = o.cum_quote / o.executed_qty if o.executed_qty else ZERO
        if self.market == "spot":
            return {
                "symbol": o.symbol,
                "orderId": o.order_id,
                "orderListId": -1,
                "clientOrderId": o.client_id,
                "price": fmt(o.price, pp),
                "origQty": fmt(o.orig_qty, qp),
                "executedQty": fmt(o.executed_qty, qp),
                "cummulativeQuoteQty": fmt(o.cum_quote, 8),
                "status": o.status,
                "timeInForce": o.tif or "GTC",
                "type": o.type,
                "side": o.side,
                "stopPrice": "0.00000000",
                "icebergQty": "0.00000000",
                "time": o.time,
                "updateTime": o.update_time,
                "isWorking": o.is_open,
                "workingTime": o.time,
                "origQuoteOrderQty": "0.00000000",
                "selfTradePreventionMode": "EXPIRE_MAKER",
            }
        return {
            "orderId": o.order_id,
            "symbol": o.symbol,
            "status": o.status,
            "clientOrderId": o.client_id,
            "price": fmt(o.price, pp),
            "avgPrice": fmt(avg, pp),
            "origQty": fmt(o.orig_qty, qp),
            "executedQty": fmt(o.executed_qty, qp),
            "cumQty": fmt(o.executed_qty, qp),
            "cumQuote": fmt(o.cum_quote, 5),
            "timeInForce": o.tif or "GTC",
            "type": o.type,
            "reduceOnly": o.reduce_only,
            "closePosition": False,
            "side": o.side,
            "positionSide": "BOTH",
            "stopPrice": "0.00",
            "workingType": "CONTRACT_PRICE",
            "priceProtect": False,
            "origType": o.type,
            "priceMatch": "NONE",
            "selfTradePreventionMode": "EXPIRE_MAKER",
            "goodTillDate": 0,
            "time": o.time,
            "updateTime": o.update_time,
        }

    def order_ack(self, o: Order) -> dict[str, Any]:
        """The create/cancel answer: spot's FULL response (with fills), futures' RESULT."""
        body = self.order_json(o)
        if self.market == "spot":
            body["transactTime"] = o.update_time
            body["fills"] = [
                {
                    "price": fmt(f.price, 8),
                    "qty": fmt(f.qty, 8),
                    "commission": fmt(f.commission, 8),
                    "commissionAsset": f.commission_asset,
                    "tradeId": f.trade_id,
                }
                for f in self.fills
                if f.order_id == o.order_id and not f.maker
            ]
        return body

    def trade_json(self, f: Fill) -> dict[str, Any]:
        spec = self.spec(f.symbol)
        if self.market == "spot":
            return {
                "symbol": f.symbol,
                "id": f.trade_id,
                "orderId": f.order_id,
                "orderListId": -1,
                "price": fmt(f.price, 8),
                "qty": fmt(f.qty, 8),
                "quoteQty": fmt(f.price * f.qty, 8),
                "commission": fmt(f.commission, 8),
                "commissionAsset": f.commission_asset,
                "time": f.time,
                "isBuyer": f.side == "BUY",
                "isMaker": f.maker,
                "isBestMatch": True,
            }
        return {
            "buyer": f.side == "BUY",
            "commission": fmt(f.commission, 8),
            "commissionAsset": f.commission_asset,
            "id": f.trade_id,
            "maker": f.maker,
            "orderId": f.order_id,
            "price": fmt(f.price, spec.price_places),
            "qty": fmt(f.qty, spec.qty_places),
            "quoteQty": fmt(f.price * f.qty, 5),
            "realizedPnl": fmt(f.realized_pnl, 8),
            "side": f.side,
            "positionSide": "BOTH",
            "symbol": f.symbol,
            "time": f.time,
        }
