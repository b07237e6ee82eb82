"""Position snapshot: a value only; the P&L arithmetic lives in the Rust core."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.domain import _checks
from engine.domain.errors import ValidationError

__all__ = ["Position"]


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
        symbol = _checks.text("symbol", self.symbol)
        _checks.text("currency", self.currency, symbol)
        quantity = _checks.decimal("quantity", self.quantity, symbol)
        entry = _checks.non_negative("avg_entry_price", self.avg_entry_price, symbol)
        if quantity == 0 and entry != 0:
            raise ValidationError(
                "avg_entry_price", entry, "set on a flat position (rule: 0 when flat)", symbol
            )
        if quantity != 0 and entry == 0:
            raise ValidationError(
                "avg_entry_price", entry, "is 0 on an open position (rule: > 0)", symbol
            )
        _checks.decimal("realized_pnl", self.realized_pnl, symbol)
        _checks.decimal("fees", self.fees, symbol)
        _checks.timestamp_ns("ts_event", self.ts_event, symbol)

    @property
    def is_flat(self) -> bool:
        return self.quantity == 0

    @property
    def is_long(self) -> bool:
        return self.quantity > 0

    @property
    def is_short(self) -> bool:
        return self.quantity < 0
