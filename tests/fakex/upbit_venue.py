"""The fake Upbit's KRW-BTC spot market: book, orders, trades and balances (deterministic).

Rules (tests hand-check money against them):
- Prices, volumes and money are `Decimal`, never float. Fees are not rounded (Upbit shows
  fees such as "117.213009345"); the one rounding is a market buy's volume per level,
  truncated to 1e-8 BTC (Upbit's volume precision: finer digits are cut, never rounded up).
- A limit price must sit on the KRW tick of its price band (1,000 KRW at 2,000,000 and
  above, see `krw_tick`); volume > 0 with at most 8 decimals; price * volume within
  [5,000, 1,000,000,000] KRW. A market buy (`ord_type=price`) spends `price` KRW (at least
  5,000), a market sell (`ord_type=market`) sells `volume` (the bids must pay >= 5,000 KRW).
- Fee 0.05 % of the funds (price * volume) on both sides, in KRW: a buy pays it on top, a
  sell has it taken from the proceeds. A bid locks price * volume * (1 + fee) KRW (a market
  buy: `price` * (1 + fee)); an ask locks the volume. Locks shrink as the order fills.
- A marketable order walks the opposite side of the book level by level at each level's
  price; the book is not consumed (it is the captured market, our orders are too small to
  move it) and our own orders never show in it. A limit remainder rests unless
  `time_in_force` is ioc (remainder cancelled) or fok (all or nothing, else cancelled
  whole); post_only that would take is cancelled unfilled.
- A market buy ends `done` when the whole `price` was spent, otherwise `cancel` with what
  it bought (the unspent KRW, e.g. the dust below one 1e-8 lot, is released); a market
  sell ends `done` or `cancel` likewise. States: wait (open), done, cancel (Upbit's names).
- A resting order fills when a trade prints strictly through its price (a bid when the
  print is below it, an ask above), at its own price, for at most the print's volume;
  `fill()` forces a fill. Resting fills are maker fills (same fee rate).
- Times come from the fake's clock (ms), never the wall clock; uuids from the fake's
  seeded RNG.
"""

from __future__ import annotations

import datetime as dt
import random
import uuid
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from typing import Any

from fakex.matching import Clock

ZERO = Decimal(0)
LOT = Decimal("0.00000001")  # Upbit volume precision: 8 decimals
FEE = Decimal("0.0005")  # the KRW market's rate, maker and taker
MIN_TOTAL = Decimal(5000)
MAX_TOTAL = Decimal(1_000_000_000)
_EPOCH_KST = dt.datetime(1970, 1, 1, 9, tzinfo=dt.timezone(dt.timedelta(hours=9)))
MARKETS = {"KRW-BTC": ("BTC", "KRW", "비트코인", "Bitcoin")}

# (lowest price of the band, tick) for the KRW market, highest band first
_KRW_TICKS = [
    (Decimal(2_000_000), Decimal(1000)),
    (Decimal(1_000_000), Decimal(500)),
    (Decimal(500_000), Decimal(100)),
    (Decimal(100_000), Decimal(50)),
    (Decimal(10_000), Decimal(10)),
    (Decimal(1_000), Decimal(1)),
    (Decimal(100), Decimal("0.1")),
    (Decimal(10), Decimal("0.01")),
    (Decimal(1), Decimal("0.001")),
    (Decimal("0.1"), Decimal("0.0001")),
    (Decimal("0.01"), Decimal("0.00001")),
    (Decimal("0.001"), Decimal("0.000001")),
    (Decimal("0.0001"), Decimal("0.0000001")),
    (ZERO, Decimal("0.00000001")),
]


def krw_tick(price: Decimal) -> Decimal:
    """The KRW market's price unit at `price` (Upbit's band table)."""
    for low, tick in _KRW_TICKS:
        if price >= low:
            return tick
    return _KRW_TICKS[-1][1]


class UpbitError(Exception):
    """An error answer in Upbit's shape: HTTP status and {"error": {"name", "message"}}."""

    def __init__(self, status: int, name: str, message: str) -> None:
        super().__init__(f"{status} {name}: {message}")
        self.status, self.name, self.message = status, name, message

    def body(self) -> dict[str, Any]:
        return {"error": {"name": self.name, "message": self.message}}


def _validation(message: str) -> UpbitError:
    return UpbitError(400, "validation_error", message)


MISSING_PARAM = "Missing request parameter error. Check the required parameters!"


@dataclass
class Trade:
    uuid: str
    order_uuid: str
    market: str
    side: str  # "bid" / "ask"
    price: Decimal
    volume: Decimal
    funds: Decimal
    fee: Decimal
    maker: bool
    time: int


@dataclass
class Order:
    uuid: str
    identifier: str | None
    market: str
    side: str  # "bid" / "ask"
    ord_type: str  # "limit" / "price" (market buy) / "market" (market sell)
    price: Decimal | None  # limit price, or the KRW to spend of a market buy
    volume: Decimal | None  # None for a market buy
    time_in_force: str | None
    created: int
    state: str = "wait"
    executed_volume: Decimal = ZERO
    executed_funds: Decimal = ZERO
    paid_fee: Decimal = ZERO
    reserved_fee: Decimal = ZERO
    locked: Decimal = ZERO
    trades: list[Trade] = field(default_factory=list)
    done_at: int | None = None

    @property
    def remaining_volume(self) -> Decimal | None:
        return None if self.volume is None else self.volume - self.executed_volume

    @property
    def is_open(self) -> bool:
        return self.state == "wait"


@dataclass
class Book:
    bids: dict[Decimal, Decimal] = field(default_factory=dict)
    asks: dict[Decimal, Decimal] = field(default_factory=dict)
    timestamp: int = 0

    def levels(self, side: str, count: int | None = None) -> list[tuple[Decimal, Decimal]]:
        book = self.bids if side == "bids" else self.asks
        out = sorted(book.items(), reverse=side == "bids")
        return out if count is None else out[:count]


class UpbitVenue:
    """Orders, trades and balances of the fake Upbit (KRW-BTC; other codes are refused)."""

    def __init__(self, clock: Clock, rng: random.Random) -> None:
        self.clock = clock
        self.rng = rng
        self.books: dict[str, Book] = {m: Book() for m in MARKETS}
        self.orders: dict[str, Order] = {}  # by uuid, in creation order
        self.by_identifier: dict[str, Order] = {}
        self.balances: dict[str, list[Decimal]] = {}  # currency -> [balance (free), locked]

    # --- helpers -------------------------------------------------------------------------
    def new_uuid(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def market(self, code: str | None) -> tuple[str, str]:
        if code not in MARKETS:
            raise UpbitError(404, "market_does_not_exist", f"market {code!r} does not exist")
        base, quote, _, _ = MARKETS[code]
        return base, quote

    def free(self, currency: str) -> Decimal:
        return self.balances.get(currency, [ZERO, ZERO])[0]

    def set_balance(self, currency: str, amount: Decimal) -> None:
        self.balances[currency] = [amount, self.balances.get(currency, [ZERO, ZERO])[1]]

    def _move(self, currency: str, free: Decimal, locked: Decimal = ZERO) -> None:
        bal = self.balances.setdefault(currency, [ZERO, ZERO])
        bal[0] += free
        bal[1] += locked

    def find(self, uuid_: str | None, identifier: str | None) -> Order:
        if uuid_ is None and identifier is None:
            raise _validation("uuid or identifier is required")
        order = self.orders.get(uuid_ or "") if uuid_ is not None else None
        if uuid_ is None and identifier is not None:
            order = self.by_identifier.get(identifier)
        if order is None:
            raise UpbitError(404, "order_not_found", "Order not found.")
        return order

    # --- order entry ---------------------------------------------------------------------
    def create(self, p: dict[str, str]) -> Order:
        code = p.get("market")
        if not code:
            raise _validation(MISSING_PARAM)
        base, quote = self.market(code)
        side = p.get("side")
        if side not in ("bid", "ask"):
            raise _validation("side is missing, side does not have a valid value")
        ord_type = p.get("ord_type")
        if ord_type not in ("limit", "price", "market"):
            raise _validation("ord_type is missing, ord_type does not have a valid value")
        if (ord_type == "price" and side != "bid") or (ord_type == "market" and side != "ask"):
            # Upbit: price-type orders are buys, market-type orders are sells
            raise UpbitError(400, f"create_{side}_error", f"ord_type {ord_type} is not for {side}")
        tif = p.get("time_in_force")
        if tif not in (None, "ioc", "fok", "post_only"):
            raise _validation("time_in_force does not have a valid value")
        if tif == "post_only" and ord_type != "limit":
            raise UpbitError(400, f"create_{side}_error", "post_only is for limit orders only")
        identifier = p.get("identifier")
        if identifier is not None and identifier in self.by_identifier:
            # the fake's name: Upbit keeps identifiers unique for good, reuse is refused
            raise UpbitError(400, "identifier_already_used", f"identifier {identifier!r} used")
        price = self._decimal(p, "price") if ord_type in ("limit", "price") else None
        volume = self._decimal(p, "volume") if ord_type in ("limit", "market") else None
        if (ord_type == "price" and "volume" in p) or (ord_type == "market" and "price" in p):
            raise UpbitError(400, f"create_{side}_error", "price and volume do not fit ord_type")
        self._check_rules(side, ord_type, price, volume)
        takes = self._walk(code, side, ord_type, price, volume)
        if ord_type == "market" and sum((pr * q for pr, q in takes), ZERO) < MIN_TOTAL:
            # a market sell's total is what the book would pay for it
            raise UpbitError(400, "under_min_total_ask", f"order total below {MIN_TOTAL} KRW")
        order = Order(
            self.new_uuid(),
            identifier,
            code,
            side,
            ord_type,
            price,
            volume,
            tif,
            self.clock.now(),
        )
        if ord_type == "limit":
            assert price is not None and volume is not None
            taken = sum((q for _, q in takes), ZERO)
            if (tif == "post_only" and taken > 0) or (tif == "fok" and taken < volume):
                takes = []  # cancelled whole, nothing executed, nothing locked
                order.state = "cancel"
            need = price * volume * (1 + FEE) if side == "bid" else volume
        elif ord_type == "price":
            assert price is not None
            need = price * (1 + FEE)
        else:
            assert volume is not None
            need = volume
        asset = quote if side == "bid" else base
        if order.state == "wait" and need > self.free(asset):
            raise UpbitError(
                400, f"insufficient_funds_{side}", f"Insufficient {asset}: {need} needed"
            )
        self.orders[order.uuid] = order
        if identifier is not None:
            self.by_identifier[identifier] = order
        if order.state != "wait":
            order.done_at = order.created
            return order
        order.locked = need
        if side == "bid":
            assert price is not None
            order.reserved_fee = need - (price if volume is None else price * volume)
        self._move(asset, -need, need)
        for pr, q in takes:
            self._execute(order, pr, q, maker=False)
        if order.is_open and (ord_type != "limit" or tif in ("ioc", "fok")):
            self._close(order, "cancel")
        return order

    @staticmethod
    def _decimal(p: dict[str, str], name: str) -> Decimal:
        text = p.get(name)
        if text is None or text == "":
            raise _validation(MISSING_PARAM)
        try:
            value = Decimal(text)
        except ArithmeticError:
            raise _validation(f"{name} does not have a valid value") from None
        if not value.is_finite():
            raise _validation(f"{name} does not have a valid value")
        return value

    def _check_rules(
        self, side: str, ord_type: str, price: Decimal | None, volume: Decimal | None
    ) -> None:
        if volume is not None and (volume <= 0 or volume % LOT != 0):
            raise UpbitError(400, f"invalid_volume_{side}", f"volume {volume}: > 0, 8 decimals")
        if price is not None and price <= 0:
            raise UpbitError(400, f"invalid_price_{side}", f"price {price}: must be > 0")
        if ord_type == "limit":
            assert price is not None and volume is not None
            tick = krw_tick(price)
            if price % tick != 0:
                raise UpbitError(
                    400, f"invalid_price_{side}", f"price {price}: not a multiple of {tick} KRW"
                )
            total = price * volume
        elif ord_type == "price":
            assert price is not None
            total = price
        else:
            return  # a market sell's total is only known from the book (checked in create)
        if total < MIN_TOTAL:
            raise UpbitError(
                400, f"under_min_total_{side}", f"order total {total} KRW: minimum {MIN_TOTAL}"
            )
        if total > MAX_TOTAL:
            raise UpbitError(
                400, f"over_max_total_{side}", f"order total {total} KRW: maximum {MAX_TOTAL}"
            )

    def _walk(
        self,
        code: str,
        side: str,
        ord_type: str,
        price: Decimal | None,
        volume: Decimal | None,
    ) -> list[tuple[Decimal, Decimal]]:
        """(price, volume) a taker would get, best level first."""
        levels = self.books[code].levels("asks" if side == "bid" else "bids")
        out: list[tuple[Decimal, Decimal]] = []
        if ord_type == "price":  # spend `price` KRW, before fees
            assert price is not None
            left_krw = price
            for pr, avail in levels:
                q = min(avail, (left_krw / pr).quantize(LOT, rounding=ROUND_DOWN))
                if q <= 0:
                    break
                out.append((pr, q))
                left_krw -= pr * q
            return out
        assert volume is not None
        left = volume
        for pr, avail in levels:
            if left <= 0:
                break
            beyond = price is not None and (pr > price if side == "bid" else pr < price)
            if ord_type == "limit" and beyond:
                break
            q = min(left, avail)
            out.append((pr, q))
            left -= q
        return out

    def _execute(self, order: Order, price: Decimal, volume: Decimal, *, maker: bool) -> Trade:
        base, quote = self.market(order.market)
        funds = price * volume
        fee = funds * FEE
        now = self.clock.now()
        if order.side == "bid":
            # the lock held funds + fee at the limit price (a market buy: at its budget)
            assert order.price is not None
            release = (order.price * volume if order.ord_type == "limit" else funds) * (1 + FEE)
            self._move(quote, release - funds - fee, -release)
            order.locked -= release
            self._move(base, volume)
        else:
            self._move(base, ZERO, -volume)
            order.locked -= volume
            self._move(quote, funds - fee)
        trade = Trade(
            self.new_uuid(),
            order.uuid,
            order.market,
            order.side,
            price,
            volume,
            funds,
            fee,
            maker,
            now,
        )
        order.trades.append(trade)
        order.executed_volume += volume
        order.executed_funds += funds
        order.paid_fee += fee
        filled = order.executed_volume == order.volume  # a limit order or a market sell
        spent = order.ord_type == "price" and order.executed_funds == order.price
        if filled or spent:
            self._close(order, "done")
        return trade

    def _close(self, order: Order, state: str) -> None:
        """Ends an order: what it still locks goes back to free."""
        base, quote = self.market(order.market)
        asset = quote if order.side == "bid" else base
        self._move(asset, order.locked, -order.locked)
        order.locked = ZERO
        order.state = state
        order.done_at = self.clock.now()

    def cancel(self, uuid_: str | None, identifier: str | None) -> tuple[Order, dict[str, Any]]:
        """Cancels; returns the order and its view from just before (Upbit answers a cancel
        with the order as it was when the request arrived: state "wait")."""
        order = self.find(uuid_, identifier)
        if not order.is_open:
            # the fake's choice: an order that is already done/cancelled is "not found"
            raise UpbitError(
                404, "order_not_found", f"Order {order.uuid} is already {order.state}."
            )
        before = self.order_json(order, with_trades=False)
        self._close(order, "cancel")
        return order, before

    def fill(self, order_uuid: str, volume: Decimal, price: Decimal | None = None) -> Trade:
        order = self.orders[order_uuid]
        left = order.remaining_volume
        if not order.is_open or order.ord_type != "limit" or left is None or not 0 < volume <= left:
            raise ValueError(
                f"fill: volume {volume} does not fit order {order_uuid} "
                f"(state {order.state}, type {order.ord_type}, remaining {left})"
            )
        assert order.price is not None
        return self._execute(order, order.price if price is None else price, volume, maker=True)

    def on_print(self, code: str, price: Decimal, volume: Decimal) -> list[Trade]:
        """A public trade: resting orders it prints through fill (oldest order first)."""
        out: list[Trade] = []
        left = volume
        for order in list(self.orders.values()):
            if left <= 0:
                break
            if order.market != code or not order.is_open or order.ord_type != "limit":
                continue
            assert order.price is not None
            if price < order.price if order.side == "bid" else price > order.price:
                q = min(left, order.remaining_volume or ZERO)
                out.append(self._execute(order, order.price, q, maker=True))
                left -= q
        return out

    # --- JSON views (numbers as decimal strings, as Upbit's exchange API writes them) -----
    def order_json(self, o: Order, *, with_trades: bool) -> dict[str, Any]:
        reserved = o.reserved_fee
        body: dict[str, Any] = {
            "uuid": o.uuid,
            "side": o.side,
            "ord_type": o.ord_type,
            "price": None if o.price is None else _s(o.price),
            "state": o.state,
            "market": o.market,
            "created_at": kst(o.created),
            "volume": None if o.volume is None else _s(o.volume),
            "remaining_volume": None if o.volume is None else _s(o.remaining_volume or ZERO),
            "reserved_fee": _s(reserved),
            "remaining_fee": _s(max(reserved - o.paid_fee, ZERO) if o.is_open else ZERO),
            "paid_fee": _s(o.paid_fee),
            "locked": _s(o.locked),
            "executed_volume": _s(o.executed_volume),
            "executed_funds": _s(o.executed_funds),
            "trades_count": len(o.trades),
        }
        if o.time_in_force is not None:
            body["time_in_force"] = o.time_in_force
        if o.identifier is not None:
            body["identifier"] = o.identifier
        if with_trades:
            body["trades"] = [
                {
                    "market": t.market,
                    "uuid": t.uuid,
                    "price": _s(t.price),
                    "volume": _s(t.volume),
                    "funds": _s(t.funds),
                    "trend": None,
                    "created_at": kst(t.time, micros=True),
                    "side": t.side,
                }
                for t in o.trades
            ]
        return body


def _s(value: Decimal) -> str:
    """Plain decimal text: no exponent, no trailing zeros ("84042", "0.001", "0")."""
    return f"{value.normalize():f}"


def kst(ms: int, *, micros: bool = False) -> str:
    """Upbit's timestamps: ISO 8601 in Korea Standard Time (UTC+9, no DST), from integer ms."""
    t = _EPOCH_KST + dt.timedelta(milliseconds=ms)
    if micros:
        return t.isoformat(timespec="microseconds")
    return t.replace(microsecond=0).isoformat()
