"""StrategyGroup: several strategies run as one (one per instrument or account).

The kernel runs one strategy; a group lets a run hold several, each with its own
parameters, e.g. one market maker per exchange in a paper run. Every callback goes to
every member that overrides it, in the order given; members filter by symbol themselves
(the shipped strategies do). Members share the context, so their timer names must differ.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from engine.domain import Fill, Order, OrderEvent
from engine.strategy.base import Bar, BookTop, Context, Strategy, Trade
from engine.strategy.registry import load_strategy

__all__ = ["GroupMember", "GroupParams", "StrategyGroup"]


class GroupMember(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    strategy: str
    params: dict[str, Any] = Field(default_factory=dict)


class GroupParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    members: list[GroupMember] = Field(min_length=1)


class StrategyGroup(Strategy[GroupParams]):
    Params = GroupParams

    def __init__(self, params: GroupParams) -> None:
        super().__init__(params)
        self.members: list[Strategy[Any]] = [
            load_strategy(m.strategy, m.params) for m in params.members
        ]

    def _each(self, name: str) -> list[Strategy[Any]]:
        return [m for m in self.members if type(m).overrides(name)]

    def on_start(self, ctx: Context) -> None:
        for m in self._each("on_start"):
            m.on_start(ctx)

    def on_book(self, ctx: Context, top: BookTop) -> None:
        for m in self._each("on_book"):
            m.on_book(ctx, top)

    def on_trade(self, ctx: Context, trade: Trade) -> None:
        for m in self._each("on_trade"):
            m.on_trade(ctx, trade)

    def on_bar(self, ctx: Context, bar: Bar) -> None:
        for m in self._each("on_bar"):
            m.on_bar(ctx, bar)

    def on_order(self, ctx: Context, order: Order, event: OrderEvent) -> None:
        for m in self._each("on_order"):
            m.on_order(ctx, order, event)

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        for m in self._each("on_fill"):
            m.on_fill(ctx, fill)

    def on_timer(self, ctx: Context, name: str) -> None:
        for m in self._each("on_timer"):
            m.on_timer(ctx, name)

    def on_stop(self, ctx: Context) -> None:
        for m in self._each("on_stop"):
            m.on_stop(ctx)
