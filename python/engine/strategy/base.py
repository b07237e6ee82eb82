"""Strategy base class and the context it acts through.

A strategy never owns state the engine also owns: orders live in the order manager,
positions and balances in the portfolio, time in the clock. It reads them and asks for
changes through its `Context`; the kernel applies every change in sequence, so a
strategy's view is always consistent and its callbacks never race.

Callbacks (override what you need; the kernel skips callbacks a strategy does not
override, which is what makes an on_book-only strategy cheap):
- `on_start(ctx)` once before the first event, `on_stop(ctx)` once after the last;
- `on_book(ctx, top)` when an instrument's best bid or ask (price or size) changed;
- `on_trade(ctx, trade)` for every trade print;
- `on_bar(ctx, bar)` when a bar of `bar_interval_ns` closes (set it in the params);
- `on_order(ctx, order, event)` after each event applied to one of its orders;
- `on_fill(ctx, fill)` after each of its fills (also reported through on_order);
- `on_timer(ctx, name)` when a timer set with `ctx.set_timer` fires.
Parameters are a pydantic model (`Params`), validated before the run starts.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import ClassVar, Generic, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict

from engine.domain import Fill, Order, OrderEvent, OrderSide, Position
from engine.domain._frozen import fast_init
from engine.domain.instrument import Instrument

__all__ = ["Bar", "BookTop", "Context", "EmptyParams", "Strategy", "Trade"]


class EmptyParams(BaseModel):
    """No parameters; unknown keys are refused like in every params model."""

    model_config = ConfigDict(extra="forbid", frozen=True)


P = TypeVar("P", bound=BaseModel)


@fast_init
@dataclass(frozen=True, slots=True)
class BookTop:
    """Best bid and ask of one instrument (None when that side is empty)."""

    symbol: str
    ts_event: int
    bid: Decimal | None
    bid_size: Decimal | None
    ask: Decimal | None
    ask_size: Decimal | None

    @property
    def mid(self) -> Decimal | None:
        if self.bid is None or self.ask is None:
            return None
        return (self.bid + self.ask) / 2


@fast_init
@dataclass(frozen=True, slots=True)
class Trade:
    """One trade print; `side` is the aggressor's."""

    symbol: str
    ts_event: int
    price: Decimal
    quantity: Decimal
    side: OrderSide


@fast_init
@dataclass(frozen=True, slots=True)
class Bar:
    """One closed bar [ts_open, ts_close) built from trade prints."""

    symbol: str
    ts_open: int
    ts_close: int
    open: Decimal
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    trades: int


class Context(Protocol):
    """What a strategy can see and do. Requests return at once; their outcome comes
    back through on_order / on_fill."""

    def now_ns(self) -> int: ...
    def instrument(self, symbol: str) -> Instrument: ...
    def top(self, symbol: str) -> BookTop | None: ...
    def depth(self, symbol: str, side: OrderSide, levels: int) -> list[tuple[Decimal, Decimal]]: ...
    def position(self, symbol: str) -> Position: ...
    def balances(self, account: str | None = None) -> dict[str, Decimal]:
        """An account's balances; None: the run's first account."""
        ...

    def account(self, symbol: str) -> str:
        """The account an instrument is traded from (several in a paper run)."""
        ...

    def open_orders(self, symbol: str | None = None) -> tuple[Order, ...]: ...
    def submit(self, **fields: object) -> Order: ...
    def cancel(self, client_order_id: str) -> bool: ...
    def modify(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None: ...
    def set_timer(self, name: str, at_ns: int, interval_ns: int | None = None) -> None: ...
    def cancel_timer(self, name: str) -> None: ...
    def log(self, message: str) -> None: ...


class Strategy(Generic[P]):
    """Subclass it, set `Params` to your pydantic model, override the callbacks."""

    Params: ClassVar[type[BaseModel]] = EmptyParams

    def __init__(self, params: P) -> None:
        self.params = params

    def on_start(self, ctx: Context) -> None:
        """Before the first event."""

    def on_book(self, ctx: Context, top: BookTop) -> None:
        """The best bid or ask of `top.symbol` changed."""

    def on_trade(self, ctx: Context, trade: Trade) -> None:
        """A trade print."""

    def on_bar(self, ctx: Context, bar: Bar) -> None:
        """A bar closed."""

    def on_order(self, ctx: Context, order: Order, event: OrderEvent) -> None:
        """An event was applied to one of this strategy's orders."""

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        """One of this strategy's orders filled (partly)."""

    def on_timer(self, ctx: Context, name: str) -> None:
        """A timer fired."""

    def on_stop(self, ctx: Context) -> None:
        """After the last event (also on Ctrl-C)."""

    @classmethod
    def overrides(cls, name: str) -> bool:
        """True when this class overrides callback `name` (the kernel skips the rest)."""
        return getattr(cls, name) is not getattr(Strategy, name)
