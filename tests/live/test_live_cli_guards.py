"""`quantx live` refuses before touching an exchange: without --live, without keys,
with a bad config; each a one-line error and exit 2, never a key in the output."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def quantx(
    *args: str, env: dict[str, str] | None = None, cwd: Path
) -> subprocess.CompletedProcess[str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith("QUANTX_")}
    base["PYTHONPATH"] = str(ROOT / "python")
    return subprocess.run(
        [sys.executable, "-m", "adapters.cli.main", *args],
        capture_output=True,
        text=True,
        env={**base, **(env or {})},
        cwd=cwd,
        timeout=60,
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ((), "live trading needs --live"),
        (("--live",), "config value exchange: missing (rule: required)"),
        (("--live", "--exchange", "kraken", "--symbol", "X"), "config value exchange = 'kraken'"),
        (
            ("--live", "--exchange", "binance", "--symbol", "BTC/USDT"),
            "no API keys for binance (rule: set QUANTX_BINANCE_API_KEY",
        ),
    ],
)
def test_refusals_are_one_line_with_exit_2(
    tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    done = quantx("live", *args, cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == "" and done.stderr.startswith("quantx: error: ")
    assert message in done.stderr and len(done.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "quantx-data").exists()  # nothing written


def test_a_key_file_others_can_read_is_refused_without_showing_the_key(tmp_path: Path) -> None:
    keys = tmp_path / "keys.json"
    keys.write_text('{"binance": {"apiKey": "visible-key-123", "secret": "visible-secret-456"}}')
    keys.chmod(0o644)
    done = quantx(
        "live", "--live", "--exchange", "binance", "--symbol", "BTC/USDT", "--key-file", str(keys),
        cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2 and "chmod 600" in done.stderr
    assert "visible-" not in done.stderr + done.stdout


def test_resume_takes_only_a_run_of_its_own_mode(tmp_path: Path) -> None:
    from adapters.cli.main import UserError
    from adapters.cli.resume import resumed_config
    from adapters.config import LiveConfig
    from adapters.store.sqlite import SqliteStore
    from engine.domain.journal import RunStarted

    with pytest.raises(UserError, match="no store at"):
        resumed_config(tmp_path, "bt-1", "live", LiveConfig)
    started = RunStarted(run_id="bt-1", ts_event=0, mode="backtest", strategy="m:C")
    SqliteStore.open(tmp_path / "quantx.db", run=started).close()
    with pytest.raises(UserError, match="--resume bt-1: not a live run"):
        resumed_config(tmp_path, "bt-1", "live", LiveConfig)
