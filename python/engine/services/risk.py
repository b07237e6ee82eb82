"""RiskService: the pre-trade check the order manager calls, over the Rust `RiskGate`.

One gate per instrument (the rules and their order live in Rust: see
`engine._core.RiskGate`). This class only gathers the inputs in the gate's units:
- price: the limit price; for a stop or take-profit without one, its trigger price; for
  a market order (or a trailing stop with no level yet), the mid. The gate checks the
  price band and the notional with it, so a market order is judged at the mid;
- position in lots, the mid in ticks (rounded half-even to the grid), balances and
  gross exposure as exact decimals, the trading state, and the caller's clock.
Exposure is rounded up and balances down to the gate's 10^-18, so rounding never lets
an order through. A missing mid is passed as 0, which the gate refuses with `NO_MID`
(no blind orders); a market order without a mid has no price at all and is refused
here with the same code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Final, Literal, Protocol

from engine import _core
from engine.domain.enums import InstrumentKind, OrderSide, Rounding, TradingState
from engine.domain.errors import ValidationError
from engine.domain.instrument import Instrument
from engine.domain.order import OrderTerms

__all__ = ["AccountView", "MarketView", "RiskByAccount", "RiskLimits", "RiskService"]

_MONEY_UNIT = Decimal("1e-18")
_STATE: Final[dict[TradingState, Literal["active", "reducing", "halted"]]] = {
    TradingState.ACTIVE: "active",
    TradingState.REDUCING: "reducing",
    TradingState.HALTED: "halted",
}


class AccountView(Protocol):
    def position(self, symbol: str) -> Decimal:
        """Signed quantity held (+ long, - short)."""
        ...

    def available(self, asset: str) -> Decimal:
        """What can be spent now in `asset`."""
        ...

    def gross_exposure(self) -> Decimal:
        """Sum of |position| x price over instruments, in the quote currency."""
        ...


class MarketView(Protocol):
    def mid(self, symbol: str) -> Decimal | None: ...


@dataclass(frozen=True, slots=True, kw_only=True)
class RiskLimits:
    """Per-instrument limits beyond the instrument's own (min/max quantity, min notional)."""

    max_notional: Decimal
    max_position: Decimal
    max_gross_exposure: Decimal
    price_band_bps: int = 500
    rate_capacity: int = 50
    rate_refill_per_s: int = 10
    leverage: int = 1


class RiskService:
    def __init__(
        self,
        instruments: Mapping[str, Instrument],
        limits: Mapping[str, RiskLimits],
        *,
        account: AccountView,
        market: MarketView,
    ) -> None:
        self._instruments = dict(instruments)
        self._account = account
        self._market = market
        self._gates: dict[str, _core.RiskGate] = {}
        self.state = TradingState.ACTIVE
        for symbol, inst in self._instruments.items():
            if symbol not in limits:
                raise ValidationError("limits", symbol, "missing (rule: one per instrument)")
            lim = limits[symbol]
            self._gates[symbol] = _core.RiskGate(
                format(inst.tick_size, "f"),
                format(inst.lot_size, "f"),
                "spot" if inst.kind is InstrumentKind.SPOT else "perp",
                min_qty=inst.qty_to_lots(inst.min_quantity),
                max_qty=inst.qty_to_lots(inst.max_quantity),
                min_notional=format(inst.min_notional, "f"),
                max_notional=str(lim.max_notional),
                max_position=inst.qty_to_lots(lim.max_position),
                max_gross_exposure=str(lim.max_gross_exposure),
                band_bps=lim.price_band_bps,
                maker_fee_rate=format(inst.maker_fee_rate, "f"),
                taker_fee_rate=format(inst.taker_fee_rate, "f"),
                fee_decimals=8,
                rate_capacity=lim.rate_capacity,
                rate_refill_per_s=lim.rate_refill_per_s,
                leverage=lim.leverage,
            )

    def check(self, terms: OrderTerms, now_ns: int) -> str | None:
        inst = self._instruments.get(terms.symbol)
        if inst is None:
            return f"UNKNOWN_INSTRUMENT: symbol={terms.symbol}"
        mid = self._market.mid(terms.symbol)
        mid_ticks = (
            0 if mid is None else inst.price_to_ticks(inst.round_price(mid, Rounding.HALF_EVEN))
        )
        price = terms.price if terms.price is not None else terms.trigger_price
        order_type: Literal["limit", "market"] = "limit" if price is not None else "market"
        if price is None:
            if mid is None:
                return f"NO_MID: symbol={terms.symbol}"
            price = inst.ticks_to_price(mid_ticks)
        return self._gates[terms.symbol].check_decimal(
            0 if terms.side is OrderSide.BUY else 1,
            order_type,
            _plain(price),
            _plain(terms.quantity),
            _signed_lots(inst, self._account.position(terms.symbol)),
            mid_ticks,
            _money(self._account.gross_exposure(), ROUND_CEILING),
            _money(self._account.available(inst.quote), ROUND_FLOOR),
            _money(self._account.available(inst.base), ROUND_FLOOR),
            now_ns,
            terms.reduce_only,
            _STATE[self.state],
        )


def _signed_lots(inst: Instrument, quantity: Decimal) -> int:
    lots = inst.qty_to_lots(abs(quantity))
    return -lots if quantity < 0 else lots


def _money(value: Decimal, rounding: str) -> str:
    """Money at the gate's 10^-18, rounded the cautious way: exposure up, balances down."""
    return _plain(value.quantize(_MONEY_UNIT, rounding=rounding))


def _plain(value: Decimal) -> str:
    """Decimal as plain text (no exponent), as the gate parses it."""
    return format(value, "f")


class RiskByAccount:
    """The pre-trade check of a run with several accounts: each instrument's orders go
    to the RiskService of the account that trades it, so balances, positions and gross
    exposure are that account's own. One trading state (the kill switch) for all."""

    def __init__(self, services: Mapping[str, RiskService]) -> None:
        """`services`: symbol -> the RiskService of its account."""
        self._services = dict(services)
        self._state = TradingState.ACTIVE

    @property
    def state(self) -> TradingState:
        return self._state

    @state.setter
    def state(self, value: TradingState) -> None:
        self._state = value
        for service in self._services.values():
            service.state = value

    def check(self, terms: OrderTerms, now_ns: int) -> str | None:
        service = self._services.get(terms.symbol)
        if service is None:
            return f"UNKNOWN_INSTRUMENT: symbol={terms.symbol}"
        return service.check(terms, now_ns)
