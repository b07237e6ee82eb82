"""The control file of a running run: how `quantx kill` and `quantx status` reach it.

`<out>/<run_id>.control.json` holds the run id, the pid, the loopback port and a random
bearer token made at start. It is created 0600 (only its owner may read the token),
written whole (temp file then rename) and removed when the run ends. A file whose pid
no longer runs is stale: the run died without removing it."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

import orjson

__all__ = [
    "ControlError",
    "ControlInfo",
    "control_path",
    "new_token",
    "read_control",
    "write_control",
]


class ControlError(ValueError):
    """A control file that is missing, unreadable or stale, said on one line."""


@dataclass(frozen=True, slots=True)
class ControlInfo:
    run_id: str
    pid: int
    port: int
    token: str

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def alive(self) -> bool:
        """The process that wrote it still runs."""
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True  # someone else's process of that pid: it exists
        return True


def control_path(out: Path, run_id: str) -> Path:
    return out / f"{run_id}.control.json"


def new_token() -> str:
    return secrets.token_urlsafe(32)


def write_control(path: Path, info: ControlInfo) -> None:
    body = orjson.dumps(
        {"run_id": info.run_id, "pid": info.pid, "port": info.port, "token": info.token}
    )
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # an older file of that name may have been looser
        os.write(fd, body)
    finally:
        os.close(fd)
    os.replace(tmp, path)


def read_control(path: Path, run_id: str) -> ControlInfo:
    """The control file's contents; ControlError naming the file and the rule."""
    if not path.is_file():
        raise ControlError(
            f"run {run_id}: no control file at {path} (rule: the run must be running)"
        )
    try:
        doc = orjson.loads(path.read_bytes())
        info = ControlInfo(
            run_id=str(doc["run_id"]),
            pid=int(doc["pid"]),
            port=int(doc["port"]),
            token=str(doc["token"]),
        )
    except (OSError, orjson.JSONDecodeError, KeyError, TypeError, ValueError) as err:
        raise ControlError(f"run {run_id}: control file {path} is unreadable ({err})") from None
    if info.run_id != run_id:
        raise ControlError(f"run {run_id}: control file {path} names run {info.run_id!r}")
    return info
