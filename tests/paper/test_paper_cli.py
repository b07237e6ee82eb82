"""`quantx paper`: user errors are one line and exit 2; a short run ends cleanly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from adapters.cli.main import main


def invoke(*args: str) -> Any:
    return CliRunner().invoke(main, ["paper", *args], catch_exceptions=False)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--speed", "0"), "config value speed = 0.0: Input should be greater than 0"),
        (("--config", "nope.toml"), "nope.toml: no such config file"),
        (("--resume", "pp-x", "--strategy", "a:B"), "--resume takes the run's own configuration"),
        (("--strategy", "nowhere:Nothing"), "cannot import 'nowhere'"),
    ],
)
def test_user_errors_are_one_line_with_exit_2(
    args: tuple[str, ...], message: str, tmp_path: Path
) -> None:
    result = invoke(*args, "--out", str(tmp_path))
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output


def test_a_bad_account_in_the_config_names_it(tmp_path: Path) -> None:
    cfg = tmp_path / "p.toml"
    cfg.write_text('[[paper.accounts]]\nname = "a"\ndata = ["x.gz"]\nbalances = { USDT = "-5" }\n')
    result = invoke("--config", str(cfg), "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "accounts.0.balances" in result.output and "negative" in result.output
    cfg.write_text('[[paper.accounts]]\nname = "a"\ndata = ["x.gz"]\nbalances = { USDT = "5" }\n')
    result = invoke("--config", str(cfg), "--out", str(tmp_path))
    assert result.exit_code == 2
    assert "accounts.a.data" in result.output and "no such data file" in result.output


def test_resume_of_an_unknown_run_is_refused(tmp_path: Path) -> None:
    result = invoke("--resume", "pp-missing", "--out", str(tmp_path))
    assert result.exit_code == 2 and "no store at" in result.output


def test_a_short_run_then_status_lists_it_as_a_paper_run(tmp_path: Path) -> None:
    result = invoke("--speed", "200", "--duration", "1", "--out", str(tmp_path), "--json")
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["status"] == "completed" and summary["messages"] > 0
    status = CliRunner().invoke(main, ["status", "--store", summary["store"], "--json"])
    runs = json.loads(status.output)["runs"]
    assert [(r["run_id"], r["mode"], r["status"]) for r in runs] == [
        (summary["run_id"], "paper", "completed")
    ]
