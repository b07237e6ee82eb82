"""The health and control endpoint of a running engine, on loopback only.

- `GET /health`: the HealthMonitor's snapshot as JSON (200);
- `GET /metrics`: the same figures in the Prometheus text format (0.0.4), seconds for
  times, one gauge or counter per figure, labels for symbols and names;
- `POST /kill`: `Authorization: Bearer <token>` required (401 without it or with another
  token, compared in constant time); an optional JSON body `{"reason": "..."}`. Hands the
  reason to `on_kill` (the kernel's `request_kill`: the kill itself happens in the
  kernel's thread) and answers 202.
"""

from __future__ import annotations

import hmac
from collections.abc import Callable
from typing import Any

import orjson
from aiohttp import web

from adapters.http.loopback import LoopbackServer
from engine.services.health import HealthMonitor

__all__ = ["HealthServer", "prometheus_text"]

_NS = 1e9
_STATES = ("ACTIVE", "REDUCING", "HALTED")
_PHASES = ("idle", "running", "done", "failed")
_NO_TOKEN = "Authorization: Bearer <token> required (rule: the control file's token)"


class HealthServer:
    def __init__(
        self,
        monitor: HealthMonitor,
        *,
        token: str,
        on_kill: Callable[[str], None],
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if len(token) < 16:
            raise ValueError("token is shorter than 16 characters (rule: a random token)")
        self._monitor = monitor
        self._token = token.encode()
        self._on_kill = on_kill
        self.kills: list[str] = []
        app = web.Application()
        app.router.add_get("/health", self._health)
        app.router.add_get("/metrics", self._metrics)
        app.router.add_post("/kill", self._kill)
        self._server = LoopbackServer(app, host=host, port=port)

    @property
    def port(self) -> int:
        return self._server.port

    def start(self) -> int:
        return self._server.start()

    def stop(self) -> None:
        self._server.stop()

    async def _health(self, request: web.Request) -> web.Response:
        body = orjson.dumps(self._monitor.snapshot(), option=orjson.OPT_SORT_KEYS)
        return web.Response(body=body, content_type="application/json")

    async def _metrics(self, request: web.Request) -> web.Response:
        text = prometheus_text(self._monitor.snapshot())
        return web.Response(
            text=text,
            content_type="text/plain",
            charset="utf-8",
            headers={"X-Prometheus-Format": "0.0.4"},
        )

    async def _kill(self, request: web.Request) -> web.Response:
        given = request.headers.get("Authorization", "")
        scheme, _, token = given.partition(" ")
        if scheme != "Bearer" or not hmac.compare_digest(token.encode(), self._token):
            return _json({"error": _NO_TOKEN}, 401)
        reason = "kill requested over HTTP"
        if request.can_read_body:
            try:
                doc = orjson.loads(await request.read())
            except orjson.JSONDecodeError:
                return _json({"error": 'body is not JSON (rule: {"reason": "..."} or empty)'}, 400)
            if (
                isinstance(doc, dict)
                and isinstance(doc.get("reason"), str)
                and doc["reason"].strip()
            ):
                reason = doc["reason"].strip()[:200]
        self.kills.append(reason)
        self._on_kill(reason)
        return _json({"accepted": True, "reason": reason}, 202)


def _json(doc: dict[str, Any], status: int) -> web.Response:
    return web.Response(body=orjson.dumps(doc), status=status, content_type="application/json")


def _label(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _number(value: float | int) -> str:
    return repr(float(value)) if isinstance(value, float) else str(value)


def prometheus_text(snap: dict[str, Any]) -> str:
    """The snapshot in the Prometheus text exposition format (metric names `quantx_*`)."""
    lines: list[str] = []

    def metric(
        name: str, kind: str, help_text: str, samples: list[tuple[str, float | int]]
    ) -> None:
        lines.append(f"# HELP quantx_{name} {help_text}")
        lines.append(f"# TYPE quantx_{name} {kind}")
        for labels, value in samples:
            lines.append(f"quantx_{name}{labels} {_number(value)}")

    metric(
        "uptime_seconds",
        "gauge",
        "Seconds since the engine started (its clock).",
        [("", snap["uptime_ns"] / _NS)],
    )
    conns = snap["connections"]
    metric(
        "connection_up",
        "gauge",
        "1 while a connection is up.",
        [(f'{{name="{_label(n)}"}}', int(c["connected"])) for n, c in conns.items()],
    )
    metric(
        "connection_uptime_seconds",
        "gauge",
        "Seconds a connection has been up.",
        [(f'{{name="{_label(n)}"}}', c["uptime_ns"] / _NS) for n, c in conns.items()],
    )
    metric(
        "feed_staleness_seconds",
        "gauge",
        "Seconds since the last market data of a symbol.",
        [(f'{{symbol="{_label(s)}"}}', f["staleness_ns"] / _NS) for s, f in snap["feeds"].items()],
    )
    ack = snap["ack_latency_ns"]
    quantiles = [
        (f'{{quantile="{q}"}}', ack[key] / _NS)
        for q, key in (("0.5", "p50"), ("0.9", "p90"), ("0.99", "p99"))
        if ack[key] is not None
    ]
    metric(
        "order_ack_latency_seconds",
        "summary",
        "Order submitted to accepted (last 1024).",
        quantiles,
    )
    lines.append(f"quantx_order_ack_latency_seconds_count {ack['count']}")
    metric(
        "errors_total", "counter", "Errors reported by adapters.", [("", snap["errors"]["total"])]
    )
    metric(
        "rejects_total",
        "counter",
        "Venue rejects and risk denials.",
        [("", snap["rejects"]["total"])],
    )
    metric(
        "rejects_last_minute",
        "gauge",
        "Rejects and denials in the last 60 s.",
        [("", snap["rejects"]["last_minute"])],
    )
    metric(
        "errors_last_minute",
        "gauge",
        "Errors in the last 60 s.",
        [("", snap["errors"]["last_minute"])],
    )
    metric(
        "rate_limit_headroom",
        "gauge",
        "Share of a rate limit still available (0..1).",
        [(f'{{name="{_label(n)}"}}', v) for n, v in snap["rate_limit_headroom"].items()],
    )
    status = snap["status"]
    if "trading_state" in status:
        metric(
            "trading_state",
            "gauge",
            "1 for the current trading state.",
            [(f'{{state="{s}"}}', int(status["trading_state"] == s)) for s in _STATES],
        )
    if "emergency_stop" in status:
        metric(
            "emergency_stop",
            "gauge",
            "1 for the emergency stop's current phase.",
            [(f'{{phase="{p}"}}', int(status["emergency_stop"] == p)) for p in _PHASES],
        )
    return "\n".join(lines) + "\n"
