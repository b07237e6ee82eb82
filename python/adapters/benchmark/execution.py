"""Execution benchmark (`quantx bench --suite execution`): the execution core as Python
calls it, with figures and budgets printed, never asserted.

- risk: `RiskGate.check` per call from Python (budget <= 1 us), and the whole
  `RiskService.check` path from `OrderTerms` (Decimal conversion included);
- accounting: `Position.apply` per fill from Python;
- matching: the bundled futures capture replayed through `SimVenue` from Python in
  chunks of messages, with 100 resting orders kept near the touch and a marketable
  order every chunk (budget >= 2 M level updates/s);
- order round trip: one order through the OrderManager, the risk gate and the
  simulated venue to its fill, per order.
"""

from __future__ import annotations

import itertools
import platform
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from adapters.data import BUNDLED_BINANCE_DIR
from adapters.data.binance_capture import BinanceCaptureReader
from engine import _core

__all__ = ["run"]

BUDGET_RISK_PY_NS = 1_000.0
BUDGET_MATCHING_M_PER_S = 2.0
RESTING = 100
CHUNK = 20
"""Messages between two Python interventions (a marketable order, re-quoting)."""


def _best_ns(fn: Any, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter_ns()
        n = fn()
        best = min(best, (time.perf_counter_ns() - t0) / max(n, 1))
    return best


def _risk_gate(n: int) -> int:
    gate = _core.RiskGate(
        "0.1", "0.001", "perp", min_qty=1, max_qty=1_000_000, min_notional="5",
        max_notional="1000000", max_position=1_000_000, max_gross_exposure="100000000",
        band_bps=500, maker_fee_rate="0.0002", taker_fee_rate="0.0005", fee_decimals=8,
        rate_capacity=1_000_000_000, rate_refill_per_s=1_000_000_000, leverage=10,
    )  # fmt: skip
    check = gate.check
    for i in range(n):
        check(i & 1, "limit", 600_000, 10, 0, 600_000, "0", "100000", "0", i)
    return n


def _accounting(n: int) -> int:
    pos = _core.Position("0.1", "0.001")
    apply = pos.apply
    for i in range(n):
        apply(i & 1, 600_000 + (i & 7), 10, "0.0003")
    return n


def _events() -> Any:
    reader = BinanceCaptureReader(BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808.gz")
    return np.concatenate([c.events for c in reader.chunks()])


def _round_trip(n: int) -> int:
    """n market orders, each through the manager and the venue to its fill."""
    from adapters.store.memory import MemoryStore
    from adapters.venues.simulated import SimulatedVenue
    from engine.domain import InstrumentKind, OrderSide, OrderType
    from engine.domain.instrument import Instrument
    from engine.services.order_manager import OrderManager

    inst = Instrument(
        symbol="BTCUSDT", base="BTC", quote="USDT", kind=InstrumentKind.LINEAR_PERPETUAL,
        tick_size=Decimal("0.1"), lot_size=Decimal("0.001"), min_quantity=Decimal("0.001"),
        max_quantity=Decimal("1000"), min_notional=Decimal("5"),
        maker_fee_rate=Decimal("0.0002"), taker_fee_rate=Decimal("0.0005"),
        price_precision=1, quantity_precision=3,
    )  # fmt: skip

    class Clock:
        now = 1

        def now_ns(self) -> int:
            return self.now

    clock = Clock()
    venue = SimulatedVenue({"BTCUSDT": inst}, clock)
    om = OrderManager(venue=venue, store=MemoryStore(), clock=clock, instruments={"BTCUSDT": inst})
    b = _core.EventBuilder(_core.Grid("0.1", "0.001"))
    b.push_snapshot(1, 1, 10, [["59999.9", "1000000"]], [["60000.0", "1000000"]])
    venue.apply_events("BTCUSDT", b.finish())
    qty = Decimal("0.001")
    for i in range(n):
        clock.now = 2 + i
        side = OrderSide.BUY if i & 1 else OrderSide.SELL
        om.submit(symbol="BTCUSDT", side=side, order_type=OrderType.MARKET, quantity=qty)
        for event in venue.drain():
            om.on_venue_event(event)
    return n


def _matching(events: Any) -> tuple[int, float, int]:
    """(level updates, seconds, fills): the capture in chunks of CHUNK messages."""
    venue = _core.SimVenue("0.1", "0.001", rule="futures", maker_fee="0.0002", taker_fee="0.0005")
    kinds = events["kind"]
    flags = events["flags"]
    begins = np.flatnonzero((flags & 1) | (kinds == 3))
    cuts = [*begins[::CHUNK].tolist(), len(events)]
    level_rows = int(np.count_nonzero((kinds <= 2) & ((flags & 4) == 0)))
    fills = 0
    t0 = time.perf_counter()
    for a, b in itertools.pairwise(cuts):
        venue.apply_events(events[a:b])
        bid, ask = venue.best_bid(), venue.best_ask()
        ts = int(events["ts_recv"][b - 1])
        if bid is not None and ask is not None and not venue.stale:
            open_n = len(venue.open_orders())
            for i in range(RESTING - open_n):
                side = i & 1
                price = bid[0] - (i % 10) if side == 0 else ask[0] + (i % 10)
                venue.submit(ts, side, "limit", 1 + i % 5, price=price)
            venue.submit(ts, (b // CHUNK) & 1, "market", 2)
        for report in venue.drain_reports():
            fills += report[2] == "filled"
    return level_rows, time.perf_counter() - t0, fills


def run(paths: list[Path], as_json: bool, *, repeats: int = 3, calls: int = 200_000) -> int:
    del paths  # this suite always uses the bundled futures capture
    risk_ns = _best_ns(lambda: _risk_gate(calls), repeats)
    acct_ns = _best_ns(lambda: _accounting(calls), repeats)
    trip_ns = _best_ns(lambda: _round_trip(max(calls // 100, 10)), repeats)
    events = _events()
    best_rate = 0.0
    fills = updates = 0
    for _ in range(repeats):
        updates, seconds, fills = _matching(events)
        best_rate = max(best_rate, updates / seconds / 1e6)
    result = {
        "risk_check_ns_per_call_python": round(risk_ns, 1),
        "accounting_ns_per_fill_python": round(acct_ns, 1),
        "order_round_trip_us": round(trip_ns / 1_000, 2),
        "matching": {
            "level_updates": updates,
            "m_level_updates_per_s": round(best_rate, 3),
            "resting_orders": RESTING,
            "messages_per_chunk": CHUNK,
            "fills": fills,
        },
        "budget": {
            "risk_check_ns_per_call_python": _target(risk_ns, "<=", BUDGET_RISK_PY_NS),
            "matching_m_level_updates_per_s": _target(best_rate, ">=", BUDGET_MATCHING_M_PER_S),
        },
        "python": platform.python_version(),
        "machine": platform.machine(),
    }
    if as_json:
        print(orjson.dumps(result, option=orjson.OPT_INDENT_2).decode())
    else:
        _print(result)
    return 0


def _target(value: float, op: str, limit: float) -> dict[str, object]:
    met = value <= limit if op == "<=" else value >= limit
    return {"value": round(value, 3), "target": f"{op} {limit:g}", "met": met}


def _print(result: dict[str, Any]) -> None:
    from rich.console import Console
    from rich.table import Table

    table = Table(title="quantx execution benchmark (from Python)")
    table.add_column("measure")
    table.add_column("figure", justify="right")
    table.add_column("budget", justify="right")
    table.add_column("met")
    budget = result["budget"]
    m = result["matching"]
    rows = [
        ("risk check per call", f"{result['risk_check_ns_per_call_python']} ns",
         budget["risk_check_ns_per_call_python"]),
        ("accounting per fill", f"{result['accounting_ns_per_fill_python']} ns", None),
        ("order round trip (manager + venue)", f"{result['order_round_trip_us']} us", None),
        (f"matching replay, {m['resting_orders']} resting orders",
         f"{m['m_level_updates_per_s']} M level updates/s",
         budget["matching_m_level_updates_per_s"]),
    ]  # fmt: skip
    for name, figure, target in rows:
        table.add_row(name, figure, target["target"] if target else "", _met(target))
    Console().print(table)
    print(f"matching: {m['level_updates']:,} level updates, {m['fills']:,} fills")


def _met(target: dict[str, object] | None) -> str:
    if target is None:
        return ""
    return "yes" if target["met"] else "NO"
