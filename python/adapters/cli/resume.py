"""The configuration a run was started with, read back for `--resume` (paper and live
runs keep theirs in their RunStarted record)."""

from __future__ import annotations

from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from adapters.config import ConfigError

__all__ = ["resumed_config"]

M = TypeVar("M", bound=BaseModel)


def resumed_config(out: Path, run_id: str, mode: str, model: type[M]) -> M:
    """`run_id`'s configuration from the store under `out`; a one-line UserError when
    the store or the run is missing or the run is not a `mode` run, ConfigError when the
    saved configuration no longer loads."""
    from adapters.cli.main import UserError
    from adapters.store.sqlite import RunReader
    from engine.domain.journal import RunStarted
    from engine.ports import StoreError

    path = out / "quantx.db"
    if not path.is_file():
        raise UserError(f"--resume {run_id}: no store at {path}")
    try:
        with RunReader(path) as reader:
            first = next(iter(reader.records(run_id)), None)
    except StoreError as err:
        raise UserError(f"--resume {run_id}: {err}") from None
    if first is None or not isinstance(first[1], RunStarted) or first[1].mode != mode:
        raise UserError(f"--resume {run_id}: not a {mode} run in {path}")
    try:
        return model.model_validate_json(first[1].config_json)
    except ValueError as err:
        raise ConfigError(f"--resume {run_id}: its configuration no longer loads: {err}") from None
