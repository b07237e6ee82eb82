"""ccxt <-> domain translation for the ccxt venue: order requests out, fills and order
snapshots in.

Numbers: requests carry the Decimal's own text (ccxt takes strings for amount and price,
so no float is ever sent). ccxt hands numbers back as floats parsed from the exchange's
text; each is read back through its shortest repr, which is that text for the values
exchanges send. Prices and quantities are then checked against the instrument's grid: a
value within a millionth of a step of a grid point is that point (float noise from a sum
ccxt made), anything further is refused as malformed, never rounded silently. Fees are
kept as the venue reported them (their precision is the venue's, not the grid's)."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, InvalidOperation
from typing import Any, Final

from engine.domain._checks import CLIENT_ORDER_ID_PATTERN
from engine.domain.enums import InstrumentKind, Liquidity, OrderSide, OrderType, TimeInForce
from engine.domain.fill import Fill
from engine.domain.instrument import Instrument
from engine.domain.order import OrderTerms
from engine.ports.venue import VenueOrderState, VenueOrderStatus

__all__ = [
    "ORDER_TYPES",
    "TIME_IN_FORCE",
    "Malformed",
    "capped_price",
    "client_id_of",
    "fill_from_trade",
    "is_client_id",
    "is_derivative",
    "number",
    "on_grid",
    "order_request",
    "venue_state",
]

ORDER_TYPES: Final = frozenset({OrderType.LIMIT, OrderType.MARKET})
"""What the adapter sends; stops and trailing stops are emulated by the order manager."""
TIME_IN_FORCE: Final = frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK})

_STATUS: Final[dict[str, VenueOrderStatus]] = {
    "open": "open",
    "canceling": "open",  # a cancel in progress: still working until the venue says so
    "closed": "filled",
    "canceled": "canceled",
    "expired": "expired",
    "rejected": "rejected",
}
_TYPES: Final[dict[str, OrderType]] = {
    "limit": OrderType.LIMIT,
    "limit_maker": OrderType.LIMIT,
    "market": OrderType.MARKET,
    "stop_market": OrderType.STOP_MARKET,
    "stop_loss": OrderType.STOP_MARKET,
    "stop": OrderType.STOP_LIMIT,
    "stop_loss_limit": OrderType.STOP_LIMIT,
    "take_profit_market": OrderType.TAKE_PROFIT_MARKET,
    "take_profit": OrderType.TAKE_PROFIT_MARKET,
    "take_profit_limit": OrderType.TAKE_PROFIT_LIMIT,
    "trailing_stop_market": OrderType.TRAILING_STOP_MARKET,
}
_NOISE: Final = Decimal("1e-6")
"""How close to a grid point (in steps) a float-parsed value must be to count as on it."""


def is_client_id(text: str) -> bool:
    """Whether the domain can carry `text` as a client order id."""
    return CLIENT_ORDER_ID_PATTERN.fullmatch(text) is not None


def client_id_of(order: Mapping[str, Any]) -> str:
    """The order's client id as the domain can carry it: the venue's copy of ours, or
    `ext-<venue id>` for an order with none or with one the domain's rule refuses (an
    order placed elsewhere, e.g. from the exchange's app)."""
    cid = order.get("clientOrderId")
    if isinstance(cid, str) and is_client_id(cid):
        return cid
    return f"ext-{order.get('id')}"


class Malformed(ValueError):
    """A ccxt payload the adapter cannot read (a missing or impossible field)."""


def number(value: object, field: str) -> Decimal | None:
    """The exact Decimal of a ccxt number (None stays None); Malformed when it is not one."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise Malformed(f"{field} {value!r} is not a number")
    if isinstance(value, float):
        text = repr(value)
    elif isinstance(value, int | str | Decimal):
        text = str(value)
    else:
        raise Malformed(f"{field} {value!r} is not a number")
    try:
        result = Decimal(text)
    except InvalidOperation:
        raise Malformed(f"{field} {value!r} is not a number") from None
    if not result.is_finite():
        raise Malformed(f"{field} {value!r} is not finite")
    return result


def on_grid(value: Decimal, step: Decimal, field: str) -> Decimal:
    """`value` as a whole number of `step`s (float noise removed); Malformed when it is
    further from the grid than noise can explain."""
    steps = value / step
    whole = steps.to_integral_value()
    if abs(steps - whole) > _NOISE:
        raise Malformed(f"{field} {value} is not a multiple of {step}")
    return whole * step  # written to the step's places, as the instrument writes it


def is_derivative(instrument: Instrument) -> bool:
    return instrument.kind is not InstrumentKind.SPOT


def capped_price(side: OrderSide, reference: Decimal, bps: int, tick: Decimal) -> Decimal:
    """The limit price of a market order capped `bps` from the touch: a buy at most
    `ask * (1 + bps/10000)` rounded DOWN to the tick, a sell at least
    `bid * (1 - bps/10000)` rounded UP (at least one tick), so no fill is beyond the cap."""
    if side is OrderSide.BUY:
        limit = reference * (10_000 + bps) / 10_000
        return (limit / tick).to_integral_value(ROUND_FLOOR) * tick
    limit = reference * (10_000 - bps) / 10_000
    return max(tick, (limit / tick).to_integral_value(ROUND_CEILING) * tick)


def order_request(
    terms: OrderTerms, instrument: Instrument, cap: Decimal | None = None
) -> tuple[str, str, str, str | None, dict[str, Any]]:
    """(type, side, amount, price, params) for ccxt's `create_order`. The caller checks
    the order type and time in force first (`ORDER_TYPES`, `TIME_IN_FORCE`). A market
    order with a `cap` (`capped_price`) is sent as a limit at the cap, IOC (FOK when it
    asked for FOK), so it never fills beyond the cap; without one it is sent as an
    exchange market order, without a price: ccxt's binance turns a spot market buy with
    a price into a quote-amount order. Spot has no reduce-only at the venue, so the flag
    is only sent for derivatives (on spot the risk gate holds it)."""
    kind = "market" if terms.order_type is OrderType.MARKET else "limit"
    price = None if terms.price is None or kind == "market" else format(terms.price, "f")
    tif = terms.time_in_force
    if kind == "market" and cap is not None:
        kind, price = "limit", format(cap, "f")
        tif = TimeInForce.FOK if tif is TimeInForce.FOK else TimeInForce.IOC
    params: dict[str, Any] = {"clientOrderId": terms.client_order_id}
    if kind == "limit" and tif is not TimeInForce.GTC:
        params["timeInForce"] = tif.value
    if terms.post_only:
        params["postOnly"] = True
    if terms.reduce_only and is_derivative(instrument):
        params["reduceOnly"] = True
    return kind, terms.side.value.lower(), format(terms.quantity, "f"), price, params


def _side(value: object, field: str) -> OrderSide:
    if value == "buy":
        return OrderSide.BUY
    if value == "sell":
        return OrderSide.SELL
    raise Malformed(f"{field} {value!r} is not buy or sell")


def fill_from_trade(
    trade: Mapping[str, Any],
    *,
    client_order_id: str,
    instrument: Instrument,
    side: OrderSide,
    ts_event: int,
    default_liquidity: Liquidity,
) -> Fill:
    """The Fill of one ccxt trade of our order. `default_liquidity` stands in when ccxt
    does not say (a fill in a create answer took liquidity: TAKER)."""
    trade_id = trade.get("id")
    if trade_id in (None, ""):
        raise Malformed("trade id is missing")
    price = number(trade.get("price"), "trade price")
    amount = number(trade.get("amount"), "trade amount")
    if price is None or price <= 0 or amount is None or amount <= 0:
        raise Malformed(f"trade {trade_id}: price {price} or amount {amount} is not positive")
    fee = trade.get("fee") or {}
    if not isinstance(fee, Mapping):
        raise Malformed(f"trade {trade_id}: fee {fee!r} is not a mapping")
    cost = number(fee.get("cost"), "fee cost")
    currency = fee.get("currency") or instrument.quote
    role = trade.get("takerOrMaker")
    if role == "maker":
        liquidity = Liquidity.MAKER
    elif role == "taker":
        liquidity = Liquidity.TAKER
    else:
        liquidity = default_liquidity
    try:
        return Fill(
            trade_id=str(trade_id),
            client_order_id=client_order_id,
            symbol=instrument.symbol,
            side=side,
            price=on_grid(price, instrument.tick_size, "trade price"),
            quantity=on_grid(amount, instrument.lot_size, "trade amount"),
            fee=Decimal(0) if cost is None else cost,
            fee_currency=str(currency),
            liquidity=liquidity,
            ts_event=ts_event,
        )
    except ValueError as err:  # the domain's own checks (ValidationError is a ValueError)
        raise Malformed(f"trade {trade_id}: {err}") from None


def venue_state(order: Mapping[str, Any], instrument: Instrument, ts_event: int) -> VenueOrderState:
    """One ccxt order as a reconciliation snapshot, named as `client_id_of` says. An
    order type the engine does not know is read as LIMIT when it has a price, else
    MARKET (it must still be seen, not dropped)."""
    venue_id = order.get("id")
    if venue_id in (None, ""):
        raise Malformed("order id is missing")
    cid = client_id_of(order)
    status = _STATUS.get(str(order.get("status")))
    if status is None:
        raise Malformed(f"order {venue_id}: status {order.get('status')!r} is not known")
    price = number(order.get("price"), "order price")
    kind = _TYPES.get(str(order.get("type")).lower())
    if kind is None:
        kind = OrderType.LIMIT if price else OrderType.MARKET
    amount = number(order.get("amount"), "order amount")
    if amount is None:
        raise Malformed(f"order {venue_id}: amount is missing")
    trigger = number(order.get("triggerPrice"), "order trigger price")
    return VenueOrderState(
        client_order_id=str(cid),
        venue_order_id=str(venue_id),
        symbol=instrument.symbol,
        side=_side(order.get("side"), "order side"),
        order_type=kind,
        quantity=amount,
        price=price if price and kind.has_limit_price else None,
        trigger_price=trigger or None,
        filled=number(order.get("filled"), "order filled") or Decimal(0),
        status=status,
        reduce_only=bool(order.get("reduceOnly")),
        ts_event=ts_event,
    )
