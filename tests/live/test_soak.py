"""Issue 5's soak, CI-sized: 500 orders through the order manager and the ccxt venue
against the fake Binance with faults injected at random; no order duplicated or lost,
every fill journaled once, every fault kind fired. The 10,000-order run is
`benches/live_soak.py` (figures in tests/live/README.md)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import ccxt
import pytest
from soak import FAULT_KINDS, soak

from fakex import FakeBinance


@pytest.fixture
def fake() -> Iterator[FakeBinance]:
    # the "close" create timeout drops the connection in a handler: aiohttp logs each one
    logging.getLogger("aiohttp.server").setLevel(logging.CRITICAL)
    with FakeBinance(seed=0) as f:
        yield f


def test_usdm_soak_of_500_orders_with_every_fault_kind_loses_and_duplicates_nothing(
    fake: FakeBinance,
) -> None:
    report = soak(fake, orders=500, seed=5, fault_rate=0.1, deadline_s=90)
    print("\n".join(report.lines()))
    assert report.violations == []
    assert report.orders == 500
    # every order ended, each in a state the fake agrees with (checked order by order)
    assert sum(report.by_status.values()) == 500
    assert set(report.by_status) <= {"FILLED", "CANCELED", "EXPIRED", "REJECTED"}
    missing = [k for k in FAULT_KINDS if report.faults[k] < 1]
    assert missing == [], f"fault kinds never fired: {missing}"
    # the faults had their effect on the venue: retried, looked up, reconnected
    assert report.ambiguous >= 1 and report.lookups >= report.ambiguous
    assert report.retries.get("DDOS_PROTECTION", 0) >= 1  # 429s, sent again
    assert report.reconnects >= 1 and report.malformed >= 1


def test_spot_soak_of_200_orders_loses_and_duplicates_nothing(fake: FakeBinance) -> None:
    report = soak(fake, orders=200, seed=6, fault_rate=0.1, deadline_s=60, market="spot")
    print("\n".join(report.lines()))
    assert report.violations == []
    assert report.orders == 200
    assert report.faults["amend_5xx"] == 0  # spot has no amend
    missing = [k for k in FAULT_KINDS if k != "amend_5xx" and report.faults[k] < 1]
    assert missing == [], f"fault kinds never fired: {missing}"


def test_the_soak_sees_an_order_placed_behind_its_back(fake: FakeBinance) -> None:
    """The checks can fail: an order filled at the fake behind the run's back (the
    manager never sent it, its fill never came through the venue) is found by the
    reconciliation, which adopts it and adds its fill: both are violations of the soak."""
    exchange = ccxt.binanceusdm({"timeout": 3000})
    fake.configure(exchange)
    exchange.load_markets()
    fake.set_book("BTCUSDT", [("59990.0", "1")], [("60000.0", "1")], market="futures")
    fake.set_balance("USDT", "100000", market="futures")
    exchange.create_order(
        "BTC/USDT:USDT", "market", "buy", 0.002, None, {"clientOrderId": "elsewhere-1"}
    )
    (elsewhere,) = fake.trades
    report = soak(fake, orders=20, seed=7, fault_rate=0.0, deadline_s=60)
    assert report.violations == [
        "reconciliation adopted: ['elsewhere-1'] (1)",
        f"reconciliation fills added: ['{elsewhere.trade_id}'] (1)",
    ]
    assert report.orders == 21  # the 20 sent and the adopted one
    assert report.faults == dict.fromkeys(FAULT_KINDS, 0)
