"""Reference risk gate: `engine._core.RiskGate` rules in plain Python integers.

Same constructor and `check` signature as the Rust class; the same check order (first
failing check wins) and the same reason strings. Money is kept as an int count of
10^-18 units; Python ints never overflow, so the Rust overflow outcomes are written out
as explicit bounds (`I128_MAX`)."""

from __future__ import annotations

from decimal import Decimal

I128_MAX = (1 << 127) - 1
UNIT = 10**18
TOKEN = 10**9  # bucket units per token

__all__ = ["RefRiskGate", "fmt_money", "money_units"]


def money_units(text: str) -> int:
    """Exact decimal text -> 10^-18 units (raises on finer values)."""
    value = Decimal(text) * UNIT
    if value != value.to_integral_value():
        raise ValueError(f"{text!r} is finer than 10^-18")
    return int(value)


def fmt_money(units: int) -> str:
    """Exact decimal with trailing fraction zeros trimmed, as Rust's `Money` prints."""
    sign = "-" if units < 0 else ""
    whole, frac = divmod(abs(units), UNIT)
    text = f"{frac:018d}".rstrip("0")
    return f"{sign}{whole}.{text}" if text else f"{sign}{whole}"


def _ceil_div(n: int, d: int) -> int:
    return -((-n) // d)


def _scale(step: str) -> tuple[int, int]:
    """A step as (mantissa, scale): step = mantissa * 10^-scale, normalised."""
    d = Decimal(step).normalize()
    _sign, digits, exp = d.as_tuple()
    assert isinstance(exp, int)
    mantissa = int("".join(map(str, digits)))
    if exp >= 0:
        return mantissa * 10**exp, 0
    return mantissa, -exp


class RefRiskGate:
    def __init__(
        self,
        tick_size: str,
        lot_size: str,
        kind: str,
        *,
        min_qty: int,
        max_qty: int,
        min_notional: str,
        max_notional: str,
        max_position: int,
        max_gross_exposure: str,
        band_bps: int,
        maker_fee_rate: str,
        taker_fee_rate: str,
        fee_decimals: int,
        rate_capacity: int,
        rate_refill_per_s: int,
        leverage: int = 1,
    ) -> None:
        assert kind in ("spot", "perp")
        tm, ts = _scale(tick_size)
        lm, ls = _scale(lot_size)
        assert ts + ls <= 18
        self.unit = tm * lm * 10 ** (18 - ts - ls)  # money units per tick*lot
        self.lot_units = lm * 10 ** (18 - ls)  # base money units per lot
        self.kind = kind
        self.min_qty, self.max_qty = min_qty, max_qty
        self.min_notional = money_units(min_notional)
        self.max_notional = money_units(max_notional)
        self.max_position = max_position
        self.max_gross = money_units(max_gross_exposure)
        self.band_bps = band_bps
        self.leverage = leverage
        rate = max(Decimal(maker_fee_rate), Decimal(taker_fee_rate), Decimal(0))
        self.rate = int(rate * 10**10)  # count of 10^-10
        self.fee_decimals = fee_decimals
        self.capacity, self.refill = rate_capacity, rate_refill_per_s
        self.units = rate_capacity * TOKEN
        self.last_ns: int | None = None

    @property
    def tokens(self) -> int:
        return self.units // TOKEN

    def reset_bucket(self) -> None:
        self.units = self.capacity * TOKEN
        self.last_ns = None

    def _fee(self, notional: int) -> int:
        """Ceiling at the fee precision (accounting rule 2); notional >= 0, rate >= 0."""
        den: int = 10 ** (28 - self.fee_decimals)
        per_count: int = 10 ** (18 - self.fee_decimals)
        return _ceil_div(notional * self.rate, den) * per_count

    def check(
        self,
        side: int,
        order_type: str,
        price: int,
        qty: int,
        position: int,
        mid: int,
        gross_exposure: str,
        available_quote: str,
        available_base: str,
        now_ns: int,
        reduce_only: bool = False,
        state: str = "active",
    ) -> str | None:
        assert side in (0, 1) and order_type in ("market", "limit")
        assert state in ("active", "reducing", "halted")
        gross = money_units(gross_exposure)
        quote = money_units(available_quote)
        base = money_units(available_base)
        # Refill to now_ns (the first timestamp starts the clock; time never goes back).
        if self.last_ns is None:
            self.last_ns = now_ns
        elif now_ns > self.last_ns:
            add = (now_ns - self.last_ns) * self.refill
            self.units = min(self.capacity * TOKEN, self.units + add)
            self.last_ns = now_ns
        order = (side, price, qty, reduce_only)
        reason = self._evaluate(order, position, mid, gross, quote, base, state)
        if reason is not None:
            return reason
        if self.units >= TOKEN:
            self.units -= TOKEN
            return None
        missing = TOKEN - self.units
        wait = "never" if self.refill == 0 else str(_ceil_div(missing, self.refill))
        head = f"RATE_LIMIT: capacity={self.capacity} refill_per_s={self.refill}"
        return f"{head} retry_after_ns={wait}"

    def _evaluate(
        self,
        order: tuple[int, int, int, bool],
        pos: int,
        mid: int,
        gross: int,
        quote: int,
        base: int,
        state: str,
    ) -> str | None:
        side, price, qty, reduce_only = order
        side_name = "buy" if side == 0 else "sell"
        if state == "halted":
            return "TRADING_HALTED: state=halted"
        if price <= 0:
            return f"BAD_PRICE: price={price}"
        if qty < self.min_qty:
            return f"QTY_BELOW_MIN: qty={qty} min={self.min_qty}"
        if qty > self.max_qty:
            return f"QTY_ABOVE_MAX: qty={qty} max={self.max_qty}"
        opposite = (pos > 0 and side == 1) or (pos < 0 and side == 0)
        reduces = opposite and qty <= abs(pos)
        if reduce_only and not reduces:
            return f"REDUCE_ONLY_INCREASES: position={pos} side={side_name} qty={qty}"
        if state == "reducing" and not reduces:
            return f"TRADING_REDUCING: position={pos} side={side_name} qty={qty}"
        if mid <= 0:
            return f"NO_MID: mid={mid}"
        if abs(price - mid) * 10_000 > self.band_bps * mid:
            return f"PRICE_BAND: price={price} mid={mid} band_bps={self.band_bps}"
        notional = price * qty * self.unit
        if notional > I128_MAX:
            return f"NOTIONAL_OVERFLOW: price={price} qty={qty}"
        if notional < self.min_notional:
            shown = fmt_money(notional)
            return f"NOTIONAL_BELOW_MIN: notional={shown} min={fmt_money(self.min_notional)}"
        if notional > self.max_notional:
            shown = fmt_money(notional)
            return f"MAX_NOTIONAL: notional={shown} max={fmt_money(self.max_notional)}"
        new = pos + (qty if side == 0 else -qty)
        if abs(new) > self.max_position and abs(new) > abs(pos):
            return f"MAX_POSITION: position={pos} new={new} max={self.max_position}"
        grow = abs(new) - abs(pos)
        if grow > 0:
            add = price * grow * self.unit
            if gross + add > self.max_gross:
                return (
                    f"MAX_GROSS_EXPOSURE: gross={fmt_money(gross)} add={fmt_money(add)} "
                    f"max={fmt_money(self.max_gross)}"
                )
        if self.kind == "spot" and side == 0:
            asset, need, available = "quote", notional + self._fee(notional), quote
        elif self.kind == "spot":
            asset, need, available = "base", qty * self.lot_units, base
        else:
            closing = min(qty, abs(pos)) if opposite else 0
            opening = qty - closing
            n = price * opening * self.unit
            need = _ceil_div(n, self.leverage) + self._fee(n) if opening else 0
            asset, available = "quote", quote
        if need > I128_MAX or need > available:
            shown = "overflow" if need > I128_MAX else fmt_money(need)
            have = fmt_money(available)
            return f"INSUFFICIENT_BALANCE: asset={asset} need={shown} available={have}"
        return None
