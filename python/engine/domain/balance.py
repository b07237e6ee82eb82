"""Balance snapshot of one asset: a value only; the Rust accounting computes changes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from engine.domain import _checks, _exact

__all__ = ["Balance"]


@dataclass(frozen=True, slots=True, kw_only=True)
class Balance:
    """One asset of one account: `free` can be spent, `locked` backs open orders."""

    asset: str
    free: Decimal
    locked: Decimal

    def __post_init__(self) -> None:
        asset = _checks.text("asset", self.asset)
        _checks.non_negative("free", self.free, asset)
        _checks.non_negative("locked", self.locked, asset)

    @property
    def total(self) -> Decimal:
        return _exact.total(self.free, self.locked)
