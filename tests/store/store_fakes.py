"""Helpers for the store tests: a fake venue and clock for a real OrderManager, and
journals that a run can really hold (orders created before their events, and so on)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from engine.domain import (
    Fill,
    InstrumentKind,
    Liquidity,
    OrderAccepted,
    OrderCanceled,
    OrderCancelRejected,
    OrderDenied,
    OrderExpired,
    OrderFilled,
    OrderPendingCancel,
    OrderPendingUpdate,
    OrderRejected,
    OrderSide,
    OrderSubmitted,
    OrderTerms,
    OrderTriggered,
    OrderType,
    OrderUpdated,
    OrderUpdateRejected,
    TimeInForce,
    TradingState,
    TriggerSource,
)
from engine.domain.instrument import Instrument
from engine.domain.journal import (
    BalanceSnapshot,
    BracketCreated,
    EmergencyStop,
    EquitySample,
    JournalRecord,
    OrderInitialized,
    PositionSnapshot,
    Reconciled,
    RunEnded,
    RunStarted,
    TradingStateChanged,
)
from engine.ports import Store, VenueCapabilities

D = Decimal
BUY, SELL = OrderSide.BUY, OrderSide.SELL

FULL = VenueCapabilities(
    order_types=frozenset(OrderType),
    time_in_force=frozenset(TimeInForce),
    trigger_sources=frozenset(TriggerSource),
    amend=True,
)

BTC = Instrument(
    symbol="BTCUSDT",
    base="BTC",
    quote="USDT",
    kind=InstrumentKind.LINEAR_PERPETUAL,
    tick_size=D("0.1"),
    lot_size=D("0.001"),
    min_quantity=D("0.001"),
    max_quantity=D("1000"),
    min_notional=D("5"),
    maker_fee_rate=D("0.0002"),
    taker_fee_rate=D("0.0005"),
    price_precision=1,
    quantity_precision=3,
)


def run_started(run_id: str = "run-1", ts: int = 1_000) -> RunStarted:
    return RunStarted(
        run_id=run_id,
        ts_event=ts,
        mode="paper",
        strategy="strategies.grid:Grid",
        params_json='{"levels":5,"step":"0.5"}',
        config_json='{"venue":"sim"}',
    )


class ManualClock:
    def __init__(self, now: int = 1_000) -> None:
        self.now = now

    def now_ns(self) -> int:
        return self.now


@dataclass
class FakeVenue:
    """Records commands; checks write-ahead: what it is sent is already in the journal."""

    store: Store
    capabilities: VenueCapabilities = FULL
    sent: list[tuple[str, Any]] = field(default_factory=list)

    def _last_kind(self, cid: str) -> str:
        kinds = [type(r).__name__ for _, r in self.store.records() if _cid(r) == cid]
        assert kinds, f"{cid} sent before it was journaled"
        return kinds[-1]

    def submit(self, terms: OrderTerms) -> None:
        assert self._last_kind(terms.client_order_id) in ("OrderSubmitted", "OrderTriggered")
        self.sent.append(("submit", terms))

    def cancel(self, client_order_id: str) -> None:
        assert self._last_kind(client_order_id) == "OrderPendingCancel"
        self.sent.append(("cancel", client_order_id))

    def modify(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None:
        assert self._last_kind(client_order_id) == "OrderPendingUpdate"
        self.sent.append(("modify", (client_order_id, quantity, price, trigger_price)))


def _cid(record: JournalRecord) -> str | None:
    return getattr(record, "client_order_id", None)


def make_fill(
    cid: str, side: OrderSide, price: str, qty: str, trade: str, ts: int, fee: str = "0.01"
) -> Fill:
    return Fill(
        trade_id=trade,
        client_order_id=cid,
        symbol="BTCUSDT",
        side=side,
        price=D(price),
        quantity=D(qty),
        fee=D(fee),
        fee_currency="USDT",
        liquidity=Liquidity.TAKER,
        ts_event=ts,
    )


def limit_terms(
    cid: str, side: OrderSide = BUY, qty: str = "0.010", price: str = "60000.0"
) -> OrderTerms:
    return OrderTerms(
        client_order_id=cid,
        symbol="BTCUSDT",
        side=side,
        order_type=OrderType.LIMIT,
        quantity=D(qty),
        price=D(price),
        ts_init=1_000,
    )


def initialized(cid: str, ts: int = 1_000, **kw: Any) -> OrderInitialized:
    return OrderInitialized(client_order_id=cid, ts_event=ts, terms=limit_terms(cid, **kw))


def every_record_type(run_id: str = "run-1") -> list[JournalRecord]:
    """One journal after RunStarted holding every record type once or more, in an
    order a run can really have (each order event applies to its order)."""
    stop = OrderTerms(
        client_order_id="o-3",
        symbol="BTCUSDT",
        side=SELL,
        order_type=OrderType.STOP_LIMIT,
        quantity=D("0.5"),
        price=D("58000.0"),
        trigger_price=D("58100.0"),
        trigger_source=TriggerSource.MARK,
        time_in_force=TimeInForce.GTD,
        expire_time_ns=9_000_000,
        reduce_only=True,
        ts_init=1_000,
    )
    return [
        BracketCreated(
            client_order_id="b-1",
            ts_event=1_001,
            symbol="BTCUSDT",
            side=BUY,
            entry="o-1",
            stop_loss="o-8",
            take_profit="o-9",
            stop_price=D("59000.0"),
            take_profit_price=D("61000.0"),
            trigger_source=TriggerSource.LAST_TRADE,
        ),
        initialized("o-1", 1_002),
        OrderSubmitted(client_order_id="o-1", ts_event=1_003),
        OrderAccepted(client_order_id="o-1", ts_event=1_004, venue_order_id="v-77"),
        OrderPendingUpdate(client_order_id="o-1", ts_event=1_005),
        OrderUpdateRejected(client_order_id="o-1", ts_event=1_006, reason="price band"),
        OrderPendingUpdate(client_order_id="o-1", ts_event=1_007),
        OrderUpdated(client_order_id="o-1", ts_event=1_008, price=D("59999.9")),
        OrderFilled(
            client_order_id="o-1",
            ts_event=1_009,
            fill=make_fill("o-1", BUY, "59999.9", "0.004", "t-1", 1_009),
        ),
        OrderPendingCancel(client_order_id="o-1", ts_event=1_010),
        OrderCancelRejected(client_order_id="o-1", ts_event=1_011, reason="unknown order"),
        OrderPendingCancel(client_order_id="o-1", ts_event=1_012),
        OrderCanceled(client_order_id="o-1", ts_event=1_013, reason="USER_CANCEL"),
        initialized("o-2", 1_014, side=SELL),
        OrderDenied(client_order_id="o-2", ts_event=1_015, reason="NOTIONAL_ABOVE_MAX: n=1"),
        OrderInitialized(
            client_order_id="o-3", ts_event=1_016, terms=stop, replaces="o-1", bracket="b-1"
        ),
        OrderSubmitted(client_order_id="o-3", ts_event=1_017),
        OrderAccepted(client_order_id="o-3", ts_event=1_018),
        OrderTriggered(client_order_id="o-3", ts_event=1_019),
        OrderExpired(client_order_id="o-3", ts_event=1_020),
        initialized("o-4", 1_021),
        OrderSubmitted(client_order_id="o-4", ts_event=1_022),
        OrderRejected(client_order_id="o-4", ts_event=1_023, reason="insufficient margin"),
        PositionSnapshot(
            ts_event=1_024,
            account="main",
            symbol="BTCUSDT",
            currency="USDT",
            quantity=D("0.004"),
            avg_entry_price=D("59999.9"),
            realized_pnl=D("0"),
            fees=D("0.01"),
        ),
        BalanceSnapshot(ts_event=1_025, account="main", asset="USDT", total=D("9759.9896")),
        EquitySample(ts_event=1_026, account="main", currency="USDT", equity=D("9999.99")),
        TradingStateChanged(ts_event=1_026, state=TradingState.HALTED, reason="KILL: test"),
        EmergencyStop(ts_event=1_026, phase="cancel", detail="o-1 o-2"),
        Reconciled(ts_event=1_026, action="adopted", subject="web_1", detail="BUY 0.1 @ 60000"),
        RunEnded(run_id=run_id, ts_event=1_027, status="completed"),
    ]


def killed_when_ready(script: str, path: Path) -> list[str]:
    """Runs `script` (given `path`) in a new Python process, reads the first line it
    prints (the point it was waiting for), kills it with SIGKILL and returns that line's
    words."""
    repo = Path(__file__).resolve().parents[2]
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(repo / "python"), str(repo / "tests" / "store")])
    child = subprocess.Popen(
        [sys.executable, "-c", script, str(path)], stdout=subprocess.PIPE, text=True, env=env
    )
    try:
        assert child.stdout is not None
        words = child.stdout.readline().split()
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.kill()
        child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    return words
