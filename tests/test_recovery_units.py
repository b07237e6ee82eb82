"""Recovery's pieces one by one: funding journaled, the kernel's trade counters, a journal
that does not add up refused, emulated stops released before a crash, and the venue
binding's restore."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from adapters.store.memory import MemoryStore
from adapters.store.sqlite import SqliteStore
from adapters.venues.simulated import SimSettings, SimulatedVenue
from engine import _core
from engine.domain import (
    Fill,
    Liquidity,
    OrderAccepted,
    OrderFilled,
    OrderSide,
    OrderStatus,
    OrderSubmitted,
    OrderTerms,
    OrderType,
)
from engine.domain.errors import ValidationError
from engine.domain.journal import (
    AccountFunded,
    BalanceSnapshot,
    JournalRecord,
    OrderInitialized,
    PositionSnapshot,
    RunStarted,
)
from engine.ports.store import StoreError
from engine.services.portfolio import Portfolio
from engine.services.recovery import (
    RecoveryError,
    TradeCounters,
    fund_account,
    recover_run,
    restart_venue,
)
from recovery_harness import (
    INSTRUMENTS,
    RUN_ID,
    SYMBOL,
    Crash,
    CrashingStore,
    Desk,
    ManualClock,
    NoStopsVenue,
    committed_state,
    fund,
    open_run,
)

D = Decimal
LATENT = SimSettings(submit_latency_ns=500, cancel_latency_ns=700, modify_latency_ns=300)


def _fill(n: int, side: OrderSide, quantity: str, price: str, fee: str) -> Fill:
    return Fill(
        trade_id=f"1-{n}",
        client_order_id="qx-1",
        symbol=SYMBOL,
        side=side,
        price=D(price),
        quantity=D(quantity),
        fee=D(fee),
        fee_currency="USDT",
        liquidity=Liquidity.TAKER,
        ts_event=n,
    )


# --- funding ---------------------------------------------------------------------------------
def test_funding_credits_and_journals_the_record_and_the_new_total() -> None:
    store = MemoryStore()
    portfolio = Portfolio(INSTRUMENTS.values())
    assert fund_account(portfolio, store, asset="USDT", amount=D("1000"), ts_event=5) == D("1000")
    assert fund_account(portfolio, store, asset="USDT", amount=D("-250.5"), ts_event=6) == D(
        "749.5"
    )
    assert [r for _, r in store.records()] == [
        AccountFunded(ts_event=5, account="main", asset="USDT", amount=D("1000")),
        BalanceSnapshot(ts_event=5, account="main", asset="USDT", total=D("1000")),
        AccountFunded(ts_event=6, account="main", asset="USDT", amount=D("-250.5")),
        BalanceSnapshot(ts_event=6, account="main", asset="USDT", total=D("749.5")),
    ]
    assert portfolio.balances() == {"USDT": D("749.5")}


class RefusingStore(MemoryStore):
    def append(self, record: JournalRecord) -> int:
        raise StoreError("record", type(record).__name__, "refused (rule: the disk is full)")


def test_funding_is_all_or_nothing() -> None:
    portfolio = Portfolio(INSTRUMENTS.values())
    store = MemoryStore()
    with pytest.raises(ValidationError, match="amount 0 is zero"):
        fund_account(portfolio, store, asset="USDT", amount=D(0), ts_event=1)
    with pytest.raises(ValidationError, match="asset"):
        fund_account(portfolio, store, asset="US DT", amount=D(1), ts_event=1)
    with pytest.raises(StoreError, match="disk is full"):
        fund_account(portfolio, RefusingStore(), asset="USDT", amount=D(1), ts_event=1)
    assert portfolio.balances() == {"USDT": D(0)}  # credited, then undone
    assert len(store) == 0


# --- the kernel's counters ----------------------------------------------------------------------
def test_trade_counters_count_what_reduces_a_position() -> None:
    portfolio = Portfolio(INSTRUMENTS.values())
    counters = TradeCounters()
    # Opening 0.002 at 100: no trade; notional 0.2.
    assert counters.book(portfolio, _fill(1, OrderSide.BUY, "0.002", "100.0", "0.001")) == D(
        "-0.001"
    )
    # Selling 0.001 at 110: (110 - 100) x 0.001 - 0.001 = 0.009; notional 0.11.
    counters.book(portfolio, _fill(2, OrderSide.SELL, "0.001", "110.0", "0.001"))
    # Selling 0.002 at 105 flips to -0.001: closes 0.001 for (105 - 100) x 0.001 = 0.005,
    # less its whole fee 0.001 = 0.004; notional 0.21.
    counters.book(portfolio, _fill(3, OrderSide.SELL, "0.002", "105.0", "0.001"))
    assert counters.trade_pnl == [D("0.009"), D("0.004")]
    assert counters.traded_notional == D("0.52")
    assert portfolio.quantity(SYMBOL) == D("-0.001")


# --- a journal that does not add up ---------------------------------------------------------------
def _journal(**change: Any) -> list[JournalRecord]:
    """A run that bought 0.002 at 100 with a 0.001 fee, its snapshots computed by a live
    portfolio; `change` replaces records by index."""
    portfolio = Portfolio(INSTRUMENTS.values())
    store = MemoryStore([RunStarted(run_id=RUN_ID, ts_event=0, mode="paper", strategy="x:Y")])
    fund_account(portfolio, store, asset="USDT", amount=D("1000"), ts_event=1)
    fill = _fill(2, OrderSide.BUY, "0.002", "100.0", "0.001")
    portfolio.apply_fill(fill)
    p = portfolio.position(SYMBOL)
    records = [r for _, r in store.records()]
    records.append(
        PositionSnapshot(
            ts_event=2,
            account="main",
            symbol=SYMBOL,
            currency="USDT",
            quantity=p.quantity,
            avg_entry_price=p.avg_entry_price,
            realized_pnl=p.realized_pnl,
            fees=p.fees,
        )
    )
    records.append(
        BalanceSnapshot(
            ts_event=2, account="main", asset="USDT", total=portfolio.balances()["USDT"]
        )
    )
    terms = OrderTerms(
        client_order_id="qx-1",
        symbol=SYMBOL,
        side=OrderSide.BUY,
        order_type=OrderType.LIMIT,
        quantity=D("0.003"),
        price=D("100.0"),
        ts_init=2,
    )
    orders: list[JournalRecord] = [
        OrderInitialized(client_order_id="qx-1", ts_event=2, terms=terms),
        OrderSubmitted(client_order_id="qx-1", ts_event=2),
        OrderAccepted(client_order_id="qx-1", ts_event=2, venue_order_id="1"),
        OrderFilled(client_order_id="qx-1", ts_event=2, fill=fill),
    ]
    records[3:3] = orders
    for index, record in change.items():
        records[int(index[1:])] = record
    return records


def _recover_from(records: list[JournalRecord]) -> Any:
    clock = ManualClock(10)
    return recover_run(
        MemoryStore(records),
        instruments=INSTRUMENTS,
        venue=SimulatedVenue(INSTRUMENTS, clock),
        clock=clock,
    )


def test_a_journal_that_adds_up_is_recovered_and_checked() -> None:
    records = _journal()
    rec = _recover_from(records)
    assert rec.checked == 2  # one position, one balance
    assert rec.portfolio.quantity(SYMBOL) == D("0.002")
    # 1000 - 0.001 fee (a linear perpetual moves no cash on opening).
    assert rec.portfolio.balances() == {"USDT": D("999.999")}
    assert (rec.last_seq, rec.last_ts, rec.fills) == (len(records), 2, 1)
    # 0.002 of 0.003 filled: the order is still at the venue, nothing in flight.
    assert [(v.order.client_order_id, v.venue_order_id) for v in rec.at_venue] == [("qx-1", "1")]
    assert rec.in_flight == ()
    assert rec.state()["orders"] == {
        "qx-1": {"status": "PARTIALLY_FILLED", "filled": D("0.002"), "leaves": D("0.001")}
    }


def test_a_snapshot_that_disagrees_is_refused() -> None:
    bad = BalanceSnapshot(ts_event=2, account="main", asset="USDT", total=D("999.998"))
    with pytest.raises(RecoveryError) as err:
        _recover_from(_journal(r8=bad))
    assert str(err.value) == (
        "main USDT balance 999.999 rebuilt from the journal, but its last BalanceSnapshot"
        " says 999.998"
    )
    wrong = PositionSnapshot(
        ts_event=2,
        account="main",
        symbol=SYMBOL,
        currency="USDT",
        quantity=D("0.003"),
        avg_entry_price=D("100"),
        realized_pnl=D("-0.001"),
        fees=D("0.001"),
    )
    with pytest.raises(RecoveryError, match=r"BTCUSDT quantity 0.002 rebuilt .* says 0.003"):
        _recover_from(_journal(r7=wrong))


def test_unjournaled_funds_and_missing_snapshots_are_refused() -> None:
    records = _journal()
    # The starting cash credited without a record, as the container did: the fill's
    # snapshot states a total the journal cannot explain.
    del records[1:3]
    with pytest.raises(RecoveryError, match=r"main USDT balance -0.001 rebuilt .* says 999.999"):
        _recover_from(records)
    records = _journal()
    del records[7]  # the position snapshot of the fill
    with pytest.raises(RecoveryError, match="PositionSnapshot BTCUSDT is missing for a traded"):
        _recover_from(records)
    records = _journal()
    del records[8]
    del records[2]  # every balance snapshot
    with pytest.raises(RecoveryError, match=r"main USDT balance 999\.999 has no BalanceSnapshot"):
        _recover_from(records)


def test_recovery_needs_an_empty_portfolio_with_every_instrument() -> None:
    clock = ManualClock()
    venue = SimulatedVenue(INSTRUMENTS, clock)
    funded = Portfolio(INSTRUMENTS.values())
    funded.credit("USDT", D(5))
    for portfolio, match in ((funded, "portfolio main has balances"), (Portfolio(), "lacks")):
        with pytest.raises(RecoveryError, match=match):
            recover_run(
                MemoryStore(_journal()),
                instruments=INSTRUMENTS,
                venue=venue,
                clock=clock,
                portfolio=portfolio,
            )


# --- emulated stops released before the crash ---------------------------------------------------
def _emulated_run(desk: Desk) -> None:
    steps = [
        lambda ts: fund(desk, ts),
        lambda ts: desk.snapshot(ts, [("59999.0", "0.005")], [("60001.0", "0.005")]),
        lambda ts: desk.om.submit(
            symbol=SYMBOL,
            side=OrderSide.SELL,
            order_type=OrderType.STOP_LIMIT,
            quantity=D("0.003"),
            trigger_price=D("59995.0"),
            price=D("60003.0"),
        ),
        lambda ts: desk.trade(ts, "59995.0", "0.001", "sell"),  # fires: sent as a limit
        lambda ts: desk.diff(ts, [("59998.0", "0.001")], []),  # it arrives and rests
        lambda ts: desk.trade(ts, "60003.0", "0.001", "buy"),  # fills 1 of 3
        lambda ts: desk.diff(ts, [("59998.0", "0.002")], []),
        lambda ts: desk.trade(ts, "60003.0", "0.001", "buy"),  # fills 2 of 3
    ]
    for i, step in enumerate(steps):
        desk.clock.now = (i + 1) * 10_000
        step(desk.clock.now)
        desk.commit()


@pytest.mark.parametrize(("crash_after", "kind"), [(4, "resubmitted"), (6, "restored")])
def test_a_released_emulated_stop_is_sent_again_or_put_back(
    tmp_path: Path, crash_after: int, kind: str
) -> None:
    # Count the appends of the first `crash_after` steps, then crash at the next one.
    probe = CrashingStore(open_run(tmp_path / "count.sqlite"))
    commits: list[int] = []
    probe.on_commit = lambda: commits.append(probe.appends)
    _emulated_run(Desk(probe, LATENT, venue=NoStopsVenue))
    path = tmp_path / "run.sqlite"
    store = CrashingStore(open_run(path), commits[crash_after - 1] + 1)
    with pytest.raises(Crash):
        _emulated_run(Desk(store, LATENT, venue=NoStopsVenue))
    store.inner.close()

    sqlite = SqliteStore.open(path, resume=RUN_ID)
    clock = ManualClock(1_000_000)
    desk = Desk(
        sqlite,
        LATENT,
        clock=clock,
        venue=NoStopsVenue,
        recovered=lambda d: recover_run(
            sqlite, instruments=INSTRUMENTS, venue=d.venue, clock=clock, portfolio=d.portfolio
        ),
    )
    assert desk.recovered is not None
    assert desk.recovered.state() == committed_state(path, RUN_ID)
    desk.snapshot(clock.now, [("59999.0", "0.005")], [("60001.0", "0.005")])
    done = restart_venue(desk.recovered, desk.venue, now_ns=clock.now)
    assert getattr(done, kind) == ("qx-1",)
    desk.pump()
    desk.commit()
    order = desk.om.order("qx-1")
    filled_before = order.filled_qty
    assert filled_before == (D("0.001") if kind == "restored" else D(0))
    for ts, step in (
        (clock.now + 10_000, lambda ts: desk.diff(ts, [("59998.0", "0.003")], [])),
        (clock.now + 20_000, lambda ts: desk.trade(ts, "61000.0", "1.000", "buy")),
    ):
        step(ts)
        desk.commit()
    assert order.status is OrderStatus.FILLED
    assert not desk.om.anomalies
    trade_ids = [f.trade_id for f in order.fills]
    assert len(trade_ids) == len(set(trade_ids)) == (2 if kind == "restored" else 1)
    assert desk.venue.position(SYMBOL) == desk.portfolio.quantity(SYMBOL) == D("-0.003")
    assert desk.state() == committed_state(path, RUN_ID)
    sqlite.close()


# --- the binding -------------------------------------------------------------------------------
def test_the_binding_restores_without_a_report_and_refuses_with_the_rule() -> None:
    v = _core.SimVenue("0.1", "0.001", maker_fee="0.0002", taker_fee="0.0005")
    assert v.next_order_id == 1
    v.restore(4, 0, "limit", 5, filled=2, price=9995, client_id="qx-7")
    v.restore(6, 1, "stop_market", 1, trigger_price=9990)
    assert v.drain_reports() == []
    assert v.open_orders() == [(4, "qx-7", 0, 9995, 5, 2)]
    assert v.next_order_id == 7
    v.reserve_ids(20)
    assert v.next_order_id == 20
    with pytest.raises(ValueError, match=r"order_id 4 is 0 or already in use"):
        v.restore(4, 0, "limit", 5, price=9995)
    with pytest.raises(ValueError, match=r"filled 5 of qty 5 is not allowed"):
        v.restore(8, 0, "limit", 5, filled=5, price=9995)
    with pytest.raises(ValueError, match="order_type market never rests"):
        v.restore(8, 0, "market", 5)
    with pytest.raises(ValueError, match="price is missing"):
        v.restore(8, 0, "limit", 5)
    assert v.next_order_id == 20
