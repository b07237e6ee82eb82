"""HealthMonitor figures by hand (staleness, nearest-rank ack latency percentiles, rates),
the loopback endpoint (/health JSON, /metrics Prometheus text, /kill behind a bearer
token) and the 0600 control file."""

from __future__ import annotations

import os
import stat
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from adapters.clocks import SimulatedClock
from adapters.http.control import (
    ControlError,
    ControlInfo,
    control_path,
    new_token,
    read_control,
    write_control,
)
from adapters.http.health import HealthServer, prometheus_text
from adapters.http.loopback import LoopbackServer
from engine.services.health import HealthMonitor, percentile

SEC = 1_000_000_000
MS = 1_000_000


def fed_monitor() -> tuple[HealthMonitor, SimulatedClock]:
    clock = SimulatedClock(100 * SEC)
    m = HealthMonitor(clock)
    m.set_connection("feed", True)
    clock.advance_to(101 * SEC)
    m.set_connection("venue", True)
    m.set_connection("venue", True)  # no change: its uptime keeps counting from 101 s
    m.on_market("BTCUSDT", 102 * SEC)
    m.on_market("ETHUSDT", 104 * SEC)
    # Ten orders acknowledged after 1..10 ms; one denied (no ack, no sample).
    for i in range(1, 11):
        m.on_submitted(f"c{i}", 104 * SEC)
        m.on_accepted(f"c{i}", 104 * SEC + i * MS)
    m.on_submitted("c11", 104 * SEC)
    m.on_closed("c11")
    m.on_accepted("c11", 105 * SEC)  # an ack for nothing in flight: ignored
    m.on_reject(40 * SEC)  # more than a minute before now (105 s): total only
    m.on_reject(104 * SEC)
    m.on_error()
    m.set_rate_limit_headroom("binance.weight", 0.25)
    m.set_rate_limit_headroom("orders", 7)  # clamped to 1
    m.set_status("trading_state", "HALTED")
    m.set_status("emergency_stop", "running")
    clock.advance_to(105 * SEC)
    return m, clock


def test_the_snapshot_by_hand() -> None:
    m, _ = fed_monitor()
    snap = m.snapshot()
    assert snap["now_ns"] == 105 * SEC and snap["uptime_ns"] == 5 * SEC
    assert snap["connections"] == {
        "feed": {"connected": True, "since_ns": 100 * SEC, "uptime_ns": 5 * SEC},
        "venue": {"connected": True, "since_ns": 101 * SEC, "uptime_ns": 4 * SEC},
    }
    assert snap["feeds"] == {
        "BTCUSDT": {"last_ns": 102 * SEC, "staleness_ns": 3 * SEC},
        "ETHUSDT": {"last_ns": 104 * SEC, "staleness_ns": 1 * SEC},
    }
    # Nearest rank over 1..10 ms: p50 = 5th, p90 = 9th, p99 = 10th.
    assert snap["ack_latency_ns"] == {
        "count": 10,
        "p50": 5 * MS,
        "p90": 9 * MS,
        "p99": 10 * MS,
        "max": 10 * MS,
    }
    assert snap["rejects"] == {"total": 2, "last_minute": 1}
    assert snap["errors"] == {"total": 1, "last_minute": 1}
    assert snap["rate_limit_headroom"] == {"binance.weight": 0.25, "orders": 1.0}
    assert percentile([], 0.5) is None and percentile([7], 0.99) == 7
    m.set_connection("feed", False)
    assert m.snapshot()["connections"]["feed"] == {
        "connected": False,
        "since_ns": 105 * SEC,
        "uptime_ns": 0,
    }


def test_prometheus_text() -> None:
    m, _ = fed_monitor()
    text = prometheus_text(m.snapshot())
    lines = text.splitlines()
    for line in (
        "quantx_uptime_seconds 5.0",
        'quantx_connection_up{name="feed"} 1',
        'quantx_connection_uptime_seconds{name="venue"} 4.0',
        'quantx_feed_staleness_seconds{symbol="BTCUSDT"} 3.0',
        'quantx_order_ack_latency_seconds{quantile="0.5"} 0.005',
        'quantx_order_ack_latency_seconds{quantile="0.99"} 0.01',
        "quantx_order_ack_latency_seconds_count 10",
        "quantx_rejects_total 2",
        "quantx_rejects_last_minute 1",
        'quantx_rate_limit_headroom{name="binance.weight"} 0.25',
        'quantx_trading_state{state="HALTED"} 1',
        'quantx_trading_state{state="ACTIVE"} 0',
        'quantx_emergency_stop{phase="running"} 1',
        "# TYPE quantx_rejects_total counter",
        "# TYPE quantx_order_ack_latency_seconds summary",
    ):
        assert line in lines, line
    assert text.endswith("\n")
    # Every sample line is `name{labels} value` with a number.
    for line in lines:
        if not line.startswith("#"):
            float(line.rsplit(" ", 1)[1])
    m.set_connection('we"ird\\name', True)
    assert 'quantx_connection_up{name="we\\"ird\\\\name"} 1' in prometheus_text(m.snapshot())


@pytest.fixture
def server() -> Iterator[tuple[HealthServer, list[str], str]]:
    m, _ = fed_monitor()
    kills: list[str] = []
    token = new_token()
    s = HealthServer(m, token=token, on_kill=kills.append)
    s.start()
    yield s, kills, token
    s.stop()


def call(
    url: str, *, method: str = "GET", token: str | None = None, body: bytes | None = None
) -> tuple[int, bytes, str]:
    req = urllib.request.Request(url, data=body, method=method)
    if token is not None:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=5) as resp:
            return resp.status, resp.read(), resp.headers.get("Content-Type", "")
    except urllib.error.HTTPError as err:
        return err.code, err.read(), err.headers.get("Content-Type", "")


def test_health_and_metrics_over_http(server: tuple[HealthServer, list[str], str]) -> None:
    s, _, _ = server
    base = f"http://127.0.0.1:{s.port}"
    status, body, kind = call(f"{base}/health")
    assert status == 200 and kind.startswith("application/json")
    assert orjson.loads(body)["feeds"]["BTCUSDT"]["staleness_ns"] == 3 * SEC
    status, body, kind = call(f"{base}/metrics")
    assert status == 200 and kind.startswith("text/plain")
    assert b"quantx_rejects_total 2\n" in body


def test_kill_needs_the_token(server: tuple[HealthServer, list[str], str]) -> None:
    s, kills, token = server
    url = f"http://127.0.0.1:{s.port}/kill"
    assert call(url, method="POST")[0] == 401
    assert call(url, method="POST", token="x" * 43)[0] == 401
    assert call(url, method="POST", token=token, body=b"{not json")[0] == 400
    assert kills == []
    status, body, _ = call(url, method="POST", token=token, body=b'{"reason": "desk says stop"}')
    assert status == 202 and orjson.loads(body) == {"accepted": True, "reason": "desk says stop"}
    status, body, _ = call(url, method="POST", token=token)
    assert status == 202
    assert kills == ["desk says stop", "kill requested over HTTP"]
    assert call(f"http://127.0.0.1:{s.port}/health", method="POST")[0] == 405


def test_only_loopback_and_sane_tokens() -> None:
    m, _ = fed_monitor()
    with pytest.raises(ValueError, match="loopback"):
        HealthServer(m, token=new_token(), on_kill=print, host="0.0.0.0")
    with pytest.raises(ValueError, match="token"):
        HealthServer(m, token="short", on_kill=print)
    with pytest.raises(ValueError, match="port"):
        LoopbackServer(None, port=70_000)  # type: ignore[arg-type]
    first = HealthServer(m, token=new_token(), on_kill=print)
    port = first.start()
    try:
        taken = HealthServer(m, token=new_token(), on_kill=print, port=port)
        with pytest.raises(OSError, match="cannot serve"):
            taken.start()
    finally:
        first.stop()


def test_the_control_file_is_0600_and_read_back(tmp_path: Path) -> None:
    path = control_path(tmp_path, "pp-1")
    assert path == tmp_path / "pp-1.control.json"
    with pytest.raises(ControlError, match="no control file"):
        read_control(path, "pp-1")
    info = ControlInfo(run_id="pp-1", pid=os.getpid(), port=1234, token=new_token())
    write_control(path, info)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert read_control(path, "pp-1") == info and info.alive
    assert info.url == "http://127.0.0.1:1234"
    with pytest.raises(ControlError, match="names run 'pp-1'"):
        read_control(path, "pp-2")
    path.write_text("{")
    with pytest.raises(ControlError, match="unreadable"):
        read_control(path, "pp-1")
    assert not ControlInfo(run_id="x", pid=2**22 + 12345, port=1, token="t").alive
