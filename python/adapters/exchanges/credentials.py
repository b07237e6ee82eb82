"""API keys for live trading: from the environment or a 0600 key file, never from the
command line or the config (both end up in shell history, process lists and logs),
and never shown.

Sources, in this order:
1. the environment: `QUANTX_<EXCHANGE>_API_KEY` and `QUANTX_<EXCHANGE>_SECRET` (the
   exchange id upper-cased, e.g. `QUANTX_BINANCEUSDM_API_KEY`);
2. a key file named by `QUANTX_KEY_FILE` or given explicitly: JSON
   `{"<exchange>": {"apiKey": "...", "secret": "..."}}`, owned by the user and not
   readable or writable by group or others (mode 0600 or 0400); anything looser is
   refused, as ssh does with private keys.

`Redactor` replaces every secret it was given (and the key) in any text with
`***`; the live runner installs it on the root logger and passes every error message
through it, so a key never reaches a log, an alert or a terminal.
"""

from __future__ import annotations

import logging
import os
import stat
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import orjson

__all__ = ["CredentialError", "Credentials", "Redactor", "load_credentials"]

MASK = "***"


class CredentialError(ValueError):
    """Keys that are missing or kept unsafely, said on one line (never the key)."""


@dataclass(frozen=True, slots=True)
class Credentials:
    exchange: str
    api_key: str = field(repr=False)
    secret: str = field(repr=False)
    source: str  # "environment" or the key file's path: where they came from, for the log

    def __repr__(self) -> str:
        return (
            f"Credentials(exchange={self.exchange!r}, api_key={MASK}, secret={MASK}, "
            f"source={self.source!r})"
        )

    def ccxt_config(self) -> dict[str, str]:
        return {"apiKey": self.api_key, "secret": self.secret}


def _env_names(exchange: str) -> tuple[str, str]:
    prefix = f"QUANTX_{exchange.upper()}"
    return f"{prefix}_API_KEY", f"{prefix}_SECRET"


def load_credentials(
    exchange: str,
    *,
    key_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
) -> Credentials:
    """The keys for `exchange` (see the module docstring for where they come from)."""
    env = os.environ if environ is None else environ
    key_name, secret_name = _env_names(exchange)
    key, secret = env.get(key_name, ""), env.get(secret_name, "")
    if key or secret:
        if not (key and secret):
            missing = secret_name if key else key_name
            raise CredentialError(
                f"{missing}: not set (rule: set both {key_name} and {secret_name})"
            )
        return Credentials(exchange, key, secret, "environment")
    path = key_file or (Path(env["QUANTX_KEY_FILE"]) if env.get("QUANTX_KEY_FILE") else None)
    if path is None:
        raise CredentialError(
            f"no API keys for {exchange} (rule: set {key_name} and {secret_name}, or "
            "QUANTX_KEY_FILE / --key-file naming a 0600 JSON key file)"
        )
    return _from_file(exchange, path)


def _from_file(exchange: str, path: Path) -> Credentials:
    try:
        info = path.stat()
    except OSError as err:
        raise CredentialError(f"key file {path}: cannot be read ({err.strerror})") from None
    loose = stat.S_IMODE(info.st_mode) & 0o077
    if loose:
        mode = oct(stat.S_IMODE(info.st_mode))
        raise CredentialError(
            f"key file {path}: mode {mode} lets others read or write it (rule: chmod 600)"
        )
    if hasattr(os, "getuid") and info.st_uid != os.getuid():
        raise CredentialError(f"key file {path}: owned by uid {info.st_uid} (rule: your own file)")
    try:
        document = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        raise CredentialError(f"key file {path}: not a JSON document") from None
    entry = document.get(exchange) if isinstance(document, dict) else None
    if not isinstance(entry, dict):
        raise CredentialError(f"key file {path}: no entry {exchange!r} (rule: one per exchange)")
    key, secret = entry.get("apiKey"), entry.get("secret")
    for name, value in (("apiKey", key), ("secret", secret)):
        if not isinstance(value, str) or not value:
            raise CredentialError(f"key file {path}: {exchange}.{name} is missing or empty")
    assert isinstance(key, str) and isinstance(secret, str)
    return Credentials(exchange, key, secret, str(path))


class Redactor(logging.Filter):
    """Masks secrets in text and in log records (as a logging filter)."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self._secrets: list[str] = []
        self.add(*secrets)

    def add(self, *secrets: str) -> None:
        for secret in secrets:
            if secret and len(secret) >= 4 and secret not in self._secrets:
                self._secrets.append(secret)
        self._secrets.sort(key=len, reverse=True)  # a longer secret first: no half masks

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = self(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Formatted here (formatters reuse exc_text), so the traceback is masked too.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self(record.exc_text)
        return True

    def install(self, logger: logging.Logger | None = None) -> None:
        """On `logger` (root by default) and each of its handlers."""
        target = logger or logging.getLogger()
        target.addFilter(self)
        for handler in target.handlers:
            handler.addFilter(self)
