"""`quantx kill RUN_ID`: the emergency stop of a running paper (or live) run.

Reads the run's control file (`<out>/<run_id>.control.json`, written 0600 by the run),
POSTs `/kill` to its loopback endpoint with the bearer token from that file, then
waits (`--wait`, the default) until the run has flattened and exited (its control file
is gone). A missing or stale control file, an unreachable endpoint or a refused token
is one line and exit 2."""

from __future__ import annotations

import time
from pathlib import Path

import click

__all__ = ["kill"]


@click.command()
@click.argument("run_id")
@click.option(
    "--out",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path("quantx-data"),
    show_default=True,
    help="The run's output directory (where its control file is).",
)
@click.option("--reason", default="quantx kill", show_default=True, help="Why (journaled).")
@click.option("--wait/--no-wait", default=True, help="Wait for the run to flatten and exit.")
@click.option("--timeout", "timeout_s", type=float, default=120.0, show_default=True)
def kill(run_id: str, out: Path, reason: str, wait: bool, timeout_s: float) -> int:
    """Emergency stop: halt, cancel every order, flatten every position, exit."""
    from adapters.cli.main import UserError
    from adapters.http.client import ControlUnreachable, post_kill
    from adapters.http.control import ControlError, control_path, read_control

    path = control_path(out, run_id)
    try:
        info = read_control(path, run_id)
    except ControlError as err:
        raise UserError(str(err)) from None
    if not info.alive:
        raise UserError(
            f"run {run_id}: control file {path} is stale (pid {info.pid} is not running; "
            "rule: only a running run can be killed)"
        )
    try:
        status, answer = post_kill(info.url, info.token, reason)
    except ControlUnreachable as err:
        raise UserError(f"run {run_id}: its control endpoint does not answer ({err})") from None
    if status == 401:
        raise UserError(
            f"run {run_id}: the control endpoint refused the token (HTTP 401; "
            f"rule: the token in {path})"
        )
    if status != 202:
        raise UserError(f"run {run_id}: kill refused (HTTP {status}: {answer})")
    click.echo(f"run {run_id}: emergency stop requested ({answer.get('reason', reason)})")
    if not wait:
        return 0
    deadline = time.monotonic() + timeout_s
    while path.exists() and info.alive:
        if time.monotonic() > deadline:
            raise UserError(
                f"run {run_id}: still running {timeout_s:g} s after the kill "
                "(rule: see `quantx status` and its journal)"
            )
        time.sleep(0.1)
    click.echo(f"run {run_id}: stopped")
    return 0
