"""Builds the bundled OHLCV CSV from the bundled futures capture's trade prints.

    PYTHONPATH=python python scripts/ohlcv_from_capture.py [--check]

Writes python/adapters/data/binance/usdm-btcusdt-20240808-1s.csv: 1-second bars
(timestamp = open time in integer milliseconds) of every `btcusdt@trade` message of
usdm-btcusdt-20240808.gz, timed by the exchange event time `E`. Seconds without a trade
have no row. Deterministic: running it again gives the same bytes; `--check` compares
instead of writing (the tests do the same).
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

from adapters.data import BUNDLED_BINANCE_DIR, BUNDLED_OHLCV
from adapters.data.binance_capture import BinanceCaptureReader
from adapters.data.ohlcv_csv import write_ohlcv_csv
from engine import _core

SOURCE = BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808.gz"
INTERVAL_NS = 1_000_000_000


def build(target: Path) -> int:
    """Writes the bars to `target`; returns how many."""
    reader = BinanceCaptureReader(SOURCE)
    events = np.concatenate([chunk.events for chunk in reader.chunks()])
    bars = _core.bars_from_events(events, INTERVAL_NS)
    write_ohlcv_csv(target, bars, reader.instrument, time_unit="ms")
    return len(bars)


def main(argv: list[str]) -> int:
    if argv == ["--check"]:
        fresh = BUNDLED_OHLCV.with_suffix(".check.tmp")
        try:
            build(fresh)
            same = fresh.read_bytes() == BUNDLED_OHLCV.read_bytes()
        finally:
            fresh.unlink(missing_ok=True)
        print(f"{BUNDLED_OHLCV.name}: {'up to date' if same else 'DIFFERS from a fresh build'}")
        return 0 if same else 1
    if argv:
        print(__doc__, file=sys.stderr)
        return 2
    n = build(BUNDLED_OHLCV)
    print(f"wrote {n} bars to {BUNDLED_OHLCV}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
