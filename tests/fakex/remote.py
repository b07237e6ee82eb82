"""The `exchange_setup` hook for a `quantx live` child process that must reach a
FakeBinance its test runs: `exchange_setup = "fakex.remote:configure"`, the fake's base
URL in `QUANTX_FAKEX_URL` (the child's keys are the fake's, from the environment)."""

from __future__ import annotations

import os
from typing import Any

from fakex.server import FakeBinance


class _Remote:
    """What `FakeBinance.configure` reads of a fake: its URL and credentials."""

    ccxt_urls = FakeBinance.ccxt_urls

    def __init__(self, url: str) -> None:
        self.url = url
        self.api_key, self.secret = "test-key", "test-secret"


def configure(exchange: Any) -> None:
    FakeBinance.configure(_Remote(os.environ["QUANTX_FAKEX_URL"]), exchange)  # type: ignore[arg-type]
