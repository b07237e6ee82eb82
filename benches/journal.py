"""Journal write benchmark: `python benches/journal.py [--records N] [--batch B] [--json]`.

Appends the same realistic run (orders created, sent, acknowledged, filled in parts or
canceled, with position, balance and equity records between them) to each store,
committing every B records as the kernel does per batch, and prints records/s by the
wall clock and by this process's CPU time (on a shared machine the wall clock also
counts other processes; waits for the disk count only there). The memory store runs
in the same process as the baseline; the parts of the SQLite cost (encoding, the
read-model fold, bare journal inserts) are timed alone for comparison. The budget line
compares the SQLite store (synchronous=NORMAL, the default) with the target of
BUDGET_RECORDS_PER_S journal writes a second. No assertions: figures only (absolute
rates drift on a shared machine; read ratios)."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import orjson

from adapters.store.codec import encode
from adapters.store.memory import MemoryStore
from adapters.store.readmodel import RunProjection
from adapters.store.sqlite import SqliteStore, connect
from adapters.store.sqlite import _Statements as Statements
from engine.domain import (
    Fill,
    Liquidity,
    OrderAccepted,
    OrderCanceled,
    OrderFilled,
    OrderSide,
    OrderSubmitted,
    OrderTerms,
    OrderType,
)
from engine.domain.journal import (
    BalanceSnapshot,
    EquitySample,
    JournalRecord,
    OrderInitialized,
    PositionSnapshot,
    RunStarted,
)

RUN = RunStarted(run_id="bench", ts_event=0, mode="backtest", strategy="bench:Journal")
BUDGET_RECORDS_PER_S = 100_000
"""The issue's target for journal writes to SQLite."""


def journal(count: int) -> list[JournalRecord]:
    """About `count` records after RunStarted, deterministic: per order 4-6 records, and
    a position, a balance and an equity record after every fill."""
    out: list[JournalRecord] = []
    ts = 1_000
    n = 0
    while len(out) < count:
        n += 1
        cid = f"qx-{n}"
        side = OrderSide.BUY if n % 2 else OrderSide.SELL
        price = Decimal(60_000 + n % 50) + Decimal("0.5")
        terms = OrderTerms(
            client_order_id=cid,
            symbol="BTCUSDT",
            side=side,
            order_type=OrderType.LIMIT,
            quantity=Decimal("0.010"),
            price=price,
            ts_init=ts,
        )
        out += [
            OrderInitialized(client_order_id=cid, ts_event=ts, terms=terms),
            OrderSubmitted(client_order_id=cid, ts_event=ts),
            OrderAccepted(client_order_id=cid, ts_event=ts + 1, venue_order_id=f"v{n}"),
        ]
        parts = ("0.004", "0.006") if n % 3 else ("0.004",)
        for i, qty in enumerate(parts):
            ts += 10
            fill = Fill(
                trade_id=f"t{n}-{i}",
                client_order_id=cid,
                symbol="BTCUSDT",
                side=side,
                price=price,
                quantity=Decimal(qty),
                fee=Decimal("0.024"),
                fee_currency="USDT",
                liquidity=Liquidity.MAKER,
                ts_event=ts,
            )
            out.append(OrderFilled(client_order_id=cid, ts_event=ts, fill=fill))
            out += [
                PositionSnapshot(
                    ts_event=ts,
                    account="main",
                    symbol="BTCUSDT",
                    currency="USDT",
                    quantity=Decimal(qty) * side.sign,
                    avg_entry_price=price,
                    realized_pnl=Decimal("1.25"),
                    fees=Decimal("0.024"),
                ),
                BalanceSnapshot(
                    ts_event=ts, account="main", asset="USDT", total=Decimal("10000.5")
                ),
                EquitySample(
                    ts_event=ts, account="main", currency="USDT", equity=Decimal("10001.75")
                ),
            ]
        if len(parts) == 1:
            out.append(OrderCanceled(client_order_id=cid, ts_event=ts + 1))
        ts += 100
    return out[:count]


Timing = tuple[float, float]
"""(wall seconds, CPU seconds of this process)."""


def _timed(work: Callable[[], None]) -> Timing:
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def bench_store(
    store: MemoryStore | SqliteStore, records: list[JournalRecord], batch: int
) -> Timing:
    def work() -> None:
        for start in range(0, len(records), batch):
            for record in records[start : start + batch]:
                store.append(record)
            store.commit()

    return _timed(work)


def bench_encode(records: list[JournalRecord]) -> Timing:
    def work() -> None:
        for record in records:
            encode(record)

    return _timed(work)


def bench_fold(records: list[JournalRecord], batch: int) -> Timing:
    projection = RunProjection(RUN.run_id)
    projection.fold(1, RUN)

    def work() -> None:
        for start in range(0, len(records), batch):
            for i, record in enumerate(records[start : start + batch]):
                projection.fold(start + i + 2, record)
            projection.drain()

    return _timed(work)


def bench_bare_inserts(path: Path, bodies: list[tuple[str, int, str]], batch: int) -> Timing:
    """The journal rows alone, ready beforehand, written as the store writes them (same
    table, pragmas and statements): what SQLite itself costs."""
    conn = connect(path)
    cursor = conn.cursor()
    journal = Statements(RUN.run_id, 1 << 32).journal  # run number 1
    rows = [(i + 1, kind, ts, body) for i, (kind, ts, body) in enumerate(bodies)]
    batches = [
        [value for row in rows[start : start + batch] for value in row]
        for start in range(0, len(rows), batch)
    ]

    def work() -> None:
        for part in batches:
            cursor.execute("BEGIN IMMEDIATE")
            journal.write(cursor, part)
            cursor.execute("COMMIT")

    try:
        return _timed(work)
    finally:
        conn.close()


def _sqlite(tmp: Path, sync: str, records: list[JournalRecord], batch: int) -> Timing:
    with SqliteStore.open(tmp / "journal.db", run=RUN, synchronous=sync) as store:  # type: ignore[arg-type]
        return bench_store(store, records, batch)


def run(count: int, batch: int, repeat: int, as_json: bool) -> int:
    records = journal(count)
    bodies = [(type(r).__name__, r.ts_event, encode(r).decode()) for r in records]
    benches: dict[str, Callable[[Path], Timing]] = {
        "memory store": lambda tmp: bench_store(MemoryStore([RUN]), records, batch),
        "sqlite store, synchronous=NORMAL": lambda tmp: _sqlite(tmp, "NORMAL", records, batch),
        "sqlite store, synchronous=FULL": lambda tmp: _sqlite(tmp, "FULL", records, batch),
        "part: codec.encode": lambda tmp: bench_encode(records),
        "part: read-model fold": lambda tmp: bench_fold(records, batch),
        "part: bare journal inserts": lambda tmp: bench_bare_inserts(
            tmp / "bare.db", bodies, batch
        ),
    }
    timings: dict[str, Timing] = {}
    for _ in range(repeat):  # best of `repeat`, each on fresh files, benches interleaved
        for name, bench in benches.items():
            with tempfile.TemporaryDirectory(prefix="quantx-journal-bench-") as tmp:
                wall, cpu = bench(Path(tmp))
            best = timings.get(name, (wall, cpu))
            timings[name] = (min(wall, best[0]), min(cpu, best[1]))
    rates = {
        name: {"wall": count / max(wall, 1e-9), "cpu": count / max(cpu, 1e-9)}
        for name, (wall, cpu) in timings.items()
    }
    sqlite = rates["sqlite store, synchronous=NORMAL"]
    ratio = rates["memory store"]["wall"] / sqlite["wall"]
    budget = {
        "value": round(sqlite["wall"]),
        "target": f">= {BUDGET_RECORDS_PER_S}",
        "met": sqlite["wall"] >= BUDGET_RECORDS_PER_S,
    }
    if as_json:
        print(orjson.dumps({"records": count, "batch": batch, "per_second": rates,
                            "memory_over_sqlite": ratio, "budget": budget}).decode())  # fmt: skip
        return 0
    print(f"journal writes: {count:,} records, commit every {batch}, best of {repeat}")
    print(f"  {'':<36} {'records/s (wall)':>17} {'records/s (cpu)':>16} {'us/record (cpu)':>16}")
    for name, rate in rates.items():
        print(
            f"  {name:<36} {rate['wall']:>17,.0f} {rate['cpu']:>16,.0f}"
            f" {1e6 / rate['cpu']:>16.2f}"
        )
    print(f"  memory store / sqlite store (NORMAL), wall: {ratio:.1f}x")
    verdict = "met" if budget["met"] else "NOT met"
    print(
        f"journal writes to SQLite (NORMAL, wall): {sqlite['wall']:,.0f} records/s"
        f" (target >= {BUDGET_RECORDS_PER_S:,}, {verdict})"
    )
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000, help="records to append")
    parser.add_argument("--batch", type=int, default=100, help="records per commit")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each; the best counts")
    parser.add_argument("--json", action="store_true", help="print one JSON object")
    args = parser.parse_args(argv)
    return run(args.records, args.batch, args.repeat, args.json)


if __name__ == "__main__":
    sys.exit(main())
