"""TradingControl: the one place the trading state (ACTIVE / REDUCING / HALTED) changes.

Every change is journaled (`TradingStateChanged`, write-ahead: the record first, then
the gate's state) and handed to listeners (alerts, health). The control sits in front
of the order manager's pre-trade check: the risk gate (when it keeps a `state`, as
`RiskService` and `RiskByAccount` do) applies the state with its own rules; without
such a gate the control applies it itself (HALTED: nothing; REDUCING: reduce-only
orders only, the closest it can judge without positions).

Rules:
- `tighten` only ever moves towards HALTED (ACTIVE < REDUCING < HALTED): a breaker can
  never loosen the state; `resume` (a human) is the only way back to ACTIVE;
- the emergency stop's flattening orders pass a HALTED gate through `flatten_permit`:
  inside it the gate judges with REDUCING rules (so only an order that reduces the
  position passes, with every other limit still checked), and the control itself
  also requires `reduce_only` and a market order. The kernel is one thread and the
  permit is held only around the emergency stop's own `submit` call, so no strategy
  order can be checked while it is open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from engine.domain.enums import OrderType, TradingState
from engine.domain.errors import ValidationError
from engine.domain.journal import TradingStateChanged
from engine.domain.order import OrderTerms
from engine.ports.clock import Clock
from engine.ports.store import Store
from engine.services.order_manager import PreTradeCheck

__all__ = ["SEVERITY", "StatefulCheck", "TradingControl"]

SEVERITY = {TradingState.ACTIVE: 0, TradingState.REDUCING: 1, TradingState.HALTED: 2}
"""How strict each state is: a breaker only moves up this scale."""


class StatefulCheck(PreTradeCheck, Protocol):
    """A pre-trade check that applies a trading state itself (the Rust risk gate)."""

    state: TradingState


StateListener = Callable[[TradingState, TradingState, str], None]
"""(old state, new state, reason)"""


class TradingControl:
    def __init__(self, *, store: Store, clock: Clock, gate: PreTradeCheck | None = None) -> None:
        self._store = store
        self._clock = clock
        self._gate = gate
        self._stateful: Any = gate if gate is not None and hasattr(gate, "state") else None
        self._state = TradingState.ACTIVE
        self._permit = False
        self._listeners: list[StateListener] = []
        if self._stateful is not None:
            self._stateful.state = self._state

    @property
    def state(self) -> TradingState:
        return self._state

    @property
    def gate(self) -> PreTradeCheck | None:
        return self._gate

    def subscribe(self, listener: StateListener) -> None:
        self._listeners.append(listener)

    # --- changes ----------------------------------------------------------------------------
    def tighten(self, state: TradingState, reason: str) -> bool:
        """Moves to `state` if it is stricter than now; False (nothing journaled) if not."""
        if SEVERITY[state] <= SEVERITY[self._state]:
            return False
        self._change(state, reason)
        return True

    def resume(self, reason: str, state: TradingState = TradingState.ACTIVE) -> bool:
        """A human's decision: any state, looser ones included (after a halt)."""
        if not isinstance(state, TradingState):
            raise ValidationError("state", state, "is not a TradingState")
        if state is self._state:
            return False
        self._change(state, f"RESUME: {reason}")
        return True

    def _change(self, state: TradingState, reason: str) -> None:
        old = self._state
        record = TradingStateChanged(ts_event=self._clock.now_ns(), state=state, reason=reason)
        self._store.append(record)  # write-ahead: refused -> nothing changed
        self._state = state
        if self._stateful is not None:
            self._stateful.state = state
        for listener in self._listeners:
            listener(old, state, reason)

    def replay(self, records: Iterable[tuple[int, object]]) -> None:
        """Takes the state of a resumed run from its journal (the last change); journals
        nothing and tells no listener."""
        for _, record in records:
            if isinstance(record, TradingStateChanged):
                self._state = record.state
        if self._stateful is not None:
            self._stateful.state = self._state

    # --- the pre-trade check ------------------------------------------------------------------
    @contextmanager
    def flatten_permit(self) -> Iterator[None]:
        """Lets reduce-only market orders through a HALTED state (see the module doc)."""
        self._permit = True
        if self._stateful is not None and self._state is TradingState.HALTED:
            self._stateful.state = TradingState.REDUCING
        try:
            yield
        finally:
            self._permit = False
            if self._stateful is not None:
                self._stateful.state = self._state

    def check(self, terms: OrderTerms, now_ns: int) -> str | None:
        if self._permit:
            if not terms.reduce_only or terms.order_type is not OrderType.MARKET:
                return "TRADING_HALTED: state=halted flatten=reduce_only_market_only"
        elif self._stateful is None:
            if self._state is TradingState.HALTED:
                return "TRADING_HALTED: state=halted"
            if self._state is TradingState.REDUCING and not terms.reduce_only:
                return "TRADING_REDUCING: state=reducing reduce_only=false"
        return None if self._gate is None else self._gate.check(terms, now_ns)
