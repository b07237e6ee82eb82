"""Spot REST (/api/v3) that ccxt's `binance` calls for the unified methods the fake serves."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from aiohttp import web

from fakex.errors import BinanceError
from fakex.rest_common import Route, dec, my_trades, open_orders, public_routes

if TYPE_CHECKING:
    from fakex.server import FakeBinance


def routes(fake: FakeBinance) -> list[Route]:
    venue = fake.spot

    async def create(r: web.Request, p: dict[str, str]) -> Any:
        order = venue.create(p)
        await fake.after_create(r)
        return venue.order_ack(order)

    async def cancel(_r: web.Request, p: dict[str, str]) -> Any:
        order = venue.cancel(p.get("symbol", ""), p.get("orderId"), p.get("origClientOrderId"))
        body = venue.order_json(order)
        body["origClientOrderId"] = order.client_id
        body["transactTime"] = order.update_time
        return body

    async def get_order(_r: web.Request, p: dict[str, str]) -> Any:
        return venue.order_json(
            venue.find(p.get("symbol", ""), p.get("orderId"), p.get("origClientOrderId"))
        )

    async def cancel_replace(r: web.Request, p: dict[str, str]) -> Any:
        # STOP_ON_FAILURE: the new order is placed only if the cancel succeeded
        old = venue.cancel(
            p.get("symbol", ""), p.get("cancelOrderId"), p.get("cancelOrigClientOrderId")
        )
        cancel_body = venue.order_json(old)
        new_params = {k: v for k, v in p.items() if not k.startswith("cancel")}
        try:
            new = venue.create(new_params)
        except BinanceError as e:
            raise BinanceError(400, -2021, "Order cancel-replace partially failed.") from e
        await fake.after_create(r)
        return {
            "cancelResult": "SUCCESS",
            "newOrderResult": "SUCCESS",
            "cancelResponse": cancel_body,
            "newOrderResponse": venue.order_ack(new),
        }

    async def open_(_r: web.Request, p: dict[str, str]) -> Any:
        return open_orders(venue, p)

    async def trades(_r: web.Request, p: dict[str, str]) -> Any:
        return my_trades(venue, p)

    async def account(_r: web.Request, _p: dict[str, str]) -> Any:
        return {
            "makerCommission": 10,
            "takerCommission": 10,
            "buyerCommission": 0,
            "sellerCommission": 0,
            "commissionRates": {
                "maker": "0.00100000",
                "taker": "0.00100000",
                "buyer": "0.00000000",
                "seller": "0.00000000",
            },
            "canTrade": True,
            "canWithdraw": True,
            "canDeposit": True,
            "brokered": False,
            "requireSelfTradePrevention": False,
            "preventSor": False,
            "updateTime": fake.clock.now(),
            "accountType": "SPOT",
            "permissions": ["SPOT"],
            "uid": 1,
            "balances": [
                {"asset": a, "free": dec(f), "locked": dec(lk)}
                for a, (f, lk) in sorted(venue.balances.items())
            ],
        }

    async def listen_key_new(_r: web.Request, _p: dict[str, str]) -> Any:
        return {"listenKey": fake.new_listen_key("spot")}

    async def listen_key_keep(_r: web.Request, p: dict[str, str]) -> Any:
        if p.get("listenKey") not in fake.listen_keys["spot"]:
            raise BinanceError(400, -1125, "This listenKey does not exist.")
        return {}

    async def listen_key_close(_r: web.Request, p: dict[str, str]) -> Any:
        fake.listen_keys["spot"].discard(p.get("listenKey", ""))
        return {}

    base = "/api/v3"
    return [
        *public_routes(fake, "spot", base),
        Route("POST", f"{base}/order", "signed", create),
        Route("DELETE", f"{base}/order", "signed", cancel),
        Route("GET", f"{base}/order", "signed", get_order),
        Route("POST", f"{base}/order/cancelReplace", "signed", cancel_replace),
        Route("GET", f"{base}/openOrders", "signed", open_),
        Route("GET", f"{base}/myTrades", "signed", trades),
        Route("GET", f"{base}/account", "signed", account),
        Route("POST", f"{base}/userDataStream", "key", listen_key_new),
        Route("PUT", f"{base}/userDataStream", "key", listen_key_keep),
        Route("DELETE", f"{base}/userDataStream", "key", listen_key_close),
    ]
