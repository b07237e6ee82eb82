"""Circuit breakers over hand-computed equity paths and reject streams; the trading
control that journals every state change and never lets a breaker loosen it."""

from __future__ import annotations

from decimal import Decimal

import pytest
from safety_rig import SEC, Alerts, Tape, perp, rig

from adapters.clocks import SimulatedClock
from adapters.store.memory import MemoryStore
from engine.domain import OrderSide, OrderTerms, OrderType, TradingState
from engine.domain.errors import ValidationError
from engine.domain.journal import EquitySample, TradingStateChanged
from engine.ports import AlertLevel
from engine.services.breakers import DAY_NS, BreakerLimits, CircuitBreakers, Trip
from engine.services.trading_state import TradingControl
from engine.strategy import BookTop, Context, EmptyParams, Strategy

D = Decimal
HALTED, REDUCING, ACTIVE = TradingState.HALTED, TradingState.REDUCING, TradingState.ACTIVE


# --- the breakers alone --------------------------------------------------------------------------
def test_drawdown_from_the_peak_trips_only_above_the_limit() -> None:
    b = CircuitBreakers(BreakerLimits(max_drawdown=D("0.10"), max_daily_loss=None))
    assert b.on_equity("a", 0, D("1000")) is None
    assert b.on_equity("a", 1, D("950")) is None  # 5% below the peak 1000
    assert b.on_equity("a", 2, D("1100")) is None  # a new peak
    assert b.on_equity("a", 3, D("990")) is None  # (1100 - 990) / 1100 = 0.10 exactly: not above
    trip = b.on_equity("a", 4, D("989.9"))  # 110.1 / 1100 = 0.1000909... > 0.10
    assert trip == Trip(HALTED, "MAX_DRAWDOWN: account=a equity=989.9 peak=1100 limit=0.10")
    assert b.on_equity("b", 5, D("10")) is None  # accounts are judged each on its own


def test_daily_loss_is_measured_from_the_first_equity_of_the_utc_day() -> None:
    b = CircuitBreakers(BreakerLimits(max_drawdown=None, max_daily_loss=D("0.05")))
    day = DAY_NS
    assert b.on_equity("a", day + 1, D("2000")) is None  # opens the day at 2000
    assert b.on_equity("a", day + 2, D("1900")) is None  # 100 / 2000 = 0.05: not above
    trip = b.on_equity("a", 2 * day - 1, D("1899.98"))  # 100.02 / 2000 = 0.05001
    assert trip == Trip(REDUCING, "DAILY_LOSS: account=a equity=1899.98 day_open=2000 limit=0.05")
    # The next UTC day opens at its first equity: the same value is no loss at all.
    assert b.on_equity("a", 2 * day, D("1899.98")) is None
    assert b.on_equity("a", 2 * day + 5, D("1804.99")) is None  # 94.99 / 1899.98 = 0.049995
    assert b.on_equity("a", 2 * day + 6, D("1804.98")) is not None  # 95 / 1899.98 = 0.0500005


def test_the_drawdown_state_is_configurable_and_no_equity_is_no_verdict() -> None:
    b = CircuitBreakers(BreakerLimits(max_drawdown=D("0.5"), drawdown_state=REDUCING))
    assert b.on_equity("a", 0, D("0")) is None  # no positive peak: nothing to divide by
    assert b.on_equity("a", 1, D("-5")) is None
    assert b.on_equity("a", 2, D("100")) is None
    trip = b.on_equity("a", 3, D("40"))
    assert trip is not None and trip.state is REDUCING and trip.reason.startswith("MAX_DRAWDOWN")


def test_more_than_n_rejects_in_a_rolling_minute_halts() -> None:
    b = CircuitBreakers(BreakerLimits(max_rejects=3, reject_window_ns=60 * SEC))
    assert [b.on_reject(t * SEC) for t in (0, 10, 20)] == [None, None, None]
    trip = b.on_reject(59 * SEC)  # four within 60 s
    assert trip == Trip(HALTED, f"REJECT_RATE: rejects=4 window_ns={60 * SEC} limit=3")
    b = CircuitBreakers(BreakerLimits(max_rejects=3, reject_window_ns=60 * SEC))
    for t in (0, 10, 20):
        b.on_reject(t * SEC)
    assert b.on_reject(60 * SEC) is None  # the one at 0 is a full minute old: out
    assert b.rejects_in_window() == 3
    assert CircuitBreakers(BreakerLimits(max_rejects=None)).on_reject(0) is None


@pytest.mark.parametrize(
    ("fields", "name"),
    [
        ({"max_drawdown": D("0")}, "max_drawdown"),
        ({"max_drawdown": D("1")}, "max_drawdown"),
        ({"max_daily_loss": D("NaN")}, "max_daily_loss"),
        ({"max_daily_loss": 0.05}, "max_daily_loss"),
        ({"drawdown_state": ACTIVE}, "drawdown_state"),
        ({"daily_loss_state": "HALTED"}, "daily_loss_state"),
        ({"max_rejects": -1}, "max_rejects"),
        ({"reject_window_ns": 0}, "reject_window_ns"),
    ],
)
def test_bad_limits_name_the_field(fields: dict[str, object], name: str) -> None:
    with pytest.raises(ValidationError) as err:
        BreakerLimits(**fields)  # type: ignore[arg-type]
    assert err.value.field == name


# --- the trading control -------------------------------------------------------------------------
class Gate:
    """A pre-trade check with a state, as the risk gate keeps it."""

    def __init__(self) -> None:
        self.state = ACTIVE
        self.seen: list[TradingState] = []

    def check(self, terms: OrderTerms, now_ns: int) -> str | None:
        self.seen.append(self.state)
        return None if self.state is ACTIVE else f"STATE: {self.state.value}"


def terms(reduce_only: bool = False, order_type: OrderType = OrderType.MARKET) -> OrderTerms:
    return OrderTerms(
        client_order_id="c-1",
        symbol="BTCUSDT",
        side=OrderSide.SELL,
        order_type=order_type,
        quantity=D("1"),
        price=D("10") if order_type is OrderType.LIMIT else None,
        reduce_only=reduce_only,
        ts_init=0,
    )


def test_the_control_journals_each_change_tells_the_gate_and_never_loosens() -> None:
    store, clock, gate = MemoryStore(), SimulatedClock(5), Gate()
    control = TradingControl(store=store, clock=clock, gate=gate)
    changes: list[tuple[TradingState, TradingState, str]] = []
    control.subscribe(lambda old, new, why: changes.append((old, new, why)))
    assert control.tighten(REDUCING, "DAILY_LOSS: x") is True
    assert gate.state is REDUCING
    assert control.tighten(REDUCING, "again") is False  # no change, no record
    assert control.tighten(ACTIVE, "looser") is False  # a breaker never loosens
    clock.advance_to(7)
    assert control.tighten(HALTED, "REJECT_RATE: y") is True
    assert control.tighten(REDUCING, "looser") is False
    assert control.resume("operator checked") is True
    assert control.resume("twice") is False
    records = [r for _, r in store.records()]
    assert records == [
        TradingStateChanged(ts_event=5, state=REDUCING, reason="DAILY_LOSS: x"),
        TradingStateChanged(ts_event=7, state=HALTED, reason="REJECT_RATE: y"),
        TradingStateChanged(ts_event=7, state=ACTIVE, reason="RESUME: operator checked"),
    ]
    assert changes == [
        (ACTIVE, REDUCING, "DAILY_LOSS: x"),
        (REDUCING, HALTED, "REJECT_RATE: y"),
        (HALTED, ACTIVE, "RESUME: operator checked"),
    ]
    assert gate.state is ACTIVE
    with pytest.raises(ValidationError):
        control.resume("bad", state="ACTIVE")  # type: ignore[arg-type]
    # A resumed run takes its state from the journal, journaling nothing.
    again = TradingControl(store=MemoryStore(), clock=clock, gate=Gate())
    again.replay(list(store.records())[:2])  # up to the halt
    assert again.state is HALTED and again.gate.state is HALTED  # type: ignore[union-attr]


def test_the_flatten_permit_lets_only_reduce_only_market_orders_through_a_halt() -> None:
    gate = Gate()
    control = TradingControl(store=MemoryStore(), clock=SimulatedClock(), gate=gate)
    control.tighten(HALTED, "KILL: t")
    assert control.check(terms(reduce_only=True), 0) == "STATE: HALTED"
    with control.flatten_permit():
        assert control.check(terms(reduce_only=True), 0) == "STATE: REDUCING"  # judged as REDUCING
        assert control.check(terms(), 0) is not None
        assert control.check(terms(True, OrderType.LIMIT), 0) is not None
    assert gate.state is HALTED  # back once the permit closes
    assert control.check(terms(reduce_only=True), 0) == "STATE: HALTED"


def test_without_a_stateful_gate_the_control_applies_the_state_itself() -> None:
    control = TradingControl(store=MemoryStore(), clock=SimulatedClock())
    assert control.check(terms(), 0) is None
    control.tighten(REDUCING, "x")
    assert control.check(terms(), 0) == "TRADING_REDUCING: state=reducing reduce_only=false"
    assert control.check(terms(reduce_only=True), 0) is None
    control.tighten(HALTED, "y")
    assert control.check(terms(reduce_only=True), 0) == "TRADING_HALTED: state=halted"
    with control.flatten_permit():
        assert control.check(terms(reduce_only=True), 0) is None


# --- in the kernel -------------------------------------------------------------------------------
BTC = perp("BTCUSDT", "BTC")


class FarQuoter(Strategy[EmptyParams]):
    """On every book change, a limit buy 20% below the touch: the price band (5%)
    denies each one."""

    def on_book(self, ctx: Context, top: BookTop) -> None:
        assert top.bid is not None
        ctx.submit(
            symbol=top.symbol,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=D("0.010"),
            price=(top.bid * D("0.8")).quantize(D("0.1")),
        )


def moving_book(n: int) -> Tape:
    tape = Tape(BTC).snapshot(SEC, [("1000.0", "1")], [("1000.5", "1")])
    for i in range(1, n):
        tape.diff(SEC + i * SEC // 10, [(f"{1000 + i}.0", "1")], [])
    return tape


def test_denials_in_the_kernel_trip_the_reject_breaker_once() -> None:
    alerts = Alerts()
    r = rig(
        [BTC],
        FarQuoter(EmptyParams()),
        breakers=CircuitBreakers(BreakerLimits(max_rejects=3)),
        notifier=alerts,
    )
    r.kernel.run_backtest([moving_book(8).stream()])
    states = [(w, why) for k, w, why in r.safety() if k == "state"]
    assert states == [("HALTED", f"REJECT_RATE: rejects=4 window_ns={60 * SEC} limit=3")]
    reasons = [o.events[-1].reason.split(":")[0] for o in r.om.orders()]  # type: ignore[attr-defined]
    assert reasons == ["PRICE_BAND"] * 4 + ["TRADING_HALTED"] * 4
    assert alerts.seen == [(AlertLevel.CRITICAL, "circuit breaker: trading HALTED", states[0][1])]
    assert r.kernel.trading.state is HALTED
    assert r.kernel.resume("looked at it") is True
    assert r.safety()[-1] == ("state", "ACTIVE", "RESUME: looked at it")


class BuyOnce(Strategy[EmptyParams]):
    def on_book(self, ctx: Context, top: BookTop) -> None:
        if not ctx.open_orders() and ctx.position(top.symbol).quantity == 0:
            ctx.submit(
                symbol=top.symbol,
                side=OrderSide.BUY,
                order_type=OrderType.MARKET,
                quantity=D("0.010"),
            )


def test_a_falling_mark_trips_the_drawdown_breaker_on_the_equity_sample() -> None:
    # Cash 20 USDT; long 0.010 at 1000.5 (fee 0.0050025). Marks are mids rounded to the
    # tick: at 2 s the book is 900.0/900.5 -> 900.2 (half-even), equity =
    # 20 - 0.0050025 + 0.010 x (900.2 - 1000.5) = 18.9919975; the peak is 20 (the start
    # sample): drawdown 0.0504 > 0.05.
    tape = (
        Tape(BTC)
        .snapshot(SEC, [("1000.0", "1")], [("1000.5", "1")])
        .diff(2 * SEC, [("1000.0", "0"), ("900.0", "1")], [("1000.5", "0"), ("900.5", "1")])
        .diff(3 * SEC, [("900.1", "1")], [])
    )
    r = rig(
        [BTC],
        BuyOnce(EmptyParams()),
        cash=D("20"),
        breakers=CircuitBreakers(BreakerLimits(max_drawdown=D("0.05"), max_daily_loss=None)),
    )
    r.kernel.run_backtest([tape.stream()])
    states = [(w, why) for k, w, why in r.safety() if k == "state"]
    assert states == [("HALTED", "MAX_DRAWDOWN: account=main equity=18.9919975 peak=20 limit=0.05")]


def test_a_resumed_run_keeps_its_halt_and_its_equity_peak() -> None:
    r = rig(
        [BTC],
        BuyOnce(EmptyParams()),
        breakers=CircuitBreakers(BreakerLimits(max_drawdown=D("0.10"), max_daily_loss=None)),
        with_health=True,
    )
    journal = [
        EquitySample(ts_event=1, account="main", currency="USDT", equity=D("1000")),
        TradingStateChanged(ts_event=2, state=REDUCING, reason="DAILY_LOSS: x"),
        EquitySample(ts_event=3, account="main", currency="USDT", equity=D("950")),
    ]
    r.kernel.restore_safety(enumerate(journal, 1))
    assert r.kernel.trading.state is REDUCING
    assert r.kernel.health is not None
    assert r.kernel.health.snapshot()["status"]["trading_state"] == "REDUCING"
    assert len(r.store) == 0  # nothing journaled
    breakers = r.kernel.breakers
    assert breakers is not None
    # The peak 1000 is remembered: 899 is 10.1% below it.
    trip = breakers.on_equity("main", 4, D("899"))
    assert trip is not None and "peak=1000" in trip.reason
