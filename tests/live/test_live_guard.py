"""LiveGuard: feed trouble and reconnects move the trading state, journaled, and the
guard lifts only what it put on."""

from __future__ import annotations

from adapters.store.memory import MemoryStore
from engine.domain import TradingState
from engine.domain.journal import TradingStateChanged
from engine.ports.feed import FeedAlert, FeedAlertKind
from engine.ports.notifier import AlertLevel
from engine.services.health import HealthMonitor
from engine.services.live_guard import LiveGuard
from engine.services.reconcile import ReconcileReport
from engine.services.trading_state import TradingControl

ACTIVE, REDUCING, HALTED = TradingState.ACTIVE, TradingState.REDUCING, TradingState.HALTED


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000_000

    def now_ns(self) -> int:
        return self.now


class Alerts:
    def __init__(self) -> None:
        self.got: list[tuple[AlertLevel, str, str]] = []

    def alert(self, level: AlertLevel, title: str, detail: str) -> None:
        self.got.append((level, title, detail))


class Rig:
    def __init__(self) -> None:
        self.store = MemoryStore()
        self.clock = Clock()
        self.control = TradingControl(store=self.store, clock=self.clock)
        self.alerts = Alerts()
        self.connections = 1
        self.outcomes: list[ReconcileReport] = []
        self.calls = 0
        self.health = HealthMonitor(self.clock)
        self.guard = LiveGuard(
            control=self.control,
            notifier=self.alerts,
            clock=self.clock,
            reconcile=self._reconcile,
            connections=lambda: self.connections,
            health=self.health,
            retry_s=5,
        )

    def _reconcile(self) -> ReconcileReport:
        self.calls += 1
        # While it runs, trading is held.
        assert self.control.state is HALTED
        return self.outcomes.pop(0) if self.outcomes else ReconcileReport()

    def reasons(self) -> list[tuple[str, str]]:
        return [
            (r.state.value, r.reason)
            for _, r in self.store.records()
            if isinstance(r, TradingStateChanged)
        ]


def alert(kind: str, symbol: str = "BTC/USDT") -> FeedAlert:
    return FeedAlert(kind=FeedAlertKind(kind), symbol=symbol, ts=0, detail="")


def test_a_stale_symbol_reduces_until_every_stale_symbol_is_fresh() -> None:
    rig = Rig()
    rig.guard.on_feed(alert("STALE", "A"))
    rig.guard.on_feed(alert("STALE", "B"))
    assert rig.control.state is REDUCING
    assert rig.health.snapshot()["status"]["stale_symbols"] == "A,B"
    rig.guard.on_feed(alert("FRESH", "A"))
    assert rig.control.state is REDUCING
    rig.guard.on_feed(alert("FRESH", "B"))
    assert rig.control.state is ACTIVE
    assert rig.reasons() == [
        ("REDUCING", "FEED_STALE: symbol=A"),
        ("ACTIVE", "RESUME: market data fresh: B"),
    ]


def test_a_breaker_halt_is_never_lifted_by_a_fresh_feed() -> None:
    rig = Rig()
    rig.guard.on_feed(alert("STALE"))
    rig.control.tighten(HALTED, "MAX_DRAWDOWN: 11%")
    rig.guard.on_feed(alert("FRESH"))
    assert rig.control.state is HALTED


def test_a_feed_that_gave_up_halts_and_alerts_and_stays_halted() -> None:
    rig = Rig()
    rig.guard.on_feed(alert("GAVE_UP"))
    assert rig.control.state is HALTED
    assert rig.alerts.got[-1][0] is AlertLevel.CRITICAL
    rig.guard.on_feed(alert("FRESH"))
    assert rig.control.state is HALTED  # a human resumes


def test_a_reconnect_holds_trading_while_reconciling_and_lifts_on_success() -> None:
    rig = Rig()
    rig.guard.check()
    assert rig.calls == 0  # no new connection
    rig.connections = 2
    rig.guard.check()
    assert rig.calls == 1 and rig.control.state is ACTIVE and rig.guard.reconciled
    assert [s for s, _ in rig.reasons()] == ["HALTED", "ACTIVE"]
    assert rig.reasons()[0][1] == "RECONCILING: private stream connection #2"


def test_a_failed_reconciliation_keeps_trading_held_and_is_retried() -> None:
    rig = Rig()
    rig.outcomes = [ReconcileReport(ok=False, error="VENUE_UNAVAILABLE: timeout")]
    report = rig.guard.reconcile_now("start-up")
    assert not report.ok and rig.control.state is HALTED and not rig.guard.reconciled
    assert rig.alerts.got[-1][:2] == (AlertLevel.CRITICAL, "reconciliation failed: trading held")
    assert rig.health.snapshot()["status"]["reconciliation"] == "failed"
    rig.clock.now += 4_000_000_000
    rig.guard.check()
    assert rig.calls == 1  # not due yet
    rig.clock.now += 1_000_000_000
    rig.guard.check()
    assert rig.calls == 2 and rig.control.state is ACTIVE
    assert rig.health.snapshot()["status"]["reconciliation"] == "ok"


def test_lifting_a_hold_returns_to_the_strictest_remaining_one() -> None:
    rig = Rig()
    rig.guard.on_feed(alert("STALE"))
    rig.connections = 2
    rig.outcomes = [ReconcileReport()]
    rig.guard.check()
    # Reconciled, but the feed is still stale: back to REDUCING, not ACTIVE.
    assert rig.control.state is REDUCING
    rig.guard.on_feed(alert("FRESH"))
    assert rig.control.state is ACTIVE


def test_an_order_stream_that_gave_up_halts_until_it_is_up_again() -> None:
    rig = Rig()
    rig.guard.on_venue_stream("up")
    assert rig.control.state is ACTIVE and rig.alerts.got == []
    rig.guard.on_venue_stream("gave_up")
    rig.guard.on_venue_stream("gave_up")  # said again each look: one hold, one alert
    assert rig.control.state is HALTED
    assert [a[:2] for a in rig.alerts.got] == [
        (AlertLevel.CRITICAL, "order stream lost: trading halted")
    ]
    rig.guard.on_venue_stream("up")
    assert rig.control.state is ACTIVE
    assert rig.reasons() == [
        ("HALTED", "VENUE_STREAM_LOST: reconnects exhausted"),
        ("ACTIVE", "RESUME: order stream up again"),
    ]
