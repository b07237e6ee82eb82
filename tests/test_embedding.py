"""The embedding API (`import engine`): the README's examples run as written, results are
plain values that agree with each other and with the CLI, bad arguments are named, and
`import engine` stays free of adapters."""

from __future__ import annotations

import ast
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from click.testing import CliRunner
from pydantic import BaseModel, ConfigDict

import engine
from adapters.backtest import load_streams
from adapters.cli.main import main
from adapters.data import BUNDLED_BINANCE_DIR
from adapters.data.jsonl_events import JsonlEventWriter
from adapters.store.sqlite import RunReader
from engine.marketdata.instruments import binance_instrument
from engine.strategies.market_maker import MarketMaker, MarketMakerParams

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
PYTHON = ROOT / "python"
CAPTURE = BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808.gz"
PERP = "BTC/USDT:USDT"


def readme_examples() -> list[str]:
    """The python blocks of the README's "Use it from Python" section, in order."""
    text = README.read_text(encoding="utf-8")
    section = re.search(r"^### Use it from Python\n(.*?)(?=^#{2,3} )", text, re.S | re.M)
    assert section, "README has a 'Use it from Python' section"
    blocks = re.findall(r"```python\n(.*?)```", section.group(1), re.S)
    assert len(blocks) >= 2, "it shows a run and a strategy written inline"
    return blocks


@pytest.fixture(scope="module")
def readme(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[dict[str, Any], Path]]:
    """The README's examples executed literally, one after the other, in a fresh folder."""
    where = tmp_path_factory.mktemp("readme")
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    with pytest.MonkeyPatch.context() as mp:
        mp.chdir(where)
        for block in readme_examples():
            exec(compile(block, str(README), "exec"), namespace)
    yield namespace, where


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About the first 40,000 rows of the futures capture as a JSONL file: a quick run."""
    events = load_streams([CAPTURE])[0][0].events
    ends = np.flatnonzero(events["flags"] & 2)  # FLAG_END: cut after a whole message
    path = tmp_path_factory.mktemp("data") / "usdm-btcusdt-small.jsonl"
    with JsonlEventWriter(path, binance_instrument("usdm", "BTCUSDT")) as writer:
        writer.write(events[: int(ends[ends < 40_000][-1]) + 1])
    return path


def test_the_readme_examples_run_and_say_what_they_show(
    readme: tuple[dict[str, Any], Path],
) -> None:
    ns, where = readme
    summary = ns["summary"]
    assert summary["strategy"] == "engine.strategies.market_maker:MarketMaker"
    assert summary["data"] == [str(CAPTURE)] and summary["instruments"] == [PERP]
    assert summary["start_cash"] == "50000" and summary["fills"] > 50
    assert re.fullmatch(r"[0-9a-f]{64}", summary["journal_sha256"])
    curve = ns["curve"]
    assert curve["ts_ns"].dtype == np.int64 and curve["equity"].dtype == np.float64
    assert curve["equity"][0] == 50000.0 and len(curve["ts_ns"]) == len(curve["equity"]) > 300
    assert np.all(np.diff(curve["ts_ns"]) > 0)
    # The inline strategy bought 0.01 once, at the market, and its run is in the store.
    bought = ns["bought"]
    fills = bought.fills()
    assert {f["client_order_id"] for f in fills} == {"qx-1"} and fills[0]["side"] == "BUY"
    assert sum(Decimal(f["quantity"]) for f in fills) == Decimal("0.010")
    assert bought.positions()[PERP]["quantity"] == "0.010"
    assert bought.summary()["strategy"] == "readme_example:BuyOnce"
    assert bought.store_path == "quantx-data/quantx.db"
    with RunReader(where / "quantx-data" / "quantx.db") as reader:
        [run] = reader.runs()
        assert run["run_id"] == bought.run_id and run["status"] == "completed"
        assert len(reader.fills(bought.run_id)) == len(fills)


def test_the_api_and_the_cli_give_the_same_journal(
    readme: tuple[dict[str, Any], Path], tmp_path: Path
) -> None:
    cli = CliRunner().invoke(
        main,
        ["backtest", "--json", "--param", "half_spread_ticks=8", "--out", str(tmp_path)],
        env={"QUANTX_CASH": "50000"},
    )
    assert cli.exit_code == 0, cli.output
    doc = json.loads(cli.output)
    summary = readme[0]["summary"]
    assert summary["journal_sha256"] == doc["journal_sha256"]
    same = ("events", "level_updates", "orders", "fills", "positions", "balances", "equity")
    for key in same:
        if key == "positions":
            assert {s: {k: p[k] for k in doc[key][s]} for s, p in summary[key].items()} == doc[key]
        else:
            assert summary[key] == doc[key], key
    assert summary["statistics"] == doc["statistics"]


def plain(value: object) -> bool:
    if isinstance(value, dict):
        return all(isinstance(k, str) and plain(v) for k, v in value.items())
    if isinstance(value, list):
        return all(plain(v) for v in value)
    return value is None or isinstance(value, str | int | float | bool)


def test_results_are_plain_values_that_agree_with_each_other(
    readme: tuple[dict[str, Any], Path],
) -> None:
    run = readme[0]["run"]
    summary, orders, fills, journal = run.summary(), run.orders(), run.fills(), run.journal()
    positions, balances = run.positions(), run.balances()
    assert plain(summary) and plain(orders) and plain(fills) and plain(journal)
    assert plain(positions) and plain(balances)
    assert summary["orders"] == len(orders) and summary["fills"] == len(fills)
    assert summary["positions"] == positions and summary["balances"] == balances
    # Each order's filled quantity is the sum of its fills; the position is their net.
    by_order: dict[str, Decimal] = {}
    net = Decimal(0)
    for f in fills:
        qty = Decimal(f["quantity"])
        by_order[f["client_order_id"]] = by_order.get(f["client_order_id"], Decimal(0)) + qty
        net += qty if f["side"] == "BUY" else -qty
    for o in orders:
        assert Decimal(o["filled_qty"]) == by_order.get(o["client_order_id"], Decimal(0))
    pos = positions[PERP]
    assert Decimal(pos["quantity"]) == net and pos["currency"] == "USDT"
    # A perpetual moves no asset: the cash is the start plus the realized P&L (net of fees).
    assert Decimal(balances["USDT"]) == Decimal("50000") + Decimal(pos["realized_pnl"])
    assert Decimal(pos["fees"]) == sum((Decimal(f["fee"]) for f in fills), Decimal(0))
    # The journal: framed by the run's start and end, numbered 1..n, the fills in it.
    assert [r["seq"] for r in journal] == list(range(1, len(journal) + 1))
    assert journal[0]["type"] == "RunStarted" and journal[0]["run_id"] == run.run_id
    assert journal[-1]["type"] == "RunEnded" and journal[-1]["status"] == "completed"
    assert [r["fill"] for r in journal if r["type"] == "OrderFilled"] == fills
    samples = [r for r in journal if r["type"] == "EquitySample"]
    curve = run.equity()
    assert curve["ts_ns"].tolist() == [r["ts_event"] for r in samples]
    assert curve["equity"].tolist() == [float(r["equity"]) for r in samples]
    assert samples[-1]["equity"] == summary["equity"]
    # Every call gives a fresh object: changing one changes nothing inside the run.
    orders[0]["status"] = "mine"
    assert run.orders()[0]["status"] != "mine"


class RoundTripParams(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    quantity: Decimal = Decimal("0.002")


class SellThenBuyBack(engine.Strategy[RoundTripParams]):
    """Sells `quantity` at the market on its first book, and buys back each part sold."""

    Params = RoundTripParams

    def __init__(self, params: RoundTripParams) -> None:
        super().__init__(params)
        self.sent = False

    def on_book(self, ctx: engine.Context, top: engine.BookTop) -> None:
        if not self.sent:
            self.sent = True
            ctx.submit(
                symbol=top.symbol,
                side=engine.OrderSide.SELL,
                order_type=engine.OrderType.MARKET,
                quantity=self.params.quantity,
            )

    def on_fill(self, ctx: engine.Context, fill: engine.Fill) -> None:
        if fill.side is engine.OrderSide.SELL:
            ctx.submit(
                symbol=fill.symbol,
                side=engine.OrderSide.BUY,
                order_type=engine.OrderType.MARKET,
                quantity=fill.quantity,
            )


def test_an_inline_strategy_class_with_parameters(small: Path) -> None:
    run = engine.backtest(small, SellThenBuyBack, {"quantity": "0.005"}, cash=Decimal("1000"))
    fills = run.fills()
    sold = sum(Decimal(f["quantity"]) for f in fills if f["side"] == "SELL")
    bought = sum(Decimal(f["quantity"]) for f in fills if f["side"] == "BUY")
    assert sold == bought == Decimal("0.005")
    assert run.positions()[PERP]["quantity"] == "0.000"
    assert run.summary()["strategy"] == f"{__name__}:SellThenBuyBack"
    with pytest.raises(ValueError, match=r"parameter quantity = 'lots': Input should be"):
        engine.backtest(small, SellThenBuyBack, {"quantity": "lots"})


def test_a_sqlite_store_numbers_repeated_runs_and_records_failures(
    small: Path, tmp_path: Path
) -> None:
    db = tmp_path / "runs" / "quantx.db"
    a = engine.backtest(small, store_path=db)
    b = engine.backtest(small, store_path=str(db))
    assert b.run_id == a.run_id + "-2" and a.run_id.startswith("bt-")
    assert a.journal_sha256 == b.journal_sha256
    with pytest.raises(ValueError, match=rf"run_id '{a.run_id}' is already a run in"):
        engine.backtest(small, store_path=db, run_id=a.run_id)
    with pytest.raises(ValueError, match=r"parameter half_spread_ticks = 0"):
        engine.backtest(small, params={"half_spread_ticks": 0}, store_path=db, run_id="bad")
    with RunReader(db) as reader:
        runs = {r["run_id"]: r for r in reader.runs()}
    assert runs[a.run_id]["status"] == runs[b.run_id]["status"] == "completed"
    assert runs["bad"]["status"] == "failed" and "half_spread_ticks" in runs["bad"]["reason"]
    assert (db.stat().st_mode & 0o777) == 0o600


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"data": 123}, TypeError, r"data 123 is not a path or a list of paths \(rule: a path,"),
        ({"data": []}, TypeError, r"data \[\] is not a path or a list of paths"),
        ({"data": ["nope.gz"]}, ValueError, r"data\[0\] 'nope.gz' is not a file"),
        ({"data": [CAPTURE, 7]}, TypeError, r"data\[1\] 7 is not a path"),
        ({"strategy": 42}, TypeError, r"strategy 42 is not a strategy class or name"),
        (
            {"strategy": MarketMaker(MarketMakerParams())},
            TypeError,
            r"rule: pass the class and its params, not an instance",
        ),
        ({"strategy": "engine.strategies.market_maker:Nope"}, ValueError, r"has no 'Nope'"),
        ({"params": [("a", 1)]}, TypeError, r"params \[\('a', 1\)\] is not a mapping"),
        ({"params": {"bogus": 1}}, ValueError, r"parameter bogus = 1: Extra inputs"),
        ({"cash": 100000.0}, TypeError, r"cash 100000.0 is a float \(rule: money is exact"),
        ({"cash": "-5"}, ValueError, r"cash '-5' is not positive"),
        ({"cash": "lots"}, ValueError, r"cash 'lots' is not a decimal number"),
        ({"cash": True}, TypeError, r"cash True is a bool"),
        ({"equity_interval_s": 0}, ValueError, r"equity_interval_s 0 is not positive"),
        ({"equity_interval_s": "1"}, TypeError, r"equity_interval_s '1' is not a number"),
        (
            {"venue": {"default_slippage_bps": 0}},
            ValueError,
            r"venue.default_slippage_bps = 0: Input should be greater than or equal to 1",
        ),
        ({"venue": {"bogus": 1}}, ValueError, r"venue.bogus = 1: Extra inputs"),
        ({"risk": {"leverage": 500}}, ValueError, r"risk.leverage = 500: Input should be less"),
        ({"statistics": "daily"}, TypeError, r"statistics 'daily' is not a mapping"),
        ({"run_id": "has space"}, ValueError, r"run_id 'has space' is not valid \(rule: 1..36 "),
        ({"run_id": 5}, TypeError, r"run_id 5 is not a str"),
        ({"store_path": 5}, TypeError, r"store_path 5 is not a path"),
        ({"progress": "yes"}, TypeError, r"progress 'yes' is not callable"),
    ],
)
def test_bad_arguments_name_the_argument_the_value_and_the_rule(
    small: Path, kwargs: dict[str, Any], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message) as caught:
        engine.backtest(**{"data": small, **kwargs})
    assert "\n" not in str(caught.value)


def test_import_engine_loads_no_adapter_until_the_api_is_used() -> None:
    script = """
import sys
import engine
from engine import _core                      # submodules still import as usual
loaded = lambda: sorted(m for m in sys.modules if m.split(".")[0] == "adapters")
assert loaded() == [], loaded()
class Mine(engine.Strategy):                  # a strategy needs no adapter either
    def on_book(self, ctx: engine.Context, top: engine.BookTop) -> None:
        ctx.submit(symbol=top.symbol, side=engine.OrderSide.BUY,
                   order_type=engine.OrderType.MARKET, quantity=1)
assert engine.Trade and engine.Fill and engine.TimeInForce and engine.EmptyParams
assert loaded() == [], loaded()
assert "backtest" in dir(engine) and set(engine.__all__) <= set(dir(engine))
try:
    engine.nothing_here
except AttributeError as err:
    assert "has no attribute 'nothing_here'" in str(err)
else:
    raise AssertionError("no AttributeError")
assert callable(engine.backtest) and engine.BacktestRun.__module__ == "engine.api"
assert "adapters.backtest" in sys.modules
print("ok")
"""
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(PYTHON), "PATH": "/usr/bin:/bin"},
        check=False,
    )
    assert done.returncode == 0 and done.stdout == "ok\n", done.stderr


LAZY = {"api", "backtest", "BacktestRun"}


def test_the_hexagon_never_reaches_the_api_through_the_package() -> None:
    """import-linter sees `from engine import backtest` only as an import of `engine`
    (which every module makes for `_core`), so this scan closes that gap: no engine
    module but the package and the API itself names the API."""
    found: list[str] = []
    for path in sorted((PYTHON / "engine").rglob("*.py")):
        if path.name == "api.py" and path.parent.name == "engine":
            continue
        if path.name == "__init__.py" and path.parent.name == "engine":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module == "engine":
                found += [f"{path}: {a.name}" for a in node.names if a.name in LAZY]
            elif isinstance(node, ast.ImportFrom) and (node.module or "").startswith("engine.api"):
                found.append(f"{path}: from {node.module}")
            elif isinstance(node, ast.Import):
                found += [f"{path}: {a.name}" for a in node.names if a.name == "engine.api"]
            elif (
                isinstance(node, ast.Attribute)
                and node.attr in LAZY
                and isinstance(node.value, ast.Name)
                and node.value.id == "engine"
            ):
                found.append(f"{path}: engine.{node.attr}")
    assert found == []
    assert sorted(engine.__all__) == engine.__all__
