"""`quantx live` as a real process against the fake Binance (USDⓈ-M) on 127.0.0.1.

- SIGTERM is an emergency stop: the run holds a real position and a resting order at
  the fake; it cancels, flattens and verifies flat there, and ends `killed`.
- Crash tests: the process is killed with SIGKILL (failpoints, `adapters.failpoints`)
  between journaling an order and sending it, and between the exchange's answer and
  its handling; `--resume` then reconciles. Afterwards no client order id was sent twice,
  every fill at the fake is journaled exactly once, and the journal's position equals
  the fake's.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from fakex import FakeBinance
from fakex.testing import CAPTURES

ROOT = Path(__file__).resolve().parents[2]
SYMBOL = "BTC/USDT:USDT"

STRATEGY = '''
from decimal import Decimal
from engine.domain import OrderSide, OrderType
from engine.strategy import EmptyParams, Strategy


class HoldAndRest(Strategy[EmptyParams]):
    """Once per start, with no position: long 0.01 at market and a buy resting 1% under."""

    done = False

    def on_book(self, ctx, top):
        if self.done or top.bid is None or top.ask is None:
            return
        self.done = True
        if ctx.position(top.symbol).quantity != 0:
            return
        ctx.submit(
            symbol=top.symbol, side=OrderSide.BUY, order_type=OrderType.MARKET,
            quantity=Decimal("0.01"),
        )
        ctx.submit(
            symbol=top.symbol, side=OrderSide.BUY, order_type=OrderType.LIMIT,
            quantity=Decimal("0.002"), price=top.bid * Decimal("0.99"),
        )
'''

CONFIG = """
[live]
exchange = "binanceusdm"
symbols = ["BTC/USDT:USDT"]
exchange_setup = "fakex.remote:configure"
[live.connection]
stale_after_s = 30
"""


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    with FakeBinance(captures=CAPTURES, seed=0) as fake:
        fake.set_balance("USDT", "10000", market="futures")
        fake.play("futures", speed=1.0)
        yield fake


def _setup(tmp_path: Path) -> None:
    (tmp_path / "hold.py").write_text(STRATEGY)
    (tmp_path / "live.toml").write_text(CONFIG)


def _env(fake: FakeBinance, failpoints: str = "") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("QUANTX_")}
    env.update(
        PYTHONPATH=os.pathsep.join([str(ROOT / "python"), str(ROOT / "tests")]),
        QUANTX_FAKEX_URL=fake.url,
        QUANTX_BINANCEUSDM_API_KEY="test-key",
        QUANTX_BINANCEUSDM_SECRET="test-secret",
    )
    if failpoints:
        env["QUANTX_FAILPOINTS"] = failpoints
    return env


def _live(tmp_path: Path, *args: str) -> list[str]:
    return [
        sys.executable, "-m", "adapters.cli.main", "live", "--live", "--out",
        str(tmp_path / "data"), "--json", *args,
    ]  # fmt: skip


def _new(tmp_path: Path, run_id: str, *extra: str) -> list[str]:
    return _live(
        tmp_path, "--config", str(tmp_path / "live.toml"), "--strategy",
        f"{tmp_path / 'hold.py'}:HoldAndRest", "--run-id", run_id, *extra,
    )  # fmt: skip


def _journal(tmp_path: Path, run_id: str) -> list[tuple[str, dict[str, object]]]:
    db = tmp_path / "data" / "quantx.db"
    conn = sqlite3.connect(f"{db.resolve().as_uri()}?mode=ro", uri=True, timeout=5)
    try:
        rows = conn.execute(
            "SELECT type, body FROM journal WHERE run_id = ? ORDER BY seq", (run_id,)
        ).fetchall()
    finally:
        conn.close()
    return [(t, orjson.loads(b)) for t, b in rows]


def _check_against_the_fake(fake: FakeBinance, tmp_path: Path, run_id: str) -> None:
    """No duplicate order, no lost or doubled fill, the same position."""
    ids = [o.client_id for o in fake.orders.values()]
    assert len(ids) == len(set(ids)), f"a client order id was sent twice: {ids}"
    journal = _journal(tmp_path, run_id)
    fills = [b for t, b in journal if t == "OrderFilled"]
    trade_ids = [str(f["fill"]["trade_id"]) for f in fills]  # type: ignore[index]
    assert len(trade_ids) == len(set(trade_ids)), "a fill was journaled twice"
    at_fake = sorted(str(f.trade_id) for f in fake.trades)
    assert sorted(trade_ids) == at_fake, "journal and exchange disagree on the fills"
    snapshots = [b for t, b in journal if t == "PositionSnapshot"]
    ours = Decimal(str(snapshots[-1]["quantity"])) if snapshots else Decimal(0)
    position = fake.positions.get("BTCUSDT")
    theirs = Decimal(0) if position is None else position.amount
    assert ours == theirs


def _wait_for(predicate: object, what: str, timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while not predicate():  # type: ignore[operator]
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def test_sigterm_flattens_a_real_position_at_the_fake(fake: FakeBinance, tmp_path: Path) -> None:
    _setup(tmp_path)
    proc = subprocess.Popen(
        _new(tmp_path, "lv-term"), env=_env(fake), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        _wait_for(
            lambda: (
                any(o.status == "NEW" for o in fake.orders.values())
                and fake.positions.get("BTCUSDT") is not None
                and fake.positions["BTCUSDT"].amount == Decimal("0.01")
            ),
            "the position and the resting order at the fake",
        )
        status = subprocess.run(
            [sys.executable, "-m", "adapters.cli.main", "status", "--store",
             str(tmp_path / "data" / "quantx.db"), "--json"],
            env=_env(fake), capture_output=True, timeout=60,
        )  # fmt: skip
        health = orjson.loads(status.stdout)["live"]["lv-term"]
        assert health["connections"]["venue"]["connected"] is True
        assert health["connections"]["feed"]["connected"] is True
        assert health["status"]["feed BTC/USDT:USDT"] == "fresh"
        assert health["status"]["trading_state"] == "ACTIVE"
        assert health["status"]["reconciliation"] == "ok"
        assert 0 < health["rate_limit_headroom"]["binanceusdm"] <= 1
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    summary = orjson.loads(out)
    assert summary["status"] == "killed" and summary["emergency_stop"] == "done"
    assert summary["trading_state"] == "HALTED"
    assert fake.positions["BTCUSDT"].amount == 0  # flat at the exchange, not just here
    assert not [o for o in fake.orders.values() if o.status in ("NEW", "PARTIALLY_FILLED")]
    sells = [o for o in fake.orders.values() if o.side == "SELL"]
    assert len(sells) >= 1 and all(o.reduce_only for o in sells)
    phases = [b["phase"] for t, b in _journal(tmp_path, "lv-term") if t == "EmergencyStop"]
    assert phases[0] == "started" and "verified" in phases and phases[-1] == "done"
    _check_against_the_fake(fake, tmp_path, "lv-term")


@pytest.mark.parametrize("point", ["live.before_send", "live.after_send"])
def test_sigkill_then_resume_loses_and_duplicates_nothing(
    fake: FakeBinance, tmp_path: Path, point: str
) -> None:
    _setup(tmp_path)
    run = f"lv-{point.split('.')[1]}"
    crashed = subprocess.run(
        _new(tmp_path, run), env=_env(fake, point), capture_output=True, timeout=120
    )
    assert crashed.returncode == -signal.SIGKILL, crashed.stderr.decode()[-2000:]
    submitted = [b for t, b in _journal(tmp_path, run) if t == "OrderSubmitted"]
    assert submitted, "the crash came before any order was journaled"
    if point == "live.before_send":
        assert fake.orders == {}  # journaled, never sent
    else:
        assert fake.orders  # sent and answered by the exchange, not handled here
    resumed = subprocess.run(
        _live(tmp_path, "--resume", run, "--duration", "4"),
        env=_env(fake),
        capture_output=True,
        timeout=120,
    )
    assert resumed.returncode == 0, resumed.stderr.decode()[-3000:]
    summary = orjson.loads(resumed.stdout)
    assert summary["resumed"] and summary["status"] == "completed"
    journal = _journal(tmp_path, run)
    notes = [b for t, b in journal if t == "Reconciled"]
    assert notes and notes[-1]["action"] == "done"
    if point == "live.before_send":
        # The orders that never left are resolved as never sent, not sent again.
        rejected = [b for t, b in journal if t == "OrderRejected"]
        assert {r["reason"] for r in rejected} == {"RECONCILE_NOT_AT_VENUE"}
    else:
        # The market order filled at the exchange while nobody listened: found and booked.
        assert [b for t, b in journal if t == "OrderFilled"]
    _check_against_the_fake(fake, tmp_path, run)


def test_a_dropped_connection_is_reconciled_before_trading_goes_on(
    fake: FakeBinance, tmp_path: Path
) -> None:
    _setup(tmp_path)
    run = "lv-drop"
    proc = subprocess.Popen(
        _new(tmp_path, run), env=_env(fake), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )

    def reconciliations() -> int:
        return sum(
            1 for t, b in _journal(tmp_path, run) if t == "Reconciled" and b["action"] == "done"
        )

    try:
        _wait_for(lambda: fake.orders and reconciliations() >= 1, "the first reconciliation")
        time.sleep(1.0)  # the private stream's first connection reconciles once more
        before = reconciliations()
        fake.faults.drop_ws(after_messages=0, refuse_s=1.0)  # every websocket, user stream too
        _wait_for(lambda: reconciliations() > before, "a reconciliation after the reconnect")
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err.decode()
    states = [
        (b["state"], b["reason"]) for t, b in _journal(tmp_path, run) if t == "TradingStateChanged"
    ]
    # Each reconnect held trading while reconciling, then let it go on; then the kill.
    held = [i for i, (s, r) in enumerate(states) if str(r).startswith("RECONCILING: private")]
    assert len(held) >= 2, states
    for i in held:
        assert states[i][0] == "HALTED" and states[i + 1][0] == "ACTIVE", states
    _check_against_the_fake(fake, tmp_path, run)
