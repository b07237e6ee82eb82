"""StopEmulator: stops, take-profits and trailing stops held locally for venues that lack
them. The trigger rules are the Rust `TriggerBook`'s (one implementation, shared with the
simulated venue; see `engine._core.TriggerBook`): this class only converts the order's
Decimal terms to ticks and keeps the id mapping.

A trailing stop's ratchet is reported through `moved()` so the manager can journal the
new level: after a restart the stop is armed again from its last journaled level, never
from a looser one. When the user also holds a plain stop on the same position
(`user_stop`), the trailing stop's effective level is never looser than it.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Final, Literal

from engine import _core
from engine.domain.enums import OrderSide, OrderType, TriggerSource
from engine.domain.errors import ValidationError
from engine.domain.instrument import Instrument
from engine.domain.order import Order

__all__ = ["StopEmulator"]

_Kind = Literal["stop", "take_profit", "trailing_stop"]
_Source = Literal["last", "bid_ask", "mark"]
_KIND: Final[dict[OrderType, _Kind]] = {
    OrderType.STOP_MARKET: "stop",
    OrderType.STOP_LIMIT: "stop",
    OrderType.TAKE_PROFIT_MARKET: "take_profit",
    OrderType.TAKE_PROFIT_LIMIT: "take_profit",
    OrderType.TRAILING_STOP_MARKET: "trailing_stop",
}
_SOURCE: Final[dict[TriggerSource, _Source]] = {
    TriggerSource.LAST_TRADE: "last",
    TriggerSource.BID_ASK: "bid_ask",
    TriggerSource.MARK: "mark",
}


class StopEmulator:
    def __init__(self, instruments: Mapping[str, Instrument]) -> None:
        self._instruments = instruments
        self._books: dict[str, _core.TriggerBook] = {}
        self._ids: dict[str, int] = {}
        self._cids: dict[int, str] = {}
        self._symbol: dict[str, str] = {}
        self._trailing_level: dict[str, int | None] = {}
        self._next = 1

    def arm(self, order: Order, user_stop: Decimal | None = None) -> None:
        """Holds `order` until its trigger fires. Raises ValidationError (naming the
        field) when its prices are off the instrument's grid; nothing is armed then."""
        terms = order.terms
        inst = self._instrument(terms.symbol)
        kind = _KIND.get(terms.order_type)
        if kind is None:
            raise ValidationError("order_type", terms.order_type, "has no trigger to emulate")
        assert terms.trigger_source is not None  # set for every trigger type
        trigger = None if terms.trigger_price is None else inst.price_to_ticks(terms.trigger_price)
        floor = None if user_stop is None else inst.price_to_ticks(user_stop)
        offset_ticks = None
        offset_bps = None
        if terms.trailing_offset is not None:
            offset_ticks = inst.price_to_ticks(terms.trailing_offset)
        if terms.trailing_offset_bps is not None:
            bps = terms.trailing_offset_bps
            if bps != bps.to_integral_value():
                rule = "is not a whole number (rule: emulated trailing offsets in whole bps)"
                raise ValidationError("trailing_offset_bps", bps, rule, terms.client_order_id)
            offset_bps = int(bps)
        book = self._books.get(terms.symbol)
        if book is None:
            book = self._books[terms.symbol] = _core.TriggerBook()
        key = self._next
        try:
            book.add(
                key,
                0 if terms.side is OrderSide.BUY else 1,
                kind,
                _SOURCE[terms.trigger_source],
                trigger_price=trigger,
                offset_ticks=offset_ticks,
                offset_bps=offset_bps,
                user_stop=floor,
            )
        except ValueError as err:
            raise ValidationError("trigger", terms.client_order_id, f"not armed: {err}") from None
        self._next += 1
        cid = terms.client_order_id
        self._ids[cid] = key
        self._cids[key] = cid
        self._symbol[cid] = terms.symbol
        if kind == "trailing_stop":
            self._trailing_level[cid] = book.effective_stop(key)

    def disarm(self, client_order_id: str) -> None:
        key = self._ids.pop(client_order_id, None)
        if key is None:
            return
        del self._cids[key]
        self._trailing_level.pop(client_order_id, None)
        self._books[self._symbol.pop(client_order_id)].remove(key)

    def rearm(self, order: Order, user_stop: Decimal | None = None) -> None:
        """After an amendment: armed again from the order's current terms."""
        self.disarm(order.client_order_id)
        self.arm(order, user_stop)

    @property
    def armed(self) -> int:
        """How many orders are held."""
        return len(self._ids)

    def is_armed(self, client_order_id: str) -> bool:
        return client_order_id in self._ids

    def effective_stop(self, client_order_id: str) -> Decimal | None:
        key = self._ids.get(client_order_id)
        if key is None:
            return None
        symbol = self._symbol[client_order_id]
        level = self._books[symbol].effective_stop(key)
        return None if level is None else self._instrument(symbol).ticks_to_price(level)

    def moved(self) -> list[tuple[str, Decimal]]:
        """Trailing stops whose effective level changed since the last call, in arming order."""
        out: list[tuple[str, Decimal]] = []
        for cid, last in self._trailing_level.items():
            symbol = self._symbol[cid]
            level = self._books[symbol].effective_stop(self._ids[cid])
            if level is not None and level != last:
                self._trailing_level[cid] = level
                out.append((cid, self._instrument(symbol).ticks_to_price(level)))
        return out

    # Observations: each returns the client order ids that fired (and are now disarmed).
    def on_trade(self, symbol: str, price: Decimal) -> list[str]:
        book = self._books.get(symbol)
        if book is None:
            return []
        return self._fired(book.on_last(self._instrument(symbol).price_to_ticks(price)))

    def on_mark(self, symbol: str, price: Decimal) -> list[str]:
        book = self._books.get(symbol)
        if book is None:
            return []
        return self._fired(book.on_mark(self._instrument(symbol).price_to_ticks(price)))

    def on_quote(self, symbol: str, bid: Decimal | None, ask: Decimal | None) -> list[str]:
        book = self._books.get(symbol)
        if book is None:
            return []
        inst = self._instrument(symbol)
        return self._fired(
            book.on_bid_ask(
                None if bid is None else inst.price_to_ticks(bid),
                None if ask is None else inst.price_to_ticks(ask),
            )
        )

    def _fired(self, keys: list[int]) -> list[str]:
        out = []
        for key in keys:
            cid = self._cids.pop(key)
            del self._ids[cid]
            del self._symbol[cid]
            self._trailing_level.pop(cid, None)
            out.append(cid)
        return out

    def _instrument(self, symbol: str) -> Instrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            raise ValidationError("symbol", symbol, "is not a known instrument") from None
