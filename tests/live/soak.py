"""The soak: thousands of orders through OrderManager + CcxtVenue against the fake Binance,
with faults injected at random, then a settle, a reconciliation and the invariants of
issue 5 ("zero duplicated or lost orders").

`soak(fake, orders=..., seed=..., fault_rate=..., deadline_s=...)` drives, in this process,
an OrderManager (MemoryStore) over a CcxtVenue over ccxt.pro's `binanceusdm` (or `binance`
spot) pointed at `fake`; this thread plays the kernel (it drains the venue into the
manager). The seed fixes the plan: each order's kind, side, size, price and steps, and
when a fault is armed and of which kind. Timing (threads, sockets) is not seeded, so two
runs with one seed make the same requests in a different interleaving.

Orders (at most `in_flight` open at once):
- "rest": a passive limit order; then, by plan, maker fills forced at the fake (partial
  or full), amends (USD-M: new price and total, still passive), and a cancel;
- "take": a market order or a marketable IOC limit that walks the fake's fixed book
  (two thin levels, then a deep one): filled fully, or partly with the rest expired.
Faults (armed when a command is sent, with probability `fault_rate`, each kind at most
`max_faults` times, one of a kind pending at a time; the kind is the applicable one that
fired least so far, ties at random, so every kind comes up early):
5xx and 429 on creates, cancels and (USD-M) amends, create timeouts after placing
(answer delayed past ccxt's timeout, or the connection closed), duplicated, reordered
and malformed user-stream order reports, and websocket drops (every socket closed and
new ones refused for `refuse_s`). Counts are what fired at the fake (`faults.fired`).

Settle: faults disarmed, every order still open is canceled (again if a cancel was
refused) until each is closed in the manager, the venue has nothing unresolved and a
quiet spell brings no event; then one `Reconciler` pass (since 0, the journal's trade
ids known) and another quiet spell. Checks (`SoakReport.violations`, empty when held):
- no client order id twice among the fake's orders;
- every fill at the fake journaled exactly once (trade ids), none journaled that the
  fake does not have;
- each order of the manager that the venue accepted exists at the fake; each order at
  the fake is known to the manager; an order the manager holds rejected is not at the
  fake;
- each order is closed in the manager, with the fake's filled quantity and a compatible
  status (FILLED ~ FILLED, CANCELED ~ CANCELED, EXPIRED ~ EXPIRED);
- the journal's position (the portfolio) equals the fake's (USD-M);
- the manager recorded no anomaly, and the reconciliation found nothing to add, adopt
  or resolve (a balance adjustment is expected: fees and funding are the fake's).
"""

from __future__ import annotations

import random
import time
from collections import Counter
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import ccxt.pro as ccxtpro

from adapters.exchanges.aioloop import AsyncioThread
from adapters.exchanges.backoff import BackoffPolicy
from adapters.exchanges.markets import instrument_from_market
from adapters.store.memory import MemoryStore
from adapters.venues.ccxt_venue import CcxtVenue
from engine.domain.enums import OrderSide, OrderStatus, OrderType, TimeInForce
from engine.domain.events import OrderEvent, OrderFilled
from engine.domain.order import Order
from engine.services.order_manager import OrderManager
from engine.services.portfolio import Portfolio
from engine.services.reconcile import Reconciler
from fakex import FakeBinance

__all__ = ["FAULT_KINDS", "SoakReport", "soak"]

D = Decimal
Market = Literal["spot", "futures"]

FAULT_KINDS: tuple[str, ...] = (
    "create_5xx",
    "create_429",
    "create_timeout",
    "cancel_5xx",
    "cancel_429",
    "amend_5xx",
    "user_duplicate",
    "user_reorder",
    "user_malformed",
    "ws_drop",
)
"""Every fault kind the soak injects (`amend_5xx` on USD-M only)."""

_FIRED_KEYS: dict[str, tuple[str, ...]] = {
    "create_5xx": ("http 500 POST", "http 503 POST"),
    "create_429": ("http 429 POST",),
    "create_timeout": ("create_timeouts",),
    "cancel_5xx": ("http 500 DELETE", "http 503 DELETE"),
    "cancel_429": ("http 429 DELETE",),
    "amend_5xx": ("http 503 PUT",),
    "user_duplicate": ("user_duplicates",),
    "user_reorder": ("user_swaps",),
    "user_malformed": ("user_malformed",),
    "ws_drop": ("ws_drops",),
}
"""Each kind's counters in `fake.faults.fired`."""

_ON: dict[str, tuple[str, ...]] = {
    "submit": ("create_5xx", "create_429", "create_timeout"),
    "cancel": ("cancel_5xx", "cancel_429"),
    "amend": ("amend_5xx",),
    "any": ("user_duplicate", "user_reorder", "user_malformed", "ws_drop"),
}
"""Which kinds may be armed with which command (the stream's with any)."""

_SYMBOL = {"spot": "BTC/USDT", "futures": "BTC/USDT:USDT"}
_ORDER_PATH = {"spot": "/api/v3/order", "futures": "/fapi/v1/order"}
_LOT = D("0.001")
# The fake's book, never consumed by our orders: two thin levels on each side, then a
# deep one, so a taker of more than 0.010 walks levels and an IOC at the touch can
# fill only in part.
_ASKS = [("60000.0", "0.010"), ("60000.5", "0.020"), ("60001.0", "50")]
_BIDS = [("59990.0", "0.010"), ("59989.5", "0.020"), ("59989.0", "50")]
_NEUTRAL_PRINT = "59995.0"
"""A public trade between our resting buys (<= 59980) and sells (>= 60010): fills none."""


@dataclass(slots=True)
class SoakReport:
    """What one soak did and found; `violations` empty means every invariant held."""

    market: str
    seed: int
    orders: int = 0
    """Orders the manager created."""
    fills: int = 0
    """Fills at the fake (each journaled once when the run is clean)."""
    by_status: dict[str, int] = field(default_factory=dict)
    commands: dict[str, int] = field(default_factory=dict)
    faults: dict[str, int] = field(default_factory=dict)
    """Faults that fired at the fake, by kind."""
    retries: dict[str, int] = field(default_factory=dict)
    ambiguous: int = 0
    lookups: int = 0
    reconnects: int = 0
    catch_ups: int = 0
    malformed: int = 0
    duplicates: int = 0
    requests: int = 0
    reconcile: str = ""
    wall_s: float = 0.0
    drive_s: float = 0.0
    violations: list[str] = field(default_factory=list)

    @property
    def orders_per_s(self) -> float:
        return self.orders / self.wall_s if self.wall_s > 0 else 0.0

    def lines(self) -> list[str]:
        """The report as text, one figure a line."""
        faults = ", ".join(f"{k} {v}" for k, v in self.faults.items())
        return [
            f"market {self.market}, seed {self.seed}",
            f"orders {self.orders} ({_pairs(self.by_status)}), fills {self.fills}",
            f"commands: {_pairs(self.commands)}",
            f"faults fired: {sum(self.faults.values())} ({faults})",
            f"retries: {_pairs(self.retries) or 'none'}; ambiguous {self.ambiguous}, "
            f"lookups {self.lookups}, reconnects {self.reconnects}, catch-ups "
            f"{self.catch_ups}, malformed {self.malformed}, duplicates dropped "
            f"{self.duplicates}, REST requests {self.requests}",
            f"reconciliation: {self.reconcile}",
            f"wall {self.wall_s:.1f} s (driving {self.drive_s:.1f} s), "
            f"{self.orders_per_s:.1f} orders/s",
            f"violations: {len(self.violations)}",
            *(f"  - {v}" for v in self.violations),
        ]


def _pairs(counts: dict[str, int]) -> str:
    return ", ".join(f"{k} {v}" for k, v in sorted(counts.items()))


class StepClock:
    """The run's local clock: 1 ms a driver tick, from a fixed start (never the wall)."""

    def __init__(self, start_ns: int = 1_800_000_000_000_000_000) -> None:
        self.ns = start_ns

    def now_ns(self) -> int:
        return self.ns


@dataclass(slots=True)
class _Plan:
    """One order's scripted life (after its acceptance, for a resting one)."""

    cid: str
    kind: Literal["rest", "take"]
    steps: list[tuple[str, Decimal]]
    """("fill", qty) forced at the fake, ("amend", 0) or ("fill_all", 0); then a cancel."""
    wait_until: int = 0
    """Driver tick before which the next step waits (the order sits there a while)."""
    canceled_at: int = -1
    """Tick of the last cancel sent (-1: none yet)."""


class _Driver:
    def __init__(
        self,
        fake: FakeBinance,
        *,
        market: Market,
        orders: int,
        seed: int,
        fault_rate: float,
        in_flight: int,
        max_faults: int,
        max_drops: int,
    ) -> None:
        self.fake = fake
        self.market: Market = market
        self.symbol = _SYMBOL[market]
        self.target = orders
        self.rng = random.Random(seed)
        self.fault_rate = fault_rate
        self.in_flight = in_flight
        self.caps = {k: max_faults for k in FAULT_KINDS} | {"ws_drop": max_drops}
        if market == "spot":
            self.caps["amend_5xx"] = 0  # spot has no amend (the manager cancel-replaces)
        self.armed: Counter[str] = Counter()
        self.dropped_at = 0
        """The venue's connection count when the last drop was armed."""
        self.commands: Counter[str] = Counter()
        self.plans: dict[str, _Plan] = {}
        self.active: dict[str, Order] = {}
        """Orders not closed yet (the manager's `open_orders()` scans every order)."""
        self.tick = 0
        self.clock = StepClock()
        self.loop = AsyncioThread(name="soak-venue")
        cls = ccxtpro.binanceusdm if market == "futures" else ccxtpro.binance
        # ccxt's own throttle off: the fake has no limits (the venue's bucket is optional)
        self.exchange = cls({"timeout": 1000, "enableRateLimit": False})
        fake.configure(self.exchange)
        self.logs: list[str] = []
        self.venue: CcxtVenue | None = None

    # --- set-up ---------------------------------------------------------------------------
    def start(self) -> tuple[CcxtVenue, OrderManager, Portfolio, MemoryStore]:
        fake = self.fake
        fake.set_book("BTCUSDT", _BIDS, _ASKS, market=self.market)
        fake.set_balance("USDT", "100000000", market=self.market)
        if self.market == "spot":
            fake.set_balance("BTC", "10000")
        self.loop.call(self.exchange.load_markets(), 20)
        instrument = instrument_from_market(self.exchange.market(self.symbol))
        self.venue = CcxtVenue(
            self.exchange,
            {self.symbol: instrument},
            clock=self.clock,
            loop=self.loop,
            backoff=BackoffPolicy(initial_s=0.05, max_s=0.5, max_retries=6),
            poll_s=0.5,
            call_timeout_s=120,
            max_attempts=6,
            log=self.logs.append,
            seed=self.rng.randrange(2**32),
        )
        self.venue.start()
        fake.wait_for(lambda: fake.user_subscribers(self.market) >= 1, timeout=10)
        store = MemoryStore()
        om = OrderManager(
            venue=self.venue, store=store, clock=self.clock, instruments=self.venue.instruments
        )
        portfolio = Portfolio([instrument])
        om.subscribe(lambda _order, event: _book(portfolio, event))
        return self.venue, om, portfolio, store

    def close(self) -> None:
        try:
            if self.venue is not None:
                self.venue.close()
            elif self.loop.running:
                self.loop.call(self.exchange.close(), 5)
        finally:
            self.loop.stop()

    # --- faults ---------------------------------------------------------------------------
    def fired(self) -> dict[str, int]:
        counts = dict(self.fake.faults.fired)
        return {k: sum(counts.get(key, 0) for key in _FIRED_KEYS[k]) for k in FAULT_KINDS}

    def maybe_fault(self, command: str, venue: CcxtVenue) -> None:
        if self.rng.random() >= self.fault_rate:
            return
        fired = self.fired()
        kinds = [
            k
            for k in (*_ON[command], *_ON["any"])
            if self.armed[k] < self.caps[k] and self.armed[k] == fired[k]  # none pending
        ]
        if kinds:
            least = min(fired[k] for k in kinds)
            self.arm(self.rng.choice([k for k in kinds if fired[k] == least]), venue)

    def arm(self, kind: str, venue: CcxtVenue) -> None:
        faults, path = self.fake.faults, _ORDER_PATH[self.market]
        if kind == "ws_drop":
            if venue.health()["stream"] != "up" or venue.connections <= self.dropped_at:
                return  # one outage at a time: the stream is not back from the last one
            self.dropped_at = venue.connections
            faults.drop_ws(after_messages=0, refuse_s=round(self.rng.uniform(0.1, 0.5), 2))
            self.armed[kind] += 1
            self.fake.push_trade("BTCUSDT", _NEUTRAL_PRINT, "0.001", "buy", market=self.market)
            return
        self.armed[kind] += 1
        if kind in ("create_5xx", "cancel_5xx", "amend_5xx"):
            method = {"create_5xx": "POST", "cancel_5xx": "DELETE", "amend_5xx": "PUT"}[kind]
            status = 503 if kind == "amend_5xx" else self.rng.choice((500, 503))
            faults.http_status(status, 1, path=path, method=method)
        elif kind in ("create_429", "cancel_429"):
            method = "POST" if kind == "create_429" else "DELETE"
            retry_after = self.rng.choice((None, 1))
            faults.http_status(429, 1, retry_after=retry_after, path=path, method=method)
        elif kind == "create_timeout":
            mode = self.rng.choice(("delay", "close"))  # none pending: nothing overwritten
            faults.create_timeout(1, mode=mode, delay_s=1.3)  # ccxt gives up after 1.0 s
        elif kind == "user_duplicate":
            faults.add("user_duplicates", 1)
        elif kind == "user_reorder":
            faults.add("user_swaps", 1)
        elif kind == "user_malformed":
            faults.add("user_malformed", 1)

    def disarm(self) -> None:
        faults = self.fake.faults
        faults.clear_http()
        faults.create_timeout(0)
        faults.user_ws()
        faults.ws_drop_after = None

    # --- orders ---------------------------------------------------------------------------
    def new_order(self, om: OrderManager, venue: CcxtVenue) -> None:
        rng = self.rng
        side = rng.choice((OrderSide.BUY, OrderSide.SELL))
        buy = side is OrderSide.BUY
        self.maybe_fault("submit", venue)
        self.commands["submit"] += 1
        if rng.random() < 0.35:
            quantity = _LOT * rng.randint(2, 35)
            if rng.random() < 0.5:
                order = om.submit(
                    symbol=self.symbol, side=side, order_type=OrderType.MARKET, quantity=quantity
                )
            else:  # an IOC at the touch: more than the touch holds fills in part
                touch = D(_ASKS[0][0] if buy else _BIDS[0][0])
                order = om.submit(
                    symbol=self.symbol,
                    side=side,
                    order_type=OrderType.LIMIT,
                    quantity=quantity,
                    price=touch,
                    time_in_force=TimeInForce.IOC,
                )
            self.plans[order.client_order_id] = _Plan(order.client_order_id, "take", [])
            self.active[order.client_order_id] = order
            return
        quantity = _LOT * rng.randint(2, 20)
        order = om.submit(
            symbol=self.symbol,
            side=side,
            order_type=OrderType.LIMIT,
            quantity=quantity,
            price=self.passive_price(side),
        )
        steps: list[tuple[str, Decimal]] = []
        for _ in range(rng.choice((0, 0, 1, 2, 3))):
            roll = rng.random()
            if roll < 0.45:
                steps.append(("fill", _LOT * rng.randint(1, 4)))
            elif roll < 0.85 and self.market == "futures":
                steps.append(("amend", D(0)))
        if rng.random() < 0.2:
            steps.append(("fill_all", D(0)))
        self.plans[order.client_order_id] = _Plan(
            order.client_order_id, "rest", steps, wait_until=self.tick + rng.randint(1, 40)
        )
        self.active[order.client_order_id] = order

    def still_open(self) -> list[Order]:
        """The active orders, the ones closed since the last call dropped."""
        for cid in [c for c, o in self.active.items() if o.is_closed]:
            del self.active[cid]
        return list(self.active.values())

    def passive_price(self, side: OrderSide) -> Decimal:
        """A resting price inside our own band: buys 59900-59980, sells 60010-60090."""
        offset = D(self.rng.randint(0, 800)) / 10
        return D("59900") + offset if side is OrderSide.BUY else D("60010") + offset

    def step(self, plan: _Plan, order: Order, om: OrderManager, venue: CcxtVenue) -> None:
        """The next scripted step of an open, idle, accepted resting order."""
        if self.tick < plan.wait_until:
            return
        plan.wait_until = self.tick + self.rng.randint(1, 30)
        if not plan.steps:
            self.cancel(plan, om, venue)
            return
        what, quantity = plan.steps.pop(0)
        at_fake = self.fake.venue(self.market).by_client.get(plan.cid)
        if what in ("fill", "fill_all"):
            if at_fake is None or not at_fake.is_open:
                return
            left = at_fake.remaining
            quantity = left if what == "fill_all" else min(quantity, left)
            try:
                self.fake.fill(at_fake.order_id, quantity)
                self.commands["forced_fill"] += 1
            except ValueError:
                pass  # it filled or closed in between: the venue reports that
            return
        # amend: a new passive price and a new total above what filled
        least = max(order.filled_qty + _LOT, D("0.002"))
        total = least + _LOT * self.rng.randint(0, 10)
        price = self.passive_price(order.side)
        if price == order.price and total == order.quantity:
            return
        self.maybe_fault("amend", venue)
        self.commands["amend"] += 1
        om.modify(plan.cid, quantity=total, price=price)

    def cancel(self, plan: _Plan, om: OrderManager, venue: CcxtVenue) -> None:
        self.maybe_fault("cancel", venue)
        if om.cancel(plan.cid):
            self.commands["cancel"] += 1
            plan.canceled_at = self.tick

    def advance(self) -> None:
        """One driver tick: 1 ms on the local clock and on the fake's (so fills of
        different ticks have different times: the venue pages fills by time)."""
        self.tick += 1
        self.clock.ns += 1_000_000
        self.fake.set_time(self.fake.clock.ms + 1)


def _book(portfolio: Portfolio, event: OrderEvent) -> None:
    if isinstance(event, OrderFilled):
        portfolio.apply_fill(event.fill)


def _pump(venue: CcxtVenue, om: OrderManager) -> int:
    events = venue.drain()
    for event in events:
        om.on_venue_event(event)
    return len(events)


def soak(
    fake: FakeBinance,
    *,
    orders: int,
    seed: int,
    fault_rate: float,
    deadline_s: float,
    market: Market = "futures",
    in_flight: int = 50,
    max_faults: int | None = None,
    max_drops: int | None = None,
    quiet_s: float = 1.5,
) -> SoakReport:
    """Runs the soak against `fake` (started, fresh) and returns its report; see the
    module docstring. `max_faults` bounds each kind (default: orders // 25, at least 3),
    `max_drops` the websocket drops (default: orders // 250, at least 2); `deadline_s`
    bounds the whole run: past it, what is not settled is a violation."""
    if orders < 1 or not 0 <= fault_rate <= 1 or deadline_s <= 0 or in_flight < 1:
        raise ValueError(
            f"orders {orders}, fault_rate {fault_rate}, deadline_s {deadline_s}, in_flight "
            f"{in_flight} (rule: orders >= 1, 0 <= fault_rate <= 1, deadline_s > 0, "
            "in_flight >= 1)"
        )
    driver = _Driver(
        fake,
        market=market,
        orders=orders,
        seed=seed,
        fault_rate=fault_rate,
        in_flight=in_flight,
        max_faults=max(3, orders // 25) if max_faults is None else max_faults,
        max_drops=max(2, orders // 250) if max_drops is None else max_drops,
    )
    report = SoakReport(market=market, seed=seed)
    started = time.monotonic()
    deadline = started + deadline_s
    try:
        venue, om, portfolio, store = driver.start()
        _drive(driver, venue, om, deadline)
        report.drive_s = time.monotonic() - started
        driver.disarm()
        _settle(driver, venue, om, deadline, quiet_s, report)
        if not report.violations:
            _reconcile(driver, venue, om, portfolio, store, quiet_s, report)
        report.wall_s = time.monotonic() - started
        _check(driver, venue, om, portfolio, store, report)
    finally:
        driver.close()
    return report


def _drive(driver: _Driver, venue: CcxtVenue, om: OrderManager, deadline: float) -> None:
    created = 0
    while True:
        _pump(venue, om)
        open_orders = driver.still_open()
        if created >= driver.target and not open_orders:
            return
        if time.monotonic() > deadline:
            return
        for order in open_orders:
            plan = driver.plans[order.client_order_id]
            if plan.kind != "rest" or order.is_pending or order.status is OrderStatus.SUBMITTED:
                continue
            if plan.canceled_at >= 0:
                if driver.tick - plan.canceled_at > 200:  # refused long ago: ask again
                    driver.cancel(plan, om, venue)
                continue
            driver.step(plan, order, om, venue)
        while created < driver.target and len(driver.active) < driver.in_flight:
            driver.new_order(om, venue)
            created += 1
        driver.advance()
        time.sleep(0.002)


def _settle(
    driver: _Driver,
    venue: CcxtVenue,
    om: OrderManager,
    deadline: float,
    quiet_s: float,
    report: SoakReport,
) -> None:
    """Every order closed, nothing unresolved, then a quiet spell with no event."""
    quiet_since: float | None = None
    while True:
        now = time.monotonic()
        moved = _pump(venue, om)
        open_orders = driver.still_open()
        for order in open_orders:
            plan = driver.plans[order.client_order_id]
            idle = not order.is_pending and order.status is not OrderStatus.SUBMITTED
            if idle and (plan.canceled_at < 0 or driver.tick - plan.canceled_at > 200):
                driver.cancel(plan, om, venue)
        unresolved = venue.health()["unresolved"]
        if moved or open_orders or unresolved:
            quiet_since = None
        elif quiet_since is None:
            quiet_since = now
        elif now - quiet_since >= quiet_s:
            return
        if now > deadline:
            report.violations.append(
                f"not settled by the deadline: {len(open_orders)} orders open "
                f"({[o.client_order_id for o in open_orders[:10]]}), unresolved {unresolved}"
            )
            return
        driver.advance()
        time.sleep(0.01)


def _reconcile(
    driver: _Driver,
    venue: CcxtVenue,
    om: OrderManager,
    portfolio: Portfolio,
    store: MemoryStore,
    quiet_s: float,
    report: SoakReport,
) -> None:
    known = {r.fill.trade_id for _, r in store.records() if isinstance(r, OrderFilled)}
    result = Reconciler(
        order_manager=om,
        portfolio=portfolio,
        venue=venue,
        store=store,
        clock=driver.clock,
        instruments=venue.instruments,
        pump=lambda: None,
    ).run(since_ns=0, known_trades=known)
    report.reconcile = result.summary()
    if not result.ok:
        report.violations.append(f"reconciliation failed: {result.error}")
    for what, found in (
        ("adopted", result.adopted),
        ("fills added", result.fills_added),
        ("resolved", result.resolved),
        ("position mismatches", result.position_mismatches),
    ):
        if found:
            report.violations.append(f"reconciliation {what}: {found[:10]} ({len(found)})")
    end = time.monotonic() + quiet_s
    while time.monotonic() < end:
        if _pump(venue, om):
            report.violations.append("venue events after the reconciliation")
        time.sleep(0.05)


def _check(
    driver: _Driver,
    venue: CcxtVenue,
    om: OrderManager,
    portfolio: Portfolio,
    store: MemoryStore,
    report: SoakReport,
) -> None:
    fake, market = driver.fake, driver.market
    at_fake: dict[str, Any] = {}
    client_ids: list[str] = []
    for order in list(fake.venue(market).orders.values()):
        client_ids.append(order.client_id)
        at_fake[order.client_id] = order
    fake_trades = [str(t.trade_id) for t in list(fake.venue(market).fills)]
    journaled = [r.fill.trade_id for _, r in store.records() if isinstance(r, OrderFilled)]
    violations = report.violations
    twice = sorted(c for c, n in Counter(client_ids).items() if n > 1)
    if twice:
        violations.append(f"client order ids twice at the fake: {twice[:10]} ({len(twice)})")
    doubled = sorted(t for t, n in Counter(journaled).items() if n > 1)
    if doubled:
        violations.append(f"fills journaled twice: {doubled[:10]} ({len(doubled)})")
    lost = sorted(set(fake_trades) - set(journaled))
    if lost:
        violations.append(f"fills at the fake never journaled: {lost[:10]} ({len(lost)})")
    extra = sorted(set(journaled) - set(fake_trades))
    if extra:
        violations.append(f"fills journaled the fake does not have: {extra[:10]} ({len(extra)})")
    ours = {o.client_order_id: o for o in om.orders()}
    unknown = sorted(set(at_fake) - set(ours))
    if unknown:
        violations.append(f"orders at the fake unknown here: {unknown[:10]} ({len(unknown)})")
    compatible = {
        OrderStatus.FILLED: ("FILLED",),
        OrderStatus.CANCELED: ("CANCELED",),
        OrderStatus.EXPIRED: ("EXPIRED",),
    }
    mismatched: list[str] = []
    for cid, order in ours.items():
        theirs = at_fake.get(cid)
        if order.status is OrderStatus.REJECTED:
            if theirs is not None:
                mismatched.append(f"{cid} REJECTED here, {theirs.status} at the fake")
            continue
        if theirs is None:
            mismatched.append(f"{cid} {order.status} here, lost: not at the fake")
            continue
        if not order.is_closed:
            mismatched.append(f"{cid} still {order.status} here ({theirs.status} at the fake)")
        elif theirs.status not in compatible.get(order.status, ()):
            mismatched.append(f"{cid} {order.status} here, {theirs.status} at the fake")
        if order.filled_qty != theirs.executed_qty:
            mismatched.append(f"{cid} filled {order.filled_qty} here, {theirs.executed_qty} there")
    if mismatched:
        violations.append(f"orders that disagree: {mismatched[:10]} ({len(mismatched)})")
    if market == "futures":
        mine = portfolio.quantity(driver.symbol)
        theirs_pos = fake.positions["BTCUSDT"].amount
        if mine != theirs_pos:
            violations.append(f"position {mine} here, {theirs_pos} at the fake")
    if om.anomalies:
        shown = [
            f"{type(a.event).__name__} {a.event.client_order_id}: {a.why}" for a in om.anomalies
        ]
        violations.append(f"manager anomalies: {shown[:10]} ({len(shown)})")
    stats = venue.stats
    report.orders = len(ours)
    report.fills = len(fake_trades)
    report.by_status = dict(Counter(o.status.value for o in ours.values()))
    report.commands = dict(driver.commands)
    report.faults = driver.fired()
    report.retries = dict(stats["retries"])
    report.ambiguous = stats["ambiguous"]
    report.lookups = stats["lookups"]
    report.reconnects = stats["reconnects"]
    report.catch_ups = stats["catch_ups"]
    report.malformed = stats["malformed"]
    report.duplicates = stats["duplicates"]
    report.requests = stats["requests"]
    if stats["internal_errors"]:
        violations.append(f"venue internal errors: {stats['internal_errors']}")
