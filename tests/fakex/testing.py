"""What the tests against the fake share: a bounded asyncio run, a ccxt client pointed
at the fake with its markets loaded, and the bundled captures the fake replays."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from pathlib import Path
from typing import Any, TypeVar

from fakex.server import FakeBinance

T = TypeVar("T")

DATA = Path(__file__).resolve().parents[2] / "python" / "adapters" / "data" / "binance"
CAPTURES = {
    "spot": DATA / "spot-btcusdt-20240808.gz",
    "futures": DATA / "usdm-btcusdt-20240808.gz",
}


def run(coro: Coroutine[Any, Any, T], timeout_s: float = 25) -> T:
    """Runs `coro` to its end on a new loop, never longer than `timeout_s`."""
    return asyncio.run(asyncio.wait_for(coro, timeout_s))


async def client(fake: FakeBinance, cls: Any, timeout_ms: int = 3000) -> Any:
    """A ccxt exchange of class `cls` configured for `fake`, markets loaded."""
    exchange = cls({"timeout": timeout_ms})
    fake.configure(exchange)
    await exchange.load_markets()
    return exchange
