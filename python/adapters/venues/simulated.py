"""SimulatedVenue: the `ExecutionVenue` of backtest and paper modes, over the Rust
`engine._core.SimVenue` (one per instrument; matching rules in `rust/sim/`).

Orders go in as Decimal terms and are converted to ticks and lots with the instrument
(off-grid values raise PrecisionError naming the field; the risk gate refuses them
before they get here). Each instrument's book follows its own sequence rule (`rules`,
from its market data: spot depth diffs chain differently from futures ones), so one
venue can hold a spot and a perpetual instrument side by side. Reports come out of
`drain()` as domain `OrderEvent`s, in the order the venue produced them. Fill trade ids
are `{venue order id}-{n}`, n counting that order's fills from 1, so a run gives the same
ids every time. Fees are the venue's exact numbers, charged in the instrument's quote
currency.

The venue lives in the process and dies with it: after a restart `restore`,
`reserve_order_ids` and `set_position` give a fresh one what the journal says the old
one held (`engine.services.recovery.restart_venue` decides what that is).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Any, Final, Literal, cast

import numpy as np
import numpy.typing as npt

from engine import _core
from engine.domain import (
    Fill,
    Liquidity,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderEvent,
    OrderExpired,
    OrderFilled,
    OrderRejected,
    OrderSide,
    OrderTriggered,
    OrderType,
    OrderUpdated,
    OrderUpdateRejected,
    TimeInForce,
    TriggerSource,
)
from engine.domain.errors import ValidationError
from engine.domain.instrument import Instrument
from engine.domain.order import OrderTerms
from engine.ports import Clock, VenueCapabilities

__all__ = ["SimSettings", "SimulatedVenue"]

_Rule = Literal["spot", "futures"]
_TypeName = Literal[
    "market",
    "limit",
    "stop_market",
    "stop_limit",
    "take_profit_market",
    "take_profit_limit",
    "trailing_stop_market",
]
_TYPE: Final[dict[OrderType, _TypeName]] = {
    OrderType.MARKET: "market",
    OrderType.LIMIT: "limit",
    OrderType.STOP_MARKET: "stop_market",
    OrderType.STOP_LIMIT: "stop_limit",
    OrderType.TAKE_PROFIT_MARKET: "take_profit_market",
    OrderType.TAKE_PROFIT_LIMIT: "take_profit_limit",
    OrderType.TRAILING_STOP_MARKET: "trailing_stop_market",
}
_TIF: Final = {
    TimeInForce.GTC: "gtc",
    TimeInForce.IOC: "ioc",
    TimeInForce.FOK: "fok",
    TimeInForce.GTD: "gtd",
}
_RULES: Final = frozenset({"spot", "futures"})
_SOURCE: Final = {
    TriggerSource.LAST_TRADE: "last",
    TriggerSource.BID_ASK: "bid_ask",
    TriggerSource.MARK: "mark",
}


@dataclass(frozen=True, slots=True, kw_only=True)
class SimSettings:
    """Venue-wide behaviour; the defaults are a cautious taker's venue. `rule` is only
    the sequence rule of an instrument that `SimulatedVenue(rules=...)` does not name."""

    rule: str = "futures"
    default_slippage_bps: int = 50
    submit_latency_ns: int = 0
    cancel_latency_ns: int = 0
    modify_latency_ns: int = 0
    fee_decimals: int = 8
    queue_model: Literal["conservative", "probabilistic"] = "conservative"
    queue_power: int = 2


class SimulatedVenue:
    capabilities: Final = VenueCapabilities(
        order_types=frozenset(OrderType),
        time_in_force=frozenset(TimeInForce),
        trigger_sources=frozenset(TriggerSource),
        amend=True,
    )

    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        clock: Clock,
        settings: SimSettings | None = None,
        *,
        rules: Mapping[str, str] | None = None,
    ) -> None:
        s = settings or SimSettings()
        rules = dict(rules or {})
        for symbol, rule in rules.items():
            if symbol not in instruments:
                raise ValidationError("rules", symbol, "is not an instrument of this venue")
            if rule not in _RULES:
                raise ValidationError("rule", rule, f"is not one of {sorted(_RULES)}", symbol)
        self._clock = clock
        self._instruments = dict(instruments)
        self._rules = {symbol: rules.get(symbol, s.rule) for symbol in self._instruments}
        self._venues: dict[str, _core.SimVenue] = {}
        for symbol, inst in self._instruments.items():
            self._venues[symbol] = _core.SimVenue(
                format(inst.tick_size, "f"),
                format(inst.lot_size, "f"),
                rule=cast(_Rule, self._rules[symbol]),
                maker_fee=format(inst.maker_fee_rate, "f"),
                taker_fee=format(inst.taker_fee_rate, "f"),
                fee_decimals=s.fee_decimals,
                default_slippage_bps=s.default_slippage_bps,
                submit_latency_ns=s.submit_latency_ns,
                cancel_latency_ns=s.cancel_latency_ns,
                modify_latency_ns=s.modify_latency_ns,
                queue_model=s.queue_model,
                queue_power=s.queue_power,
            )
        self._ids: dict[str, tuple[str, int]] = {}
        self._cids: dict[tuple[str, int], str] = {}
        self._sides: dict[str, OrderSide] = {}
        self._fill_counts: dict[str, int] = {}
        # Whether a report may be waiting: set by every call that can produce one (the
        # market data only when its call says so), cleared by `drain`. Most book steps
        # fill nothing, so most drains are skipped without a call per instrument.
        self._pending = False

    # --- the port --------------------------------------------------------------------------
    def submit(self, terms: OrderTerms) -> None:
        self._pending = True
        venue = self._venues[terms.symbol]
        side, order_type, qty, fields = self._order_args(terms)
        order_id = venue.submit(
            self._clock.now_ns(),
            side,
            order_type,
            qty,
            slippage_bps=terms.max_slippage_bps,
            **fields,
        )
        self._register(terms, order_id)

    def cancel(self, client_order_id: str) -> None:
        self._pending = True
        symbol, order_id = self._known(client_order_id)
        self._venues[symbol].cancel(self._clock.now_ns(), order_id)

    def modify(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None:
        self._pending = True
        symbol, order_id = self._known(client_order_id)
        inst = self._instruments[symbol]
        self._venues[symbol].modify(
            self._clock.now_ns(),
            order_id,
            price=None if price is None else inst.price_to_ticks(price),
            qty=None if quantity is None else inst.qty_to_lots(quantity),
            trigger_price=None if trigger_price is None else inst.price_to_ticks(trigger_price),
        )

    # --- market data and reports --------------------------------------------------------------
    def rule(self, symbol: str) -> str:
        """The sequence rule `symbol`'s book follows ("spot" or "futures")."""
        self._instrument(symbol)
        return self._rules[symbol]

    def apply_events(self, symbol: str, events: npt.NDArray[np.void]) -> None:
        """Market data rows (EVENT_DTYPE) for one instrument, in time order."""
        venue = self._venues.get(symbol)  # once per kernel step: the plain lookup first
        if venue is None:
            venue = self._venue(symbol)  # raises, naming the symbol
        if venue.apply_events(events):
            self._pending = True

    def market_book(self, symbol: str, rule: str) -> _core.SimVenue | None:
        """`symbol`'s venue: its book is built from the rows `apply_events` hands it, as
        they are (the data's lots), under its own sequence rule; None when that rule is
        not `rule` (the kernel then keeps its own book) or the symbol is not traded here.
        `SharesMarketBook`: the kernel reads it instead of replaying the rows again."""
        venue = self._venues.get(symbol)
        return venue if venue is not None and self._rules[symbol] == rule else None

    def on_mark(self, symbol: str, ts: int, price: Decimal) -> None:
        self._pending = True
        self._venue(symbol).on_mark(ts, self._instrument(symbol).price_to_ticks(price))

    def advance_to(self, ts: int) -> None:
        """Lets commands in flight arrive and GTD orders expire up to `ts`, on every venue."""
        self._pending = True
        for venue in self._venues.values():
            venue.advance_to(ts)

    def position(self, symbol: str) -> Decimal:
        """The venue's own view of our position (from its fills)."""
        return self._instrument(symbol).lots_to_qty(self._venue(symbol).position)

    def best_bid_ask(self, symbol: str) -> tuple[Decimal | None, Decimal | None]:
        inst = self._instrument(symbol)
        venue = self._venue(symbol)
        bid, ask = venue.best_bid(), venue.best_ask()
        return (
            None if bid is None else inst.ticks_to_price(bid[0]),
            None if ask is None else inst.ticks_to_price(ask[0]),
        )

    def drain(self) -> list[OrderEvent]:
        """Every report produced since the last call, as domain events (per instrument in
        the order given at construction; within one, in the venue's order)."""
        out: list[OrderEvent] = []
        if not self._pending:
            return out
        self._pending = False
        for symbol, venue in self._venues.items():
            for report in venue.drain_reports():
                event = self._event(symbol, report)
                if event is not None:
                    out.append(event)
        return out

    # --- restart: a fresh venue takes over what the journal says the old one held -------
    def restore(
        self,
        terms: OrderTerms,
        *,
        venue_order_id: str,
        filled: Decimal,
        fills: int,
        triggered: bool = False,
    ) -> str:
        """Puts back an order the venue held before a restart, with `filled` of its
        quantity filled in `fills` fills, without an acknowledgement (rules in
        `rust/sim/restore.rs`: back of the queue, expiry and reduce-only from the next
        step). `venue_order_id` is the id it had ("" when never known: it gets a new one);
        `triggered`: a conditional order that fired is restored as the order it released
        (a limit order; a market one never rests). Later fills' trade ids go on from
        `fills + 1`. Returns the venue order id; ValueError (nothing changed) when the
        venue refuses it. Call `reserve_order_ids` first, so new ids pass every old one."""
        self._pending = True
        inst = self._instrument(terms.symbol)
        venue = self._venues[terms.symbol]
        if triggered:
            released = OrderType.LIMIT if terms.order_type.has_limit_price else OrderType.MARKET
            terms = replace(
                terms,
                order_type=released,
                trigger_price=None,
                trigger_source=None,
                trailing_offset=None,
                trailing_offset_bps=None,
            )
        if venue_order_id == "":
            order_id = venue.next_order_id
        elif venue_order_id.isdigit():
            order_id = int(venue_order_id)
        else:
            rule = "is not a number (rule: ids this venue gave, or empty)"
            raise ValidationError("venue_order_id", venue_order_id, rule, terms.client_order_id)
        side, order_type, qty, fields = self._order_args(terms)
        venue.restore(order_id, side, order_type, qty, filled=inst.qty_to_lots(filled), **fields)
        self._register(terms, order_id)
        self._fill_counts[terms.client_order_id] = fills
        return str(order_id)

    def reserve_order_ids(self, symbol: str, next_id: int) -> None:
        """`symbol`'s venue never hands out an id below `next_id` (ids of the old venue)."""
        self._pending = True
        self._venue(symbol).reserve_ids(next_id)

    def set_position(self, symbol: str, quantity: Decimal) -> None:
        """The venue's own view of our position (reduce-only is held to it), signed."""
        self._pending = True
        inst = self._instrument(symbol)
        lots = inst.qty_to_lots(abs(quantity))
        self._venues[symbol].set_position(lots if quantity >= 0 else -lots)

    # --- internals ------------------------------------------------------------------------
    def _event(
        self, symbol: str, report: tuple[int, int, str, int, int, str, str, int, str]
    ) -> OrderEvent | None:
        ts, order_id, kind, price, qty, liquidity, fee, _leaves, reason = report
        cid = self._cids.get((symbol, order_id))
        if cid is None:  # not ours (cannot happen: every order here came through submit)
            return None
        inst = self._instruments[symbol]
        if kind == "accepted":
            return OrderAccepted(client_order_id=cid, ts_event=ts, venue_order_id=str(order_id))
        if kind == "filled":
            n = self._fill_counts.get(cid, 0) + 1
            self._fill_counts[cid] = n
            trade = Fill(
                trade_id=f"{order_id}-{n}",
                client_order_id=cid,
                symbol=symbol,
                side=self._sides[cid],
                price=inst.ticks_to_price(price),
                quantity=inst.lots_to_qty(qty),
                fee=Decimal(fee),
                fee_currency=inst.quote,
                liquidity=Liquidity.MAKER if liquidity == "maker" else Liquidity.TAKER,
                ts_event=ts,
            )
            return OrderFilled(client_order_id=cid, ts_event=ts, fill=trade)
        if kind == "rejected":
            return OrderRejected(client_order_id=cid, ts_event=ts, reason=reason)
        if kind == "canceled":
            return OrderCanceled(client_order_id=cid, ts_event=ts, reason=reason)
        if kind == "expired":
            return OrderExpired(client_order_id=cid, ts_event=ts)
        if kind == "cancel_rejected":
            return OrderCancelRejected(client_order_id=cid, ts_event=ts, reason=reason)
        if kind == "modified":
            return OrderUpdated(
                client_order_id=cid,
                ts_event=ts,
                price=inst.ticks_to_price(price) if price else None,
                quantity=inst.lots_to_qty(qty),
            )
        if kind == "modify_rejected":
            return OrderUpdateRejected(client_order_id=cid, ts_event=ts, reason=reason)
        if kind == "triggered":
            return OrderTriggered(client_order_id=cid, ts_event=ts)
        raise ValueError(f"report kind {kind!r} is not known to the simulated venue adapter")

    def _order_args(self, terms: OrderTerms) -> tuple[int, _TypeName, int, dict[str, Any]]:
        """(side, order type, lots, keyword fields) of `terms` in the core's units."""
        inst = self._instrument(terms.symbol)
        ticks = inst.price_to_ticks
        offset_bps = None
        if terms.trailing_offset_bps is not None:
            bps = terms.trailing_offset_bps
            if bps != bps.to_integral_value():
                rule = "is not a whole number (rule: the simulated venue trails in whole bps)"
                raise ValidationError("trailing_offset_bps", bps, rule, terms.client_order_id)
            offset_bps = int(bps)
        fields: dict[str, Any] = {
            "price": None if terms.price is None else ticks(terms.price),
            "trigger_price": None if terms.trigger_price is None else ticks(terms.trigger_price),
            "trigger_source": _SOURCE[terms.trigger_source or TriggerSource.LAST_TRADE],
            "trail_offset_ticks": None
            if terms.trailing_offset is None
            else ticks(terms.trailing_offset),
            "trail_offset_bps": offset_bps,
            "tif": _TIF[terms.time_in_force],
            "expiry": terms.expire_time_ns,
            "post_only": terms.post_only,
            "reduce_only": terms.reduce_only,
            "client_id": terms.client_order_id,
        }
        side = 0 if terms.side is OrderSide.BUY else 1
        return side, _TYPE[terms.order_type], inst.qty_to_lots(terms.quantity), fields

    def _register(self, terms: OrderTerms, order_id: int) -> None:
        cid = terms.client_order_id
        self._ids[cid] = (terms.symbol, order_id)
        self._cids[(terms.symbol, order_id)] = cid
        self._sides[cid] = terms.side

    def _known(self, client_order_id: str) -> tuple[str, int]:
        try:
            return self._ids[client_order_id]
        except KeyError:
            raise ValidationError(
                "client_order_id", client_order_id, "was never sent here"
            ) from None

    def _instrument(self, symbol: str) -> Instrument:
        try:
            return self._instruments[symbol]
        except KeyError:
            raise ValidationError("symbol", symbol, "is not traded on this venue") from None

    def _venue(self, symbol: str) -> _core.SimVenue:
        self._instrument(symbol)
        return self._venues[symbol]
