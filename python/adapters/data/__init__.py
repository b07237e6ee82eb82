"""Market-data adapters (capture readers) and the data bundled with the project."""

from __future__ import annotations

from pathlib import Path

BUNDLED_BINANCE_DIR = Path(__file__).resolve().parent / "binance"
"""Real Binance captures shipped with quantx (MIT, see LICENSE-source-MIT.txt there)."""

DEFAULT_CAPTURE = BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808.gz"
"""What `quantx replay` replays when given no path."""

BUNDLED_OHLCV = BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808-1s.csv"
"""1-second OHLCV bars built from the futures capture's trades (scripts/ohlcv_from_capture.py)."""


def bundled_capture(name: str) -> Path:
    """Path of a bundled capture by file name, e.g. `spot-btcusdt-20240809.gz`."""
    path = BUNDLED_BINANCE_DIR / name
    if not path.is_file():
        known = ", ".join(sorted(p.name for p in BUNDLED_BINANCE_DIR.glob("*.gz")))
        raise FileNotFoundError(f"no bundled capture named {name!r}; bundled: {known}")
    return path
