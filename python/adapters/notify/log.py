"""LogNotifier: alerts as log records (`quantx.alerts`), critical ones at CRITICAL."""

from __future__ import annotations

import logging

from engine.ports.notifier import AlertLevel, Notifier

__all__ = ["FanOut", "LogNotifier"]

_LEVELS = {
    AlertLevel.INFO: logging.INFO,
    AlertLevel.WARNING: logging.WARNING,
    AlertLevel.CRITICAL: logging.CRITICAL,
}


class LogNotifier:
    def __init__(self, logger: logging.Logger | None = None) -> None:
        self._log = logger or logging.getLogger("quantx.alerts")

    def alert(self, level: AlertLevel, title: str, detail: str) -> None:
        self._log.log(_LEVELS.get(level, logging.WARNING), "%s: %s", title, detail)


class FanOut:
    """Several notifiers as one (the log and a webhook)."""

    def __init__(self, *notifiers: Notifier) -> None:
        self._all = notifiers

    def alert(self, level: AlertLevel, title: str, detail: str) -> None:
        for n in self._all:
            n.alert(level, title, detail)
