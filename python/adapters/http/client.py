"""The CLI's side of the control endpoint: one request at a time with aiohttp."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import orjson

__all__ = ["ControlUnreachable", "get_health", "post_kill"]


class ControlUnreachable(OSError):
    """The endpoint did not answer (refused, timed out)."""


async def _request(
    method: str, url: str, *, headers: dict[str, str], body: bytes | None, timeout_s: float
) -> tuple[int, bytes]:
    timeout = aiohttp.ClientTimeout(total=timeout_s)
    async with (
        aiohttp.ClientSession(timeout=timeout) as session,
        session.request(method, url, headers=headers, data=body) as response,
    ):
        return response.status, await response.read()


def _run(
    method: str, url: str, headers: dict[str, str], body: bytes | None, timeout_s: float
) -> tuple[int, bytes]:
    try:
        return asyncio.run(_request(method, url, headers=headers, body=body, timeout_s=timeout_s))
    except (aiohttp.ClientError, TimeoutError) as err:
        raise ControlUnreachable(f"{url}: {type(err).__name__}: {err}") from None


def post_kill(
    base_url: str, token: str, reason: str, timeout_s: float = 10.0
) -> tuple[int, dict[str, Any]]:
    """(HTTP status, JSON answer) of `POST /kill`."""
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    status, body = _run(
        "POST", f"{base_url}/kill", headers, orjson.dumps({"reason": reason}), timeout_s
    )
    try:
        doc = orjson.loads(body)
    except orjson.JSONDecodeError:
        doc = {"body": body.decode(errors="replace")}
    return status, doc if isinstance(doc, dict) else {"body": doc}


def get_health(base_url: str, timeout_s: float = 2.0) -> dict[str, Any]:
    status, body = _run("GET", f"{base_url}/health", {}, None, timeout_s)
    if status != 200:
        raise ControlUnreachable(f"{base_url}/health: HTTP {status}")
    doc: dict[str, Any] = orjson.loads(body)
    return doc
