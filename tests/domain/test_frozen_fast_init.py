"""`engine.domain._frozen.fast_init`: the same construction as the dataclass's own
`__init__` (parameters, defaults, factories, init=False fields, __post_init__, errors),
the instance still frozen, and classes it cannot serve refused when decorated."""

from __future__ import annotations

import dataclasses
import inspect
from dataclasses import InitVar, dataclass, field
from decimal import Decimal

import pytest

from engine.domain import Fill, Liquidity, OrderAccepted, OrderSide, OrderType
from engine.domain._frozen import fast_init
from engine.domain.errors import ValidationError
from engine.domain.journal import BalanceSnapshot
from engine.domain.order import OrderTerms
from engine.strategy.base import BookTop

CALLS: list[str] = []


def _make() -> type:
    """A class with every kind of field (a new one per call: one to decorate, one not)."""

    @dataclass(frozen=True, slots=True)
    class Base:
        a: int
        b: str = "b"
        c: tuple[int, ...] = field(default_factory=lambda: (1, 2))
        d: int = field(default=4, init=False)
        e: list[int] = field(default_factory=list, kw_only=True)
        f: int = field(default=6, kw_only=True)

        def __post_init__(self) -> None:
            CALLS.append(f"post {self.a} {self.b} {self.c} {self.d} {self.e} {self.f}")
            if self.a < 0:
                raise ValueError("a is negative")

    return Base


def _pair() -> tuple[type, type]:
    return _make(), fast_init(_make())


def test_the_same_parameters_defaults_and_post_init_as_the_dataclass() -> None:
    plain, fast = _pair()
    assert inspect.signature(fast) == inspect.signature(plain)
    assert str(inspect.signature(fast)).startswith("(a: 'int', b: 'str' = 'b', c:")
    for args, kwargs in [((1,), {}), ((2, "x", (3,)), {"e": [9], "f": 7}), ((3,), {"b": "y"})]:
        CALLS.clear()
        p, q = plain(*args, **kwargs), fast(*args, **kwargs)
        assert CALLS[0] == CALLS[1]  # __post_init__ saw the same fields, once each
        assert len(CALLS) == 2
        assert dataclasses.astuple(p) == dataclasses.astuple(q)
    CALLS.clear()
    one, two = fast(1), fast(1)
    assert one.e == [] and one.e is not two.e  # a fresh factory value per instance
    assert (one.b, one.c, one.d, one.f) == ("b", (1, 2), 4, 6)


def test_refusals_are_the_dataclass_s_own() -> None:
    plain, fast = _pair()
    for cls in (plain, fast):
        with pytest.raises(TypeError):
            cls()  # a required field missing
        with pytest.raises(TypeError):
            cls(1, d=5)  # not an init parameter
        with pytest.raises(TypeError):
            cls(1, "b", (1,), [2])  # e is keyword-only
        with pytest.raises(ValueError, match="a is negative"):
            cls(-1)
    with pytest.raises(dataclasses.FrozenInstanceError):
        fast(1).a = 2  # type: ignore[misc]


def test_classes_it_cannot_serve_are_refused_when_decorated() -> None:
    @dataclass(slots=True)
    class Mutable:
        a: int

    @dataclass(frozen=True)
    class NoSlots:
        a: int

    @dataclass(frozen=True, slots=True)
    class WithInitVar:
        a: int
        scale: InitVar[int] = 1

    with pytest.raises(TypeError, match="frozen slots dataclasses"):
        fast_init(Mutable)
    with pytest.raises(TypeError, match="frozen slots dataclasses"):
        fast_init(NoSlots)
    with pytest.raises(TypeError, match="would change the __init__ signature"):
        fast_init(WithInitVar)


def test_domain_types_build_and_validate_as_before() -> None:
    top = BookTop("BTC/USDT:USDT", 5, Decimal("10.5"), Decimal(2), None, None)
    assert top == BookTop(
        symbol="BTC/USDT:USDT", ts_event=5, bid=Decimal("10.5"), bid_size=Decimal(2), ask=None,
        ask_size=None,
    )  # fmt: skip
    assert top.mid is None and hash(top) == hash(dataclasses.replace(top))
    assert OrderAccepted(client_order_id="qx-1", ts_event=3).venue_order_id == ""
    terms = OrderTerms(
        client_order_id="qx-1", symbol="BTC/USDT", side=OrderSide.BUY,
        order_type=OrderType.STOP_MARKET, quantity=Decimal("0.5"), trigger_price=Decimal(90),
    )  # fmt: skip
    assert terms.trigger_source is not None  # __post_init__ still fills the default source
    with pytest.raises(ValidationError, match="quantity"):
        OrderTerms(
            client_order_id="qx-2", symbol="BTC/USDT", side=OrderSide.BUY,
            order_type=OrderType.MARKET, quantity=Decimal(0),
        )  # fmt: skip
    with pytest.raises(ValidationError, match="ts_event"):
        BalanceSnapshot(ts_event=-1, account="main", asset="USDT", total=Decimal(1))
    fill = Fill(
        trade_id="7-1", client_order_id="qx-1", symbol="BTC/USDT", side=OrderSide.SELL,
        price=Decimal(100), quantity=Decimal("0.5"), fee=Decimal("0.01"), fee_currency="USDT",
        liquidity=Liquidity.MAKER, ts_event=9,
    )  # fmt: skip
    assert fill.notional == Decimal("50.0")
