"""Instruments from ccxt's own parse of the exchange's market list (the fake Binance
serves Binance's filters for BTCUSDT spot and the BTCUSDT perpetual), exact, and the
same instruments again from a saved file without a connection."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import ccxt.async_support as ccxta
import pytest

from adapters.exchanges.markets import (
    DECIMAL_PLACES,
    instrument_from_market,
    instruments_from_markets,
    load_markets,
    save_markets,
)
from engine.domain.enums import InstrumentKind
from engine.domain.errors import ValidationError
from fakex import FakeBinance
from fakex.testing import client, run


def _markets(cls: Any) -> list[dict[str, Any]]:
    async def go(fake: FakeBinance) -> list[dict[str, Any]]:
        exchange = await client(fake, cls)
        try:
            return list(exchange.markets.values())
        finally:
            await exchange.close()

    with FakeBinance() as fake:
        return run(go(fake))


@pytest.fixture(scope="module")
def spot() -> list[dict[str, Any]]:
    return _markets(ccxta.binance)


@pytest.fixture(scope="module")
def usdm() -> list[dict[str, Any]]:
    return _markets(ccxta.binanceusdm)


def test_binance_spot_filters_become_the_instrument_exactly(spot: list[dict[str, Any]]) -> None:
    inst = instruments_from_markets(spot)["BTC/USDT"]
    assert inst.kind is InstrumentKind.SPOT
    assert (inst.base, inst.quote) == ("BTC", "USDT")
    # PRICE_FILTER tickSize 0.01, LOT_SIZE stepSize 0.00001 / minQty 0.00001 / maxQty
    # 9000, NOTIONAL minNotional 5; ccxt's default spot fees 0.1%.
    assert (inst.tick_size, inst.lot_size) == (Decimal("0.01"), Decimal("0.00001"))
    assert (inst.min_quantity, inst.max_quantity) == (Decimal("0.00001"), Decimal("9000"))
    assert inst.min_notional == Decimal("5")
    assert (inst.maker_fee_rate, inst.taker_fee_rate) == (Decimal("0.001"), Decimal("0.001"))
    assert (inst.price_precision, inst.quantity_precision) == (2, 5)
    assert inst.round_qty(Decimal("0.123456789")) == Decimal("0.12345")


def test_the_usdm_perpetual_and_an_account_s_own_fees(usdm: list[dict[str, Any]]) -> None:
    market = next(m for m in usdm if m["symbol"] == "BTC/USDT:USDT")
    inst = instrument_from_market(market)
    assert inst.kind is InstrumentKind.LINEAR_PERPETUAL
    assert (inst.tick_size, inst.lot_size, inst.min_notional) == (
        Decimal("0.1"),
        Decimal("0.001"),
        Decimal("100"),
    )
    assert (inst.maker_fee_rate, inst.taker_fee_rate) == (Decimal("0.0002"), Decimal("0.0005"))
    vip = instrument_from_market(market, maker_fee_rate=Decimal("0.00016"))
    assert vip.maker_fee_rate == Decimal("0.00016") and vip.taker_fee_rate == Decimal("0.0005")


def test_saved_markets_load_offline_to_the_same_instruments(
    spot: list[dict[str, Any]], usdm: list[dict[str, Any]], tmp_path: Path
) -> None:
    path = tmp_path / "binance.json"
    save_markets(path, "binance", [*usdm, *spot])
    first = path.read_bytes()
    save_markets(path, "binance", [*spot, *usdm])
    assert path.read_bytes() == first  # sorted: equal markets, equal file
    exchange, offline = load_markets(path)
    assert exchange == "binance"
    assert offline == {**instruments_from_markets(spot), **instruments_from_markets(usdm)}


def test_markets_the_engine_cannot_trade_are_refused_by_name_or_left_out() -> None:
    inverse = {"symbol": "BTC/USD:BTC", "type": "swap", "swap": True, "linear": False,
               "inverse": True, "precision": {"price": 0.1, "amount": 1}}  # fmt: skip
    with pytest.raises(ValidationError, match="type"):
        instrument_from_market(inverse)
    assert instruments_from_markets([inverse]) == {}
    spot = {"symbol": "ETH/BTC", "base": "ETH", "quote": "BTC", "spot": True,
            "precision": {"price": 6, "amount": 4}, "limits": {}}  # fmt: skip
    inst = instrument_from_market(spot, DECIMAL_PLACES)  # digit counts, no limits
    assert (inst.tick_size, inst.lot_size) == (Decimal("0.000001"), Decimal("0.0001"))
    assert (inst.min_quantity, inst.min_notional) == (Decimal("0.0001"), Decimal(0))
    assert inst.maker_fee_rate == 0
    with pytest.raises(ValidationError, match=r"precision\.amount"):
        instrument_from_market({**spot, "precision": {"price": 6}}, DECIMAL_PLACES)
    with pytest.raises(ValidationError, match="precisionMode"):
        instrument_from_market(spot, 3)


def test_a_bad_markets_file_is_one_line_naming_it(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="cannot be read"):
        load_markets(tmp_path / "missing.json")
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValidationError, match="is not JSON"):
        load_markets(bad)
    bad.write_text("[]")
    with pytest.raises(ValidationError, match="no market list"):
        load_markets(bad)
