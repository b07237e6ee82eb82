"""Per-exchange paths of the ccxt venue: where ccxt's unified calls do not do what the
venue needs on an exchange, its `ExchangeRules` says how it is done there instead.

- Default (ccxt's unified calls): look-up by client id `fetch_order(None, symbol,
  {"clientOrderId": cid})`, cancel `cancel_order`, an order's fills `fetch_order_trades`
  (or `fetch_my_trades` of the symbol), account fills `fetch_my_trades`.
- Binance (`binance`, `binanceusdm`): an order's fills `fetch_my_trades(..., {"orderId"})`;
  amends in place on USD-M only; a duplicate client id is -2010 "Duplicate order sent."
  (spot) or -4116 (futures), both InvalidOrder in ccxt.
- Upbit (ccxt 4.5 `upbit`): the client id is Upbit's `identifier`. The unified
  `fetch_order(None, ..., {"identifier"})` sends `uuid=None` as the text "None", so the
  look-up is `private_get_order({"identifier": cid})` + `parse_order`; a cancel without
  the uuid is `private_delete_order({"identifier": cid})`. Upbit has no account-wide
  trade list (no `fetch_my_trades`): an order's fills are the `trades` of the order
  itself (GET /v1/order), and the account's fills are those of every order of the
  symbol that filled (open, done and cancelled lists, then each order read once). A
  reused identifier is refused `identifier_already_used` (a plain ExchangeError).
  An order's trades carry no fee (only the order's cumulative `paid_fee` over its
  `executed_funds`): each trade's fee is its `funds` times paid_fee / executed_funds,
  exact Decimals, the last trade taking what is left so the fees add up to paid_fee.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

import ccxt

__all__ = ["BinanceRules", "ExchangeRules", "UpbitRules", "rules_for"]

Order = Mapping[str, Any]
Trade = Mapping[str, Any]


class ExchangeRules:
    """ccxt's unified calls; subclasses override what their exchange does differently."""

    amend: bool = False
    """Whether orders are amended in place (else the order manager cancel-replaces)."""

    def __init__(self, exchange: Any) -> None:
        self.exchange = exchange

    async def order_by_client_id(self, symbol: str, cid: str) -> Order:
        """The venue's copy of our order; ccxt.OrderNotFound when it has none."""
        found: Order = await self.exchange.fetch_order(None, symbol, {"clientOrderId": cid})
        return found

    async def cancel(self, symbol: str, venue_id: str, cid: str) -> Order:
        """Cancels by the venue's id when known, else by client id."""
        if venue_id:
            answer: Order = await self.exchange.cancel_order(venue_id, symbol)
        else:
            answer = await self.exchange.cancel_order("", symbol, {"clientOrderId": cid})
        return answer

    async def order_trades(self, symbol: str, venue_id: str, cid: str) -> list[Trade]:
        """The fills of one order (trades of other orders may come along: the caller
        keeps those whose `order` is this one)."""
        if self.exchange.has.get("fetchOrderTrades"):
            return list(await self.exchange.fetch_order_trades(venue_id, symbol))
        return list(await self.exchange.fetch_my_trades(symbol))

    async def my_trades(self, symbol: str, since_ms: int | None, limit: int) -> list[Trade]:
        """One page of the account's fills on `symbol` from `since_ms`, oldest first."""
        return list(await self.exchange.fetch_my_trades(symbol, since_ms, limit))

    def is_duplicate(self, err: Exception) -> bool:
        """Whether `err` refuses a client order id the venue already has."""
        return isinstance(err, ccxt.DuplicateOrderId) or "duplicate" in str(err).lower()


class BinanceRules(ExchangeRules):
    def __init__(self, exchange: Any) -> None:
        super().__init__(exchange)
        self.amend = str(exchange.id) == "binanceusdm"

    async def order_trades(self, symbol: str, venue_id: str, cid: str) -> list[Trade]:
        params = {"orderId": venue_id}
        return list(await self.exchange.fetch_my_trades(symbol, None, None, params))

    def is_duplicate(self, err: Exception) -> bool:
        return super().is_duplicate(err) or "-4116" in str(err)


class UpbitRules(ExchangeRules):
    async def order_by_client_id(self, symbol: str, cid: str) -> Order:
        raw = await self.exchange.private_get_order({"identifier": cid})
        return _with_trade_fees(self.exchange.parse_order(raw))

    async def cancel(self, symbol: str, venue_id: str, cid: str) -> Order:
        if venue_id:
            answer: Order = await self.exchange.cancel_order(venue_id, symbol)
            return answer
        raw = await self.exchange.private_delete_order({"identifier": cid})
        canceled: Order = self.exchange.parse_order(raw)
        return canceled

    async def order_trades(self, symbol: str, venue_id: str, cid: str) -> list[Trade]:
        request = {"uuid": venue_id} if venue_id else {"identifier": cid}
        raw = await self.exchange.private_get_order(request)
        order = _with_trade_fees(self.exchange.parse_order(raw))
        return list(order.get("trades") or [])

    async def my_trades(self, symbol: str, since_ms: int | None, limit: int) -> list[Trade]:
        """Every fill of the symbol's orders that Upbit lists (its lists hold the latest
        `limit` orders of each state): one GET /v1/order per order that filled."""
        exchange = self.exchange
        limit = min(limit, 100)  # Upbit's largest page of orders
        orders: list[Order] = []
        orders += await exchange.fetch_open_orders(symbol, None, limit)
        orders += await exchange.fetch_closed_orders(symbol, None, limit)
        orders += await exchange.fetch_canceled_orders(symbol, None, limit)
        trades: list[Trade] = []
        for order in orders:
            if not order.get("filled"):
                continue
            for trade in await self.order_trades(symbol, str(order.get("id") or ""), ""):
                if since_ms is None or int(trade.get("timestamp") or 0) >= since_ms:
                    trades.append(trade)
        trades.sort(key=lambda t: (int(t.get("timestamp") or 0), str(t.get("id"))))
        return trades

    def is_duplicate(self, err: Exception) -> bool:
        return super().is_duplicate(err) or "identifier_already_used" in str(err)


def _decimal(value: object) -> Decimal | None:
    try:
        return None if value is None else Decimal(str(value))
    except InvalidOperation:
        return None


def _with_trade_fees(order: dict[str, Any]) -> dict[str, Any]:
    """`order` with each of its Upbit trades given its share of the order's paid fee
    (module docstring); the trades are left as they are when the order's fee or funds
    cannot be read (the fill is then reported without a fee; Upbit always sends both)."""
    trades = order.get("trades") or []
    info = order.get("info") or {}
    paid = _decimal(info.get("paid_fee"))
    funds = _decimal(info.get("executed_funds"))
    if not trades or paid is None or not funds:
        return order
    rate = paid / funds
    left = paid
    out: list[dict[str, Any]] = []
    for i, trade in enumerate(trades):
        trade_funds = _decimal((trade.get("info") or {}).get("funds"))
        if trade_funds is None:
            return order
        fee = left if i == len(trades) - 1 else trade_funds * rate
        left -= fee
        out.append({**trade, "fee": {"cost": format(fee, "f"), "currency": _quote(order)}})
    return {**order, "trades": out}


def _quote(order: Mapping[str, Any]) -> str:
    symbol = str(order.get("symbol") or "")
    return symbol.partition("/")[2] or "KRW"


def rules_for(exchange: Any) -> ExchangeRules:
    """The rules of `exchange` by its ccxt id (ccxt's unified calls for the others)."""
    name = str(getattr(exchange, "id", ""))
    if name.startswith("binance"):
        return BinanceRules(exchange)
    if name == "upbit":
        return UpbitRules(exchange)
    return ExchangeRules(exchange)
