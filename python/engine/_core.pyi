"""Type stubs for the Rust extension `engine._core` (checked by mypy.stubtest in CI).

Units: prices are integer ticks, sizes integer lots (see `Grid`). Sides are 0 (bid) and
1 (ask). A "message" is one exchange message; it becomes one or more event rows.
"""

from collections.abc import Sequence
from typing import Final, Literal, Self, final

import numpy as np
import numpy.typing as npt

__all__ = [
    "BAR_DTYPE",
    "EVENT_DTYPE",
    "FLAG_BEGIN",
    "FLAG_EMPTY",
    "FLAG_END",
    "KIND_DIFF",
    "KIND_L3_ADD",
    "KIND_L3_CANCEL",
    "KIND_L3_EXECUTE",
    "KIND_L3_MODIFY",
    "KIND_SNAPSHOT",
    "KIND_TICKER",
    "KIND_TRADE",
    "SIDE_ASK",
    "SIDE_BID",
    "TOP_DTYPE",
    "Balances",
    "BarBuilder",
    "BatchResult",
    "BookError",
    "EventBuilder",
    "FixedPointError",
    "Grid",
    "L2Book",
    "L3Book",
    "Position",
    "RiskGate",
    "SequenceGapError",
    "SimVenue",
    "TriggerBook",
    "bars_from_events",
    "compute_stats",
    "from_units",
    "level_updates",
    "plan",
    "to_units",
]

# --- event record -------------------------------------------------------------------
EVENT_DTYPE: Final[np.dtype[np.void]]
"""ts_event, ts_recv, seq_first, seq_last, seq_prev, price, qty: int64; order_id: uint64;
kind, side, flags: uint8; _pad: 5 bytes. 72 bytes per row."""
TOP_DTYPE: Final[np.dtype[np.void]]
"""seq, bid_price, bid_qty, ask_price, ask_qty: int64 (qty 0 = that side empty)."""

KIND_SNAPSHOT: Final[int]
KIND_DIFF: Final[int]
KIND_TRADE: Final[int]
KIND_TICKER: Final[int]
KIND_L3_ADD: Final[int]
KIND_L3_MODIFY: Final[int]
KIND_L3_CANCEL: Final[int]
KIND_L3_EXECUTE: Final[int]
FLAG_BEGIN: Final[int]
FLAG_END: Final[int]
FLAG_EMPTY: Final[int]
SIDE_BID: Final[int]
SIDE_ASK: Final[int]

# --- errors -------------------------------------------------------------------------
class FixedPointError(ValueError):
    """A decimal that is not a whole number of steps, negative where not allowed,
    malformed, or overflowing 64 bits. The message names the value, the step and the rule."""

class BookError(ValueError):
    """An operation the book refused; the book is unchanged."""

class SequenceGapError(BookError):
    """A diff broke the sequence chain; the book is now stale until the next snapshot."""

# --- fixed point --------------------------------------------------------------------
def to_units(value: str, step: str, allow_negative: bool = False) -> int:
    """Exact conversion of a decimal string to a whole number of `step`s."""

def from_units(units: int, step: str) -> str:
    """Formats `units` * `step` with the step's decimal places."""

@final
class Grid:
    """An instrument's tick and lot sizes."""

    def __new__(cls, tick_size: str, lot_size: str) -> Self: ...
    @property
    def tick_size(self) -> str: ...
    @property
    def lot_size(self) -> str: ...
    def price_to_ticks(self, price: str) -> int: ...
    def qty_to_lots(self, qty: str) -> int: ...
    def ticks_to_price(self, ticks: int) -> str: ...
    def lots_to_qty(self, lots: int) -> str: ...

# --- event building -----------------------------------------------------------------
@final
class EventBuilder:
    """Accumulates normalized rows from exchange messages (decimal strings parsed in Rust).

    Each push is atomic: on any error nothing of that message is added."""

    def __new__(cls, grid: Grid) -> Self: ...
    def __len__(self) -> int: ...
    def push_snapshot(
        self,
        ts_recv: int,
        ts_event: int,
        last_update_id: int,
        bids: Sequence[Sequence[str]],
        asks: Sequence[Sequence[str]],
    ) -> int:
        """Adds a depth snapshot; returns the rows added."""

    def push_diff(
        self,
        ts_recv: int,
        ts_event: int,
        first_id: int,
        last_id: int,
        prev_id: int,
        bids: Sequence[Sequence[str]],
        asks: Sequence[Sequence[str]],
    ) -> int:
        """Adds a depth diff (prev_id -1 when the venue has none); returns rows added."""

    def push_trade(
        self,
        ts_recv: int,
        ts_event: int,
        trade_id: int,
        price: str,
        qty: str,
        buyer_is_maker: bool,
    ) -> int: ...
    def push_ticker(
        self,
        ts_recv: int,
        ts_event: int,
        update_id: int,
        bid_price: str,
        bid_qty: str,
        ask_price: str,
        ask_qty: str,
    ) -> int: ...
    def finish(self) -> npt.NDArray[np.void]:
        """Returns the rows as an EVENT_DTYPE array and empties the builder."""

# --- batch results ------------------------------------------------------------------
@final
class BatchResult:
    """Counters from `apply_events`; processing never stops at the first error."""

    @property
    def rows(self) -> int: ...
    @property
    def messages(self) -> int: ...
    @property
    def snapshots(self) -> int: ...
    @property
    def diffs_applied(self) -> int: ...
    @property
    def diffs_dropped(self) -> int:
        """Diffs older than the snapshot, dropped by the sequence rules."""

    @property
    def diffs_buffered(self) -> int:
        """Diffs held while the book waits for a snapshot (still held at the end)."""

    @property
    def levels_applied(self) -> int:
        """Level updates applied (snapshot and diff levels; L3 operations)."""

    @property
    def trades(self) -> int: ...
    @property
    def tickers(self) -> int: ...
    @property
    def gaps(self) -> int: ...
    @property
    def gap_rows(self) -> list[int]:
        """Row (row_offset + index) of the first row of each diff that broke the chain.
        A diff buffered by an earlier call keeps the row it was given there; one buffered
        by a per-call apply_diff has row 2**64 - 1."""

    @property
    def gap_ids(self) -> list[tuple[int, int, int]]:
        """(U, u, pu) of each gap's diff, parallel to gap_rows."""

    @property
    def errors(self) -> int:
        """Rows refused for other reasons (bad side or kind, unknown L3 id, ...)."""

    @property
    def first_error(self) -> str | None:
        """The first error or gap met, with its row."""

    @property
    def first_error_row(self) -> int | None: ...
    @property
    def tops(self) -> npt.NDArray[np.void] | None:
        """With record_tops=True: TOP_DTYPE rows, the top of book after each applied diff."""

    def as_dict(self) -> dict[str, object]: ...

# --- order books --------------------------------------------------------------------
_Level = tuple[int, int]  # (price in ticks, size in lots); stub-only alias

@final
class L2Book:
    """Aggregated price levels kept in sync by snapshot + diffs under Binance's rules.

    rule "futures": each diff's pu equals the previous u; first applied diff has
    U <= lastUpdateId <= u; diffs with u < lastUpdateId are dropped.
    rule "spot": each diff's U equals the previous u + 1; first applied diff has
    U <= lastUpdateId + 1 <= u; diffs with u <= lastUpdateId are dropped.
    Once a diff is applied, a diff whose u is not newer than the last applied u (a
    re-delivered message) is dropped under both rules. Diffs that arrive before a
    snapshot, or after a gap, are buffered and replayed under those rules when the
    next snapshot arrives.

    Errors: a bad side or a negative band raise ValueError; a negative size, a price
    outside |price| < 2**62 ticks, or U > u raise BookError (book unchanged).
    """

    def __new__(
        cls, rule: Literal["spot", "futures"], max_buffered_rows: int = 1_000_000
    ) -> Self: ...
    @property
    def rule(self) -> str: ...
    @property
    def stale(self) -> bool:
        """True when there is no usable state: before the first snapshot or after a gap."""

    @property
    def last_update_id(self) -> int | None: ...
    def apply_snapshot(
        self, last_update_id: int, bids: Sequence[_Level], asks: Sequence[_Level]
    ) -> None:
        """Replaces the book, then replays buffered diffs. Raises SequenceGapError when a
        buffered diff does not chain (the snapshot's levels stay; the book is stale)."""

    def apply_diff(
        self,
        first_id: int,
        last_id: int,
        prev_id: int,
        bids: Sequence[_Level],
        asks: Sequence[_Level],
    ) -> Literal["applied", "dropped", "buffered"]:
        """Raises SequenceGapError on a break in the chain (the book becomes stale)."""

    def set_level(self, side: int, price: int, qty: int) -> None:
        """Sets one level with no sequence checks (qty 0 removes it)."""

    def clear(self) -> None: ...
    def apply_events(
        self, events: npt.NDArray[np.void], record_tops: bool = False, row_offset: int = 0
    ) -> BatchResult:
        """Applies an EVENT_DTYPE array in one call with the GIL released. Rows are
        reported as row_offset + index, so one stream fed in several calls keeps valid
        rows (pass the count of rows given before)."""

    # queries (shared with L3Book)
    def best_bid(self) -> _Level | None: ...
    def best_ask(self) -> _Level | None: ...
    def top(self) -> tuple[_Level | None, _Level | None]:
        """(best bid, best ask) in one call."""

    def spread(self) -> int | None: ...
    def mid(self) -> float | None:
        """Mid in ticks (a reference value, not money); exact twice-mid: mid_x2()."""

    def mid_x2(self) -> int | None: ...
    def is_crossed(self) -> bool: ...
    def depth(self, side: int, n: int) -> list[_Level]: ...
    def levels(self, side: int) -> list[_Level]:
        """Every level of a side, best first."""

    def level_count(self, side: int) -> int: ...
    def volume_at(self, side: int, price: int) -> int: ...
    def walk(self, side: int, qty: int) -> tuple[int, int, int]:
        """A market order taking up to qty lots from `side` (a buy takes from side 1):
        (filled lots, notional in ticks*lots, levels touched). Average = notional/filled."""

    def size_within(self, side: int, band: int) -> int:
        """Total size on `side` within `band` ticks of that side's touch (inclusive)."""

def level_updates(events: npt.NDArray[np.void]) -> int:
    """Level updates among EVENT_DTYPE rows (C-contiguous): snapshot and diff rows that
    carry a level (not FLAG_EMPTY), counted with the GIL released."""

def plan(
    events: npt.NDArray[np.void], rule: str, watch_trades: bool, stream: int = 0
) -> tuple[list[tuple[int, int, int, int, int, int]], int]:
    """(steps, level updates) of one instrument's EVENT_DTYPE rows, in one pass with the
    GIL released. The steps are the kernel's batches: (ts_first, stream, start, end,
    kind, ts_last) each, in row order. A step ends after a book message that changed
    the top (or a snapshot): kind 2; with `watch_trades` each trade print is a step of
    its own: kind 1; other rows: kind 0. Times are event times (receive time when
    unknown), never going back. The level updates are `level_updates(events)`."""

@final
class L3Book:
    """Order-by-order book: FIFO within a level. Adds that would cross are refused.

    Errors: a bad side raises ValueError; everything else the book refuses (duplicate
    or unknown id, qty <= 0, a crossing price, a price outside |price| < 2**62 ticks,
    an execute above the resting size) raises BookError, book unchanged."""

    def __new__(cls) -> Self: ...
    def add(self, order_id: int, side: int, price: int, qty: int) -> None:
        """BookError on a duplicate id, qty <= 0, or a price that crosses the other side."""

    def modify(self, order_id: int, price: int, qty: int) -> None:
        """A size reduction at the same price keeps queue priority; a size increase or a
        price change sends the order to the back of its (new) level."""

    def cancel(self, order_id: int) -> int:
        """Removes the order; returns the size it had."""

    def execute(self, order_id: int, qty: int) -> int:
        """Trades qty lots of a resting order; returns its remaining size (0 = removed)."""

    def match_order(
        self, side: int, qty: int, limit_price: int | None = None
    ) -> list[tuple[int, int, int]]:
        """An incoming order of `side` takes liquidity FIFO from the other side up to
        qty (and not beyond limit_price); returns fills (resting id, price, qty)."""

    def order(self, order_id: int) -> tuple[int, int, int] | None:
        """(side, price, qty) of a resting order."""

    def queue_ahead(self, order_id: int) -> int:
        """Size resting ahead of the order at its level."""

    def orders_at(self, side: int, price: int) -> list[tuple[int, int]]:
        """(order id, qty) at one level, in queue order."""

    def order_count(self) -> int: ...
    def apply_events(self, events: npt.NDArray[np.void], row_offset: int = 0) -> BatchResult:
        """Applies KIND_L3_* rows (trades and tickers are counted), GIL released."""

    def best_bid(self) -> _Level | None: ...
    def best_ask(self) -> _Level | None: ...
    def top(self) -> tuple[_Level | None, _Level | None]:
        """(best bid, best ask) in one call."""

    def spread(self) -> int | None: ...
    def mid(self) -> float | None: ...
    def mid_x2(self) -> int | None: ...
    def is_crossed(self) -> bool: ...
    def depth(self, side: int, n: int) -> list[_Level]: ...
    def levels(self, side: int) -> list[_Level]: ...
    def level_count(self, side: int) -> int: ...
    def volume_at(self, side: int, price: int) -> int: ...
    def walk(self, side: int, qty: int) -> tuple[int, int, int]: ...
    def size_within(self, side: int, band: int) -> int: ...

# --- pre-trade risk gate ------------------------------------------------------------
_Kind = Literal["spot", "perp"]  # stub-only aliases
_OrderType = Literal["market", "limit"]
_State = Literal["active", "reducing", "halted"]

@final
class RiskGate:
    """The pre-trade risk gate of one instrument: one call per order.

    Units: prices in ticks, sizes in lots (ints); money (notional, balances, exposure)
    as exact decimal strings in the quote currency, except `available_base` (base).
    Notional = price * qty * tick_size * lot_size, exact. Time (`now_ns`) comes from
    the caller only. Bad arguments (side not 0/1, an unknown literal, malformed money,
    invalid limits) raise ValueError; a refused order is not an error, it is a reason.

    `check` returns None when the order is allowed (and takes one token from the
    submit-rate bucket), else one reason string `CATEGORY: key=value ...`. The checks,
    in order; the first that fails is the reason:
      1 TRADING_HALTED        state is "halted"
      2 BAD_PRICE             price (limit, or a market order's reference price) <= 0
      3 QTY_BELOW_MIN         qty < min_qty
      4 QTY_ABOVE_MAX         qty > max_qty
      5 REDUCE_ONLY_INCREASES reduce_only and the order does not reduce the position
      6 TRADING_REDUCING      state is "reducing" and the order does not reduce
      7 NO_MID                mid <= 0
      8 PRICE_BAND            |price - mid| * 10_000 > band_bps * mid
      9 NOTIONAL_OVERFLOW     the notional does not fit in 128-bit money
     10 NOTIONAL_BELOW_MIN    notional < min_notional
     11 MAX_NOTIONAL          notional > max_notional
     12 MAX_POSITION          |position after fill| > max_position and it grows
     13 MAX_GROSS_EXPOSURE    gross_exposure + growth notional > max_gross_exposure
     14 INSUFFICIENT_BALANCE  spot buy: notional + fee at max(maker, taker) rounded up
                              > available_quote; spot sell: qty in base >
                              available_base; perp: ceil(opening notional / leverage)
                              + its fee > available_quote (closing needs nothing)
     15 RATE_LIMIT            fewer than one token (capacity, refill per second)
    An order reduces when the position is not flat, the side is opposite to it and
    qty <= |position| (a flip does not reduce). The bucket starts full, refills from
    the timestamps passed in (never backwards) and is consumed only by allowed orders.
    """

    def __new__(
        cls,
        tick_size: str,
        lot_size: str,
        kind: _Kind,
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
    ) -> Self:
        """min_qty/max_qty/max_position in lots; fee rates as fractions ("0.0004");
        fee_decimals is the fee asset's precision; leverage is used by "perp" only."""

    def check(
        self,
        side: int,
        order_type: _OrderType,
        price: int,
        qty: int,
        position: int,
        mid: int,
        gross_exposure: str,
        available_quote: str,
        available_base: str,
        now_ns: int,
        reduce_only: bool = False,
        state: _State = "active",
    ) -> str | None:
        """side 0 buy / 1 sell; position signed lots; mid in ticks. None = allowed."""

    def check_decimal(
        self,
        side: int,
        order_type: _OrderType,
        price: str,
        qty: str,
        position: int,
        mid: int,
        gross_exposure: str,
        available_quote: str,
        available_base: str,
        now_ns: int,
        reduce_only: bool = False,
        state: _State = "active",
    ) -> str | None:
        """`check` with price and qty as decimal strings: off the grid is denied first
        with TICK_STEP (price=.. tick=..) then LOT_STEP (qty=.. lot=..); malformed or
        negative text raises FixedPointError."""

    @property
    def tokens(self) -> int:
        """Whole tokens in the bucket as of the last timestamp seen."""

    def reset_bucket(self) -> None:
        """Back to full; the next timestamp restarts the refill clock."""

# --- accounting ---------------------------------------------------------------------
_Rounding = Literal["down", "up", "floor", "ceiling", "half_even"]  # stub-only alias

@final
class Position:
    """A netting position in one instrument (the core's `accounting::Position`).

    Units: price and mark in ticks, qty in lots (ints), side 0 buy / 1 sell. Money (fees,
    P&L) is an exact decimal string in the quote currency: parsed exactly (at most 18
    decimals), printed with no exponent and no trailing zeros ("0" for zero), so
    `Decimal(s)` is exact. Rounding rules: see the module docs of `rust/accounting`
    (fees rounded by the caller/venue; a partial reduce removes cost rounded up, so its
    realized P&L is never better than the average-price figure; a flip realizes its
    whole fee and the new side's entry is the flip price).

    One class with an optional log: a fill applied with `ts` records a snapshot,
    without `ts` nothing is recorded. A refused fill (qty <= 0, malformed fee,
    overflow) raises ValueError naming the fill and the rule; nothing changes."""

    def __new__(cls, tick_size: str, lot_size: str) -> Self:
        """FixedPointError for a malformed step; ValueError when tick scale + lot scale
        exceeds 18 (one tick x one lot would not be exact in money)."""

    def apply(self, side: int, price: int, qty: int, fee: str, ts: int | None = None) -> str:
        """Applies a fill whose fee (positive paid, negative rebate) is in quote; returns
        the realized P&L of this fill net of its fee."""

    @property
    def tick_size(self) -> str: ...
    @property
    def lot_size(self) -> str: ...
    @property
    def qty(self) -> int:
        """Signed lots: long > 0, short < 0."""

    @property
    def realized_pnl(self) -> str:
        """Net of fees."""

    @property
    def fees_paid(self) -> str:
        """Net fees (rebates subtract)."""

    @property
    def cost_basis(self) -> int:
        """Sum of price * signed qty over the open quantity, in tick*lot units (exact;
        negative for a short). The average entry is cost_basis / qty ticks."""

    def avg_entry_ticks(self) -> tuple[int, int] | None:
        """The exact average entry as the fraction (cost_basis, qty); None when flat."""

    def avg_entry_price(self, rounding: _Rounding = "half_even") -> str | None:
        """Quote per whole base unit, rounded at 18 decimals; None when flat."""

    def unrealized_pnl(self, mark: int) -> str:
        """(mark * qty - cost_basis) * tick_size * lot_size, exact."""

    def used_margin(self, leverage: int) -> str:
        """|cost_basis| * tick_size * lot_size / leverage, rounded up at 18 decimals
        (margin at the entry price); ValueError when leverage < 1."""

    def quote_value(self, amount: str, price: int, rounding: _Rounding = "ceiling") -> str:
        """The quote value of a base amount at `price` ticks (how a base-asset fee is
        valued, rounded up by default)."""

    def snapshots(self) -> list[tuple[int, int, int, str, str]]:
        """(ts, qty, cost_basis, realized_pnl, fees_paid) after each fill given a ts."""

@final
class Balances:
    """Money per asset for one account, as exact decimal strings. A missing asset is
    "0"; balances may go negative (refusing orders beyond them is the risk gate's job).
    Asset codes are 1-16 printable ASCII characters. Every operation is all or nothing:
    on any ValueError (bad asset, malformed or too precise money, overflow, a refused
    fill) neither the balances nor the position change."""

    def __new__(cls) -> Self: ...
    def get(self, asset: str) -> str: ...
    def credit(self, asset: str, amount: str) -> str:
        """Adds `amount` (negative debits); returns the new balance."""

    def as_dict(self) -> dict[str, str]:
        """Every asset ever touched, sorted by code."""

    def apply_spot_fill(
        self,
        position: Position,
        base: str,
        quote: str,
        side: int,
        price: int,
        qty: int,
        fee: str,
        fee_asset: str,
        fee_price: str | None = None,
        ts: int | None = None,
    ) -> str:
        """Books a spot fill: a buy adds qty * lot_size of `base` and pays the notional in
        `quote` (a sell the reverse); `fee` is taken from `fee_asset` as charged (base,
        quote or a third asset). The same step applies the fill to `position` (which also
        gives the grid), its fee valued in quote: a quote fee as is, a base fee at the
        fill price rounded up, a third-asset fee at `fee_price` (quote per unit, > 0;
        required then, ignored otherwise) rounded up. Returns the position's realized
        P&L change."""

    def apply_linear_fill(
        self,
        position: Position,
        base: str,
        quote: str,
        side: int,
        price: int,
        qty: int,
        fee: str,
        fee_asset: str,
        fee_price: str | None = None,
        ts: int | None = None,
    ) -> str:
        """Books a linear-perpetual fill: no asset changes hands; `quote` (the collateral)
        receives the realized P&L, and the fee is paid from `fee_asset` as charged (from
        the collateral itself when fee_asset == quote). The position's fee is valued as in
        `apply_spot_fill`. Returns the position's realized P&L change (net of the fee)."""

# --- simulated venue ----------------------------------------------------------------
_SimOrderType = Literal[
    "market",
    "limit",
    "stop_market",
    "stop_limit",
    "take_profit_market",
    "take_profit_limit",
    "trailing_stop_market",
]  # stub-only aliases
_Tif = Literal["gtc", "ioc", "fok", "gtd"]
_ReportKind = Literal[
    "accepted",
    "rejected",
    "filled",
    "canceled",
    "expired",
    "cancel_rejected",
    "modified",
    "modify_rejected",
    "triggered",
]
_Report = tuple[int, int, _ReportKind, int, int, Literal["maker", "taker", ""], str, int, str]

@final
class SimVenue:
    """A simulated venue for one instrument: our orders against an L2 (or L3) book and the
    market's trade prints, deterministic (the rules are in the Rust docs of
    `quantx_core::sim`).

    Units: prices in ticks, sizes in lots, times in ns (ints); side 0 buys, 1 sells.
    Commands (submit, cancel, modify) arrive after their latency and take effect then;
    what happened comes back as reports from `drain_reports`. Arguments the venue could
    not even represent (an unknown literal, a price on a market order, a missing price or
    expiry, a trail offset on a non-trailing order, an out-of-range bps) raise
    ValueError naming the argument, the value and the rule; everything the venue itself
    refuses is a report with a reason code.
    """

    def __new__(
        cls,
        tick_size: str,
        lot_size: str,
        *,
        rule: Literal["spot", "futures"] = "futures",
        maker_fee: str,
        taker_fee: str,
        fee_decimals: int = 8,
        default_slippage_bps: int = 50,
        submit_latency_ns: int = 0,
        cancel_latency_ns: int = 0,
        modify_latency_ns: int = 0,
        queue_model: Literal["conservative", "probabilistic"] = "conservative",
        queue_power: int = 2,
        feed: Literal["l2", "l3"] = "l2",
    ) -> Self:
        """rule: the L2 sequence rule; fees as fractions ("0.0002"), charged at
        fee_decimals places rounded toward +inf; latencies >= 0. queue_model: where a
        resting order stands in its level on the L2 feed (probabilistic: cancellations
        spread by ahead^power / (ahead^power + behind^power), power 1..4); feed "l3"
        builds the book from KIND_L3_* rows and knows the queue exactly."""

    def apply_events(self, events: npt.NDArray[np.void], row_offset: int = 0) -> int:
        """Book messages and trade prints (EVENT_DTYPE), GIL released; pending commands
        due before a row go first, a row at the same time as a command goes first.
        Returns how many reports wait to be drained (0: nothing to drain)."""

    def on_mark(self, ts: int, price: int) -> None:
        """A mark price (market data at ts) for conditional orders with trigger_source
        "mark"; ValueError when |price| >= 2**62 ticks (nothing changes)."""

    def advance_to(self, ts: int) -> None:
        """Applies pending commands and GTD expiries due at or before ts, no market data."""

    def submit(
        self,
        ts: int,
        side: int,
        order_type: _SimOrderType,
        qty: int,
        *,
        price: int | None = None,
        trigger_price: int | None = None,
        trigger_source: _TriggerSource = "last",
        trail_offset_ticks: int | None = None,
        trail_offset_bps: int | None = None,
        tif: _Tif = "gtc",
        expiry: int | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        slippage_bps: int | None = None,
        client_id: str | None = None,
    ) -> int:
        """Returns the order id at once; the order arrives after submit_latency_ns.
        price: the limit price (limit types only, required there); expiry: gtd only
        (required there); slippage_bps: market types only (default: the venue's).

        Conditional types wait for their trigger: trigger_price (required for stop and
        take-profit, the optional starting stop of a trailing stop) is compared with
        trigger_source's price: "last" (trade prints), "bid_ask" (the best ask for a
        buy, the best bid for a sell) or "mark" (on_mark). It is never a limit price.
        A trailing stop takes exactly one of trail_offset_ticks / trail_offset_bps. An
        order already through its trigger is rejected (WOULD_TRIGGER_IMMEDIATELY); a
        fired one reports "triggered" (price = the observed price), then works as a
        market or limit order at once."""

    def restore(
        self,
        order_id: int,
        side: int,
        order_type: _SimOrderType,
        qty: int,
        *,
        filled: int = 0,
        price: int | None = None,
        trigger_price: int | None = None,
        trigger_source: _TriggerSource = "last",
        trail_offset_ticks: int | None = None,
        trail_offset_bps: int | None = None,
        tif: _Tif = "gtc",
        expiry: int | None = None,
        post_only: bool = False,
        reduce_only: bool = False,
        client_id: str | None = None,
    ) -> None:
        """Puts back an order this venue held before a restart, under its old order_id,
        with `filled` of its total `qty` lots already filled: no report (it was accepted
        before), at the back of its level's queue (behind everything until the first
        snapshot on a stale book). A resting limit (GTC or GTD) or a conditional order
        that has not fired; a fired one is restored as the limit order it released.
        Expiry and reduce-only act from the next step. ValueError (nothing changed) for
        an id in use, 0 <= filled < qty broken, a market or IOC/FOK order, a duplicate
        client id or trigger fields a submit would refuse."""

    def reserve_ids(self, next_id: int) -> None:
        """Ids below next_id are never handed out again (the ids used before a restart)."""

    @property
    def next_order_id(self) -> int:
        """The id the next submit gets."""

    def cancel(self, ts: int, order_id: int) -> None:
        """Arrives after cancel_latency_ns: "canceled" or "cancel_rejected"
        (UNKNOWN_ORDER: not live then, e.g. filled in the meantime; fills stand)."""

    def modify(
        self,
        ts: int,
        order_id: int,
        *,
        price: int | None = None,
        qty: int | None = None,
        trigger_price: int | None = None,
    ) -> None:
        """Arrives after modify_latency_ns: "modified" (new price, new TOTAL qty) or
        "modify_rejected" (order unchanged). A price change or a qty increase loses the
        queue place; a crossing new price fills its marketable part as taker. A waiting
        conditional order may change trigger_price (a trailing stop's only tightens),
        its limit price and its qty."""

    def drain_reports(self) -> list[_Report]:
        """(ts, order_id, kind, price, qty, liquidity, fee, leaves, reason), oldest
        first; unused fields are 0 or "". fee is an exact decimal string (a fill's fee
        in the quote asset), so Decimal(fee) is exact."""

    @property
    def position(self) -> int:
        """Net position in lots from this venue's fills (+ long)."""

    def set_position(self, lots: int) -> None:
        """A starting position; resting reduce-only orders are cut or canceled to fit."""

    def open_orders(self) -> list[tuple[int, str | None, int, int, int, int]]:
        """Resting orders by id: (id, client_id, side, price, qty, filled); conditional
        orders waiting for their trigger are not resting and are not listed."""

    def best_bid(self) -> _Level | None: ...
    def best_ask(self) -> _Level | None: ...
    def top(self) -> tuple[_Level | None, _Level | None]:
        """(best bid, best ask) of the market book in one call, as `L2Book.top()`."""

    def depth(self, side: int, n: int) -> list[_Level]:
        """Up to n levels of the market book's side (0 bid, 1 ask), best first."""

    @property
    def stale(self) -> bool:
        """The book has no usable state (before the first snapshot, after a gap)."""

    @property
    def clock(self) -> int:
        """The venue clock in ns (-2**63 before any input)."""

    def stats(self) -> dict[str, int]: ...

# --- trigger book -------------------------------------------------------------------
_TriggerKind = Literal["stop", "take_profit", "trailing_stop"]  # stub-only aliases
_TriggerSource = Literal["last", "bid_ask", "mark"]

@final
class TriggerBook:
    """Decides when conditional orders fire: stops, take-profits, trailing stops.

    Prices are ticks (ints); ids are the caller's (unsigned 64-bit). `side` is the side
    of the ORDER the entry releases: 0 buy, 1 sell. The trigger price is its own field;
    the book knows no limit prices. Observed price p: the last trade ("last"), the mark
    ("mark"), or for "bid_ask" the touch the order trades against (bid for a sell, ask
    for a buy). A sell stop fires when p <= stop, a buy stop when p >= stop; a sell
    take-profit when p >= trigger, a buy take-profit when p <= trigger. Equality fires.

    Adding never fires: an entry sees only later observations, so one added when the
    price is already through fires on the next observation at or through it (ask
    `would_fire` first to refuse such orders). Trailing stops track the best price seen
    (seeded by `reference`) and trail it by offset_ticks, or by offset_bps of it rounded
    down but at least 1 tick; they only tighten (`trigger_price` is the starting stop).
    `user_stop` (stop, trailing_stop) is the user's own stop: the effective stop is the
    tighter of it and the stop, and `set_user_stop` may replace it even looser without
    loosening the trailing part. Each observation removes what it fires and returns
    the ids ascending. Bad arguments raise ValueError naming the field, value and rule;
    the book is then unchanged. |price| must be < 2**62.
    """

    def __new__(cls) -> Self: ...
    def add(
        self,
        id: int,
        side: int,
        kind: _TriggerKind,
        source: _TriggerSource,
        trigger_price: int | None = None,
        offset_ticks: int | None = None,
        offset_bps: int | None = None,
        user_stop: int | None = None,
        reference: int | None = None,
    ) -> None:
        """trigger_price is required for stop/take_profit; exactly one of offset_ticks
        (>= 1) and offset_bps (1..9999) for trailing_stop; reference trailing only."""

    @staticmethod
    def would_fire(
        side: int,
        kind: _TriggerKind,
        source: _TriggerSource,
        price: int,
        trigger_price: int | None = None,
        offset_ticks: int | None = None,
        offset_bps: int | None = None,
        user_stop: int | None = None,
        reference: int | None = None,
    ) -> bool:
        """Would this entry fire if added now and `price` were its next observation
        (a trailing stop ratchets to it first)? Validates like `add`."""

    def remove(self, id: int) -> bool:
        """False when the id is not in the book."""

    def amend_trigger(self, id: int, price: int) -> None:
        """Stop/take-profit: the new trigger, either way. Trailing: may only tighten."""

    def set_user_stop(self, id: int, price: int | None) -> None:
        """Sets or clears the user stop (stop and trailing_stop only)."""

    def effective_stop(self, id: int) -> int | None:
        """The level the entry fires at now; None if unknown or not yet known."""

    def on_last(self, price: int) -> list[int]: ...
    def on_mark(self, price: int) -> list[int]: ...
    def on_bid_ask(self, bid: int | None, ask: int | None) -> list[int]:
        """A missing side is no observation for the entries that watch it."""

    def __len__(self) -> int: ...
    def __contains__(self, key: int, /) -> bool: ...

# --- bars ---------------------------------------------------------------------------
BAR_DTYPE: Final[np.dtype[np.void]]
"""ts_open, ts_close (ns, the bar is [ts_open, ts_close)), open, high, low, close (ticks),
volume (lots): int64; trades (prints counted): uint64. 64 bytes per row."""

_BarTuple = tuple[int, int, int, int, int, int, int, int]  # BAR_DTYPE's fields; stub-only

def bars_from_events(events: npt.NDArray[np.void], interval_ns: int) -> npt.NDArray[np.void]:
    """BAR_DTYPE bars of the KIND_TRADE rows (time: ts_event, or ts_recv when it is 0),
    the last partial bar included; GIL released. Intervals are aligned to multiples of
    interval_ns since the epoch; an interval with no trade gives no bar; a trade older
    than the open bar joins it; prints with qty <= 0 are skipped. ValueError when
    interval_ns <= 0."""

@final
class BarBuilder:
    """Streaming bars under the rules of `bars_from_events`, one trade at a time."""

    def __new__(cls, interval_ns: int) -> Self: ...
    @property
    def interval_ns(self) -> int: ...
    @property
    def late_trades(self) -> int:
        """Trades older than the open bar, folded into it."""

    def on_trade(self, ts: int, price: int, qty: int) -> _BarTuple | None:
        """Adds a trade; returns the bar it closes (a trade in a later interval), else
        None. ValueError when qty <= 0 (the builder is then unchanged)."""

    def flush(self) -> _BarTuple | None:
        """Returns the open (partial) bar and forgets it: for the end of a stream."""

    def current(self) -> _BarTuple | None:
        """The bar being built, if any."""

# --- performance statistics ---------------------------------------------------------
def compute_stats(
    ts: npt.NDArray[np.int64],
    equity: npt.NDArray[np.float64],
    trade_pnl: npt.NDArray[np.float64],
    *,
    position_ts: npt.NDArray[np.int64] | None = None,
    position: npt.NDArray[np.float64] | None = None,
    fees_paid: float = 0.0,
    traded_notional: float = 0.0,
    interval_ns: int = 86_400_000_000_000,
    periods_per_year: float = 365.0,
    risk_free_rate: float = 0.0,
    ddof: int = 1,
) -> dict[str, float | int]:
    """Every performance figure of a run (definitions in `rust/stats/mod.rs`).

    `ts` (ns, sorted, ties allowed) and `equity` (> 0) are the equity curve; `trade_pnl`
    the closed trades' net P&L; `position_ts`/`position` (both or neither) the signed
    position held from each time on. Returns are resampled to a grid of `interval_ns`
    anchored at `ts[0]` (last value at or before each point) and annualised with
    `periods_per_year`; `risk_free_rate` is annual. Keys: total_return, cagr, volatility,
    sharpe, sortino, calmar, max_drawdown (positive fraction), max_drawdown_duration_ns
    (int), win_rate, profit_factor (inf with wins and no losses), expectancy, avg_win,
    avg_loss (negative), trade_count (int), exposure, turnover, fees_paid, periods (int).
    Ratios over zero risk are 0.0. ValueError names the argument, the value and the rule;
    TypeError when an argument is not a 1-D array of its dtype. The GIL is released for
    large inputs."""
