"""`fast_init`: a quicker `__init__` for the frozen slots dataclasses on the hot path.

A frozen dataclass's generated `__init__` stores each field with
`object.__setattr__(self, name, value)`, which looks the name up and checks the call
on every store; on the demo backtest (about 15,000 events, records, fills and book tops
a run) that is most of their construction time. The `__init__` written here stores
through each slot's own descriptor, bound once, and does everything else the
dataclass's does in the same order: the same parameters (positional, then keyword-only,
with the same defaults and default factories), fields without `init` set from their
defaults, then `__post_init__`. The instance stays frozen: only `__init__` changes. A
class whose generated `__init__` takes other parameters than the ones worked out here
(an InitVar, say) is refused when decorated, so the two can never drift apart.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from typing import Any, TypeVar

__all__ = ["fast_init"]

T = TypeVar("T")


def fast_init(cls: type[T]) -> type[T]:
    """Decorate a `@dataclass(frozen=True, slots=True)` class (outermost decorator)."""
    params = getattr(cls, "__dataclass_params__", None)
    if params is None or not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: fast_init is for frozen slots dataclasses")
    original = inspect.signature(cls.__init__)
    # The generated __init__'s sentinel for "no value given: call the factory" (shown as
    # <factory> in its signature), taken from it so both signatures read the same.
    sentinel = next(
        (p.default for p in original.parameters.values() if repr(p.default) == "<factory>"),
        dataclasses.MISSING,
    )
    namespace: dict[str, Any] = {"_FACTORY": sentinel}
    positional: list[str] = []
    keyword: list[str] = []
    body: list[str] = []
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        slot = inspect.getattr_static(cls, f.name)
        if not isinstance(slot, types.MemberDescriptorType):
            raise TypeError(f"{cls.__name__}.{f.name}: not a slot")
        namespace[f"_set_{f.name}"] = slot.__set__
        value = f.name
        if f.default is not dataclasses.MISSING:
            namespace[f"_default_{f.name}"] = f.default
            param = f"{f.name}=_default_{f.name}"
            if not f.init:
                value = f"_default_{f.name}"
        elif f.default_factory is not dataclasses.MISSING:
            namespace[f"_factory_{f.name}"] = f.default_factory
            param = f"{f.name}=_FACTORY"
            value = (
                f"_factory_{f.name}() if {f.name} is _FACTORY else {f.name}"
                if f.init
                else f"_factory_{f.name}()"
            )
        else:
            param = f.name
            if not f.init:
                continue  # set by __post_init__ or never, as the dataclass does
        if f.init:
            (keyword if f.kw_only else positional).append(param)
        body.append(f"    _set_{f.name}(self, {value})")
    if hasattr(cls, "__post_init__"):
        body.append("    self.__post_init__()")
    signature = ", ".join(["self", *positional, *(["*", *keyword] if keyword else [])])
    source = "\n".join([f"def __init__({signature}):", *(body or ["    pass"])])
    exec(source, namespace)  # built above from the class's own field names only
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__doc__ = cls.__init__.__doc__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    if inspect.signature(init) != original:  # names, kinds, defaults and annotations
        raise TypeError(f"{cls.__name__}: fast_init would change the __init__ signature")
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
