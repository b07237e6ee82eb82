"""The 10,000-order soak (issue 5): `python benches/live_soak.py [--orders N] [--seed S]
[--fault-rate R] [--market futures|spot] [--deadline-s T] [--json]`, or the environment
variables QUANTX_SOAK_ORDERS / QUANTX_SOAK_SEED.

OrderManager + CcxtVenue (ccxt.pro) against the fake Binance on 127.0.0.1 with faults
injected at random (`tests/live/soak.py`). Prints the report's figures; no timing is
asserted (a bench), but the exit status is 1 when any invariant was violated (a
duplicated or lost order or fill, a state that disagrees with the fake)."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from dataclasses import asdict
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parents[1]
for extra in (ROOT / "python", ROOT / "tests", ROOT / "tests" / "live"):
    if str(extra) not in sys.path:
        sys.path.insert(0, str(extra))

from soak import soak  # noqa: E402

from fakex import FakeBinance  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--orders", type=int, default=int(os.environ.get("QUANTX_SOAK_ORDERS", 10_000))
    )
    parser.add_argument("--seed", type=int, default=int(os.environ.get("QUANTX_SOAK_SEED", 0)))
    parser.add_argument("--fault-rate", type=float, default=0.05)
    parser.add_argument("--market", choices=("futures", "spot"), default="futures")
    parser.add_argument("--deadline-s", type=float, default=1800.0)
    parser.add_argument("--json", action="store_true", help="the report as one JSON object")
    args = parser.parse_args(argv)
    # the "close" create timeout drops the connection in a handler: aiohttp logs each one
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    with FakeBinance(seed=args.seed) as fake:
        report = soak(
            fake,
            orders=args.orders,
            seed=args.seed,
            fault_rate=args.fault_rate,
            deadline_s=args.deadline_s,
            market=args.market,
        )
    if args.json:
        body = asdict(report) | {"orders_per_s": report.orders_per_s}
        print(orjson.dumps(body).decode())
    else:
        print(f"soak: {args.orders} orders, fault rate {args.fault_rate}")
        print("\n".join(report.lines()))
    return 1 if report.violations else 0


if __name__ == "__main__":
    sys.exit(main())
