"""Circuit breakers: limits on losses and on refusals that tighten the trading state.

Three breakers, each off when its limit is None:
- **max drawdown**: `(peak - equity) / peak` above `max_drawdown`, the peak being the
  highest equity seen for that account since the run started (default 0.10 -> HALTED);
- **daily loss**: `(open - equity) / open` above `max_daily_loss`, `open` being the
  first equity seen in the current UTC day (days cut at multiples of 86,400 s of the
  Clock's time; default 0.05 -> REDUCING);
- **rejects**: more than `max_rejects` venue rejects and risk denials within a rolling
  `reject_window_ns` (default more than 20 in 60 s -> HALTED).
Equity is the account's value at the book mids, so the losses are realized and
unrealized P&L net of fees together (deposits during a run would count as gains).
Limits are fractions (exact Decimals, compared exactly); an account whose peak or
opening equity is not positive is not judged (no fraction to take). A breaker trips
"above" its limit: a drawdown of exactly 10% with a 0.10 limit does not trip.

The breakers only say what they saw (`Trip`); the kernel hands a trip to
`TradingControl.tighten`, which never loosens the state.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from decimal import Decimal

from engine.domain.enums import TradingState
from engine.domain.errors import ValidationError

__all__ = ["DAY_NS", "BreakerLimits", "CircuitBreakers", "Trip"]

DAY_NS = 86_400_000_000_000


@dataclass(frozen=True, slots=True, kw_only=True)
class BreakerLimits:
    max_drawdown: Decimal | None = Decimal("0.10")
    drawdown_state: TradingState = TradingState.HALTED
    max_daily_loss: Decimal | None = Decimal("0.05")
    daily_loss_state: TradingState = TradingState.REDUCING
    max_rejects: int | None = 20
    reject_window_ns: int = 60_000_000_000

    def __post_init__(self) -> None:
        for name in ("max_drawdown", "max_daily_loss"):
            value = getattr(self, name)
            if value is None:
                continue
            if not isinstance(value, Decimal) or not value.is_finite() or not 0 < value < 1:
                raise ValidationError(name, value, "is not a fraction in (0, 1) (rule: 0.10 = 10%)")
        for name in ("drawdown_state", "daily_loss_state"):
            value = getattr(self, name)
            if not isinstance(value, TradingState) or value is TradingState.ACTIVE:
                raise ValidationError(name, value, "is not REDUCING or HALTED")
        if self.max_rejects is not None and (
            type(self.max_rejects) is not int or self.max_rejects < 0
        ):
            raise ValidationError("max_rejects", self.max_rejects, "is not an int >= 0")
        if type(self.reject_window_ns) is not int or self.reject_window_ns <= 0:
            raise ValidationError("reject_window_ns", self.reject_window_ns, "is not an int > 0")


@dataclass(frozen=True, slots=True)
class Trip:
    """A breaker's verdict: the state it asks for and why (`CODE: key=value ...`)."""

    state: TradingState
    reason: str


class CircuitBreakers:
    def __init__(self, limits: BreakerLimits | None = None) -> None:
        self.limits = limits or BreakerLimits()
        self._peak: dict[str, Decimal] = {}
        self._day: dict[str, tuple[int, Decimal]] = {}  # account -> (UTC day, opening equity)
        self._rejects: deque[int] = deque()

    def on_equity(self, account: str, ts: int, equity: Decimal) -> Trip | None:
        """One equity observation (a sample, or after a fill). The drawdown breaker is
        looked at first: it is the stricter by default."""
        lim = self.limits
        peak = self._peak.get(account)
        if peak is None or equity > peak:
            peak = self._peak[account] = equity
        day = ts // DAY_NS
        opened = self._day.get(account)
        if opened is None or opened[0] != day:
            opened = self._day[account] = (day, equity)
        if lim.max_drawdown is not None and peak > 0:
            drawdown = (peak - equity) / peak
            if drawdown > lim.max_drawdown:
                return Trip(
                    lim.drawdown_state,
                    f"MAX_DRAWDOWN: account={account} equity={equity} peak={peak} "
                    f"limit={lim.max_drawdown}",
                )
        start = opened[1]
        if lim.max_daily_loss is not None and start > 0:
            loss = (start - equity) / start
            if loss > lim.max_daily_loss:
                return Trip(
                    lim.daily_loss_state,
                    f"DAILY_LOSS: account={account} equity={equity} day_open={start} "
                    f"limit={lim.max_daily_loss}",
                )
        return None

    def on_reject(self, ts: int) -> Trip | None:
        """A venue reject or a risk denial at `ts` (the Clock's time)."""
        limit = self.limits.max_rejects
        if limit is None:
            return None
        window = self.limits.reject_window_ns
        rejects = self._rejects
        rejects.append(ts)
        while rejects and rejects[0] <= ts - window:
            rejects.popleft()
        if len(rejects) > limit:
            return Trip(
                TradingState.HALTED,
                f"REJECT_RATE: rejects={len(rejects)} window_ns={window} limit={limit}",
            )
        return None

    def rejects_in_window(self) -> int:
        return len(self._rejects)
