"""RunStarted names its strategy by `module:Class` or `path/to/file.py:Class`; a path
may be long and contain spaces (a checkout under a deep directory), so the rule for it
is not the short-identifier rule used for symbols and accounts."""

import pytest

from engine.domain.errors import ValidationError
from engine.domain.journal import RunStarted


def _run(strategy: str) -> RunStarted:
    return RunStarted(run_id="bt-1", ts_event=0, mode="backtest", strategy=strategy)


def test_a_long_file_path_with_spaces_is_a_valid_strategy_reference() -> None:
    deep = "/check/" + "work/main/" * 12 + "My Strategies/round trips.py:RoundTrips"
    assert len(deep) > 64
    assert _run(deep).strategy == deep


@pytest.mark.parametrize(
    "bad",
    ["", " x:Y", "x:Y ", "x:\nY", "a" * 4097],
    ids=["empty", "leading-space", "trailing-space", "control", "too-long"],
)
def test_a_bad_strategy_reference_names_the_field_value_and_rule(bad: str) -> None:
    with pytest.raises(ValidationError) as caught:
        _run(bad)
    message = str(caught.value)
    assert "strategy" in message
    assert "rule:" in message
    assert "4096" in message


def test_the_mode_keeps_the_identifier_rule() -> None:
    with pytest.raises(ValidationError, match="mode"):
        RunStarted(run_id="bt-1", ts_event=0, mode="back test", strategy="x:Y")
