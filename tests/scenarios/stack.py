"""A small full stack for scenarios: the real order manager, risk gate, simulated venue
and portfolio, wired the way the kernel wires them, fed with hand-made market data."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from adapters.store.memory import MemoryStore
from adapters.venues.simulated import SimSettings, SimulatedVenue
from engine import _core
from engine.domain import InstrumentKind, Order, OrderEvent, OrderFilled, OrderType, TimeInForce
from engine.domain.instrument import Instrument
from engine.ports import VenueCapabilities
from engine.services.order_manager import OrderManager
from engine.services.portfolio import Portfolio
from engine.services.risk import RiskLimits, RiskService

D = Decimal
SYMBOL = "BTCUSDT"
CASH = D("100000")
ZERO = D(0)


def instrument(
    kind: InstrumentKind = InstrumentKind.LINEAR_PERPETUAL, **over: object
) -> Instrument:
    fields: dict[str, object] = {
        "symbol": SYMBOL,
        "base": "BTC",
        "quote": "USDT",
        "kind": kind,
        "tick_size": D("0.1"),
        "lot_size": D("0.001"),
        "min_quantity": D("0.001"),
        "max_quantity": D("100"),
        "min_notional": D("5"),
        "maker_fee_rate": D("0.0002"),
        "taker_fee_rate": D("0.0005"),
        "price_precision": 1,
        "quantity_precision": 3,
    }
    fields.update(over)
    return Instrument(**fields)


class ManualClock:
    def __init__(self) -> None:
        self.now = 0

    def now_ns(self) -> int:
        return self.now


class NoStopsVenue(SimulatedVenue):
    """The same venue, claiming to lack conditional orders: the manager emulates them."""

    capabilities = VenueCapabilities(
        order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}),
        time_in_force=frozenset(TimeInForce),
        trigger_sources=frozenset(),
        amend=True,
    )


class PortfolioAccount:
    """The risk gate's view of the account, read from the portfolio."""

    def __init__(self, portfolio: Portfolio) -> None:
        self.portfolio = portfolio

    def position(self, symbol: str) -> Decimal:
        return self.portfolio.position(symbol).quantity

    def available(self, asset: str) -> Decimal:
        return self.portfolio.balances().get(asset, D(0))

    def gross_exposure(self) -> Decimal:
        p = self.portfolio.position(SYMBOL)
        return abs(p.quantity) * p.avg_entry_price


class VenueMarket:
    def __init__(self, venue: SimulatedVenue) -> None:
        self.venue = venue

    def mid(self, symbol: str) -> Decimal | None:
        bid, ask = self.venue.best_bid_ask(symbol)
        if bid is None or ask is None:
            return None
        return (bid + ask) / 2


class Stack:
    def __init__(
        self,
        *,
        inst: Instrument | None = None,
        settings: SimSettings | None = None,
        emulate_stops: bool = False,
        cash: Decimal = CASH,
        base: Decimal = ZERO,
        limits: RiskLimits | None = None,
    ) -> None:
        self.inst = inst or instrument()
        self.clock = ManualClock()
        self.store = MemoryStore()
        cls = NoStopsVenue if emulate_stops else SimulatedVenue
        self.venue = cls({SYMBOL: self.inst}, self.clock, settings)
        self.portfolio = Portfolio([self.inst])
        self.portfolio.credit("USDT", cash)
        if base:
            self.portfolio.credit("BTC", base)
        limits = limits or RiskLimits(
            max_notional=D("1000000"), max_position=D("50"), max_gross_exposure=D("10000000")
        )
        self.risk = RiskService(
            {SYMBOL: self.inst},
            {SYMBOL: limits},
            account=PortfolioAccount(self.portfolio),
            market=VenueMarket(self.venue),
        )
        self.om = OrderManager(
            venue=self.venue,
            store=self.store,
            clock=self.clock,
            instruments={SYMBOL: self.inst},
            risk=self.risk,
        )
        self.events: list[OrderEvent] = []
        self.om.subscribe(self._on_event)
        self._grid = _core.Grid(str(self.inst.tick_size), str(self.inst.lot_size))
        self._update_id = 100
        self._straddle = False
        self._trade_id = 0

    def _on_event(self, order: Order, event: OrderEvent) -> None:
        self.events.append(event)
        if isinstance(event, OrderFilled):
            self.portfolio.apply_fill(event.fill)

    # --- driving ----------------------------------------------------------------------
    def pump(self) -> None:
        """Hands every venue report to the manager, until the venue has nothing more."""
        while reports := self.venue.drain():
            for event in reports:
                self.om.on_venue_event(event)

    def submit(self, **fields: object) -> Order:
        """Submits through the manager and hands the venue's answers back, as the kernel does."""
        order = self.om.submit(symbol=SYMBOL, **fields)
        self.pump()
        return order

    def at(self, ts: int) -> None:
        self.clock.now = ts
        self.venue.advance_to(ts)
        self.om.on_time(ts)
        self.pump()

    def snapshot(
        self, ts: int, bids: Sequence[tuple[str, str]], asks: Sequence[tuple[str, str]]
    ) -> None:
        b = _core.EventBuilder(self._grid)
        b.push_snapshot(ts, ts, self._update_id, [list(x) for x in bids], [list(x) for x in asks])
        self._straddle = True
        self._feed(ts, b)

    def diff(
        self, ts: int, bids: Sequence[tuple[str, str]], asks: Sequence[tuple[str, str]]
    ) -> None:
        b = _core.EventBuilder(self._grid)
        # Binance futures ids: the first diff after a snapshot straddles its id; later
        # ones chain through `pu` (prev) = the previous diff's last id.
        first = self._update_id if self._straddle else self._update_id + 1
        prev = first - 1 if self._straddle else self._update_id
        self._straddle = False
        self._update_id += 1
        b.push_diff(
            ts, ts, first, self._update_id, prev, [list(x) for x in bids], [list(x) for x in asks]
        )
        self._feed(ts, b)

    def trade(self, ts: int, price: str, qty: str, aggressor: str) -> None:
        """A print: `aggressor` "buy" lifted the ask, "sell" hit the bid."""
        b = _core.EventBuilder(self._grid)
        self._trade_id += 1
        b.push_trade(ts, ts, self._trade_id, price, qty, aggressor == "sell")
        self._feed(ts, b)
        self.om.on_trade(SYMBOL, D(price))
        self.pump()

    def _feed(self, ts: int, builder: _core.EventBuilder) -> None:
        self.clock.now = ts
        self.venue.apply_events(SYMBOL, builder.finish())
        self.pump()
        bid, ask = self.venue.best_bid_ask(SYMBOL)
        self.om.on_quote(SYMBOL, bid, ask)
        self.pump()

    # --- reading ----------------------------------------------------------------------
    def fills(self, cid: str) -> list[tuple[Decimal, Decimal, Decimal, str]]:
        return [(f.price, f.quantity, f.fee, f.liquidity.value) for f in self.om.order(cid).fills]
