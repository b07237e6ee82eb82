"""Hand-written fakes of the ports for order-manager tests (no mocks of our own classes)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from adapters.store.memory import MemoryStore
from engine.domain import (
    Fill,
    InstrumentKind,
    Liquidity,
    OrderAccepted,
    OrderSide,
    OrderSubmitted,
    OrderType,
    TimeInForce,
    TriggerSource,
)
from engine.domain.instrument import Instrument
from engine.domain.journal import JournalRecord
from engine.domain.order import OrderTerms
from engine.ports import VenueCapabilities

FULL = VenueCapabilities(
    order_types=frozenset(OrderType),
    time_in_force=frozenset(TimeInForce),
    trigger_sources=frozenset(TriggerSource),
    amend=True,
)
BARE = VenueCapabilities(
    order_types=frozenset({OrderType.MARKET, OrderType.LIMIT}),
    time_in_force=frozenset({TimeInForce.GTC, TimeInForce.IOC, TimeInForce.FOK}),
    trigger_sources=frozenset(),
    amend=False,
)

BTC = Instrument(
    symbol="BTCUSDT",
    base="BTC",
    quote="USDT",
    kind=InstrumentKind.LINEAR_PERPETUAL,
    tick_size=Decimal("0.1"),
    lot_size=Decimal("0.001"),
    min_quantity=Decimal("0.001"),
    max_quantity=Decimal("1000"),
    min_notional=Decimal("5"),
    maker_fee_rate=Decimal("0.0002"),
    taker_fee_rate=Decimal("0.0005"),
    price_precision=1,
    quantity_precision=3,
)


class ManualClock:
    def __init__(self, now: int = 1_000) -> None:
        self.now = now

    def now_ns(self) -> int:
        return self.now


class CheckedStore(MemoryStore):
    """A MemoryStore that can be told to fail on a given append (1-based)."""

    def __init__(self, fail_at: int | None = None) -> None:
        super().__init__()
        self.fail_at = fail_at

    def append(self, record: JournalRecord) -> int:
        if self.fail_at is not None and len(self) + 1 == self.fail_at:
            raise OSError("disk full")
        return super().append(record)

    def of(self, cid: str) -> list[str]:
        return [type(r).__name__ for _, r in self.records() if r.client_order_id == cid]


@dataclass
class FakeVenue:
    """Records commands; checks write-ahead: a submit must already be journaled."""

    store: CheckedStore
    capabilities: VenueCapabilities = FULL
    sent: list[tuple[str, object]] = field(default_factory=list)

    def submit(self, terms: OrderTerms) -> None:
        journaled = [
            r
            for _, r in self.store.records()
            if isinstance(r, OrderSubmitted | OrderAccepted) or type(r).__name__ == "OrderTriggered"
        ]
        assert any(r.client_order_id == terms.client_order_id for r in journaled), (
            f"{terms.client_order_id} sent before it was journaled"
        )
        self.sent.append(("submit", terms))

    def cancel(self, client_order_id: str) -> None:
        kinds = self.store.of(client_order_id)
        assert kinds and kinds[-1] == "OrderPendingCancel", "cancel sent before it was journaled"
        self.sent.append(("cancel", client_order_id))

    def modify(
        self,
        client_order_id: str,
        *,
        quantity: Decimal | None = None,
        price: Decimal | None = None,
        trigger_price: Decimal | None = None,
    ) -> None:
        kinds = self.store.of(client_order_id)
        assert kinds and kinds[-1] == "OrderPendingUpdate", "modify sent before it was journaled"
        self.sent.append(("modify", (client_order_id, quantity, price, trigger_price)))

    def commands(self, kind: str) -> list[object]:
        return [x for k, x in self.sent if k == kind]


class AllowAll:
    def __init__(self) -> None:
        self.checked: list[OrderTerms] = []

    def check(self, terms: OrderTerms, now_ns: int) -> str | None:
        self.checked.append(terms)
        return None


class DenyBelow:
    """Denies orders below a notional, with a reason in the gate's format."""

    def __init__(self, min_notional: Decimal) -> None:
        self.min_notional = min_notional

    def check(self, terms: OrderTerms, now_ns: int) -> str | None:
        price = terms.price or terms.trigger_price or Decimal(0)
        notional = price * terms.quantity
        if notional < self.min_notional:
            return f"NOTIONAL_BELOW_MIN: notional={notional} min={self.min_notional}"
        return None


_trade_ids: Iterator[int] = iter(range(1, 10**9))


def fill(
    cid: str,
    side: OrderSide,
    price: str,
    qty: str,
    ts: int = 2_000,
    liq: Liquidity = Liquidity.TAKER,
) -> Fill:
    return Fill(
        trade_id=f"t{next(_trade_ids)}",
        client_order_id=cid,
        symbol="BTCUSDT",
        side=side,
        price=Decimal(price),
        quantity=Decimal(qty),
        fee=Decimal("0.01"),
        fee_currency="USDT",
        liquidity=liq,
        ts_event=ts,
    )
