"""Binance request signing: the X-MBX-APIKEY header and HMAC-SHA256 of the parameters."""

from __future__ import annotations

import hashlib
import hmac
import re
from urllib.parse import urlencode

from fakex.errors import BinanceError

_SIG = re.compile(r"&?signature=([0-9a-fA-F]+)")


def check_key(header: str | None, api_key: str) -> None:
    if header != api_key:
        raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")


def check_rest(query: str, body: str, secret: str) -> None:
    """totalParams = query string then body (Binance's rule); the signature is in either."""
    total = query + body
    m = _SIG.search(total)
    if m is None:
        raise BinanceError(
            400,
            -1102,
            "Mandatory parameter 'signature' was not sent, was empty/null, or malformed.",
        )
    payload = total[: m.start()] + total[m.end() :]
    if "timestamp=" not in payload:
        raise BinanceError(
            400,
            -1102,
            "Mandatory parameter 'timestamp' was not sent, was empty/null, or malformed.",
        )
    _compare(payload, m.group(1), secret)


def check_ws(params: dict[str, object], api_key: str, secret: str) -> None:
    """WebSocket API: the sorted params (without signature) url-encoded, then signed."""
    if params.get("apiKey") != api_key:
        raise BinanceError(401, -2015, "Invalid API-key, IP, or permissions for action.")
    rest = {k: v for k, v in sorted(params.items()) if k != "signature"}
    _compare(urlencode(rest), str(params.get("signature", "")), secret)


def _compare(payload: str, signature: str, secret: str) -> None:
    want = hmac.new(secret.encode(), payload.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, signature.lower()):
        raise BinanceError(401, -1022, "Signature for this request is not valid.")
