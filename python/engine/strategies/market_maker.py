"""A market maker quoting around the mid with inventory limits (L2 data).

On every top-of-book change it computes a bid and an ask `half_spread_ticks` away from
the mid, shifted against its inventory by `skew_ticks` per `quote_size` held (a long
position lowers both quotes, so it sells more easily and buys less), and keeps one
post-only quote per side. A resting quote is replaced only when the wanted price moved
by `requote_ticks` or more, which keeps the order traffic (and fees of churn) sane. At
`max_inventory` it stops quoting the side that would add to the position. The quotes
depend on the touch prices and the inventory only, so a top change that moved only
sizes (nine in ten on the bundled capture) is answered by a dictionary lookup once the
quotes have settled; any order event of the instrument makes it look again.

Several instruments: `symbols` (a list, or one comma-separated string such as
`BTC/USDT:USDT,BTC/USDT` from the command line) quotes each of them the same way, with
its own inventory; it replaces `symbol`. On spot it quotes the ask only while the
account holds the base asset to deliver (a spot venue sells nothing it does not hold).
"""

from __future__ import annotations

from dataclasses import dataclass
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
        self._grids: dict[str, _Grid] = {}
        # symbol -> (bid, ask, inventory[, base held]) at which its quotes last settled
        # (each side working or deliberately empty). The quotes are a function of these
        # alone, so a top change that leaves them equal (only sizes moved: most changes)
        # asks for nothing; any order event of the symbol forgets the entry.
        self._settled: dict[str, tuple[Decimal | None, ...]] = {}

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
        quotes = self._books.get(top.symbol)
        if quotes is None or top.bid is None or top.ask is None:
            return
        p = self.params
        grid = self._grids.get(top.symbol) or self._grid(ctx, top.symbol)
        inventory = ctx.position(top.symbol).quantity
        held = None
        if grid.spot_base is not None:
            held = ctx.balances(ctx.account(top.symbol)).get(grid.spot_base, _ZERO)
        seen = (top.bid, top.ask, inventory, held)
        if self._settled.get(top.symbol) == seen:
            return
        tick = grid.tick
        mid = (top.bid + top.ask) / 2 - grid.skew * (inventory / p.quote_size)
        # Never cross the market with a post-only quote.
        bid = min(_on_grid(mid - grid.half_spread, tick, ROUND_FLOOR), top.ask - tick)
        ask = max(_on_grid(mid + grid.half_spread, tick, ROUND_CEILING), top.bid + tick)
        # Spot delivers what it sells: no ask without the base asset in the account.
        uncovered = held is not None and held < p.quote_size
        buy_full = inventory >= p.max_inventory
        sell_full = inventory <= -p.max_inventory or uncovered
        self._keep(ctx, top.symbol, grid, quotes, OrderSide.BUY, None if buy_full else bid)
        self._keep(ctx, top.symbol, grid, quotes, OrderSide.SELL, None if sell_full else ask)
        if all(q is None or not (q.is_closed or q.is_pending) for q in quotes.values()):
            self._settled[top.symbol] = seen
        else:  # a request in flight or a refused one: look again at the next change
            self._settled.pop(top.symbol, None)

    def _grid(self, ctx: Context, symbol: str) -> _Grid:
        """The symbol's price offsets, worked out once (they depend only on the
        instrument and the parameters)."""
        p = self.params
        instrument = ctx.instrument(symbol)
        tick = instrument.tick_size
        grid = _Grid(
            tick=tick,
            half_spread=tick * p.half_spread_ticks,
            skew=tick * p.skew_ticks,
            requote=tick * p.requote_ticks,
            spot_base=instrument.base if instrument.kind is InstrumentKind.SPOT else None,
        )
        self._grids[symbol] = grid
        return grid

    def on_order(self, ctx: Context, order: Order, event: OrderEvent) -> None:
        self._settled.pop(order.symbol, None)
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
        grid: _Grid,
        quotes: dict[OrderSide, Order | None],
        side: OrderSide,
        price: Decimal | None,
    ) -> None:
        quote = quotes[side]
        if quote is not None:
            if quote.is_closed:
                quotes[side] = quote = None
            elif quote.is_pending:
                return  # a request is in flight: wait for its answer
        if quote is not None:
            assert quote.price is not None
            if price is not None and abs(quote.price - price) < grid.requote:
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


@dataclass(frozen=True, slots=True)
class _Grid:
    tick: Decimal
    half_spread: Decimal  # tick * half_spread_ticks
    skew: Decimal  # tick * skew_ticks: the mid's shift per quote_size held
    requote: Decimal  # tick * requote_ticks
    spot_base: str | None  # the asset a spot ask delivers; None off spot


_ZERO = Decimal(0)


def _on_grid(price: Decimal, tick: Decimal, rounding: str) -> Decimal:
    return (price / tick).to_integral_value(rounding=rounding) * tick
