"""A market maker quoting around the mid with inventory limits (L2 data).

On every top-of-book change it computes a bid and an ask `half_spread_ticks` away from
the mid, shifted against its inventory by `skew_ticks` per `quote_size` held (a long
position lowers both quotes, so it sells more easily and buys less), and keeps one
post-only quote per side. A resting quote is replaced only when the wanted price moved
by `requote_ticks` or more, which keeps the order traffic (and fees of churn) sane. At
`max_inventory` it stops quoting the side that would add to the position.

Several instruments: `symbols` (a list, or one comma-separated string such as
`BTC/USDT:USDT,BTC/USDT` from the command line) quotes each of them the same way, with
its own inventory; it replaces `symbol`. On spot it quotes the ask only while the
account holds the base asset to deliver (a spot venue sells nothing it does not hold).
"""

from __future__ import annotations

from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from engine.domain import InstrumentKind, Order, OrderEvent, OrderSide, OrderType, TimeInForce
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
    symbols: tuple[str, ...] = ()

    @field_validator("symbols", mode="before")
    @classmethod
    def _split(cls, value: object) -> object:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(",") if part.strip())
        return value

    @model_validator(mode="after")
    def _one_way_to_name(self) -> MarketMakerParams:
        if self.symbols and "symbol" in self.model_fields_set:
            raise ValueError("give symbol or symbols, not both")
        if len(set(self.symbols)) != len(self.symbols):
            raise ValueError(f"symbols {list(self.symbols)} names an instrument twice")
        return self

    @property
    def quoted(self) -> tuple[str, ...]:
        """The instruments quoted: `symbols`, or `symbol` alone."""
        return self.symbols or (self.symbol,)


class MarketMaker(Strategy[MarketMakerParams]):
    Params = MarketMakerParams

    def __init__(self, params: MarketMakerParams) -> None:
        super().__init__(params)
        self._books: dict[str, dict[OrderSide, Order | None]] = {
            symbol: {OrderSide.BUY: None, OrderSide.SELL: None} for symbol in params.quoted
        }

    def on_start(self, ctx: Context) -> None:
        """A resumed run finds its quotes still resting: adopt one per side (cancel any
        extra) rather than quote twice."""
        for symbol, quotes in self._books.items():
            for order in ctx.open_orders(symbol):
                if order.order_type is not OrderType.LIMIT:
                    continue
                if quotes[order.side] is None:
                    quotes[order.side] = order
                else:
                    ctx.cancel(order.client_order_id)

    def on_book(self, ctx: Context, top: BookTop) -> None:
        p = self.params
        quotes = self._books.get(top.symbol)
        if quotes is None or top.bid is None or top.ask is None:
            return
        instrument = ctx.instrument(top.symbol)
        tick = instrument.tick_size
        inventory = ctx.position(top.symbol).quantity
        skew = tick * p.skew_ticks * (inventory / p.quote_size)
        mid = (top.bid + top.ask) / 2 - skew
        want = {
            OrderSide.BUY: _on_grid(mid - tick * p.half_spread_ticks, tick, ROUND_FLOOR),
            OrderSide.SELL: _on_grid(mid + tick * p.half_spread_ticks, tick, ROUND_CEILING),
        }
        # Never cross the market with a post-only quote.
        want[OrderSide.BUY] = min(want[OrderSide.BUY], top.ask - tick)
        want[OrderSide.SELL] = max(want[OrderSide.SELL], top.bid + tick)
        # Spot delivers what it sells: no ask without the base asset in the account.
        uncovered = (
            instrument.kind is InstrumentKind.SPOT
            and ctx.balances(ctx.account(top.symbol)).get(instrument.base, Decimal(0))
            < p.quote_size
        )
        for side, price in want.items():
            adds = (
                (inventory >= p.max_inventory)
                if side is OrderSide.BUY
                else (inventory <= -p.max_inventory or uncovered)
            )
            self._keep(ctx, top.symbol, quotes, side, None if adds else price)

    def on_order(self, ctx: Context, order: Order, event: OrderEvent) -> None:
        quotes = self._books.get(order.symbol)
        if quotes is None or not order.is_closed:
            return
        for side, quote in quotes.items():
            if quote is order:
                quotes[side] = None

    def on_stop(self, ctx: Context) -> None:
        for quotes in self._books.values():
            for quote in quotes.values():
                if quote is not None and not quote.is_closed:
                    ctx.cancel(quote.client_order_id)

    def _keep(
        self,
        ctx: Context,
        symbol: str,
        quotes: dict[OrderSide, Order | None],
        side: OrderSide,
        price: Decimal | None,
    ) -> None:
        quote = quotes[side]
        if quote is not None and (quote.is_closed or quote.is_pending):
            if quote.is_closed:
                quotes[side] = quote = None
            else:
                return  # a request is in flight: wait for its answer
        if quote is not None:
            assert quote.price is not None
            tick = ctx.instrument(symbol).tick_size
            if price is not None and abs(quote.price - price) < tick * self.params.requote_ticks:
                return
            ctx.cancel(quote.client_order_id)
            quotes[side] = None
        if price is None or price <= 0:
            return
        quotes[side] = ctx.submit(
            symbol=symbol,
            side=side,
            order_type=OrderType.LIMIT,
            quantity=self.params.quote_size,
            price=price,
            time_in_force=TimeInForce.GTC,
            post_only=True,
        )


def _on_grid(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (price / tick).to_integral_value(rounding=rounding) * tick
