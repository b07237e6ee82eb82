"""A moving-average crossover on bars built from trade prints.

Keeps the closes of the last `slow` bars. When the `fast` simple moving average crosses
above the `slow` one it targets a long position of `quantity`, when it crosses below a
short one (or flat with `allow_short=False`), and trades the difference with a market
order (slippage-capped by the venue). No signal until `slow` bars have closed.
"""

from __future__ import annotations

from collections import deque
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from engine.domain import OrderSide, OrderType
from engine.strategy.base import Bar, Context, Strategy

__all__ = ["MovingAverageCrossover", "MovingAverageCrossoverParams"]


class MovingAverageCrossoverParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    symbol: str = "BTC/USDT:USDT"
    bar_interval_ns: int = Field(default=10_000_000_000, gt=0)
    fast: int = Field(default=5, ge=1)
    slow: int = Field(default=20, ge=2)
    quantity: Decimal = Field(default=Decimal("0.010"), gt=0)
    allow_short: bool = True

    @model_validator(mode="after")
    def _fast_below_slow(self) -> MovingAverageCrossoverParams:
        if self.fast >= self.slow:
            raise ValueError(f"fast {self.fast} must be below slow {self.slow}")
        return self


class MovingAverageCrossover(Strategy[MovingAverageCrossoverParams]):
    Params = MovingAverageCrossoverParams

    def __init__(self, params: MovingAverageCrossoverParams) -> None:
        super().__init__(params)
        self._closes: deque[Decimal] = deque(maxlen=params.slow)
        self._above: bool | None = None
        self.signals: list[tuple[int, str]] = []

    def on_bar(self, ctx: Context, bar: Bar) -> None:
        p = self.params
        if bar.symbol != p.symbol:
            return
        self._closes.append(bar.close)
        if len(self._closes) < p.slow:
            return
        closes = list(self._closes)
        fast = sum(closes[-p.fast :], Decimal(0)) / p.fast
        slow = sum(closes, Decimal(0)) / p.slow
        above = fast > slow
        if self._above is None or above == self._above:
            self._above = above
            return
        self._above = above
        self.signals.append((bar.ts_close, "long" if above else "short"))
        target = p.quantity if above else (-p.quantity if p.allow_short else Decimal(0))
        delta = target - ctx.position(p.symbol).quantity
        if delta == 0 or ctx.open_orders(p.symbol):
            return
        ctx.submit(
            symbol=p.symbol,
            side=OrderSide.BUY if delta > 0 else OrderSide.SELL,
            order_type=OrderType.MARKET,
            quantity=abs(delta),
        )
