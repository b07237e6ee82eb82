"""The Rust trigger book through its Python bindings: hand scenarios with the numbers
worked out in comments, errors that name the field, and a Hypothesis comparison with a
tiny pure-Python model of the documented rules."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import given, note
from hypothesis import strategies as st

from engine import _core

core: Any = _core  # Any: the error tests pass values the stub's types refuse

BUY, SELL = 0, 1
LIMIT = 2**62


# --- hand scenarios -------------------------------------------------------------------


def test_stop_loss_on_a_long_watches_the_bid() -> None:
    book = core.TriggerBook()
    book.add(1, SELL, "stop", "bid_ask", trigger_price=100)
    assert book.effective_stop(1) == 100
    assert book.on_bid_ask(101, 102) == []
    assert book.on_bid_ask(None, 90) == []  # no bid: no observation for a sell
    assert book.on_last(50) == []  # another source
    assert book.on_bid_ask(100, 101) == [1]  # bid == trigger fires
    assert len(book) == 0
    assert 1 not in book


def test_each_kind_and_direction_on_last_and_mark() -> None:
    book = core.TriggerBook()
    book.add(1, SELL, "stop", "last", trigger_price=95)
    book.add(2, BUY, "stop", "last", trigger_price=105)
    book.add(3, SELL, "take_profit", "mark", trigger_price=110)
    book.add(4, BUY, "take_profit", "mark", trigger_price=90)
    assert book.on_last(96) == []
    assert book.on_last(104) == []
    assert book.on_last(105) == [2]
    assert book.on_mark(109) == []
    assert book.on_mark(111) == [3]
    assert book.on_mark(90) == [4]
    assert book.on_last(95) == [1]


def test_trailing_stop_with_a_user_floor() -> None:
    book = core.TriggerBook()
    # Sell, 10 ticks, reference 100 -> trail 90; the user's stop 93 is tighter.
    book.add(7, SELL, "trailing_stop", "last", offset_ticks=10, user_stop=93, reference=100)
    assert book.effective_stop(7) == 93
    assert book.on_last(102) == []  # trail 92, effective 93
    assert book.effective_stop(7) == 93
    assert book.on_last(108) == []  # trail 98
    assert book.effective_stop(7) == 98
    assert book.on_last(99) == []  # pullback: stays 98
    assert book.effective_stop(7) == 98
    book.set_user_stop(7, 101)  # the user tightens
    assert book.effective_stop(7) == 101
    book.set_user_stop(7, 80)  # the user loosens their own stop; the trail keeps 98
    assert book.effective_stop(7) == 98
    with pytest.raises(ValueError, match="trigger_price 97 would loosen the trailing stop at 98"):
        book.amend_trigger(7, 97)
    assert book.on_last(98) == [7]


def test_bps_trail_rounds_down_but_is_at_least_one_tick() -> None:
    book = core.TriggerBook()
    book.add(1, SELL, "trailing_stop", "last", offset_bps=25)
    book.add(2, BUY, "trailing_stop", "last", offset_bps=1)
    # 10_050 * 25 / 10_000 = 25.125 -> 25 ticks: 10_025. 10_050 * 1 / 10_000 = 1.005 -> 1.
    assert book.on_last(10_050) == []
    assert book.effective_stop(1) == 10_025
    assert book.effective_stop(2) == 10_051
    # The sell trail at 10_025 fires at 5_000; the buy trail's new low 5_000 gives
    # 5_000 * 1 / 10_000 = 0.5 -> 0 -> at least 1 tick: 5_001.
    assert book.on_last(5_000) == [1]
    assert book.effective_stop(2) == 5_001


def test_adding_through_the_trigger_waits_for_the_next_observation() -> None:
    assert core.TriggerBook.would_fire(SELL, "stop", "last", 95, trigger_price=100)
    assert not core.TriggerBook.would_fire(SELL, "stop", "last", 101, trigger_price=100)
    # Trailing: reference 120, 10 ticks -> stop 110; 110 is through, 111 is not.
    assert core.TriggerBook.would_fire(
        SELL, "trailing_stop", "last", 110, offset_ticks=10, reference=120
    )
    assert not core.TriggerBook.would_fire(
        SELL, "trailing_stop", "last", 111, offset_ticks=10, reference=120
    )
    book = core.TriggerBook()
    book.add(1, SELL, "stop", "last", trigger_price=100)
    assert len(book) == 1  # added at 95: nothing fired
    assert book.on_last(96) == [1]


def test_fired_ids_ascending_and_amendments() -> None:
    book = core.TriggerBook()
    for i in (9, 3, 6):
        book.add(i, SELL, "stop", "last", trigger_price=100)
    book.amend_trigger(6, 90)  # a plain stop may move either way
    assert book.on_last(95) == [3, 9]
    assert book.remove(6)
    assert not book.remove(6)
    assert book.on_last(0) == []
    assert 2**70 not in book and -1 not in book


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda b: b.add(1, SELL, "stop", "last", trigger_price=5), r"^id 1 is already"),
        (lambda b: b.add(2, SELL, "stop", "last"), r"^trigger_price is missing"),
        (
            lambda b: b.add(2, SELL, "stop", "last", trigger_price=5, offset_ticks=3),
            r"^offset_ticks 3 is not allowed for a stop entry",
        ),
        (
            lambda b: b.add(2, SELL, "take_profit", "last", trigger_price=5, user_stop=4),
            r"^user_stop 4 is not allowed for a take_profit entry",
        ),
        (
            lambda b: b.add(2, SELL, "stop", "last", trigger_price=5, reference=4),
            r"^reference 4 is not allowed",
        ),
        (
            lambda b: b.add(2, SELL, "trailing_stop", "last"),
            r"^offset_ticks or offset_bps is missing",
        ),
        (
            lambda b: b.add(2, SELL, "trailing_stop", "last", offset_ticks=0),
            r"^offset_ticks 0 is out",
        ),
        (
            lambda b: b.add(2, SELL, "trailing_stop", "last", offset_bps=10_000),
            r"^offset_bps 10000",
        ),
        (
            lambda b: b.add(2, SELL, "trailing_stop", "last", offset_bps=-1),
            r"^offset_bps -1 is out",
        ),
        (
            lambda b: b.add(2, SELL, "trailing_stop", "last", offset_ticks=1, offset_bps=1),
            r"^offset_ticks 1 and offset_bps 1 are exclusive",
        ),
        (
            lambda b: b.add(2, SELL, "stop_loss", "last", trigger_price=5),
            r'^kind "stop_loss" is not',
        ),
        (lambda b: b.add(2, SELL, "stop", "trade", trigger_price=5), r'^source "trade" is not'),
        (lambda b: b.add(2, 2, "stop", "last", trigger_price=5), r"^side 2 is not 0"),
        (
            lambda b: b.add(2, SELL, "stop", "last", trigger_price=LIMIT),
            rf"^trigger_price {LIMIT} is out of range",
        ),
        (lambda b: b.amend_trigger(9, 5), r"^id 9 is not in the trigger book"),
        (lambda b: b.set_user_stop(1, -LIMIT), rf"^user_stop {-LIMIT} is out of range"),
        (lambda b: b.on_last(LIMIT), rf"^last {LIMIT} is out of range"),
        (lambda b: b.on_mark(-LIMIT), rf"^mark {-LIMIT} is out of range"),
        (lambda b: b.on_bid_ask(1, LIMIT), rf"^ask {LIMIT} is out of range"),
    ],
)
def test_errors_name_the_field_and_leave_the_book_unchanged(call: Any, message: str) -> None:
    book = core.TriggerBook()
    book.add(1, SELL, "stop", "last", trigger_price=100)
    with pytest.raises(ValueError, match=message):
        call(book)
    assert len(book) == 1
    assert book.effective_stop(1) == 100


# --- model ----------------------------------------------------------------------------


def tighter(sell: bool, a: int | None, b: int | None) -> int | None:
    values = [v for v in (a, b) if v is not None]
    if not values:
        return None
    return max(values) if sell else min(values)


def in_range(p: int | None) -> bool:
    return p is None or -LIMIT < p < LIMIT


@dataclass
class Entry:
    side: int
    kind: str
    source: str
    trigger: int | None
    ticks: int | None
    bps: int | None
    user: int | None
    extreme: int | None = None

    @property
    def sell(self) -> bool:
        return self.side == SELL

    def effective(self) -> int | None:
        if self.kind == "take_profit":
            return self.trigger
        return tighter(self.sell, self.trigger, self.user)

    def observe(self, p: int) -> bool:
        if self.kind == "trailing_stop" and (
            self.extreme is None or (p > self.extreme if self.sell else p < self.extreme)
        ):
            self.extreme = p
            off = (
                self.ticks if self.ticks is not None else max(1, abs(p) * (self.bps or 0) // 10_000)
            )
            self.trigger = tighter(self.sell, self.trigger, p - off if self.sell else p + off)
        level = self.effective()
        if level is None:
            return False
        falls = self.sell != (self.kind == "take_profit")
        return p <= level if falls else p >= level


class Model:
    def __init__(self) -> None:
        self.entries: dict[int, Entry] = {}

    def add(self, args: dict[str, Any]) -> bool:
        kind, ticks, bps = args["kind"], args["offset_ticks"], args["offset_bps"]
        prices_ok = all(in_range(args[f]) for f in ("trigger_price", "user_stop", "reference"))
        if kind == "trailing_stop":
            kind_ok = (ticks is None) != (bps is None) and (
                (ticks is not None and 1 <= ticks < LIMIT)
                or (bps is not None and 1 <= bps <= 9_999)
            )
        else:
            kind_ok = (
                args["trigger_price"] is not None
                and ticks is None
                and bps is None
                and args["reference"] is None
                and (kind == "stop" or args["user_stop"] is None)
            )
        if args["id"] in self.entries or not (prices_ok and kind_ok):
            return False
        e = Entry(
            args["side"], kind, args["source"], args["trigger_price"], ticks, bps, args["user_stop"]
        )
        if args["reference"] is not None:
            e.observe(args["reference"])
        self.entries[args["id"]] = e
        return True

    def amend(self, i: int, p: int) -> bool:
        e = self.entries.get(i)
        if e is None or not in_range(p):
            return False
        if (
            e.kind == "trailing_stop"
            and e.trigger is not None
            and tighter(e.sell, e.trigger, p) != p
        ):
            return False
        e.trigger = p
        return True

    def set_user(self, i: int, p: int | None) -> bool:
        e = self.entries.get(i)
        if e is None or not in_range(p) or (e.kind == "take_profit" and p is not None):
            return False
        e.user = p
        return True

    def observe(self, source: str, buy: int | None, sell: int | None) -> list[int]:
        fired = []
        for i, e in list(self.entries.items()):
            p = sell if e.sell else buy
            if e.source == source and p is not None and e.observe(p):
                fired.append(i)
                del self.entries[i]
        return sorted(fired)


prices = st.one_of(st.integers(90, 110), st.sampled_from([LIMIT, -LIMIT, LIMIT - 1]))
maybe_price = st.one_of(st.none(), prices)
ids = st.integers(0, 12)
sources = st.sampled_from(["last", "bid_ask", "mark"])

plain_add = st.fixed_dictionaries(
    {
        "id": ids,
        "side": st.sampled_from([BUY, SELL]),
        "kind": st.sampled_from(["stop", "take_profit"]),
        "source": sources,
        "trigger_price": prices,
        "offset_ticks": st.none(),
        "offset_bps": st.none(),
        "user_stop": st.one_of(st.none(), st.none(), prices),
        "reference": st.none(),
    }
)
trailing_add = st.fixed_dictionaries(
    {
        "id": ids,
        "side": st.sampled_from([BUY, SELL]),
        "kind": st.just("trailing_stop"),
        "source": sources,
        "trigger_price": st.one_of(st.none(), st.none(), prices),
        "offset_ticks": st.one_of(st.none(), st.integers(0, 6)),
        "offset_bps": st.one_of(st.none(), st.sampled_from([0, 1, 100, 500, 9_999, 10_000])),
        "user_stop": st.one_of(st.none(), prices),
        "reference": maybe_price,
    }
)
ops = st.lists(
    st.one_of(
        st.tuples(st.just("add"), st.one_of(plain_add, trailing_add)),
        st.tuples(st.just("remove"), ids),
        st.tuples(st.just("amend"), ids, prices),
        st.tuples(st.just("user"), ids, maybe_price),
        st.tuples(st.just("last"), prices),
        st.tuples(st.just("mark"), prices),
        st.tuples(st.just("bid_ask"), maybe_price, maybe_price),
    ),
    max_size=60,
)


def accepted(call: Any, *args: Any, **kwargs: Any) -> tuple[bool, Any]:
    try:
        return True, call(*args, **kwargs)
    except ValueError:
        return False, None


@given(ops)
def test_bindings_agree_with_the_python_model(steps: list[tuple[Any, ...]]) -> None:
    book = core.TriggerBook()
    model = Model()
    for step in steps:
        note(repr(step))
        match step:
            case ("add", args):
                ok, _ = accepted(book.add, **args)
                assert ok == model.add(args)
            case ("remove", i):
                assert book.remove(i) == (model.entries.pop(i, None) is not None)
            case ("amend", i, p):
                assert accepted(book.amend_trigger, i, p)[0] == model.amend(i, p)
            case ("user", i, p):
                assert accepted(book.set_user_stop, i, p)[0] == model.set_user(i, p)
            case ("last" | "mark" as source, p):
                ok, fired = accepted(book.on_last if source == "last" else book.on_mark, p)
                assert ok == in_range(p)
                if ok:
                    assert fired == model.observe(source, p, p)
            case ("bid_ask", bid, ask):
                ok, fired = accepted(book.on_bid_ask, bid, ask)
                assert ok == (in_range(bid) and in_range(ask))
                if ok:
                    assert fired == model.observe("bid_ask", ask, bid)
        assert len(book) == len(model.entries)
        for i, e in model.entries.items():
            assert i in book
            assert book.effective_stop(i) == e.effective(), i
