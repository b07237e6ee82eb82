"""Loads a strategy from `package.module:Class` or `path/to/file.py:Class` (or takes the
class itself, for code that embeds the engine), with its parameters validated by the
class's pydantic `Params` model."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import ValidationError as PydanticValidationError

from engine.strategy.base import Strategy

__all__ = ["StrategyLoadError", "load_strategy", "strategy_class", "strategy_name"]


class StrategyLoadError(ValueError):
    """A strategy that cannot be found, is not a Strategy, or got invalid parameters.
    The message names what was asked for and why it failed, on one line."""


def strategy_class(spec: str) -> type[Strategy[Any]]:
    """The class named by `spec` (see the module docstring)."""
    target, sep, name = spec.rpartition(":")
    if not sep or not target or not name:
        raise StrategyLoadError(
            f"strategy {spec!r} is not 'module:Class' or 'path/to/file.py:Class'"
        )
    if target.endswith(".py") or "/" in target:
        module = _load_file(spec, Path(target))
    else:
        try:
            module = importlib.import_module(target)
        except ImportError as err:
            raise StrategyLoadError(f"strategy {spec!r}: cannot import {target!r}: {err}") from None
    cls = getattr(module, name, None)
    if cls is None:
        raise StrategyLoadError(f"strategy {spec!r}: {target!r} has no {name!r}")
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise StrategyLoadError(f"strategy {spec!r}: {name!r} is not a Strategy subclass")
    return cls


def strategy_name(spec: str | type[Strategy[Any]]) -> str:
    """`module:Class` of a strategy class (how runs and errors name it); a spec as it is."""
    if isinstance(spec, type):
        return f"{spec.__module__}:{spec.__qualname__}"
    return spec


def load_strategy(
    spec: str | type[Strategy[Any]], params: Mapping[str, object] | None = None
) -> Strategy[Any]:
    """An instance of the class named by `spec` (or of `spec`, a Strategy subclass),
    built with validated `params`."""
    if isinstance(spec, str):
        cls = strategy_class(spec)
    elif isinstance(spec, type) and issubclass(spec, Strategy):
        cls, spec = spec, strategy_name(spec)
    else:
        raise StrategyLoadError(
            f"strategy {spec!r} is neither a 'module:Class' string nor a Strategy subclass"
        )
    try:
        model = cls.Params.model_validate(dict(params or {}))
    except PydanticValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or "params"
        value = first.get("input")
        raise StrategyLoadError(
            f"strategy {spec!r}: parameter {field} = {value!r}: {first['msg']}"
        ) from None
    return cls(model)


def _load_file(spec: str, path: Path) -> ModuleType:
    if not path.is_file():
        raise StrategyLoadError(f"strategy {spec!r}: no such file {str(path)!r}")
    name = f"quantx_user_strategy_{path.stem}"
    loader_spec = importlib.util.spec_from_file_location(name, path)
    if loader_spec is None or loader_spec.loader is None:
        raise StrategyLoadError(f"strategy {spec!r}: {str(path)!r} is not a Python module")
    module = importlib.util.module_from_spec(loader_spec)
    sys.modules[name] = module
    try:
        loader_spec.loader.exec_module(module)
    except Exception as err:  # a user's file: any error is a load error, said in one line
        del sys.modules[name]
        raise StrategyLoadError(f"strategy {spec!r}: {type(err).__name__}: {err}") from None
    return module
