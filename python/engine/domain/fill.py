"""Fill: one execution of one order, as the venue reported it."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.domain import _checks, _exact
from engine.domain._frozen import fast_init
from engine.domain.enums import Liquidity, OrderSide

__all__ = ["Fill"]


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Fill:
    """Immutable. `fee` is what was charged in `fee_currency`; negative is a rebate.

    The fee is the venue's number, kept as reported: a spot buy often pays it in the base
    asset, so `fee_currency` matters for balances (the Rust accounting uses it)."""

    trade_id: str
    client_order_id: str
    symbol: str
    side: OrderSide
    price: Decimal
    quantity: Decimal
    fee: Decimal
    fee_currency: str
    liquidity: Liquidity
    ts_event: int

    def __post_init__(self) -> None:
        # Each check inline for the plain valid value, the _checks function otherwise (it
        # refuses with the message, or accepts what the inline test is too narrow for).
        _checks.text("trade_id", self.trade_id, max_length=128)
        _checks.client_order_id(self.client_order_id)
        subject = f"fill {self.trade_id} of {self.client_order_id}"
        _checks.text("symbol", self.symbol, subject)
        if not isinstance(self.side, OrderSide):
            _checks.member("side", self.side, OrderSide, subject)
        price, quantity, fee = self.price, self.quantity, self.fee
        if not (type(price) is Decimal and price.is_finite() and price > 0):
            _checks.positive("price", price, subject)
        if not (type(quantity) is Decimal and quantity.is_finite() and quantity > 0):
            _checks.positive("quantity", quantity, subject)
        if not (type(fee) is Decimal and fee.is_finite()):
            _checks.decimal("fee", fee, subject)
        _checks.text("fee_currency", self.fee_currency, subject)
        if not isinstance(self.liquidity, Liquidity):
            _checks.member("liquidity", self.liquidity, Liquidity, subject)
        ts = self.ts_event
        if type(ts) is not int or ts < 0:
            _checks.timestamp_ns("ts_event", ts, subject)

    @property
    def notional(self) -> Decimal:
        """price * quantity, exactly."""
        return _exact.product(self.price, self.quantity)

    @property
    def signed_quantity(self) -> Decimal:
        """+quantity for a buy, -quantity for a sell."""
        return self.quantity if self.side is OrderSide.BUY else -self.quantity
