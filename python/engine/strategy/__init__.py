"""The strategy API: one base class that runs unchanged in backtest, paper and live."""

from engine.strategy.base import Bar, BookTop, Context, EmptyParams, Strategy, Trade
from engine.strategy.registry import StrategyLoadError, load_strategy

__all__ = [
    "Bar",
    "BookTop",
    "Context",
    "EmptyParams",
    "Strategy",
    "StrategyLoadError",
    "Trade",
    "load_strategy",
]
