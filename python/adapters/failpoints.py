"""Failpoints: named places where a test may make this process die on the spot.

Crash tests must kill the engine at exact moments (after an order is journaled but
before it is sent; after it is sent but before its acknowledgement is handled) that a
timed signal from outside cannot hit reliably. `QUANTX_FAILPOINTS` names the points to
arm (comma-separated); `hit(name)` kills the process with SIGKILL when its point is
armed, the way a power cut or the OOM killer would: no cleanup, no flush, no atexit.
Unarmed (the default, and always in production), a hit is one dict lookup.
"""

from __future__ import annotations

import os
import signal

__all__ = ["armed", "hit"]

_ARMED = frozenset(p for p in os.environ.get("QUANTX_FAILPOINTS", "").split(",") if p)


def armed(name: str) -> bool:
    return name in _ARMED


def hit(name: str) -> None:
    if name in _ARMED:
        os.kill(os.getpid(), signal.SIGKILL)
