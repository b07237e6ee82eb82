"""USDⓈ-M futures REST (/fapi) that ccxt's `binanceusdm` calls for the methods the fake serves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from fakex.errors import BinanceError
from fakex.markets import LEVERAGE, SPECS
from fakex.matching import ZERO
from fakex.rest_common import Route, dec, my_trades, open_orders, public_routes

if TYPE_CHECKING:
    from fakex.server import FakeBinance


def routes(fake: FakeBinance) -> list[Route]:
    venue = fake.futures

    async def create(r: web.Request, p: dict[str, str]) -> Any:
        order = venue.create(p)
        await fake.after_create(r)
        return venue.order_ack(order)

    async def cancel(_r: web.Request, p: dict[str, str]) -> Any:
        return venue.order_json(
            venue.cancel(p.get("symbol", ""), p.get("orderId"), p.get("origClientOrderId"))
        )

    async def amend(_r: web.Request, p: dict[str, str]) -> Any:
        return venue.order_json(venue.amend(p))

    async def get_order(_r: web.Request, p: dict[str, str]) -> Any:
        return venue.order_json(
            venue.find(p.get("symbol", ""), p.get("orderId"), p.get("origClientOrderId"))
        )

    async def open_(_r: web.Request, p: dict[str, str]) -> Any:
        return open_orders(venue, p)

    async def trades(_r: web.Request, p: dict[str, str]) -> Any:
        return my_trades(venue, p)

    def position_rows() -> list[dict[str, Any]]:
        rows = []
        for symbol, pos in sorted(venue.positions.items()):
            mark = venue.mark_price(symbol)
            notional = pos.amount * mark
            margin = abs(notional) / LEVERAGE
            rows.append(
                {
                    "symbol": symbol,
                    "positionSide": "BOTH",
                    "positionAmt": dec(pos.amount, 3),
                    "entryPrice": dec(pos.entry),
                    "breakEvenPrice": dec(pos.entry),
                    "markPrice": dec(mark),
                    "unRealizedProfit": dec(venue.unrealized(symbol)),
                    "liquidationPrice": "0",
                    "isolatedMargin": "0",
                    "notional": dec(notional),
                    "marginAsset": "USDT",
                    "isolatedWallet": "0",
                    "initialMargin": dec(margin),
                    "maintMargin": dec(abs(notional) / 200),
                    "positionInitialMargin": dec(margin),
                    "openOrderInitialMargin": "0",
                    "adl": 0,
                    "bidNotional": "0",
                    "askNotional": "0",
                    "updateTime": fake.clock.now(),
                    "leverage": str(LEVERAGE),
                    "marginType": "cross",
                    "isAutoAddMargin": "false",
                    "maxNotionalValue": "10000000",
                    "isolated": False,
                }
            )
        return rows

    async def account(_r: web.Request, _p: dict[str, str]) -> Any:
        wallet = venue.free("USDT")
        upnl = sum((venue.unrealized(s) for s in SPECS["futures"]), ZERO)
        avail = venue.available_margin()
        assets = [
            {
                "asset": a,
                "walletBalance": dec(f),
                "unrealizedProfit": dec(upnl if a == "USDT" else ZERO),
                "marginBalance": dec(f + (upnl if a == "USDT" else ZERO)),
                "maintMargin": "0",
                "initialMargin": dec(f - avail if a == "USDT" else ZERO),
                "positionInitialMargin": "0",
                "openOrderInitialMargin": "0",
                "crossWalletBalance": dec(f),
                "crossUnPnl": dec(upnl if a == "USDT" else ZERO),
                "availableBalance": dec(avail if a == "USDT" else f),
                "maxWithdrawAmount": dec(avail),
                "updateTime": fake.clock.now(),
            }
            for a, (f, _lk) in sorted(venue.balances.items())
        ]
        return {
            "totalInitialMargin": dec(wallet - avail),
            "totalMaintMargin": "0",
            "totalWalletBalance": dec(wallet),
            "totalUnrealizedProfit": dec(upnl),
            "totalMarginBalance": dec(wallet + upnl),
            "totalPositionInitialMargin": "0",
            "totalOpenOrderInitialMargin": "0",
            "totalCrossWalletBalance": dec(wallet),
            "totalCrossUnPnl": dec(upnl),
            "availableBalance": dec(avail),
            "maxWithdrawAmount": dec(avail),
            "assets": assets,
            "positions": position_rows(),
        }

    async def position_risk(_r: web.Request, p: dict[str, str]) -> Any:
        rows = position_rows()
        return [r for r in rows if "symbol" not in p or r["symbol"] == p["symbol"]]

    async def brackets(_r: web.Request, _p: dict[str, str]) -> Any:
        # one bracket (Binance's first BTCUSDT tier); ccxt loads it before parsing positions
        return [
            {
                "symbol": s,
                "brackets": [
                    {
                        "bracket": 1,
                        "initialLeverage": 125,
                        "notionalCap": 300000,
                        "notionalFloor": 0,
                        "maintMarginRatio": 0.004,
                        "cum": 0.0,
                    }
                ],
            }
            for s in SPECS["futures"]
        ]

    async def listen_key_new(_r: web.Request, _p: dict[str, str]) -> Any:
        return {"listenKey": fake.new_listen_key("futures")}

    async def listen_key_keep(_r: web.Request, _p: dict[str, str]) -> Any:
        if not fake.listen_keys["futures"]:
            raise BinanceError(400, -1125, "This listenKey does not exist.")
        return {"listenKey": sorted(fake.listen_keys["futures"])[0]}

    async def listen_key_close(_r: web.Request, _p: dict[str, str]) -> Any:
        fake.listen_keys["futures"].clear()
        return {}

    v1 = "/fapi/v1"
    return [
        *public_routes(fake, "futures", v1),
        Route("POST", f"{v1}/order", "signed", create),
        Route("DELETE", f"{v1}/order", "signed", cancel),
        Route("PUT", f"{v1}/order", "signed", amend),
        Route("GET", f"{v1}/order", "signed", get_order),
        Route("GET", f"{v1}/openOrders", "signed", open_),
        Route("GET", f"{v1}/userTrades", "signed", trades),
        Route("GET", "/fapi/v2/account", "signed", account),
        Route("GET", "/fapi/v3/account", "signed", account),
        Route("GET", "/fapi/v2/positionRisk", "signed", position_risk),
        Route("GET", "/fapi/v3/positionRisk", "signed", position_risk),
        Route("GET", f"{v1}/leverageBracket", "signed", brackets),
        Route("POST", f"{v1}/listenKey", "key", listen_key_new),
        Route("PUT", f"{v1}/listenKey", "key", listen_key_keep),
        Route("DELETE", f"{v1}/listenKey", "key", listen_key_close),
    ]
