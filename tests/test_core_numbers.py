"""The fixed-point edge of the Rust core, seen from Python: exact or a named error."""

from __future__ import annotations

from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from engine import _core


@pytest.mark.parametrize(
    ("value", "step", "units"),
    [
        ("61837.63000000", "0.01", 6_183_763),
        ("61800.20", "0.1", 618_002),
        ("0.000", "0.001", 0),
        ("25.42618900", "0.00000001", 2_542_618_900),
        ("15", "5", 3),
        ("2.5", "0.5", 5),
    ],
)
def test_on_grid_values_convert_exactly(value: str, step: str, units: int) -> None:
    assert _core.to_units(value, step) == units
    assert Decimal(_core.from_units(units, step)) == Decimal(value)


@pytest.mark.parametrize(
    ("value", "step", "words"),
    [
        ("61800.25", "0.1", ["61800.25", "not a multiple of step 0.1"]),
        ("-1", "0.1", ["-1", "negative", "must be >= 0"]),
        ("1e5", "1", ["1e5", "not a decimal number"]),
        ("", "1", ["not a decimal number"]),
        ("9223372036854775808", "1", ["overflows"]),
    ],
)
def test_bad_values_name_the_value_and_the_rule(value: str, step: str, words: list[str]) -> None:
    with pytest.raises(_core.FixedPointError) as err:
        _core.to_units(value, step)
    assert isinstance(err.value, ValueError)
    for word in words:
        assert word in str(err.value)
    assert "rule" in str(err.value)


def test_negative_values_only_where_allowed() -> None:
    assert _core.to_units("-1.2", "0.1", allow_negative=True) == -12
    assert _core.from_units(-12, "0.1") == "-1.2"


@pytest.mark.parametrize("step", ["0", "-0.1", "abc", "0.0000000000000000001"])
def test_bad_steps_are_refused(step: str) -> None:
    with pytest.raises(_core.FixedPointError, match="step"):
        _core.to_units("1", step)
    with pytest.raises(_core.FixedPointError, match="tick_size"):
        _core.Grid(step, "1")
    with pytest.raises(_core.FixedPointError, match="lot_size"):
        _core.Grid("1", step)


def test_grid_names_the_field() -> None:
    grid = _core.Grid("0.10", "0.001")
    assert (grid.tick_size, grid.lot_size) == ("0.1", "0.001")
    assert grid.price_to_ticks("61800.2") == 618_002
    assert grid.qty_to_lots("1.5") == 1_500
    assert grid.ticks_to_price(618_002) == "61800.2"
    assert grid.lots_to_qty(5) == "0.005"
    with pytest.raises(_core.FixedPointError, match=r"^price: .*61800\.25"):
        grid.price_to_ticks("61800.25")
    with pytest.raises(_core.FixedPointError, match=r"^qty: .*negative"):
        grid.qty_to_lots("-1")
    assert "0.1" in repr(grid)


@given(
    units=st.integers(min_value=-(10**15), max_value=10**15),
    step=st.sampled_from(["0.1", "0.01", "0.00000001", "1", "5", "0.25"]),
)
def test_round_trip(units: int, step: str) -> None:
    text = _core.from_units(units, step)
    assert _core.to_units(text, step, allow_negative=True) == units
    assert Decimal(text) == units * Decimal(step)


def test_builder_is_atomic_and_names_the_level() -> None:
    builder = _core.EventBuilder(_core.Grid("0.1", "0.001"))
    assert builder.push_diff(1, 2, 10, 12, 9, [["100.0", "1.000"]], [["100.1", "0"]]) == 2
    with pytest.raises(_core.FixedPointError, match=r"asks\[1\]\.price: .*100\.15"):
        builder.push_diff(3, 4, 13, 14, 12, [], [["100.1", "1"], ["100.15", "1"]])
    with pytest.raises(TypeError, match=r"bids\[0\]: expected \[price, qty\]"):
        builder.push_snapshot(3, 4, 13, [["100.1"]], [])
    with pytest.raises(TypeError, match=r"bids\[0\]\.qty: expected a decimal string"):
        builder.push_snapshot(3, 4, 13, [("100.1", 1.5)], [])
    with pytest.raises(TypeError, match="bids: expected a list"):
        builder.push_snapshot(3, 4, 13, "nope", [])
    with pytest.raises(_core.FixedPointError, match=r"trade\.qty"):
        builder.push_trade(5, 6, 1, "100.0", "x", True)
    with pytest.raises(_core.FixedPointError, match=r"ticker\.ask_price"):
        builder.push_ticker(5, 6, 1, "100.0", "1", "100.01", "1")
    assert len(builder) == 2
    assert builder.push_trade(5, 6, 77, "100.1", "0.002", False) == 1
    assert builder.push_ticker(7, 8, 15, "100.0", "1", "100.1", "2") == 2
    rows = builder.finish()
    assert len(builder) == 0
    assert rows.dtype == _core.EVENT_DTYPE
    assert rows["kind"].tolist() == [
        _core.KIND_DIFF,
        _core.KIND_DIFF,
        _core.KIND_TRADE,
        _core.KIND_TICKER,
        _core.KIND_TICKER,
    ]
    assert rows["flags"].tolist() == [
        _core.FLAG_BEGIN,
        _core.FLAG_END,
        _core.FLAG_BEGIN | _core.FLAG_END,
        _core.FLAG_BEGIN,
        _core.FLAG_END,
    ]
    # the buyer took liquidity: the aggressor is the bid side; the trade id rides along
    assert (int(rows["side"][2]), int(rows["order_id"][2])) == (_core.SIDE_BID, 77)
    assert rows["price"].tolist() == [1000, 1001, 1001, 1000, 1001]


def test_an_empty_book_message_still_carries_its_ids() -> None:
    builder = _core.EventBuilder(_core.Grid("1", "1"))
    assert builder.push_diff(0, 0, 5, 6, 4, [], []) == 1
    row = builder.finish()[0]
    assert int(row["flags"]) == _core.FLAG_BEGIN | _core.FLAG_END | _core.FLAG_EMPTY
    assert (int(row["seq_first"]), int(row["seq_last"]), int(row["seq_prev"])) == (5, 6, 4)


def test_batch_refuses_non_contiguous_arrays_and_bad_kinds() -> None:
    book = _core.L2Book("spot")
    events = np.zeros(4, dtype=_core.EVENT_DTYPE)
    with pytest.raises(ValueError, match="C-contiguous"):
        book.apply_events(events[::2])
    events["kind"] = 99
    events["flags"] = _core.FLAG_BEGIN | _core.FLAG_END
    result = book.apply_events(events, row_offset=10)
    assert (result.rows, result.errors, result.first_error_row) == (4, 4, 10)
    assert "kind 99" in (result.first_error or "")
    assert result.as_dict()["errors"] == 4
    assert "errors=4" in repr(result)
    with pytest.raises(TypeError):
        book.apply_events(np.zeros(4, dtype=np.int64))  # type: ignore[arg-type]


def test_l2_book_argument_errors() -> None:
    with pytest.raises(ValueError, match='rule "perp" is not a sequence rule'):
        _core.L2Book("perp")  # type: ignore[arg-type]
    book = _core.L2Book("futures")
    with pytest.raises(ValueError, match="side 2 is not 0"):
        book.depth(2, 5)
    with pytest.raises(ValueError, match="band -1 is negative"):
        book.size_within(0, -1)
    with pytest.raises(_core.BookError, match="qty -1 is negative"):
        book.set_level(0, 100, -1)
    assert "L2Book" in repr(book)
