"""A market maker quoting around the mid with inventory limits (L2 data).

On every top-of-book change it computes a bid and an ask `half_spread_ticks` away from
the mid, shifted against its inventory by `skew_ticks` per `quote_size` held (a long
position lowers both quotes, so it sells more easily and buys less), and keeps one
post-only quote per side. A resting quote is replaced only when the wanted price moved
by `requote_ticks` or more, which keeps the order traffic (and fees of churn) sane. At
`max_inventory` it stops quoting the side that would add to the position.
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from pydantic import BaseModel, ConfigDict, Field

from engine.domain import Order, OrderEvent, OrderSide, OrderType, TimeInForce
from engine.strategy.base import BookTop, Context, Strategy

__all__ = ["MarketMaker", "MarketMakerParams"]


class MarketMakerParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    symbol: str = "BTC/USDT:USDT"
    quote_size: Decimal = Field(default=Decimal("0.010"), gt=0)
    half_spread_ticks: int = Field(default=5, ge=1)
    requote_ticks: int = Field(default=3, ge=1)
    skew_ticks: int = Field(default=2, ge=0)
    max_inventory: Decimal = Field(default=Decimal("0.050"), gt=0)


class MarketMaker(Strategy[MarketMakerParams]):
    Params = MarketMakerParams

    def __init__(self, params: MarketMakerParams) -> None:
        super().__init__(params)
        self._quotes: dict[OrderSide, Order | None] = {OrderSide.BUY: None, OrderSide.SELL: None}

    def on_book(self, ctx: Context, top: BookTop) -> None:
        p = self.params
        if top.symbol != p.symbol or top.bid is None or top.ask is None:
            return
        tick = ctx.instrument(p.symbol).tick_size
        inventory = ctx.position(p.symbol).quantity
        skew = tick * p.skew_ticks * (inventory / p.quote_size)
        mid = (top.bid + top.ask) / 2 - skew
        want = {
            OrderSide.BUY: _on_grid(mid - tick * p.half_spread_ticks, tick, ROUND_FLOOR),
            OrderSide.SELL: _on_grid(mid + tick * p.half_spread_ticks, tick, ROUND_CEILING),
        }
        # Never cross the market with a post-only quote.
        want[OrderSide.BUY] = min(want[OrderSide.BUY], top.ask - tick)
        want[OrderSide.SELL] = max(want[OrderSide.SELL], top.bid + tick)
        for side, price in want.items():
            adds = (
                (inventory >= p.max_inventory)
                if side is OrderSide.BUY
                else (inventory <= -p.max_inventory)
            )
            self._keep(ctx, side, None if adds else price)

    def on_order(self, ctx: Context, order: Order, event: OrderEvent) -> None:
        for side, quote in self._quotes.items():
            if quote is order and order.is_closed:
                self._quotes[side] = None

    def on_stop(self, ctx: Context) -> None:
        for quote in self._quotes.values():
            if quote is not None and not quote.is_closed:
                ctx.cancel(quote.client_order_id)

    def _keep(self, ctx: Context, side: OrderSide, price: Decimal | None) -> None:
        quote = self._quotes[side]
        if quote is not None and (quote.is_closed or quote.is_pending):
            if quote.is_closed:
                self._quotes[side] = quote = None
            else:
                return  # a request is in flight: wait for its answer
        if quote is not None:
            assert quote.price is not None
            tick = ctx.instrument(self.params.symbol).tick_size
            if price is not None and abs(quote.price - price) < tick * self.params.requote_ticks:
                return
            ctx.cancel(quote.client_order_id)
            self._quotes[side] = None
        if price is None or price <= 0:
            return
        self._quotes[side] = ctx.submit(
            symbol=self.params.symbol,
            side=side,
            order_type=OrderType.LIMIT,
            quantity=self.params.quote_size,
            price=price,
            time_in_force=TimeInForce.GTC,
            post_only=True,
        )


def _on_grid(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (price / tick).to_integral_value(rounding=rounding) * tick
