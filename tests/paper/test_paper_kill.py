"""`quantx kill` against a real `quantx paper` process: the run holds a position and
resting orders; the kill flattens it through the loopback control endpoint, the run
exits as `killed`, and its journal shows every step. Plus the kill command's one-line
user errors (unknown run, stale control file, wrong token) and `quantx status` live."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import orjson
import pytest
from click.testing import CliRunner

import adapters
from adapters.cli.main import main
from adapters.clocks import SimulatedClock
from adapters.http.control import ControlInfo, control_path, new_token, read_control, write_control
from adapters.http.health import HealthServer
from engine.services.health import HealthMonitor

PYTHON_DIR = Path(adapters.__file__).resolve().parents[1]
RUN = "pp-kill"

STRATEGY = '''
from decimal import Decimal
from engine.domain import OrderSide, OrderType
from engine.strategy import EmptyParams, Strategy


class HoldAndRest(Strategy[EmptyParams]):
    """Once: long 0.01 at market, a buy resting 1% under the bid, a sell 1% over the ask."""

    done = False

    def on_book(self, ctx, top):
        if self.done or top.bid is None or top.ask is None:
            return
        self.done = True
        symbol = top.symbol
        ctx.submit(
            symbol=symbol, side=OrderSide.BUY, order_type=OrderType.MARKET,
            quantity=Decimal("0.01"),
        )
        rests = (
            (OrderSide.BUY, top.bid * Decimal("0.99")),
            (OrderSide.SELL, top.ask * Decimal("1.01")),
        )
        for side, price in rests:
            ctx.submit(
                symbol=symbol, side=side, order_type=OrderType.LIMIT, quantity=Decimal("0.002"),
                price=price.quantize(Decimal("0.1")),
            )
'''


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), env.get("PYTHONPATH")]))
    return env


def _types(db: Path) -> list[tuple[str, str]]:
    if not db.exists():
        return []
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
    try:
        rows = conn.execute("SELECT type, body FROM journal WHERE run_id = ? ORDER BY seq", (RUN,))
        return [(t, b) for t, b in rows.fetchall()]
    except sqlite3.Error:
        return []
    finally:
        conn.close()


def test_quantx_kill_flattens_a_running_paper_run(tmp_path: Path) -> None:
    (tmp_path / "hold.py").write_text(STRATEGY)
    db = tmp_path / "quantx.db"
    cmd = [
        sys.executable, "-m", "adapters.cli.main", "paper", "--strategy",
        f"{tmp_path / 'hold.py'}:HoldAndRest", "--out", str(tmp_path), "--run-id", RUN,
        "--speed", "2", "--json",
    ]  # fmt: skip
    proc = subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 120
        # Wait until the position is committed and both limit orders rest.
        while sum(t == "OrderAccepted" for t, _ in _types(db)) < 3:
            assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
            assert time.monotonic() < deadline, "the run never got its orders in"
            time.sleep(0.05)
        control = control_path(tmp_path, RUN)
        info = read_control(control, RUN)
        assert (control.stat().st_mode & 0o777) == 0o600 and info.pid == proc.pid
        status = CliRunner().invoke(main, ["status", "--store", str(db), "--json"])
        live = orjson.loads(status.output)["live"]
        assert live[RUN]["status"]["trading_state"] == "ACTIVE"
        assert live[RUN]["connections"]["feed"]["connected"] is True
        text = CliRunner().invoke(main, ["status", "--store", str(db)]).output
        assert f"run {RUN} (live): trading ACTIVE, emergency stop idle" in text

        result = CliRunner().invoke(main, ["kill", RUN, "--out", str(tmp_path), "--reason", "e2e"])
        assert result.exit_code == 0, result.output
        assert "emergency stop requested (e2e)" in result.output and "stopped" in result.output
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    summary = orjson.loads(out)
    assert summary["status"] == "killed"
    assert summary["trading_state"] == "HALTED" and summary["emergency_stop"] == "done"
    ((_, acc),) = summary["accounts"].items()
    assert acc["positions"] and all(Decimal(q) == 0 for q in acc["positions"].values())
    assert not control.exists()
    journal = _types(db)
    steps = [orjson.loads(b)["phase"] for t, b in journal if t == "EmergencyStop"]
    assert steps[:3] == ["started", "cancel", "slice"] and steps[-2:] == ["verified", "done"]
    halted = [orjson.loads(b) for t, b in journal if t == "TradingStateChanged"]
    assert [(h["state"], h["reason"]) for h in halted] == [("HALTED", "KILL: e2e")]
    ended = orjson.loads(journal[-1][1])
    assert journal[-1][0] == "RunEnded" and ended["status"] == "killed"
    assert ended["reason"] == "e2e (emergency stop done)"
    conn = sqlite3.connect(db)
    try:
        open_orders = conn.execute(
            "SELECT count(*) FROM orders WHERE run_id = ? AND status NOT IN "
            "('FILLED','CANCELED','REJECTED','DENIED','EXPIRED')",
            (RUN,),
        ).fetchone()[0]
        positions = conn.execute(
            "SELECT quantity FROM positions WHERE run_id = ?", (RUN,)
        ).fetchall()
    finally:
        conn.close()
    assert open_orders == 0
    assert [Decimal(q) for (q,) in positions] == [Decimal(0)]


def kill(*args: str) -> object:
    return CliRunner().invoke(main, ["kill", *args], catch_exceptions=False)


def test_kill_user_errors_are_one_line_with_exit_2(tmp_path: Path) -> None:
    result = kill("pp-nope", "--out", str(tmp_path))
    assert result.exit_code == 2  # type: ignore[attr-defined]
    assert "run pp-nope: no control file at" in result.output  # type: ignore[attr-defined]
    assert "Traceback" not in result.output  # type: ignore[attr-defined]
    # A control file whose process is gone.
    dead = ControlInfo(run_id="pp-dead", pid=2**22 + 4321, port=9, token=new_token())
    write_control(control_path(tmp_path, "pp-dead"), dead)
    result = kill("pp-dead", "--out", str(tmp_path))
    assert result.exit_code == 2 and "is stale (pid 4198625 is not running" in result.output  # type: ignore[attr-defined]
    # A live endpoint that does not know the token in the file.
    server = HealthServer(HealthMonitor(SimulatedClock()), token=new_token(), on_kill=print)
    port = server.start()
    try:
        wrong = ControlInfo(run_id="pp-live", pid=os.getpid(), port=port, token=new_token())
        write_control(control_path(tmp_path, "pp-live"), wrong)
        result = kill("pp-live", "--out", str(tmp_path))
        assert result.exit_code == 2  # type: ignore[attr-defined]
        assert "refused the token (HTTP 401" in result.output  # type: ignore[attr-defined]
        assert server.kills == []
    finally:
        server.stop()
    # Nobody listens on the port any more.
    result = kill("pp-live", "--out", str(tmp_path), "--no-wait")
    assert result.exit_code == 2 and "does not answer" in result.output  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("toml", "message"),
    [
        ("[paper.safety]\nmax_drawdown = 1.5\n", "config value safety.max_drawdown = 1.5"),
        ('[paper.safety]\ndaily_loss_state = "ACTIVE"\n', "safety.daily_loss_state = 'ACTIVE'"),
        ("[paper.safety]\nmax_rejects = -1\n", "safety.max_rejects = -1"),
        ('[paper.safety]\nwebhook_url = "ftp://x"\n', "safety.webhook_url = 'ftp://x'"),
    ],
)
def test_bad_safety_settings_are_one_line(tmp_path: Path, toml: str, message: str) -> None:
    cfg = tmp_path / "p.toml"
    cfg.write_text(toml)
    result = CliRunner().invoke(main, ["paper", "--config", str(cfg), "--out", str(tmp_path)])
    assert result.exit_code == 2 and message in result.output
    assert "Traceback" not in result.output
