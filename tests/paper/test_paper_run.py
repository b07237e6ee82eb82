"""Paper runs: several accounts in one run, each booked and risk-checked on its own."""

from __future__ import annotations

import math
from decimal import Decimal
from typing import Any

from adapters.data import BUNDLED_BINANCE_DIR
from adapters.paper import PaperAccount, build_paper
from adapters.store.memory import MemoryStore
from engine.domain import (
    OrderDenied,
    OrderFilled,
    OrderSide,
    OrderStatus,
    OrderType,
    TimeInForce,
)
from engine.domain.journal import BalanceSnapshot, EquitySample, PositionSnapshot
from engine.strategy import load_strategy
from engine.strategy.base import BookTop, Context, Strategy

USDM = BUNDLED_BINANCE_DIR / "usdm-btcusdt-20240808.gz"
SPOT = BUNDLED_BINANCE_DIR / "spot-btcusdt-20240808.gz"
FUT_SYMBOL, SPOT_SYMBOL = "BTC/USDT:USDT", "BTC/USDT"


class FakeTime:
    def __init__(self) -> None:
        self.now = 0

    def monotonic_ns(self) -> int:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += math.ceil(seconds * 1e9)  # a real sleep never returns early


def _group() -> Any:
    return load_strategy(
        "engine.strategies.group:StrategyGroup",
        {
            "members": [
                {
                    "strategy": "engine.strategies.market_maker:MarketMaker",
                    "params": {"symbol": FUT_SYMBOL, "half_spread_ticks": 2},
                },
                {
                    "strategy": "engine.strategies.market_maker:MarketMaker",
                    "params": {
                        "symbol": SPOT_SYMBOL,
                        "quote_size": "0.002",
                        "half_spread_ticks": 2,
                        "max_inventory": "0.01",
                    },
                },
            ]
        },
    )


def _run(strategy: Strategy[Any], accounts: list[PaperAccount], steps: int) -> Any:
    t = FakeTime()
    store = MemoryStore()
    run = build_paper(
        accounts, strategy, store=store, speed=50.0, sleep=t.sleep, monotonic_ns=t.monotonic_ns
    )
    run.run(should_stop=lambda: run.kernel.stats.steps >= steps)
    return run, [r for _, r in store.records()]


def test_two_accounts_on_two_markets_book_separately() -> None:
    accounts = [
        PaperAccount("futures", (USDM,), {"USDT": Decimal("100000")}),
        PaperAccount("spot", (SPOT,), {"USDT": Decimal("50000"), "BTC": Decimal("0.5")}),
    ]
    run, records = _run(_group(), accounts, 60_000)
    fills: dict[str, list[Any]] = {FUT_SYMBOL: [], SPOT_SYMBOL: []}
    for order in run.order_manager.orders():
        for event in order.events:
            if isinstance(event, OrderFilled):
                fills[order.symbol].append(event.fill)
    assert fills[FUT_SYMBOL] and fills[SPOT_SYMBOL], "both markets must trade"
    # Spot: every base and quote move is the spot account's, worked from the fills.
    signed = sum(
        (f.quantity if f.side is OrderSide.BUY else -f.quantity) for f in fills[SPOT_SYMBOL]
    )
    cost = sum(
        (f.price * f.quantity if f.side is OrderSide.BUY else -f.price * f.quantity)
        for f in fills[SPOT_SYMBOL]
    )
    spot_fees = sum(f.fee for f in fills[SPOT_SYMBOL])
    spot = run.portfolio.balances("spot")
    assert spot["BTC"] == Decimal("0.5") + signed
    assert spot["USDT"] == Decimal("50000") - cost - spot_fees
    # Futures: the account's USDT moves only by the perpetual's realized P&L net of fees.
    fut = run.portfolio.balances("futures")
    assert set(fut) == {"USDT"}
    assert fut["USDT"] == Decimal("100000") + run.portfolio.position(FUT_SYMBOL).realized_pnl
    # Snapshots and equity samples carry the account of the instrument they describe.
    owner = {FUT_SYMBOL: "futures", SPOT_SYMBOL: "spot"}
    snaps = [r for r in records if isinstance(r, PositionSnapshot)]
    assert snaps and all(r.account == owner[r.symbol] for r in snaps)
    assert {r.account for r in records if isinstance(r, BalanceSnapshot)} == {"futures", "spot"}
    samples = [r for r in records if isinstance(r, EquitySample)]
    assert {(r.account, r.currency) for r in samples} == {("futures", "USDT"), ("spot", "USDT")}
    # The equity timer fires on the run's (accelerated recording) clock, once a second:
    # the k-th sample after the first is taken at start + k s (a few ns late at most).
    times = [r.ts_event for r in samples if r.account == "futures"][:-1]  # last: at the end
    assert len(times) > 10
    for k, ts in enumerate(times[1:], start=1):
        assert 0 <= ts - (times[0] + k * 1_000_000_000) < 1_000_000


class BuyBoth(Strategy[Any]):
    """Buys 0.01 of each market once both books are known."""

    Params = load_strategy("engine.strategies.market_maker:MarketMaker").Params

    def __init__(self, params: Any) -> None:
        super().__init__(params)
        self.sent: set[str] = set()

    def on_book(self, ctx: Context, top: BookTop) -> None:
        if top.symbol in self.sent or top.ask is None:
            return
        self.sent.add(top.symbol)
        ctx.submit(
            symbol=top.symbol,
            side=OrderSide.BUY,
            order_type=OrderType.LIMIT,
            quantity=Decimal("0.01"),
            price=top.ask,
            time_in_force=TimeInForce.IOC,
        )


def test_each_order_is_checked_against_its_own_account() -> None:
    # Plenty of USDT in the futures account, none in the spot account: the spot buy is
    # refused for the spot account's balance, the futures buy goes through.
    accounts = [
        PaperAccount("futures", (USDM,), {"USDT": Decimal("100000")}),
        PaperAccount("spot", (SPOT,), {"BTC": Decimal("1")}),
    ]
    run, _ = _run(BuyBoth(BuyBoth.Params()), accounts, 3_000)
    by_symbol = {o.symbol: o for o in run.order_manager.orders()}
    spot = by_symbol[SPOT_SYMBOL]
    assert spot.status is OrderStatus.DENIED
    (denied,) = [e for e in spot.events if isinstance(e, OrderDenied)]
    assert denied.reason.startswith("INSUFFICIENT_BALANCE: asset=quote")
    assert denied.reason.endswith("available=0")
    assert by_symbol[FUT_SYMBOL].filled_qty == Decimal("0.01")


def test_the_three_exchange_example_runs_every_account() -> None:
    from adapters.config import load_paper_config

    root = USDM.parents[4]  # the repository: examples/ sits beside python/
    cfg = load_paper_config(root / "examples" / "paper-three-exchanges.toml")
    accounts = [PaperAccount(a.name, tuple(a.data), dict(a.balances)) for a in cfg.accounts]
    run, records = _run(load_strategy(cfg.strategy, cfg.params), accounts, 20_000)
    assert run.accounts == {
        "binance-usdm": [FUT_SYMBOL],
        "binance-spot": [SPOT_SYMBOL],
        "upbit": ["BTC/KRW"],
    }
    filled = {o.symbol for o in run.order_manager.orders() if o.filled_qty > 0}
    assert filled == {FUT_SYMBOL, SPOT_SYMBOL, "BTC/KRW"}
    currencies = {(r.account, r.currency) for r in records if isinstance(r, EquitySample)}
    assert currencies == {("binance-usdm", "USDT"), ("binance-spot", "USDT"), ("upbit", "KRW")}
    assert set(run.portfolio.balances("upbit")) == {"BTC", "KRW"}
