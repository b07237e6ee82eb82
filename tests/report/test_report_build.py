"""RunReport from the journal alone: the trade rule on a hand-written journal (figures
worked out by hand), and a real backtest's report against the journal it read and the
BacktestResult of the same run (the statistics must be equal, not close)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from report_journals import (
    HAND_RECORDS,
    HAND_TRADE_PNL,
    T0,
    D,
    S,
    balance,
    equity,
    write_journal,
)

import adapters.backtest as bt
from adapters.report.build import (
    LATEST,
    ReportError,
    build_report,
    report_dir,
    resolve_run_id,
    run_params,
)
from adapters.store.sqlite import RunReader
from engine.domain import OrderFilled
from engine.domain.journal import EquitySample, PositionSnapshot
from engine.services.statistics import DEFAULT_PARAMS, StatisticsParams

SECOND_GRID = StatisticsParams(interval_ns=S, periods_per_year=31_536_000.0)


# --- the hand-written journal ----------------------------------------------------------------
def test_trades_are_the_fills_that_reduce_close_or_flip_with_the_realized_change(
    hand_store: Path,
) -> None:
    report = build_report(hand_store, "hand")
    assert report.trade_pnl == HAND_TRADE_PNL
    shape = [(t.symbol, t.quantity_before, t.quantity_after) for t in report.trades]
    assert shape == [
        ("BTCUSDT", D("3"), D("1")),
        ("ETHUSDT", D("5"), D("2")),  # ETH's own previous snapshot, not BTC's
        ("BTCUSDT", D("1"), D("-1")),
        ("BTCUSDT", D("-1"), D("0")),
    ]
    assert [t.ts_event - T0 for t in report.trades] == [2.2e9, 2.3e9, 3.1e9, 3.2e9]
    assert report.fees_paid == D("2.2")  # the latest fees of BTC (0.7) and ETH (1.5)
    assert report.traded_notional == 0  # the hand journal has no fills
    assert report.currency == "USDT"


def test_statistics_of_the_hand_journal_by_hand(hand_store: Path) -> None:
    report = build_report(hand_store, "hand")
    assert report.params == SECOND_GRID  # from the run's own config_json
    figures = report.statistics
    assert figures is not None
    assert figures.total_return == pytest.approx(0.21, rel=1e-12)  # 121 / 100 - 1
    assert figures.max_drawdown == pytest.approx(0.1, rel=1e-12)  # 110 -> 99
    assert figures.max_drawdown_duration_ns == 2 * S  # from the peak at 2 s to 121 at 4 s
    assert figures.trade_count == 4
    assert figures.win_rate == 0.75
    assert figures.profit_factor == pytest.approx(15.05 / 4.5, rel=1e-12)
    assert figures.expectancy == pytest.approx(2.6375, rel=1e-12)
    assert figures.avg_win == pytest.approx(15.05 / 3, rel=1e-12)
    assert figures.avg_loss == pytest.approx(-4.5, rel=1e-12)
    assert figures.fees_paid == pytest.approx(2.2, rel=1e-12)
    assert figures.periods == 3  # samples at 1, 2, 3 and 4 s on a one-second grid


def test_curves_of_the_hand_journal(hand_store: Path) -> None:
    report = build_report(hand_store, "hand")
    assert [(t - T0, e) for t, e in report.equity] == [
        (1 * S, D("100")),
        (2 * S, D("110")),
        (3 * S, D("99")),
        (4 * S, D("121")),
    ]
    btc = [(t - T0, q) for t, q in report.position_curve["BTCUSDT"]]
    assert btc == [
        (1_100_000_000, D("2")),
        (2_100_000_000, D("3")),
        (2_200_000_000, D("1")),
        (3_100_000_000, D("-1")),
        (3_200_000_000, D("0")),
        (3_300_000_000, D("1")),
    ]
    assert [q for _, q in report.position_curve["ETHUSDT"]] == [D("5"), D("2")]
    assert report.price_series == {}  # no fills: the journal holds no prices
    assert report.equity_start == D("100") and report.equity_end == D("121")
    assert report.ts_end == T0 + 5 * S  # the RunEnded


def test_pnl_realized_unrealized_at_marks_and_at_the_last_sample(hand_store: Path) -> None:
    report = build_report(hand_store, "hand")
    view = report.pnl()
    assert view.realized_pnl == D("9.15")  # BTC 6.15 + ETH 3
    assert view.fees == D("2.2")
    assert (view.equity_start, view.equity_end, view.equity_change) == (D("100"), D("121"), 21)
    assert view.ts_equity_end == T0 + 4 * S
    # Only USDT is held, and it last changed at 3.3 s, before the sample at 4 s.
    assert view.cash == D("115") and view.unrealized_at_last_sample == D("6")
    assert all(p.unrealized_pnl is None for p in view.positions)
    marked = report.pnl({"BTCUSDT": D("102"), "ETHUSDT": D("9.5")})
    by_symbol = {p.symbol: p for p in marked.positions}
    assert by_symbol["BTCUSDT"].unrealized_pnl == D("1.5")  # 1 x (102 - 100.5)
    assert by_symbol["ETHUSDT"].unrealized_pnl == D("-1.0")  # 2 x (9.5 - 10)
    assert str(by_symbol["ETHUSDT"].unrealized_pnl) == "-1.000000000000000000"  # at 1e-18
    with pytest.raises(ReportError, match=r"mark SOLUSDT has no position in run hand"):
        report.pnl({"SOLUSDT": D("1")})
    with pytest.raises(ReportError, match=r"mark BTCUSDT=-1 is not a positive decimal"):
        report.pnl({"BTCUSDT": D("-1")})


def test_unrealized_at_the_last_sample_is_unknown_when_cash_is_not_all(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    late = (*HAND_RECORDS, balance(4_500_000_000, "USDT", "116"))
    write_journal(db, "late", late)
    view = build_report(db, "late").pnl()
    assert view.unrealized_at_last_sample is None
    assert view.unrealized_note == "a balance changed after the last equity sample"
    coins = (*HAND_RECORDS, balance(3_300_000_000, "BTC", "0.5"))
    write_journal(db, "coins", coins)
    view = build_report(db, "coins").pnl()
    assert view.unrealized_at_last_sample is None
    assert view.unrealized_note == (
        "the run holds assets other than its equity currency (BTC, USDT)"
    )


def test_a_run_that_never_traded(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    write_journal(db, "idle", [equity(1 * S, "100"), equity(2 * S, "100")])
    report = build_report(db, "idle")
    assert report.trades == () and report.positions == () and report.currency is None
    assert report.statistics is not None and report.statistics.trade_count == 0
    view = report.pnl()
    assert view.positions == () and view.realized_pnl == 0
    assert view.cash == D("100") and view.unrealized_at_last_sample == 0
    write_journal(db, "one-sample", [equity(1 * S, "100")])
    assert build_report(db, "one-sample").statistics is None  # nothing to measure


def test_run_params_come_from_the_run_config_or_the_defaults() -> None:
    row = {"run_id": "r", "config_json": '{"statistics": {"interval_s": 0.5}}'}
    assert run_params(row) == StatisticsParams(interval_ns=500_000_000, periods_per_year=525_600.0)
    assert run_params({"run_id": "r", "config_json": "{}"}) == StatisticsParams(
        interval_ns=60 * S, periods_per_year=525_600.0
    )
    with pytest.raises(ReportError, match=r"run r config_json.statistics is not a valid"):
        run_params({"run_id": "r", "config_json": '{"statistics": {"interval_s": -1}}'})
    with pytest.raises(ReportError, match=r"run r config_json is not JSON"):
        run_params({"run_id": "r", "config_json": "{"})


def test_latest_is_the_run_created_last_and_unknown_runs_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    write_journal(db, "zulu")
    write_journal(db, "alpha")  # created after zulu, sorts before it
    assert build_report(db, LATEST).run_id == "alpha"
    with RunReader(db) as reader:
        runs = reader.runs()
    assert [r["run_id"] for r in runs] == ["zulu", "alpha"]
    assert resolve_run_id(runs, "zulu", db) == "zulu"
    with pytest.raises(ReportError, match=r"run_id nope is not a run in .*q\.db \(rule:"):
        build_report(db, "nope")
    with pytest.raises(ReportError, match=r"run_id latest names no run: x.db has none"):
        resolve_run_id([], LATEST, "x.db")
    with pytest.raises(ReportError, match=r"path .*missing\.db does not exist"):
        build_report(tmp_path / "missing.db", LATEST)
    assert report_dir(db, "alpha") == tmp_path / "alpha"


def test_two_equity_curves_are_refused(tmp_path: Path) -> None:
    db = tmp_path / "q.db"
    write_journal(db, "two", [equity(1 * S, "100"), equity(1 * S, "50", account="other")])
    with pytest.raises(ReportError, match=r"is ambiguous: two has curves"):
        build_report(db, "two")


# --- a real backtest -------------------------------------------------------------------------
@pytest.mark.parametrize("params", [DEFAULT_PARAMS, SECOND_GRID], ids=["daily", "seconds"])
def test_the_report_statistics_equal_the_backtest_result(
    slice_run: tuple[Path, bt.BacktestResult], params: StatisticsParams
) -> None:
    db, result = slice_run
    report = build_report(db, "bt-slice", params=params)
    assert report.trade_pnl == result.trade_pnl
    assert len(report.trades) == 42 and sum(1 for p in report.trade_pnl if p > 0) == 4
    assert report.traded_notional == result.traded_notional
    assert report.statistics == result.statistics(params)
    assert report.statistics is not None and report.statistics.trade_count == 42


def test_the_report_holds_what_the_journal_holds(slice_run: tuple[Path, bt.BacktestResult]) -> None:
    db, result = slice_run
    report = build_report(db, "bt-slice")
    records = [r for _, r in result.store.records()]
    fills = [r.fill for r in records if isinstance(r, OrderFilled)]
    snapshots = [r for r in records if isinstance(r, PositionSnapshot)]
    assert len(report.fills) == len(fills) == result.stats.fills == 86
    assert [(f["trade_id"], f["price"], f["quantity"]) for f in report.fills] == [
        (f.trade_id, f.price, f.quantity) for f in fills
    ]
    assert report.price_series["BTC/USDT:USDT"] == tuple(
        (f.ts_event, f.price, f.side.value) for f in fills
    )
    curve = report.position_curve["BTC/USDT:USDT"]
    assert curve == tuple((s.ts_event, s.quantity) for s in snapshots)
    assert report.equity == tuple(
        (r.ts_event, r.equity) for r in records if isinstance(r, EquitySample)
    )
    assert len(report.orders) == len(result.order_manager.orders())
    [held] = report.positions
    final = result.portfolio.position("BTC/USDT:USDT")
    assert (held["quantity"], held["realized_pnl"], held["fees"]) == (
        final.quantity,
        final.realized_pnl,
        final.fees,
    )
    assert report.fees_paid == final.fees
    assert report.traded_notional == sum((f.notional for f in fills), Decimal(0))
    assert report.equity_end == result.equity_end
    assert report.run["status"] == "completed" and report.run_id == "bt-slice"
