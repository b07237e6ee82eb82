"""`RunReport`: one run rebuilt from its SQLite journal alone (path + run id), so a report
can be made again at any time, by any process, from what the store committed.

What is in it: the run's row, its orders, fills, latest positions, position history and
balances (`RunReader` rows: dicts, Decimal amounts), the equity curve, the position curve
and the fill prices per symbol, the trades, and the statistics recomputed by
`engine.services.statistics.compute` with the same inputs the backtest gives it at run
time (`BacktestResult.statistics`):

- equity: every EquitySample of the run (one account and currency; several are refused);
- trade P&L: a fill that reduces or closes a position (or flips it) is a trade; its P&L
  is the change in realized P&L (net of fees) at that fill, read from consecutive
  PositionSnapshot records of the same account and symbol (the kernel journals one
  snapshot per fill). Fills that open or add to a position are not trades: their fee
  is in realized P&L, the equity curve and `fees_paid`, in no trade's P&L. This is the
  rule of `Kernel._book_fill`, which takes the same change from the portfolio;
- positions: every PositionSnapshot's (ts, account and symbol, quantity) through
  `exposure_curve`, as at run time (the gross quantity held, time-sorted: non-zero when
  any position is open, in a run over several symbols too);
- fees_paid: the sum of the latest positions' fees; traded_notional: the sum of price x
  quantity over the fills, exact.

The journal holds no market data: the only prices a report has are the fills' prices
and the marks folded into each equity sample. Unrealized P&L is therefore shown only
where it is known (see `RunReport.pnl`)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_EVEN, Context, Decimal, Inexact
from pathlib import Path
from typing import Any, Final

from adapters.config import StatisticsSettings
from adapters.store.sqlite import RunReader
from engine.ports.store import StoreError
from engine.services.statistics import Statistics, StatisticsParams, compute, exposure_curve

__all__ = [
    "LATEST",
    "PnlView",
    "ReportError",
    "RunReport",
    "SymbolPnl",
    "Trade",
    "build_report",
    "report_dir",
    "resolve_run_id",
    "run_params",
]

Row = Mapping[str, Any]
StrPath = str | os.PathLike[str]

LATEST: Final = "latest"
"""The run id that names the store's most recently created run."""

MONEY_QUANTUM: Final = Decimal("1e-18")
"""Money's resolution in the core (i128 at 1e-18): unrealized P&L is rounded to it."""

_EXACT: Final = Context(prec=200, traps=[Inexact])
"""Sums and products of journal amounts: wide enough never to round, Inexact trapped."""
_ROUND: Final = Context(prec=200, rounding=ROUND_HALF_EVEN)
"""The one rounding: unrealized P&L to MONEY_QUANTUM."""


class ReportError(ValueError):
    """A report that cannot be built (no such run, a store that cannot be read, a curve
    that is ambiguous), said on one line that names the value and the rule."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Trade:
    """A fill that reduced, closed or flipped a position, seen through the snapshot the
    kernel journaled after it (`seq` is the snapshot's)."""

    seq: int
    ts_event: int
    account: str
    symbol: str
    quantity_before: Decimal
    quantity_after: Decimal
    pnl: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class SymbolPnl:
    """One position's P&L in its currency. `unrealized_pnl` is None without a mark."""

    account: str
    symbol: str
    currency: str
    quantity: Decimal
    avg_entry_price: Decimal
    realized_pnl: Decimal
    fees: Decimal
    mark: Decimal | None
    unrealized_pnl: Decimal | None


@dataclass(frozen=True, slots=True, kw_only=True)
class PnlView:
    """What `quantx pnl` shows.

    - per position: realized P&L net of fees, fees, and the unrealized P&L at a mark the
      caller gave (`quantity x (mark - avg_entry_price)`, rounded half-even at 1e-18; the
      journaled average entry is itself rounded at 1e-18, so this is within |quantity| x
      1e-18 of the core's exact figure);
    - for the run: equity at the first and last samples (the last is marked at the book
      mid of its time), their difference, and the unrealized P&L at the last sample,
      `equity_end - cash`, when it is known: the account holds nothing but the equity
      currency (so equity is cash plus the open positions' unrealized P&L, by the
      portfolio's definition) and no balance changed after the last sample.
      `unrealized_note` says why it is None otherwise."""

    currency: str | None
    positions: tuple[SymbolPnl, ...]
    realized_pnl: Decimal
    fees: Decimal
    equity_start: Decimal | None
    equity_end: Decimal | None
    ts_equity_end: int | None
    equity_change: Decimal | None
    cash: Decimal | None
    unrealized_at_last_sample: Decimal | None
    unrealized_note: str


@dataclass(frozen=True, slots=True, kw_only=True)
class RunReport:
    """One run as its journal tells it. Rows are `RunReader`'s (dicts, Decimal amounts)."""

    store: str
    run: Row
    orders: tuple[Row, ...]
    fills: tuple[Row, ...]
    positions: tuple[Row, ...]
    position_history: tuple[Row, ...]
    balances: tuple[Row, ...]
    equity: tuple[tuple[int, Decimal], ...]
    """(ts_event, equity) of every EquitySample, in journal order."""
    currency: str | None
    """The equity's currency when the journal says it (the positions' or the one cash
    asset's); None for a run that never traded."""
    position_curve: Mapping[str, tuple[tuple[int, Decimal], ...]]
    """Per symbol: (ts_event, net quantity over the run's accounts) after each fill."""
    price_series: Mapping[str, tuple[tuple[int, Decimal, str], ...]]
    """Per symbol: (ts_event, price, side) of each fill; the journal has no other prices."""
    trades: tuple[Trade, ...]
    fees_paid: Decimal
    traded_notional: Decimal
    params: StatisticsParams
    statistics: Statistics | None
    """None with fewer than two equity samples (nothing to measure), as at run time."""

    @property
    def run_id(self) -> str:
        return str(self.run["run_id"])

    @property
    def trade_pnl(self) -> list[Decimal]:
        return [t.pnl for t in self.trades]

    @property
    def equity_start(self) -> Decimal | None:
        return self.equity[0][1] if self.equity else None

    @property
    def equity_end(self) -> Decimal | None:
        return self.equity[-1][1] if self.equity else None

    @property
    def ts_end(self) -> int | None:
        """The latest time the journal gives: its RunEnded, last equity sample, snapshot or fill."""
        ended = self.run.get("ts_ended")
        times = [t for t, _ in self.equity[-1:]]
        times += [int(r["ts_event"]) for r in (*self.position_history[-1:], *self.fills[-1:])]
        if ended:
            times.append(int(ended))
        return max(times) if times else None

    def pnl(self, marks: Mapping[str, Decimal] | None = None) -> PnlView:
        """Realized and (where known) unrealized P&L; `marks`: symbol -> mark price.
        A mark for a symbol the run holds no position in is a ReportError."""
        marks = dict(marks or {})
        held = {str(p["symbol"]) for p in self.positions}
        for symbol, given in sorted(marks.items()):
            if symbol not in held:
                rule = f"has no position in run {self.run_id} (rule: one of {sorted(held)})"
                raise ReportError(f"mark {symbol} {rule}")
            if not (isinstance(given, Decimal) and given.is_finite() and given > 0):
                raise ReportError(f"mark {symbol}={given} is not a positive decimal price")
        rows = []
        for p in self.positions:
            mark = marks.get(str(p["symbol"]))
            unrealized = None
            if mark is not None:
                raw = _EXACT.multiply(p["quantity"], _EXACT.subtract(mark, p["avg_entry_price"]))
                unrealized = _ROUND.add(_ROUND.quantize(raw, MONEY_QUANTUM), Decimal(0))
            rows.append(
                SymbolPnl(
                    account=str(p["account"]),
                    symbol=str(p["symbol"]),
                    currency=str(p["currency"]),
                    quantity=p["quantity"],
                    avg_entry_price=p["avg_entry_price"],
                    realized_pnl=p["realized_pnl"],
                    fees=p["fees"],
                    mark=mark,
                    unrealized_pnl=unrealized,
                )
            )
        start, end = self.equity_start, self.equity_end
        cash, unrealized_total, note = self._unrealized_at_last_sample()
        return PnlView(
            currency=self.currency,
            positions=tuple(rows),
            realized_pnl=_sum(p["realized_pnl"] for p in self.positions),
            fees=self.fees_paid,
            equity_start=start,
            equity_end=end,
            ts_equity_end=self.equity[-1][0] if self.equity else None,
            equity_change=None if start is None or end is None else _EXACT.subtract(end, start),
            cash=cash,
            unrealized_at_last_sample=unrealized_total,
            unrealized_note=note,
        )

    def _unrealized_at_last_sample(self) -> tuple[Decimal | None, Decimal | None, str]:
        if not self.equity:
            return None, None, "no equity sample in the journal"
        if not self.balances:
            cash = self.equity[0][1]  # never traded: the cash the run started with
            return cash, _EXACT.subtract(self.equity[-1][1], cash), ""
        accounts = {str(b["account"]) for b in self.balances}
        assets = {str(b["asset"]) for b in self.balances if b["total"] != 0}
        if len(accounts) != 1 or self.currency is None or assets - {self.currency}:
            held = ", ".join(sorted(assets))
            return None, None, f"the run holds assets other than its equity currency ({held})"
        ts_sample = self.equity[-1][0]
        if max(int(b["ts_event"]) for b in self.balances) > ts_sample:
            return None, None, "a balance changed after the last equity sample"
        cash = _sum(b["total"] for b in self.balances if b["asset"] == self.currency)
        return cash, _EXACT.subtract(self.equity[-1][1], cash), ""


def resolve_run_id(runs: Sequence[Row], run_id: str, store: StrPath) -> str:
    """`run_id` itself if `runs` (a store's, `RunReader.runs()`) has it; `latest`: the
    run the store created last."""
    if run_id == LATEST:
        if not runs:
            raise ReportError(f"run_id latest names no run: {os.fspath(store)} has none")
        return str(runs[-1]["run_id"])
    if not any(r["run_id"] == run_id for r in runs):
        rule = "(rule: an id `quantx status` lists, or latest)"
        raise ReportError(f"run_id {run_id} is not a run in {os.fspath(store)} {rule}")
    return run_id


def run_params(run: Row) -> StatisticsParams:
    """The statistics parameters the run was configured with (its config's `statistics`
    table; the defaults when its config has none, as for runs not made by a backtest)."""
    try:
        config = json.loads(run.get("config_json") or "{}")
    except json.JSONDecodeError as err:
        raise ReportError(f"run {run['run_id']} config_json is not JSON ({err})") from None
    table = config.get("statistics") if isinstance(config, dict) else None
    try:
        settings = StatisticsSettings(**table) if isinstance(table, dict) else StatisticsSettings()
    except ValueError as err:
        rule = f"is not a valid statistics table ({_first_line(err)})"
        raise ReportError(f"run {run['run_id']} config_json.statistics {rule}") from None
    return settings.params()


def build_report(
    store: StrPath, run_id: str, *, params: StatisticsParams | None = None
) -> RunReport:
    """The report of `run_id` (or `latest`) in the SQLite store at `store`. `params`:
    how returns are sampled and annualised; default: the run's own configuration."""
    where = os.fspath(store)
    try:
        with RunReader(where) as reader:
            runs = reader.runs()
            return _build(reader, where, runs, resolve_run_id(runs, run_id, where), params)
    except StoreError as err:
        raise ReportError(str(err)) from None


def _build(
    reader: RunReader,
    where: str,
    runs: Sequence[Row],
    run_id: str,
    params: StatisticsParams | None,
) -> RunReport:
    [run] = [r for r in runs if r["run_id"] == run_id]
    orders = tuple(reader.orders(run_id))
    fills = tuple(reader.fills(run_id))
    positions = tuple(reader.positions(run_id))
    history = tuple(reader.position_history(run_id))
    balances = tuple(reader.balances(run_id))
    equity = tuple(reader.equity(run_id))
    chosen = params if params is not None else run_params(run)
    trades = tuple(_trades(history))
    fees_paid = _sum(p["fees"] for p in positions)
    traded_notional = _sum(_EXACT.multiply(f["price"], f["quantity"]) for f in fills)
    statistics = None
    if len(equity) >= 2:
        statistics = compute(
            equity,
            [t.pnl for t in trades],
            positions=exposure_curve(
                (int(h["ts_event"]), (h["account"], h["symbol"]), h["quantity"]) for h in history
            ),
            fees_paid=fees_paid,
            traded_notional=traded_notional,
            params=chosen,
        )
    return RunReport(
        store=where,
        run=run,
        orders=orders,
        fills=fills,
        positions=positions,
        position_history=history,
        balances=balances,
        equity=equity,
        currency=_currency(positions, balances),
        position_curve=_position_curve(history),
        price_series=_price_series(fills),
        trades=trades,
        fees_paid=fees_paid,
        traded_notional=traded_notional,
        params=chosen,
        statistics=statistics,
    )


def _trades(history: Sequence[Row]) -> list[Trade]:
    """The trade rule (module docstring) over the snapshots in journal order."""
    last: dict[tuple[str, str], tuple[Decimal, Decimal]] = {}
    out = []
    for h in history:
        key = (str(h["account"]), str(h["symbol"]))
        before, realized_before = last.get(key, (Decimal(0), Decimal(0)))
        after, realized = h["quantity"], h["realized_pnl"]
        last[key] = (after, realized)
        if before != 0 and (abs(after) < abs(before) or after * before < 0):
            out.append(
                Trade(
                    seq=int(h["seq"]),
                    ts_event=int(h["ts_event"]),
                    account=key[0],
                    symbol=key[1],
                    quantity_before=before,
                    quantity_after=after,
                    pnl=_EXACT.subtract(realized, realized_before),
                )
            )
    return out


def _position_curve(history: Sequence[Row]) -> dict[str, tuple[tuple[int, Decimal], ...]]:
    held: dict[tuple[str, str], Decimal] = {}
    curves: dict[str, list[tuple[int, Decimal]]] = {}
    for h in history:
        symbol = str(h["symbol"])
        held[(str(h["account"]), symbol)] = h["quantity"]
        net = _sum(q for (_, s), q in held.items() if s == symbol)
        curves.setdefault(symbol, []).append((int(h["ts_event"]), net))
    return {s: tuple(c) for s, c in sorted(curves.items())}


def _price_series(fills: Sequence[Row]) -> dict[str, tuple[tuple[int, Decimal, str], ...]]:
    series: dict[str, list[tuple[int, Decimal, str]]] = {}
    for f in fills:
        series.setdefault(str(f["symbol"]), []).append(
            (int(f["ts_event"]), f["price"], str(f["side"]))
        )
    return {s: tuple(points) for s, points in sorted(series.items())}


def _currency(positions: Sequence[Row], balances: Sequence[Row]) -> str | None:
    currencies = {str(p["currency"]) for p in positions}
    if len(currencies) == 1:
        return currencies.pop()
    assets = {str(b["asset"]) for b in balances}
    if not currencies and len(assets) == 1:
        return assets.pop()
    return None


def _sum(values: Any) -> Decimal:
    total = Decimal(0)
    for value in values:
        total = _EXACT.add(total, value)
    return total


def _first_line(err: Exception) -> str:
    return str(err).splitlines()[0] if str(err) else type(err).__name__


def report_dir(store: StrPath, run_id: str) -> Path:
    """Where a run's charts and exports go by default: `<the store's folder>/<run_id>/`
    (`./quantx-data/<run_id>/` for the default store)."""
    return Path(os.fspath(store)).parent / run_id
