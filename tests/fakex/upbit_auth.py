"""Upbit's exchange-API auth: `Authorization: Bearer <JWT>`, HS256 over the secret.

The payload carries `access_key`, a fresh `nonce`, and, when the request has parameters,
`query_hash` = SHA-512 (hex) of the parameters as an unescaped query string
(`market=KRW-BTC&side=bid&...`, in the order sent; for a JSON body, its keys in order)
with `query_hash_alg` "SHA512" (the default when absent).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Iterable
from typing import Any
from urllib.parse import unquote, urlencode

import orjson

from fakex.upbit_venue import UpbitError


def value_text(value: Any) -> str:
    """A JSON body value as query text (booleans as ccxt writes them)."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)


def query_string(pairs: Iterable[tuple[str, Any]]) -> str:
    """The text Upbit hashes: key=value joined by '&', values not percent-escaped."""
    return unquote(urlencode([(k, value_text(v)) for k, v in pairs]))


def _b64(part: str) -> bytes:
    return base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))


def check(
    header: str | None,
    query: str | None,
    *,
    api_key: str,
    secret: str,
    seen_nonces: set[str],
) -> None:
    """Raises UpbitError (401) unless the bearer token is valid for this request."""
    bad = UpbitError(401, "jwt_verification", "JWT verification failed.")
    if header is None or not header.startswith("Bearer "):
        raise bad
    parts = header[len("Bearer ") :].split(".")
    if len(parts) != 3:
        raise bad
    try:
        head = orjson.loads(_b64(parts[0]))
        payload = orjson.loads(_b64(parts[1]))
        signature = _b64(parts[2])
    except (ValueError, binascii.Error):
        raise bad from None
    if not isinstance(head, dict) or head.get("alg") != "HS256" or not isinstance(payload, dict):
        raise bad
    want = hmac.new(secret.encode(), f"{parts[0]}.{parts[1]}".encode(), hashlib.sha256).digest()
    if not hmac.compare_digest(want, signature):
        raise bad
    if payload.get("access_key") != api_key:
        raise UpbitError(401, "invalid_access_key", "Invalid access key.")
    nonce = payload.get("nonce")
    if not isinstance(nonce, str) or not nonce:
        raise bad
    if nonce in seen_nonces:
        raise UpbitError(401, "nonce_used", "This nonce was already used.")
    if query:
        alg = payload.get("query_hash_alg", "SHA512")
        digest = hashlib.sha512(query.encode()).hexdigest()
        if alg != "SHA512" or payload.get("query_hash") != digest:
            raise UpbitError(401, "invalid_query_payload", "query_hash does not match the query.")
    seen_nonces.add(nonce)
