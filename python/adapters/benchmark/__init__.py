"""Benchmarks of the hot path (`quantx bench`, `benches/hotpath.py`)."""

from __future__ import annotations

from adapters.benchmark.hotpath import run

__all__ = ["run"]
