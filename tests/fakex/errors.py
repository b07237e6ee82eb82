"""Binance's JSON error shape: HTTP status plus {"code": ..., "msg": ...}."""

from __future__ import annotations


class BinanceError(Exception):
    def __init__(self, status: int, code: int, msg: str) -> None:
        super().__init__(f"{status} {code} {msg}")
        self.status = status
        self.code = code
        self.msg = msg

    def body(self) -> dict[str, object]:
        return {"code": self.code, "msg": self.msg}


# Messages are Binance's own where ccxt maps the message text (its `exact` table) before the code.
INSUFFICIENT = "Account has insufficient balance for requested action."
WOULD_TAKE = "Order would immediately match and take."
UNKNOWN_ORDER = "Unknown order sent."
NO_ORDER = "Order does not exist."
BAD_SYMBOL = "Invalid symbol."
