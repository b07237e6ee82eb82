"""Crash recovery of a paper run: the process is killed with SIGKILL at several moments,
then the run is resumed on the same store. What the resumed run rebuilds must equal
exactly what the killed one had committed (read independently, from the read-model
tables), and the run must go on from there without repeating an id or losing a fill."""

from __future__ import annotations

import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

import adapters
from adapters.cli.paper_cmd import _resumed_config
from adapters.paper import PaperAccount, build_paper
from adapters.store.sqlite import SqliteStore
from engine.strategy import load_strategy
from recovery_harness import committed_state

RUN = "pp-crash"
PYTHON_DIR = Path(adapters.__file__).resolve().parent.parent
CONFIG = """
[paper]
speed = 40.0
params = { half_spread_ticks = 1, requote_ticks = 1, quote_size = "0.005", max_inventory = "0.02" }
"""
# Kill points: the number of committed journal records the run must have before the
# kill, each with a seeded random delay after it (so the kill lands mid-batch as often
# as between batches).
KILL_POINTS = [(40, 1), (400, 2), (1500, 3)]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PYTHON_DIR), env.get("PYTHONPATH")]))
    return env


def _count(db: Path) -> int:
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=1)
        try:
            return int(conn.execute("SELECT count(*) FROM journal").fetchone()[0])
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def _paper(*args: str) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-m", "adapters.cli.main", "paper", *args]
    return subprocess.Popen(cmd, env=_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE)


@pytest.mark.parametrize(("records", "seed"), KILL_POINTS)
def test_a_paper_run_killed_with_sigkill_resumes_exactly(
    tmp_path: Path, records: int, seed: int
) -> None:
    config = tmp_path / "paper.toml"
    config.write_text(CONFIG)
    db = tmp_path / "quantx.db"
    proc = _paper("--config", str(config), "--out", str(tmp_path), "--run-id", RUN)
    deadline = time.monotonic() + 120
    while _count(db) < records:
        assert proc.poll() is None, proc.stderr.read().decode() if proc.stderr else ""
        assert time.monotonic() < deadline, "the run never committed enough"
        time.sleep(0.02)
    time.sleep(random.Random(seed).uniform(0.0, 0.3))
    proc.send_signal(signal.SIGKILL)
    proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL

    committed = committed_state(db, RUN)
    assert committed["balances"], "funding is committed with the first batch"

    # Restart in this process exactly as `quantx paper --resume` does, and compare what
    # it rebuilt (before it sends anything) with the committed read models.
    cfg = _resumed_config(tmp_path, RUN)
    store = SqliteStore.open(db, resume=RUN)
    last_ts = max(r.ts_event for _, r in store.records())
    accounts = [PaperAccount(a.name, tuple(a.data), dict(a.balances)) for a in cfg.accounts]
    run = build_paper(
        accounts,
        load_strategy(cfg.strategy, cfg.params),
        store=store,
        speed=cfg.speed,
        resume_from_ns=last_ts,
    )
    assert run.recovered is not None and run.recovered_state == committed
    ids_before = set(committed["orders"])
    store.close()

    # Then let the CLI resume it for real and run on; the journal must still add up.
    resumed = _paper("--resume", RUN, "--out", str(tmp_path), "--duration", "2", "--json")
    out, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err.decode()
    summary = orjson.loads(out)
    assert summary["resumed"] is True and summary["status"] == "completed"
    final = committed_state(db, RUN)
    assert ids_before <= set(final["orders"])
    new_ids = set(final["orders"]) - ids_before
    numbers = sorted(int(cid.rsplit("-", 1)[1]) for cid in final["orders"])
    assert numbers == list(range(1, len(numbers) + 1)), "ids continue with no gap or repeat"
    assert new_ids, "the resumed run kept trading"
    conn = sqlite3.connect(db)
    try:
        fills = conn.execute("SELECT side, quantity FROM fills WHERE run_id = ?", (RUN,)).fetchall()
        trade_ids = conn.execute(
            "SELECT count(*), count(DISTINCT trade_id) FROM fills WHERE run_id = ?", (RUN,)
        ).fetchone()
    finally:
        conn.close()
    assert trade_ids[0] == trade_ids[1], "no fill booked twice"
    signed = sum((Decimal(q) if side == "BUY" else -Decimal(q)) for side, q in fills)
    (position,) = final["positions"].values()
    assert position["quantity"] == signed
    (cash,) = final["balances"].values()
    assert cash == Decimal("100000") + position["realized_pnl"]
