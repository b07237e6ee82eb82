"""Crash recovery on a scripted paper-like run journaled to SQLite: killed at every journal
append, rebuilt with `recover_run` from what was committed, compared with the SQLite read
models and with the live state at the last commit, then continued on a fresh simulated
venue (`restart_venue`): no id twice, fills keep coming, positions agree."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.store.sqlite import SqliteStore
from adapters.venues.simulated import SimSettings
from engine.domain import OrderSide, OrderStatus, OrderType, TimeInForce
from engine.domain.journal import OrderInitialized
from engine.services.recovery import (
    RESTART_REASON,
    Recovered,
    Restarted,
    recover_run,
    resend_in_flight,
    restore_venue,
)
from recovery_harness import (
    INSTRUMENTS,
    RUN_ID,
    SYMBOL,
    Crash,
    CrashingStore,
    Desk,
    ManualClock,
    committed_state,
    fund,
    open_run,
)

D = Decimal
STEP = 10_000
LATENT = SimSettings(submit_latency_ns=500, cancel_latency_ns=700, modify_latency_ns=300)
BOOK_BIDS = [("59999.0", "0.005"), ("59998.0", "0.010")]
BOOK_ASKS = [("60001.0", "0.005"), ("60002.0", "0.010")]

Step = Callable[[Desk, int], None]


def _submit(desk: Desk, ts: int, **fields: Any) -> None:
    desk.clock.now = ts
    desk.om.submit(symbol=SYMBOL, **fields)
    desk.pump()


def _limit(side: OrderSide, quantity: str, price: str, **more: Any) -> dict[str, Any]:
    fields = {"side": side, "order_type": OrderType.LIMIT, "quantity": D(quantity)}
    return fields | {"price": D(price)} | more


def _three_quotes(d: Desk, ts: int) -> None:
    # qx-1 a bid of 0.010 behind 0.005; qx-2 a post-only ask behind 0.005; qx-3 a GTD bid.
    _submit(d, ts, **_limit(OrderSide.BUY, "0.010", "59999.0"))
    _submit(d, ts, **_limit(OrderSide.SELL, "0.004", "60001.0", post_only=True))
    gtd = {"time_in_force": TimeInForce.GTD, "expire_time_ns": ts + 10**12}
    _submit(d, ts, **_limit(OrderSide.BUY, "0.002", "59990.0", **gtd))


def _amend_and_stop(d: Desk, ts: int) -> None:
    d.at(ts)
    d.om.modify("qx-1", price=D("59999.5"))
    # qx-4: a stop-limit sell, worked by the venue.
    stop = {"order_type": OrderType.STOP_LIMIT, "trigger_price": D("59995.0")}
    _submit(d, ts, **(_limit(OrderSide.SELL, "0.002", "59994.0") | stop))


def _cancel_and_take(d: Desk, ts: int) -> None:
    d.at(ts)
    d.om.cancel("qx-3")
    _submit(d, ts, side=OrderSide.BUY, order_type=OrderType.MARKET, quantity=D("0.002"))  # qx-5


def _accept_then_amend(d: Desk, ts: int) -> None:
    d.diff(ts, [("59999.0", "0.004")], [])
    d.om.modify("qx-6", quantity=D("0.004"))


def _cancel_first(d: Desk, ts: int) -> None:
    d.at(ts)
    d.om.cancel("qx-1")


SCRIPT: list[Step] = [
    fund,
    lambda d, ts: d.snapshot(ts, BOOK_BIDS, BOOK_ASKS),
    _three_quotes,
    lambda d, ts: d.diff(ts, [("59997.0", "0.002")], []),
    lambda d, ts: d.trade(ts, "59999.0", "0.008", "sell"),  # qx-1 fills 3 (5 ahead)
    _amend_and_stop,
    lambda d, ts: d.trade(ts, "60001.0", "0.010", "buy"),  # qx-2 fills 4 (5 ahead)
    _cancel_and_take,
    lambda d, ts: d.diff(ts, [], [("60001.0", "0.003")]),
    lambda d, ts: d.trade(ts, "59999.5", "0.002", "sell"),  # qx-1 fills 2 at its new price
    lambda d, ts: d.trade(ts, "59995.0", "0.001", "sell"),  # qx-1 +1 (through); qx-4 fires
    lambda d, ts: _submit(d, ts, **_limit(OrderSide.SELL, "0.003", "60005.0")),  # qx-6
    _accept_then_amend,
    lambda d, ts: d.trade(ts, "60005.0", "0.001", "buy"),  # qx-6 fills 1
    _cancel_first,
    lambda d, ts: d.diff(ts, [("59998.0", "0.011")], []),
]


def run_script(desk: Desk, steps: list[Step], first_ts: int = STEP) -> None:
    for i, step in enumerate(steps):
        step(desk, first_ts + i * STEP)
        desk.commit()


def _fresh(path: Path, settings: SimSettings, crash_at: int = 0) -> tuple[Desk, CrashingStore]:
    store = CrashingStore(open_run(path), crash_at)
    desk = Desk(store, settings)
    return desk, store


def _recover(desk: Desk, store: SqliteStore) -> Recovered:
    return recover_run(
        store,
        instruments=INSTRUMENTS,
        venue=desk.venue,
        clock=desk.clock,
        risk=desk.risk,
        portfolio=desk.portfolio,
    )


@dataclass
class Restart:
    desk: Desk
    store: SqliteStore
    recovered: Recovered
    before: dict[str, Any]
    """The recovered state before `restart_venue` (which may journal answers)."""
    read_models: dict[str, Any]
    """`committed_state` read before `restart_venue`."""
    done: Restarted


def restart(path: Path, settings: SimSettings) -> Restart:
    """A new process on the same store: recover, feed the fresh venue a snapshot, give
    it back what the old one held, hand its answers over, commit."""
    store = SqliteStore.open(path, resume=RUN_ID)
    last_ts = max(r.ts_event for _, r in store.records())
    clock = ManualClock(last_ts + 1_000_000)
    desk = Desk(store, settings, clock=clock, recovered=lambda d: _recover(d, store))
    assert desk.recovered is not None
    before, read_models = desk.recovered.state(), committed_state(path, RUN_ID)
    if not desk.recovered.funding:  # died before its starting funds were committed
        fund(desk, clock.now)
    # Orders back first, on the stale book (behind everything until the snapshot),
    # then the requests in flight once the venue has the book.
    restored = restore_venue(desk.recovered, desk.venue)
    desk.snapshot(clock.now, BOOK_BIDS, BOOK_ASKS)
    resent = resend_in_flight(desk.recovered, desk.venue, now_ns=clock.now)
    desk.pump()
    desk.commit()
    done = Restarted(restored, resent.resubmitted, resent.recanceled, resent.updates_rejected)
    return Restart(desk, store, desk.recovered, before, read_models, done)


def _cancel_all(d: Desk, ts: int) -> None:
    d.at(ts)
    for order in d.om.open_orders():
        d.om.cancel(order.client_order_id)


CONTINUATION: list[Step] = [
    lambda d, ts: d.diff(ts, [("59997.0", "0.003")], []),  # whatever was sent arrives
    lambda d, ts: d.trade(ts, "59000.0", "1.000", "sell"),  # through every bid of ours
    lambda d, ts: d.trade(ts, "61000.0", "1.000", "buy"),  # through every ask of ours
    lambda d, ts: _submit(d, ts, side=OrderSide.BUY, order_type=OrderType.MARKET,
                          quantity=D("0.001")),
    lambda d, ts: d.diff(ts, [("59997.0", "0.004")], []),
    _cancel_all,
    lambda d, ts: d.diff(ts, [("59997.0", "0.005")], []),
]  # fmt: skip


def _total_appends(tmp_path: Path, settings: SimSettings) -> int:
    desk, store = _fresh(tmp_path / "count.sqlite", settings)
    run_script(desk, SCRIPT)
    store.inner.close()
    return store.appends


def crash_recover_continue(path: Path, settings: SimSettings, crash_at: int) -> Restart:
    desk, store = _fresh(path, settings, crash_at)
    # The committed state after each commit, starting with the run's RunStarted alone.
    live: list[tuple[dict[str, Any], list[Decimal], Decimal]] = [(desk.state(), [], D(0))]
    store.on_commit = lambda: live.append(
        (desk.state(), list(desk.counters.trade_pnl), desk.counters.traded_notional)
    )
    with pytest.raises(Crash):
        run_script(desk, SCRIPT)
    store.inner.close()  # the uncommitted batch is lost, as in a kill -9

    r = restart(path, settings)
    rec, new = r.recovered, r.desk
    # What was committed, three ways: the read models, the live process at its last
    # commit, and the recovery.
    state_then, pnl_then, notional_then = live[-1]
    assert r.before == state_then
    assert r.read_models == state_then
    assert rec.trade_pnl == pnl_then and rec.traded_notional == notional_then
    assert new.venue.position(SYMBOL) == new.portfolio.quantity(SYMBOL)
    for cid in r.done.updates_rejected:
        assert new.om.order(cid).events[-1].reason == RESTART_REASON  # type: ignore[attr-defined]
    old_ids = [o.client_order_id for o in new.om.orders()]

    run_script(new, CONTINUATION, first_ts=new.clock.now + STEP)
    assert not new.om.anomalies
    assert not new.om.open_orders()
    assert new.venue.position(SYMBOL) == new.portfolio.quantity(SYMBOL)
    # Ids go on after the last one and never repeat.
    cids = [x.client_order_id for _, x in r.store.records() if isinstance(x, OrderInitialized)]
    assert len(cids) == len(set(cids))
    fresh = [cid for cid in cids if cid not in old_ids]
    first = len(old_ids) + 1
    assert fresh == [f"qx-{n}" for n in range(first, first + len(fresh))]
    # Fills keep coming: the new market order filled, and every limit order put back
    # at the venue (and not canceled at the restart) filled when prints went through it.
    assert new.om.order(fresh[-1]).status is OrderStatus.FILLED
    for cid in set(r.done.restored) - set(r.done.recanceled):
        order = new.om.order(cid)
        if order.order_type is OrderType.LIMIT:
            assert order.status is OrderStatus.FILLED, cid
    # The whole run, recovered once more from its final journal, agrees with the
    # process that ran it and with the read models.
    final = new.state()
    assert final == committed_state(path, RUN_ID)
    r.store.close()
    again = restart(path, settings)
    assert again.before == final
    again.store.close()
    return r


def test_the_script_runs_as_written(tmp_path: Path) -> None:
    """The uninterrupted run, checked by hand: what the crash tests cut into."""
    desk, store = _fresh(tmp_path / "run.sqlite", LATENT)
    run_script(desk, SCRIPT)
    store.inner.close()
    status = {o.client_order_id: (o.status, o.filled_qty) for o in desk.om.orders()}
    assert status == {
        "qx-1": (OrderStatus.CANCELED, D("0.006")),  # 3 + 2 + 1
        "qx-2": (OrderStatus.FILLED, D("0.004")),
        "qx-3": (OrderStatus.CANCELED, D("0")),
        "qx-4": (OrderStatus.FILLED, D("0.002")),
        "qx-5": (OrderStatus.FILLED, D("0.002")),
        "qx-6": (OrderStatus.PARTIALLY_FILLED, D("0.001")),
    }
    # +0.006 - 0.004 - 0.002 + 0.002 - 0.001 = +0.001.
    assert desk.portfolio.quantity(SYMBOL) == D("0.001")
    assert desk.om.order("qx-6").quantity == D("0.004")


def test_recovery_at_every_crash_point(tmp_path: Path) -> None:
    total = _total_appends(tmp_path, LATENT)
    kinds: dict[str, int] = {"restored": 0, "resubmitted": 0, "recanceled": 0, "rejected": 0}
    for crash_at in range(1, total + 1):
        r = crash_recover_continue(tmp_path / f"crash-{crash_at}.sqlite", LATENT, crash_at)
        kinds["restored"] += len(r.done.restored)
        kinds["resubmitted"] += len(r.done.resubmitted)
        kinds["recanceled"] += len(r.done.recanceled)
        kinds["rejected"] += len(r.done.updates_rejected)
    # Every kind of restart work happened at some crash point.
    assert all(n > 0 for n in kinds.values()), kinds


@settings(max_examples=25, deadline=None)
@given(data=st.data(), latency=st.sampled_from([0, 1]))
def test_recovery_at_any_crash_point(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject, latency: int
) -> None:
    chosen = LATENT if latency else SimSettings()
    where = tmp_path_factory.mktemp("crash")
    total = _total_appends(where, chosen)
    crash_at = data.draw(st.integers(1, total), label="crash_at")
    crash_recover_continue(where / "run.sqlite", chosen, crash_at)
