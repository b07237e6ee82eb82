"""A local fake Binance (spot + USDⓈ-M futures) that ccxt's own classes talk to over loopback.

Test support only: `FakeBinance` serves REST and websockets on 127.0.0.1 from a background
thread; matching is deterministic (the fake's own clock, no randomness beyond `seed`).
"""

from fakex.faults import Faults
from fakex.server import FakeBinance

__all__ = ["FakeBinance", "Faults"]
