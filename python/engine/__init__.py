"""quantx's hexagon: domain, ports and services, with the Rust core in `engine._core`.

`import engine` stays cheap and free of side effects: the names in `__all__` load on
first use (module `__getattr__`). `backtest` and `BacktestRun` come from `engine.api`,
the embedding API (a driving adapter, the one engine module that may import `adapters`);
the names a strategy needs come from the hexagon itself, so writing a strategy class
inline never loads the adapters.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from engine.api import BacktestRun as BacktestRun
    from engine.api import backtest as backtest
    from engine.domain import Fill as Fill
    from engine.domain import Order as Order
    from engine.domain import OrderEvent as OrderEvent
    from engine.domain import OrderSide as OrderSide
    from engine.domain import OrderType as OrderType
    from engine.domain import Position as Position
    from engine.domain import TimeInForce as TimeInForce
    from engine.domain import TriggerSource as TriggerSource
    from engine.strategy import Bar as Bar
    from engine.strategy import BookTop as BookTop
    from engine.strategy import Context as Context
    from engine.strategy import EmptyParams as EmptyParams
    from engine.strategy import Strategy as Strategy
    from engine.strategy import Trade as Trade

__all__ = [
    "BacktestRun",
    "Bar",
    "BookTop",
    "Context",
    "EmptyParams",
    "Fill",
    "Order",
    "OrderEvent",
    "OrderSide",
    "OrderType",
    "Position",
    "Strategy",
    "TimeInForce",
    "Trade",
    "TriggerSource",
    "backtest",
]

_API = frozenset({"BacktestRun", "backtest"})
_STRATEGY = frozenset({"Bar", "BookTop", "Context", "EmptyParams", "Strategy", "Trade"})


def __getattr__(name: str) -> Any:
    # Submodules (`from engine import _core`) are not handled here: an AttributeError
    # lets the import system load them as usual.
    if name in _API:
        from engine import api as home
    elif name in _STRATEGY:
        from engine import strategy as home  # type: ignore[no-redef]
    elif name in __all__:
        from engine import domain as home  # type: ignore[no-redef]
    else:
        raise AttributeError(f"module 'engine' has no attribute {name!r}")
    value = getattr(home, name)
    globals()[name] = value  # the next lookup is a plain attribute
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
