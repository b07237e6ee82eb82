"""Shared pytest fixtures: paths to the bundled real data and small gzip helpers."""

from __future__ import annotations

import gzip
from collections.abc import Callable, Iterable
from pathlib import Path

import pytest

import hypothesis_profiles  # noqa: F401  (registers and loads the Hypothesis profile)

REPO_ROOT = Path(__file__).resolve().parents[1]
BINANCE_DIR = REPO_ROOT / "python" / "adapters" / "data" / "binance"


@pytest.fixture(scope="session")
def binance_dir() -> Path:
    """The bundled Binance captures (python/adapters/data/binance)."""
    return BINANCE_DIR


@pytest.fixture(scope="session")
def usdm_capture() -> Path:
    return BINANCE_DIR / "usdm-btcusdt-20240808.gz"


@pytest.fixture(scope="session")
def spot_captures() -> list[Path]:
    """The spot pair: the second file continues the first with no new snapshot."""
    return [BINANCE_DIR / "spot-btcusdt-20240808.gz", BINANCE_DIR / "spot-btcusdt-20240809.gz"]


@pytest.fixture(scope="session")
def read_gzip_lines() -> Callable[[Path], list[bytes]]:
    """Reads every line of a gzip file, newlines kept."""

    def read(path: Path) -> list[bytes]:
        with gzip.open(path, "rb") as fh:
            return fh.readlines()

    return read


@pytest.fixture
def write_gzip_lines(tmp_path: Path) -> Callable[[str, Iterable[bytes]], Path]:
    """Writes lines as gzip to `tmp_path/<name>` and returns the path."""

    def write(name: str, lines: Iterable[bytes]) -> Path:
        path = tmp_path / name
        with gzip.open(path, "wb", compresslevel=1) as fh:
            fh.writelines(lines)
        return path

    return write
