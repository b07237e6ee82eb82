"""API keys: where they may come from, what is refused, and that they never show."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import orjson
import pytest

from adapters.exchanges.credentials import CredentialError, Redactor, load_credentials

KEY, SECRET = "AKIA-test-key-0123456789", "s3cr3t-0123456789abcdef"


def key_file(tmp_path: Path, mode: int, document: object | None = None) -> Path:
    path = tmp_path / "keys.json"
    path.write_bytes(orjson.dumps(document or {"binance": {"apiKey": KEY, "secret": SECRET}}))
    os.chmod(path, mode)
    return path


def test_environment_first() -> None:
    env = {"QUANTX_BINANCE_API_KEY": KEY, "QUANTX_BINANCE_SECRET": SECRET}
    creds = load_credentials("binance", environ=env)
    assert (creds.api_key, creds.secret, creds.source) == (KEY, SECRET, "environment")
    assert creds.ccxt_config() == {"apiKey": KEY, "secret": SECRET}


def test_half_a_pair_in_the_environment_names_the_missing_variable() -> None:
    with pytest.raises(CredentialError, match="QUANTX_BINANCE_SECRET: not set"):
        load_credentials("binance", environ={"QUANTX_BINANCE_API_KEY": KEY})


def test_nothing_given_says_where_keys_may_come_from() -> None:
    with pytest.raises(CredentialError, match=r"QUANTX_BINANCE_API_KEY.*QUANTX_KEY_FILE"):
        load_credentials("binance", environ={})


def test_a_0600_key_file_is_read(tmp_path: Path) -> None:
    path = key_file(tmp_path, 0o600)
    creds = load_credentials("binance", environ={"QUANTX_KEY_FILE": str(path)})
    assert (creds.api_key, creds.secret, creds.source) == (KEY, SECRET, str(path))
    assert load_credentials("binance", key_file=path, environ={}).api_key == KEY


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_a_key_file_others_can_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = key_file(tmp_path, mode)
    with pytest.raises(CredentialError, match=f"mode {oct(mode)}.*chmod 600"):
        load_credentials("binance", key_file=path, environ={})


def test_a_key_file_without_the_exchange_or_a_field_is_refused(tmp_path: Path) -> None:
    path = key_file(tmp_path, 0o600, {"upbit": {"apiKey": KEY, "secret": SECRET}})
    with pytest.raises(CredentialError, match="no entry 'binance'"):
        load_credentials("binance", key_file=path, environ={})
    path = key_file(tmp_path, 0o600, {"binance": {"apiKey": KEY}})
    with pytest.raises(CredentialError, match=r"binance\.secret is missing"):
        load_credentials("binance", key_file=path, environ={})
    path.write_text("not json")
    with pytest.raises(CredentialError, match="not a JSON document"):
        load_credentials("binance", key_file=path, environ={})
    with pytest.raises(CredentialError, match="cannot be read"):
        load_credentials("binance", key_file=tmp_path / "none.json", environ={})


def test_credentials_never_show_in_their_repr_or_errors(tmp_path: Path) -> None:
    creds = load_credentials(
        "binance", environ={"QUANTX_BINANCE_API_KEY": KEY, "QUANTX_BINANCE_SECRET": SECRET}
    )
    assert KEY not in repr(creds) and SECRET not in repr(creds) and "***" in repr(creds)
    path = key_file(tmp_path, 0o600, {"binance": {"apiKey": KEY}})
    with pytest.raises(CredentialError) as err:
        load_credentials("binance", key_file=path, environ={})
    assert KEY not in str(err.value)


def test_the_redactor_masks_text_and_log_records(caplog: pytest.LogCaptureFixture) -> None:
    redact = Redactor([KEY, SECRET, ""])
    assert redact(f"GET /order?apiKey={KEY}&sig={SECRET}x") == "GET /order?apiKey=***&sig=***x"
    logger = logging.getLogger("quantx.test.redact")
    redact.install(logger)
    with caplog.at_level(logging.INFO, logger="quantx.test.redact"):
        logger.info("headers %s", {"X-MBX-APIKEY": KEY})
        try:
            raise RuntimeError(f"binance {SECRET} failed")
        except RuntimeError:
            logger.exception("call failed")
    text = caplog.text
    assert KEY not in text and SECRET not in text and text.count("***") >= 1
    assert "X-MBX-APIKEY" in text
