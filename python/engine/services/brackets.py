"""Bracket orders: an entry with a stop-loss and a take-profit that cancel each other.

Sizing rule (the only one): the position a bracket holds is
`open = entry filled - stop-loss filled - take-profit filled`, and each exit's total
quantity is kept at `its own filled + open`, so whichever exit works next closes exactly
what is open and no more (both exits are reduce-only as well). Consequences:
- the exits exist only once the entry has filled something; a partial entry fill
  creates them at that size, later entry fills grow them;
- a partial take-profit shrinks the stop-loss (and the reverse);
- when an exit has filled and nothing is open, the bracket is done: the other exit and
  whatever is left of the entry are canceled (a take-profit reached while the entry is
  still working means the move already happened);
- an entry that closes with nothing filled cancels the (never created) exits.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from engine.domain.enums import OrderSide, OrderType, TimeInForce, TriggerSource
from engine.domain.order import Order

__all__ = ["Bracket", "BracketState", "ExitTargets", "exit_targets"]


class BracketState(StrEnum):
    WORKING = "WORKING"
    DONE = "DONE"


@dataclass(slots=True)
class Bracket:
    """The bracket's ids and exit parameters. `stop_loss` / `take_profit` are the ids of
    the exits currently working (cancel-replace gives them new ids)."""

    bracket_id: str
    symbol: str
    side: OrderSide
    entry: str
    stop_loss: str
    take_profit: str
    stop_price: Decimal
    take_profit_price: Decimal
    trigger_source: TriggerSource
    state: BracketState = BracketState.WORKING
    # Exit ids that were replaced, with what they had filled (it still counts).
    retired: dict[str, Decimal] = field(default_factory=dict)

    @property
    def exit_side(self) -> OrderSide:
        return self.side.opposite

    def exit_terms(self, role: str) -> dict[str, object]:
        """The fields of a new exit order (quantity added by the caller)."""
        if role == "stop_loss":
            return {
                "order_type": OrderType.STOP_MARKET,
                "trigger_price": self.stop_price,
                "trigger_source": self.trigger_source,
            }
        return {
            "order_type": OrderType.LIMIT,
            "price": self.take_profit_price,
            "time_in_force": TimeInForce.GTC,
        }


@dataclass(frozen=True, slots=True)
class ExitTargets:
    """Where the exits should be: `open` lots held, each exit's target total quantity
    (None when it should not be working), and whether the bracket is finished."""

    open: Decimal
    stop_loss: Decimal | None
    take_profit: Decimal | None
    done: bool


def exit_targets(
    entry: Order, stop_loss: Order | None, take_profit: Order | None, retired: Decimal
) -> ExitTargets:
    """Applies the module's sizing rule. `retired` is what replaced exits filled."""
    sl_filled = stop_loss.filled_qty if stop_loss else Decimal(0)
    tp_filled = take_profit.filled_qty if take_profit else Decimal(0)
    exited = sl_filled + tp_filled + retired
    open_ = entry.filled_qty - exited
    if open_ < 0:  # cannot happen with reduce-only exits sized by this rule
        open_ = Decimal(0)
    entry_done = entry.is_closed
    if open_ == 0 and (exited > 0 or entry_done):
        return ExitTargets(open_, None, None, done=True)
    if open_ == 0:
        return ExitTargets(open_, None, None, done=False)
    return ExitTargets(open_, sl_filled + open_, tp_filled + open_, done=False)
