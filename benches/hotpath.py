"""Hot-path benchmark script: `python benches/hotpath.py [--json] [CAPTURE.gz ...]`.

A thin wrapper over `adapters.benchmark.hotpath.run` (also `quantx bench`); with no
capture given it replays the bundled Binance captures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", type=Path, help="capture files (.gz)")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    from adapters.benchmark.hotpath import run

    return run(list(args.paths), args.json)


if __name__ == "__main__":
    sys.exit(main())
