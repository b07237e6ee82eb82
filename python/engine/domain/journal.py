"""Journal records: the append-only audit trail of a run, written before anything changes.

Replaying a run's records in order rebuilds its state exactly: `OrderInitialized`
creates an order (with how the manager handles it), `BracketCreated` links three orders,
every `OrderEvent` is applied by the order it names, and the portfolio records
(`PositionSnapshot`, `BalanceSnapshot`, `EquitySample`) state what the portfolio held
after the fill or at the time they name; `AccountFunded` is money put in (or taken
out) from outside the run, such as the starting cash. `RunStarted` and `RunEnded`
bracket a run. `TradingStateChanged` and `EmergencyStop` are the safety audit trail:
every change of the trading state with why, and each step of an emergency stop.
`Reconciled` is each finding of a reconciliation with a live venue (what it adopted,
added, resolved or could not square)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from engine.domain import _checks
from engine.domain._frozen import fast_init
from engine.domain.enums import OrderSide, TradingState, TriggerSource
from engine.domain.errors import ValidationError
from engine.domain.events import OrderEvent
from engine.domain.order import OrderTerms

__all__ = [
    "AccountFunded",
    "BalanceSnapshot",
    "BracketCreated",
    "EmergencyStop",
    "EquitySample",
    "Handling",
    "JournalRecord",
    "OrderInitialized",
    "PositionSnapshot",
    "Reconciled",
    "RunEnded",
    "RunStarted",
    "TradingStateChanged",
]


class Handling(StrEnum):
    """Who works an order: the venue, or the manager until a local trigger fires."""

    VENUE = "VENUE"
    EMULATED = "EMULATED"
    EXTERNAL = "EXTERNAL"
    """Placed elsewhere (another program, the exchange's own screens) and adopted by
    reconciliation: tracked, filled and canceled like ours, never sent."""


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class OrderInitialized(OrderEvent):
    """An order came into being with these terms. `replaces` names the order it replaces
    (cancel-replace); `bracket` names the bracket it belongs to."""

    terms: OrderTerms
    handling: Handling = Handling.VENUE
    replaces: str | None = None
    bracket: str | None = None

    def __post_init__(self) -> None:
        OrderEvent.__post_init__(self)
        if not isinstance(self.terms, OrderTerms):
            raise ValidationError("terms", self.terms, "is not OrderTerms", self._subject)
        if self.terms.client_order_id != self.client_order_id:
            rule = f"does not match the record's {self.client_order_id}"
            raise ValidationError("terms.client_order_id", self.terms.client_order_id, rule)
        if not isinstance(self.handling, Handling):  # the subject only to refuse
            _checks.member("handling", self.handling, Handling, self._subject)
        if self.replaces is not None:
            _checks.client_order_id(self.replaces, self._subject)
        if self.bracket is not None:
            _checks.client_order_id(self.bracket, self._subject)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class BracketCreated(OrderEvent):
    """An entry with a stop-loss and a take-profit (one cancels the other). The exits'
    ids are reserved now; their orders are created when the entry first fills.
    `client_order_id` is the bracket's own id."""

    symbol: str
    side: OrderSide
    entry: str
    stop_loss: str
    take_profit: str
    stop_price: Decimal
    take_profit_price: Decimal
    trigger_source: TriggerSource

    def __post_init__(self) -> None:
        OrderEvent.__post_init__(self)
        _checks.text("symbol", self.symbol, self._subject)
        _checks.member("side", self.side, OrderSide, self._subject)
        _checks.positive("stop_price", self.stop_price, self._subject)
        _checks.positive("take_profit_price", self.take_profit_price, self._subject)
        _checks.member("trigger_source", self.trigger_source, TriggerSource, self._subject)
        ids = (self.entry, self.stop_loss, self.take_profit)
        for name, value in zip(("entry", "stop_loss", "take_profit"), ids, strict=True):
            _checks.client_order_id(value, f"{self._subject} {name}")
        if len({self.client_order_id, *ids}) != 4:
            raise ValidationError("bracket ids", ids, "repeat (rule: four distinct ids)")


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RunStarted:
    """A run began: its mode (backtest, paper, live), strategy (`module:Class`), the
    strategy parameters and the whole configuration as JSON text (what reproduces it)."""

    run_id: str
    ts_event: int
    mode: str
    strategy: str
    params_json: str = "{}"
    config_json: str = "{}"

    def __post_init__(self) -> None:
        _checks.client_order_id(self.run_id, "RunStarted")  # same charset and length rule
        _checks.timestamp_ns("ts_event", self.ts_event, self.run_id)
        _checks.text("mode", self.mode, self.run_id)
        _checks.reference("strategy", self.strategy, self.run_id)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class RunEnded:
    """A run ended: `status` is completed, interrupted or failed (with `reason`)."""

    run_id: str
    ts_event: int
    status: str
    reason: str = ""

    def __post_init__(self) -> None:
        _checks.client_order_id(self.run_id, "RunEnded")
        _checks.timestamp_ns("ts_event", self.ts_event, self.run_id)
        _checks.text("status", self.status, self.run_id)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class PositionSnapshot:
    """A position as it stood after a fill (quantity signed; P&L and fees in `currency`)."""

    ts_event: int
    account: str
    symbol: str
    currency: str
    quantity: Decimal
    avg_entry_price: Decimal
    realized_pnl: Decimal
    fees: Decimal

    def __post_init__(self) -> None:
        ts = self.ts_event
        if type(ts) is not int or ts < 0:  # the check, for its message
            _checks.timestamp_ns("ts_event", ts, self.symbol)
        _checks.text("account", self.account, self.symbol)
        _checks.text("symbol", self.symbol)
        _checks.text("currency", self.currency, self.symbol)
        for name in ("quantity", "realized_pnl", "fees"):
            value = getattr(self, name)
            if not (type(value) is Decimal and value.is_finite()):
                _checks.decimal(name, value, self.symbol)
        entry = self.avg_entry_price
        if not (type(entry) is Decimal and entry.is_finite() and entry >= 0):
            _checks.non_negative("avg_entry_price", entry, self.symbol)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class BalanceSnapshot:
    """One asset's total in one account after a change."""

    ts_event: int
    account: str
    asset: str
    total: Decimal

    def __post_init__(self) -> None:
        ts = self.ts_event
        if type(ts) is not int or ts < 0:  # the check, for its message
            _checks.timestamp_ns("ts_event", ts, self.asset)
        _checks.text("account", self.account, self.asset)
        _checks.text("asset", self.asset)
        total = self.total
        if not (type(total) is Decimal and total.is_finite()):
            _checks.decimal("total", total, self.asset)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class EquitySample:
    """Account equity in `currency` at a sampling time (marks at that time)."""

    ts_event: int
    account: str
    currency: str
    equity: Decimal

    def __post_init__(self) -> None:
        ts = self.ts_event
        if type(ts) is not int or ts < 0:  # the check, for its message
            _checks.timestamp_ns("ts_event", ts, self.account)
        _checks.text("account", self.account)
        _checks.text("currency", self.currency, self.account)
        equity = self.equity
        if not (type(equity) is Decimal and equity.is_finite()):
            _checks.decimal("equity", equity, self.account)


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class AccountFunded:
    """`amount` of `asset` credited to `account` from outside the run (negative: taken
    out): the starting funds, a deposit. Replaying these and the fills gives the
    balances; the BalanceSnapshot written with it states the total after it."""

    ts_event: int
    account: str
    asset: str
    amount: Decimal

    def __post_init__(self) -> None:
        _checks.timestamp_ns("ts_event", self.ts_event, self.asset)
        _checks.text("account", self.account, self.asset)
        _checks.text("asset", self.asset)
        _checks.decimal("amount", self.amount, self.asset)
        if self.amount == 0:
            raise ValidationError("amount", self.amount, "is zero (rule: a funding moves money)")


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class TradingStateChanged:
    """The trading state became `state` (what the risk gate lets through), and why: a
    breaker's reason code, `KILL: ...`, `RESUME: ...`. Replaying these gives the state."""

    ts_event: int
    state: TradingState
    reason: str

    def __post_init__(self) -> None:
        _checks.timestamp_ns("ts_event", self.ts_event, "TradingStateChanged")
        _checks.member("state", self.state, TradingState, "TradingStateChanged")
        if not isinstance(self.reason, str) or not self.reason.strip():
            raise ValidationError("reason", self.reason, "is empty (rule: say why)")


@fast_init
@dataclass(frozen=True, slots=True, kw_only=True)
class EmergencyStop:
    """One step of an emergency stop: `phase` is started, cancel, flatten, slice,
    verified, done or failed; `detail` says what (orders, quantities, why)."""

    ts_event: int
    phase: str
    detail: str = ""

    def __post_init__(self) -> None:
        _checks.timestamp_ns("ts_event", self.ts_event, "EmergencyStop")
        _checks.text("phase", self.phase, "EmergencyStop")
        if not isinstance(self.detail, str):
            raise ValidationError("detail", self.detail, "is not a str", "EmergencyStop")


@dataclass(frozen=True, slots=True, kw_only=True)
class Reconciled:
    """One finding of a reconciliation with the venue: `action` is started, adopted,
    fill_added, resolved, balance, position, done or failed; `subject` what it is about
    (an order, a trade, an asset, a symbol, or "-"); `detail` the numbers and why."""

    ts_event: int
    action: str
    subject: str = "-"
    detail: str = ""

    def __post_init__(self) -> None:
        _checks.timestamp_ns("ts_event", self.ts_event, "Reconciled")
        _checks.text("action", self.action, "Reconciled")
        _checks.text("subject", self.subject, "Reconciled", max_length=128)
        if not isinstance(self.detail, str):
            raise ValidationError("detail", self.detail, "is not a str", "Reconciled")


JournalRecord = (
    OrderEvent
    | RunStarted
    | RunEnded
    | PositionSnapshot
    | BalanceSnapshot
    | EquitySample
    | AccountFunded
    | TradingStateChanged
    | EmergencyStop
    | Reconciled
)
"""Everything a journal holds: order records (OrderEvent subclasses, including the two
above) and run and portfolio records."""
