"""`quantx paper` on live market data: the ccxt.pro websocket feed live runs use, from
the fake Binance, into the simulated venue. Orders never reach the exchange."""

from __future__ import annotations

import time
from decimal import Decimal

import pytest

from adapters.config import ConfigError, load_paper_config
from adapters.paper import PaperAccount, PaperError, build_paper
from adapters.store.memory import MemoryStore
from engine.domain import OrderSide, OrderType
from engine.domain.journal import PositionSnapshot
from engine.strategy import EmptyParams, Strategy
from engine.strategy.base import BookTop
from fakex import FakeBinance
from fakex.testing import CAPTURES

SYMBOL = "BTC/USDT:USDT"


class BuyOnce(Strategy[EmptyParams]):
    done = False

    def on_book(self, ctx: object, top: BookTop) -> None:
        if self.done or top.bid is None or top.ask is None:
            return
        self.done = True
        ctx.submit(  # type: ignore[attr-defined]
            symbol=top.symbol, side=OrderSide.BUY, order_type=OrderType.MARKET,
            quantity=Decimal("0.01"),
        )  # fmt: skip


def test_paper_trades_on_the_websocket_feed_without_sending_orders(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    with FakeBinance(captures=CAPTURES, seed=0) as fake:
        fake.play("futures", speed=1.0)
        monkeypatch.setenv("QUANTX_FAKEX_URL", fake.url)
        account = PaperAccount(
            "usdm", (), {"USDT": Decimal("10000")}, exchange="binanceusdm", symbols=(SYMBOL,)
        )
        store = MemoryStore()
        run = build_paper(
            [account], BuyOnce(EmptyParams()), store=store, exchange_setup="fakex.remote:configure"
        )
        began = time.monotonic()
        stats = run.run(should_stop=lambda: run.stats is not None or time.monotonic() - began > 6)
        assert stats.steps > 0 and stats.book_callbacks > 0
        assert run.portfolio.position(SYMBOL).quantity == Decimal("0.010")
        assert any(isinstance(r, PositionSnapshot) for _, r in store.records())
        # Paper: the exchange served market data only.
        assert fake.orders == {}
        assert not [r for r in fake.requests if "/order" in str(r)]


def test_a_live_feed_paper_account_needs_one_source() -> None:
    with pytest.raises(ConfigError, match=r"either data .* or exchange and symbols"):
        load_paper_config(accounts=[{"name": "a", "balances": {"USDT": "1"}}])
    with pytest.raises(ConfigError, match="exchange given without symbols"):
        load_paper_config(
            accounts=[{"name": "a", "exchange": "binance", "balances": {"USDT": "1"}}]
        )
    cfg = load_paper_config(
        accounts=[
            {"name": "a", "exchange": "binance", "symbols": ["BTC/USDT"], "balances": {"USDT": "1"}}
        ]
    )
    assert cfg.accounts[0].exchange == "binance"


def test_a_live_feed_paper_run_cannot_be_resumed() -> None:
    account = PaperAccount("a", (), {"USDT": Decimal(1)}, exchange="binance", symbols=("X",))
    with pytest.raises(PaperError, match="cannot be resumed"):
        build_paper([account], BuyOnce(EmptyParams()), store=MemoryStore(), resume_from_ns=1)
