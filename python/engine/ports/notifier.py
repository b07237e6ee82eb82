"""The Notifier port: alerts a human should see (a breaker tripped, an emergency stop).

`alert` must return quickly and never raise for a delivery problem: the kernel calls it
from its loop. Adapters that talk to the network queue and send in the background."""

from __future__ import annotations

from enum import StrEnum
from typing import Protocol

__all__ = ["AlertLevel", "Notifier", "SilentNotifier"]


class AlertLevel(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class Notifier(Protocol):
    def alert(self, level: AlertLevel, title: str, detail: str) -> None: ...


class SilentNotifier:
    """Drops every alert: the default when nothing is wired (backtests)."""

    def alert(self, level: AlertLevel, title: str, detail: str) -> None:
        return None
