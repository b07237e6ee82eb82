"""LiveGuard: what a live connection's troubles do to the trading state, between batches.

A live run trades only while it can see the market and trusts its picture of the
account. The guard turns what the feed and the venue report into holds on the trading
state (through `TradingControl`, so every change is journaled):
- a symbol's feed STALE -> REDUCING until every stale symbol is FRESH again;
- a feed that GAVE_UP reconnecting -> HALTED and a critical alert; only a human lifts it;
- the venue's private stream gave up reconnecting -> HALTED and a critical alert, until
  it is up again;
- the venue's private stream (re)connected -> HALTED while reconciliation runs (orders,
  fills and balances may have moved while we could not see them); a successful
  reconciliation lifts it, a failed one keeps it and is retried every `retry_s`.
The guard only ever lifts what it put on: when a hold ends it moves the state back to
the strictest of its remaining holds and the state it found, and only if the state is
still the one it set (a breaker, a kill or a human that changed it since wins).
"""

from __future__ import annotations

from collections.abc import Callable

from engine.domain.enums import TradingState
from engine.ports.clock import Clock
from engine.ports.feed import FeedAlert
from engine.ports.notifier import AlertLevel, Notifier
from engine.services.health import HealthMonitor
from engine.services.reconcile import ReconcileReport
from engine.services.trading_state import SEVERITY, TradingControl

__all__ = ["LiveGuard"]

RECONCILE = "reconcile"


class LiveGuard:
    def __init__(
        self,
        *,
        control: TradingControl,
        notifier: Notifier,
        clock: Clock,
        reconcile: Callable[[], ReconcileReport],
        connections: Callable[[], int],
        health: HealthMonitor | None = None,
        retry_s: float = 5.0,
    ) -> None:
        self._control = control
        self._notifier = notifier
        self._clock = clock
        self._reconcile = reconcile
        self._connections = connections
        self._health = health
        self._retry_ns = int(retry_s * 1e9)
        self._holds: dict[str, TradingState] = {}
        self._baseline = control.state
        self._mine: TradingState | None = None
        self._seen_connections = connections()
        self._next_try: int | None = None
        self.last_report: ReconcileReport | None = None

    @property
    def holds(self) -> dict[str, TradingState]:
        return dict(self._holds)

    @property
    def reconciled(self) -> bool:
        """The last reconciliation succeeded and none is pending."""
        return RECONCILE not in self._holds and self.last_report is not None

    def reconcile_now(self, why: str) -> ReconcileReport:
        """Holds trading, reconciles; lifts the hold on success, else retries later."""
        self._hold(RECONCILE, TradingState.HALTED, f"RECONCILING: {why}")
        report = self._reconcile()
        self.last_report = report
        if self._health is not None:
            self._health.set_status("reconciliation", "ok" if report.ok else "failed")
        if report.ok:
            self._next_try = None
            self._release(RECONCILE, f"reconciled ({report.summary()})")
        else:
            self._next_try = self._clock.now_ns() + self._retry_ns
            self._notifier.alert(
                AlertLevel.CRITICAL,
                "reconciliation failed: trading held",
                f"{why}: {report.error}",
            )
        return report

    def check(self) -> None:
        """Between batches: a new connection or a due retry reconciles."""
        seen = self._connections()
        if seen != self._seen_connections:
            self._seen_connections = seen
            self.reconcile_now(f"private stream connection #{seen}")
        elif self._next_try is not None and self._clock.now_ns() >= self._next_try:
            self.reconcile_now("retry")

    def on_venue_stream(self, state: str) -> None:
        """The venue's private stream state (up, down, gave_up, polling, ...): a stream
        that gave up reconnecting halts new orders with a critical alert until it is up
        again (its reconnect then reconciles, see `check`)."""
        if state == "gave_up" and "venue" not in self._holds:
            self._hold("venue", TradingState.HALTED, "VENUE_STREAM_LOST: reconnects exhausted")
            self._notifier.alert(
                AlertLevel.CRITICAL, "order stream lost: trading halted", "reconnects exhausted"
            )
        elif state in ("up", "polling") and "venue" in self._holds:
            self._release("venue", "order stream up again")

    def on_feed(self, alert: FeedAlert) -> None:
        key = f"feed:{alert.symbol}"
        if alert.kind == "STALE":
            self._hold(key, TradingState.REDUCING, f"FEED_STALE: symbol={alert.symbol}")
            self._notifier.alert(AlertLevel.WARNING, "market data stale", alert.symbol)
        elif alert.kind == "FRESH":
            if self._holds.get(key) is TradingState.REDUCING:
                self._release(key, f"market data fresh: {alert.symbol}")
        elif alert.kind == "GAVE_UP":
            self._holds[f"lost:{alert.symbol}"] = TradingState.HALTED
            if self._control.tighten(
                TradingState.HALTED, f"FEED_LOST: symbol={alert.symbol} {alert.detail}".strip()
            ):
                self._mine = TradingState.HALTED
            self._notifier.alert(
                AlertLevel.CRITICAL, "market data lost: trading halted", alert.detail
            )
        if self._health is not None:
            stale = sorted(k[5:] for k in self._holds if k.startswith("feed:"))
            self._health.set_status("stale_symbols", ",".join(stale) or "-")

    # --- holds ------------------------------------------------------------------------------
    def _hold(self, key: str, state: TradingState, reason: str) -> None:
        if self._mine is not None and self._control.state is not self._mine:
            # Someone else set the state since (a human resumed, a breaker tripped): the
            # guard's old picture is theirs now; holds only a human lifts are gone.
            self._holds = {k: v for k, v in self._holds.items() if not k.startswith("lost:")}
            self._mine = None
        if not any(SEVERITY[s] for s in self._holds.values()):
            self._baseline = self._control.state
        self._holds[key] = state
        if self._control.tighten(state, reason):
            self._mine = state

    def _release(self, key: str, why: str) -> None:
        self._holds.pop(key, None)
        if self._mine is None or self._control.state is not self._mine:
            return  # someone else set the state since: theirs to lift
        target = self._baseline
        for state in self._holds.values():
            if SEVERITY[state] > SEVERITY[target]:
                target = state
        if SEVERITY[target] < SEVERITY[self._control.state]:
            self._control.resume(why, state=target)
            self._mine = target if target is not self._baseline else None
