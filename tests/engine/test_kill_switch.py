"""The emergency stop in a backtest: a long and a short position with resting orders,
killed mid-run over thin books; everything canceled, flat at the venue in slices, each
step journaled; strategy orders denied once halted."""

from __future__ import annotations

from decimal import Decimal

import pytest
from safety_rig import SEC, Alerts, Tape, perp, rig

from adapters.venues.simulated import SimSettings
from engine.domain import Fill, OrderCanceled, OrderFilled, OrderSide, OrderStatus, OrderType
from engine.domain.errors import ValidationError
from engine.ports import AlertLevel
from engine.services.emergency import EmergencyPhase, EmergencySettings
from engine.strategy import BookTop, Context, EmptyParams, Strategy

D = Decimal
BTC, ETH = perp("BTCUSDT", "BTC"), perp("ETHUSDT", "ETH")


class LongShort(Strategy[EmptyParams]):
    """Long 0.010 BTC and short 0.010 ETH at market, with a resting limit order on each;
    on any fill of an order not its own, it tries a new order (which must be denied)."""

    def __init__(self, params: EmptyParams) -> None:
        super().__init__(params)
        self.mine: set[str] = set()
        self.tries: list[str] = []
        self.books = 0

    def on_book(self, ctx: Context, top: BookTop) -> None:
        self.books += 1
        if (
            any(o.symbol == top.symbol for o in ctx.open_orders())
            or ctx.position(top.symbol).quantity
        ):
            return
        buy = top.symbol == BTC.symbol
        side = OrderSide.BUY if buy else OrderSide.SELL
        entry = ctx.submit(
            symbol=top.symbol, side=side, order_type=OrderType.MARKET, quantity=D("0.010")
        )
        rest = ctx.submit(
            symbol=top.symbol,
            side=side,
            order_type=OrderType.LIMIT,
            quantity=D("0.002"),
            price=D("980.0") if buy else D("2050.0"),
        )
        self.mine |= {entry.client_order_id, rest.client_order_id}

    def on_fill(self, ctx: Context, fill: Fill) -> None:
        if fill.client_order_id not in self.mine:
            order = ctx.submit(
                symbol=fill.symbol,
                side=OrderSide.BUY,
                order_type=OrderType.LIMIT,
                quantity=D("0.001"),
                price=D("990.0") if fill.symbol == BTC.symbol else D("1990.0"),
            )
            self.mine.add(order.client_order_id)
            self.tries.append(order.status.value)


def tapes() -> list[Tape]:
    """BTC: deep asks (the long entry), thin bids (its exit); ETH the other way round.
    At 2 s the books change below the touch only; at 3 s the touch itself changes."""
    btc = (
        Tape(BTC)
        .snapshot(
            1 * SEC, [("1000.0", "0.004"), ("999.0", "0.004"), ("990.0", "5")], [("1000.5", "5")]
        )
        .diff(2 * SEC, [("989.0", "1")], [])
        .diff(3 * SEC, [("1000.0", "0.005")], [])
        .diff(4 * SEC, [("1000.1", "1")], [])
    )
    eth = (
        Tape(ETH)
        .snapshot(
            1 * SEC, [("1999.5", "5")], [("2000.0", "0.003"), ("2001.0", "0.003"), ("2100.0", "5")]
        )
        .diff(2 * SEC, [], [("2101.0", "1")])
        .diff(3 * SEC, [], [("2000.0", "0.002")])
        .diff(4 * SEC, [], [("1999.9", "1")])
    )
    return [btc, eth]


def kill_after(rig_, calls: int) -> object:
    count = {"n": 0}

    def should_stop() -> bool:
        count["n"] += 1
        if count["n"] == calls:
            rig_.kernel.request_kill("test kill")
        return False

    return should_stop


def test_a_kill_cancels_flattens_in_slices_and_journals_each_step() -> None:
    alerts = Alerts()
    r = rig(
        [BTC, ETH],
        LongShort(EmptyParams()),
        notifier=alerts,
        emergency=EmergencySettings(slippage_bps=50),
    )
    streams = [t.stream() for t in tapes()]
    # Steps: BTC 1s, ETH 1s, BTC 2s, ETH 2s, ... The kill is asked for before the third
    # step and starts before the fourth (ETH 2 s), at clock 2 s.
    r.kernel.run_backtest(streams, should_stop=kill_after(r, 3))  # type: ignore[arg-type]
    assert r.kernel.emergency.phase is EmergencyPhase.DONE
    # Flat at the venue and in the portfolio; no order open.
    assert r.venue.position("BTCUSDT") == 0 and r.venue.position("ETHUSDT") == 0
    assert r.portfolio.position("BTCUSDT").quantity == 0 == r.portfolio.position("ETHUSDT").quantity
    assert r.om.open_orders() == ()
    # The resting orders were canceled by the stop.
    canceled = [e.client_order_id for e in r.records() if isinstance(e, OrderCanceled)]
    assert {"qx-2", "qx-4"} <= set(canceled)
    # Slices, hand-computed: BTC long 0.010 sold into bids 1000.0 x 0.004, 999.0 x 0.004
    # (cap 50 bps from 1000.0 = 995.0; 990.0 is beyond it): 0.008, the rest 0.002 at
    # 1000.0 once the touch changes at 3 s. ETH short 0.010 bought from asks 2000.0 x
    # 0.003, 2001.0 x 0.003 (cap 2010.0): 0.006; at 3 s 0.002 at 2000.0 then 0.002 at
    # 2001.0 (what we took at 2 s is back after the next book message).
    fills = [
        (e.fill.symbol, e.fill.side.value, str(e.fill.price), str(e.fill.quantity))
        for e in r.records()
        if isinstance(e, OrderFilled) and e.client_order_id not in r.kernel.strategy.mine  # type: ignore[attr-defined]
    ]
    assert fills == [
        ("BTCUSDT", "SELL", "1000.0", "0.004"),
        ("BTCUSDT", "SELL", "999.0", "0.004"),
        ("ETHUSDT", "BUY", "2000.0", "0.003"),
        ("ETHUSDT", "BUY", "2001.0", "0.003"),
        ("BTCUSDT", "SELL", "1000.0", "0.002"),
        ("ETHUSDT", "BUY", "2000.0", "0.002"),
        ("ETHUSDT", "BUY", "2001.0", "0.002"),
    ]
    assert r.kernel.emergency.attempts == {"BTCUSDT": 2, "ETHUSDT": 2}
    safety = r.safety()
    assert [(kind, what) for kind, what, _ in safety] == [
        ("stop", "started"),
        ("state", "HALTED"),
        ("stop", "cancel"),
        ("stop", "slice"),
        ("stop", "slice"),
        ("stop", "slice"),
        ("stop", "slice"),
        ("stop", "verified"),
        ("stop", "done"),
    ]
    assert safety[1][2] == "KILL: test kill"
    assert safety[2][2] == "orders=2 ids=qx-2,qx-4"
    assert [d for k, w, d in safety if w == "slice"] == [
        "BTCUSDT SELL 0.010 attempt=1",
        "ETHUSDT BUY 0.010 attempt=1",
        "BTCUSDT SELL 0.002 attempt=2",
        "ETHUSDT BUY 0.004 attempt=2",
    ]
    # Journal order: the stop's records at the kill time (2 s) and the second slices at 3 s.
    stops = [rec for rec in r.records() if type(rec).__name__ == "EmergencyStop"]
    assert [s.ts_event for s in stops] == [2 * SEC] * 4 + [3 * SEC] * 4
    # Every flattening order was reduce-only and market; the strategy's try was denied.
    strategy = r.kernel.strategy
    flatteners = [o for o in r.om.orders() if o.client_order_id not in strategy.mine]  # type: ignore[attr-defined]
    assert len(flatteners) == 4 and all(
        o.terms.reduce_only and o.order_type is OrderType.MARKET for o in flatteners
    )
    assert strategy.tries and set(strategy.tries) == {OrderStatus.DENIED.value}  # type: ignore[attr-defined]
    denied = [o for o in r.om.orders() if o.status is OrderStatus.DENIED]
    assert all(o.events[-1].reason.startswith("TRADING_HALTED") for o in denied)  # type: ignore[attr-defined]
    # No market callbacks after the kill: the 2 snapshots only (the 2 s diffs left the
    # tops alone; the 3 s ones came after the kill).
    assert strategy.books == 2  # type: ignore[attr-defined]
    assert [(level, title) for level, title, _ in alerts.seen] == [
        (AlertLevel.CRITICAL, "emergency stop started"),
        (AlertLevel.CRITICAL, "emergency stop done: flat"),
    ]
    # The loop ended once flat: the 4 s messages were never applied.
    assert r.clock.now_ns() == 3 * SEC


def test_out_of_attempts_the_stop_fails_loudly_and_stays_halted() -> None:
    alerts = Alerts()
    r = rig(
        [BTC, ETH],
        LongShort(EmptyParams()),
        notifier=alerts,
        emergency=EmergencySettings(slippage_bps=50, max_attempts=1),
    )
    r.kernel.run_backtest([t.stream() for t in tapes()], should_stop=kill_after(r, 3))  # type: ignore[arg-type]
    assert r.kernel.emergency.phase is EmergencyPhase.FAILED
    last = r.safety()[-1]
    assert last[:2] == ("stop", "failed")
    assert "BTCUSDT: still 0.002 after 1 slices" in last[2] and "ETHUSDT=-0.004" in last[2]
    assert r.kernel.trading.state.value == "HALTED"
    assert alerts.seen[-1][:2] == (AlertLevel.CRITICAL, "emergency stop FAILED")


def test_a_run_that_ends_mid_stop_says_so() -> None:
    r = rig([BTC, ETH], LongShort(EmptyParams()), emergency=EmergencySettings(slippage_bps=50))
    short = [t.stream() for t in tapes()]
    # Only the first six steps exist: the kill at 2 s leaves remainders, the data ends.
    cut = [type(s)(s.symbol, s.rule, s.events[: len(s.events) - 2], s.data_lot_size) for s in short]
    r.kernel.run_backtest(cut, should_stop=kill_after(r, 3))  # type: ignore[arg-type]
    assert r.kernel.emergency.phase is EmergencyPhase.FAILED
    assert r.safety()[-1][2].startswith("the run ended before every position was flat")


def test_a_second_kill_while_running_changes_nothing_and_kill_with_nothing_held_is_done() -> None:
    r = rig([BTC, ETH], LongShort(EmptyParams()))
    r.kernel.kill("nothing held")  # before any data: no order, no position
    assert r.kernel.emergency.phase is EmergencyPhase.DONE
    assert [w for _, w, _ in r.safety()] == ["started", "HALTED", "cancel", "verified", "done"]
    assert r.kernel.emergency.start("again") is True  # a finished stop may run again
    assert r.kernel.emergency.start("again") is False  # ... but not twice at once


def test_health_sees_acks_rejects_the_state_and_the_stop() -> None:
    # The venue acknowledges 3 ms after a submit: every ack latency is 3 ms.
    r = rig(
        [BTC, ETH],
        LongShort(EmptyParams()),
        settings=SimSettings(submit_latency_ns=3_000_000),
        emergency=EmergencySettings(slippage_bps=50),
        with_health=True,
    )
    health = r.kernel.health
    assert health is not None
    assert health.snapshot()["status"] == {"trading_state": "ACTIVE", "emergency_stop": "idle"}
    r.kernel.run_backtest([t.stream() for t in tapes()], should_stop=kill_after(r, 3))  # type: ignore[arg-type]
    snap = health.snapshot()
    assert snap["status"] == {"trading_state": "HALTED", "emergency_stop": "done"}
    acks = snap["ack_latency_ns"]
    assert acks["count"] > 0 and acks["p50"] == acks["max"] == 3_000_000
    denied = sum(o.status is OrderStatus.DENIED for o in r.om.orders())
    assert denied > 0 and snap["rejects"]["total"] == denied
    assert set(snap["feeds"]) == {"BTCUSDT", "ETHUSDT"}


def test_a_denied_slice_is_journaled_and_tried_again_on_the_next_book() -> None:
    # At the kill (2 s) the bids are gone: no mid, so the gate denies the sell (NO_MID);
    # at 3 s a bid of 999.0 x 1 is back and the whole 0.010 goes in one slice.
    tape = (
        Tape(BTC)
        .snapshot(1 * SEC, [("1000.0", "1")], [("1000.5", "5")])
        .diff(2 * SEC, [("1000.0", "0")], [])
        .diff(3 * SEC, [("999.0", "1")], [])
    )
    r = rig([BTC], LongShort(EmptyParams()))
    r.kernel.run_backtest([tape.stream()], should_stop=kill_after(r, 2))  # type: ignore[arg-type]
    assert r.kernel.emergency.phase is EmergencyPhase.DONE
    steps = [(w, d) for k, w, d in r.safety() if k == "stop"]
    assert [w for w, _ in steps] == [
        "started",
        "cancel",
        "slice",
        "denied",
        "slice",
        "verified",
        "done",
    ]
    assert steps[3][1] == "BTCUSDT qx-3: NO_MID: symbol=BTCUSDT"
    assert r.kernel.emergency.attempts == {"BTCUSDT": 2}
    assert r.venue.position("BTCUSDT") == 0


def test_emergency_settings_are_checked() -> None:
    with pytest.raises(ValidationError, match="slippage_bps"):
        EmergencySettings(slippage_bps=0)
    with pytest.raises(ValidationError, match="max_attempts"):
        EmergencySettings(max_attempts=0)
