"""Position snapshot: a value only; the P&L arithmetic lives in the Rust core."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.domain import _checks
from engine.domain._frozen import fast_init
from engine.domain.errors import ValidationError

__all__ = ["Position"]


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class Position:
    """A netting position: `quantity` is signed (+ long, - short, 0 flat).

    `realized_pnl` is net of fees and `fees` is the total paid (negative for net rebates),
    both in `currency` (the quote/settlement asset). Flat means no entry price: 0."""

    symbol: str
    currency: str
    quantity: Decimal
    avg_entry_price: Decimal
    realized_pnl: Decimal
    fees: Decimal
    ts_event: int

    def __post_init__(self) -> None:
        # Each check inline for the plain valid value, the _checks function otherwise (it
        # refuses with the message, or accepts what the inline test is too narrow for).
        symbol = _checks.text("symbol", self.symbol)
        _checks.text("currency", self.currency, symbol)
        quantity, entry = self.quantity, self.avg_entry_price
        if not (type(quantity) is Decimal and quantity.is_finite()):
            quantity = _checks.decimal("quantity", quantity, symbol)
        if not (type(entry) is Decimal and entry.is_finite() and entry >= 0):
            entry = _checks.non_negative("avg_entry_price", entry, symbol)
        flat = not quantity
        if flat and entry:
            raise ValidationError(
                "avg_entry_price", entry, "set on a flat position (rule: 0 when flat)", symbol
            )
        if not flat and not entry:
            raise ValidationError(
                "avg_entry_price", entry, "is 0 on an open position (rule: > 0)", symbol
            )
        pnl, fees = self.realized_pnl, self.fees
        if not (type(pnl) is Decimal and pnl.is_finite()):
            _checks.decimal("realized_pnl", pnl, symbol)
        if not (type(fees) is Decimal and fees.is_finite()):
            _checks.decimal("fees", fees, symbol)
        ts = self.ts_event
        if type(ts) is not int or ts < 0:
            _checks.timestamp_ns("ts_event", ts, symbol)

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    @property
    def is_long(self) -> bool:
        return self.quantity > 0

    @property
    def is_short(self) -> bool:
        return self.quantity < 0
