"""EmergencyStop: halt, cancel everything, flatten everything, verify at the venue.

Started by `Kernel.kill(reason)`; the kernel then keeps feeding it market data and
venue answers (`on_book`, `step`) until it is finished. Steps, each journaled as an
`EmergencyStop` record before it acts (and alerted through the Notifier):
1. `started`: the trading state becomes HALTED (`KILL: reason`), so strategy orders are
   denied from here on;
2. `cancel`: every open order is asked to cancel (through the order manager, the only
   owner of order state);
3. `slice`: for each instrument the venue says we hold, a reduce-only market order for
   the whole remaining position, capped at `slippage_bps` from the touch. The venue fills
   what the cap allows and cancels the rest (`SLIPPAGE_CAP`); the remainder is sent again
   as the next slice once that instrument's book changes (liquidity we took is gone until
   then), at most `max_attempts` slices per instrument. These orders pass the HALTED gate
   through `TradingControl.flatten_permit` (judged with REDUCING rules);
4. `verified`: every position is zero by the venue's own count (`position(symbol)`)
   and no order is open; then `done`. Out of attempts, or the run stops first: `failed`,
   with what is still held. The trading state stays HALTED either way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Protocol

from engine.domain.enums import OrderSide, OrderStatus, OrderType, TradingState
from engine.domain.errors import ValidationError
from engine.domain.events import OrderDenied
from engine.domain.journal import EmergencyStop as EmergencyRecord
from engine.ports.clock import Clock
from engine.ports.notifier import AlertLevel, Notifier
from engine.ports.store import Store
from engine.services.order_manager import OrderManager
from engine.services.trading_state import TradingControl

__all__ = ["EmergencyPhase", "EmergencySettings", "EmergencyStop", "VenuePositions"]


class VenuePositions(Protocol):
    def position(self, symbol: str) -> Decimal:
        """The venue's own signed position."""
        ...


@dataclass(frozen=True, slots=True, kw_only=True)
class EmergencySettings:
    """`slippage_bps`: cap of each flattening order from the touch (default 100 = 1%);
    `max_attempts`: flattening orders per instrument before giving up (default 20)."""

    slippage_bps: int = 100
    max_attempts: int = 20

    def __post_init__(self) -> None:
        if type(self.slippage_bps) is not int or not 1 <= self.slippage_bps <= 10_000:
            raise ValidationError("slippage_bps", self.slippage_bps, "is not an int in 1..10000")
        if type(self.max_attempts) is not int or self.max_attempts < 1:
            raise ValidationError("max_attempts", self.max_attempts, "is not an int >= 1")


class EmergencyPhase(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


class EmergencyStop:
    def __init__(
        self,
        *,
        order_manager: OrderManager,
        control: TradingControl,
        venue: VenuePositions,
        store: Store,
        clock: Clock,
        notifier: Notifier,
        symbols: Sequence[str],
        settings: EmergencySettings | None = None,
    ) -> None:
        self._om = order_manager
        self._control = control
        self._venue = venue
        self._store = store
        self._clock = clock
        self._notifier = notifier
        self._symbols = list(symbols)
        self.settings = settings or EmergencySettings()
        self.phase = EmergencyPhase.IDLE
        self.reason = ""
        self.attempts: dict[str, int] = {}
        self._moved: set[str] = set()
        self._in_flight: dict[str, str] = {}  # symbol -> its flattening order

    @property
    def active(self) -> bool:
        return self.phase is EmergencyPhase.RUNNING

    @property
    def finished(self) -> bool:
        return self.phase in (EmergencyPhase.DONE, EmergencyPhase.FAILED)

    def start(self, reason: str) -> bool:
        """Halts and cancels; False when a stop is already running."""
        if self.active:
            return False
        reason = reason.strip() or "unspecified"
        self.phase = EmergencyPhase.RUNNING
        self.reason = reason
        self.attempts = dict.fromkeys(self._symbols, 0)
        self._moved = set(self._symbols)  # the first slice goes at once
        self._in_flight = {}
        self._journal("started", f"reason={reason}")
        self._control.tighten(TradingState.HALTED, f"KILL: {reason}")
        self._notifier.alert(AlertLevel.CRITICAL, "emergency stop started", reason)
        ids = [o.client_order_id for o in self._om.open_orders()]
        self._journal("cancel", f"orders={len(ids)} ids={','.join(ids)}")
        for cid in ids:
            self._om.cancel(cid)
        return True

    def on_book(self, symbol: str) -> None:
        """`symbol`'s book changed: its next slice may go."""
        if self.active:
            self._moved.add(symbol)

    def step(self) -> bool:
        """Sends the slices that may go and checks for the end; True if it sent any."""
        if not self.active:
            return False
        sent = False
        for symbol in self._symbols:
            cid = self._in_flight.get(symbol)
            if cid is not None:
                if not self._om.order(cid).is_closed:
                    continue
                del self._in_flight[symbol]
            held = self._venue.position(symbol)
            if held == 0 or symbol not in self._moved:
                continue
            if self.attempts[symbol] >= self.settings.max_attempts:
                self._fail(f"{symbol}: still {held} after {self.attempts[symbol]} slices")
                return sent
            sent = True
            self._slice(symbol, held)
        if not self._in_flight and not self._om.open_orders() and self._all_flat():
            positions = " ".join(f"{s}=0" for s in self._symbols)
            self._journal("verified", f"venue positions {positions}; open orders 0")
            self._journal("done", f"reason={self.reason}")
            self.phase = EmergencyPhase.DONE
            self._notifier.alert(AlertLevel.CRITICAL, "emergency stop done: flat", self.reason)
        return sent

    def abandon(self, why: str) -> None:
        """The run is ending while the stop runs: say what is left."""
        if self.active:
            self._fail(why)

    def _slice(self, symbol: str, held: Decimal) -> None:
        n = self.attempts[symbol] = self.attempts[symbol] + 1
        self._moved.discard(symbol)
        side = OrderSide.SELL if held > 0 else OrderSide.BUY
        qty = abs(held)
        self._journal("slice", f"{symbol} {side.value} {qty} attempt={n}")
        with self._control.flatten_permit():
            order = self._om.submit(
                symbol=symbol,
                side=side,
                order_type=OrderType.MARKET,
                quantity=qty,
                reduce_only=True,
                max_slippage_bps=self.settings.slippage_bps,
            )
        if order.status is OrderStatus.DENIED:
            denial = order.events[-1]
            why = denial.reason if isinstance(denial, OrderDenied) else "denied"
            self._journal("denied", f"{symbol} {order.client_order_id}: {why}")
        elif not order.is_closed:
            self._in_flight[symbol] = order.client_order_id

    def _all_flat(self) -> bool:
        return all(self._venue.position(s) == 0 for s in self._symbols)

    def _fail(self, why: str) -> None:
        held = " ".join(
            f"{s}={self._venue.position(s)}" for s in self._symbols if self._venue.position(s)
        )
        self._journal("failed", f"{why}; venue positions {held or 'flat'}")
        self.phase = EmergencyPhase.FAILED
        self._notifier.alert(AlertLevel.CRITICAL, "emergency stop FAILED", f"{why}; {held}")

    def _journal(self, phase: str, detail: str) -> None:
        record = EmergencyRecord(ts_event=self._clock.now_ns(), phase=phase, detail=detail)
        self._store.append(record)
