"""`xbot stop | resume | post | collect`: the emergency stop, and one-off runs of posting and collection.

Plain functions; the CLI mounts each as a top-level command. post and collect are the flows' steps.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from dataclasses import asdict
from typing import Annotated, Any

import typer

from xbot_core.commands.account import AccountOption
from xbot_core.errors import ConfigError
from xbot_core.services import steps, wiring
from xbot_core.services.loop import posting
from xbot_core.services.operations import ops
from xbot_core.settings import get_settings


def _who() -> str:
    try:
        return getpass.getuser()
    except Exception:
        return "unknown"


def _echo(data: dict[str, Any]) -> None:
    typer.echo(json.dumps(data, indent=2, default=str))


def stop(
    reason: Annotated[str, typer.Option("--reason", "-r", help="Why posting stops (kept in ops_control).")],
    by: Annotated[str | None, typer.Option(help="Who stops it (default: the OS user).")] = None,
) -> None:
    """Emergency stop: engage the kill switch. Every worker sees it before its next publish; no restart."""
    if not reason.strip():
        raise ConfigError("--reason must say why posting stops (it is kept in ops_control); got an empty one")
    with wiring.open_deps(get_settings()) as deps:
        ops.stop(deps.pool, reason=reason, by=by or _who())
        with deps.pool.connection() as conn:
            ks = ops.kill_switch(conn)
    typer.echo(f"kill switch ENGAGED by {ks.updated_by} at {ks.updated_at}: {ks.reason}")


def resume(
    by: Annotated[str | None, typer.Option(help="Who resumes (default: the OS user).")] = None,
) -> None:
    """Release the kill switch: posting resumes at the next post_due run."""
    with wiring.open_deps(get_settings()) as deps:
        ops.resume(deps.pool, by=by or _who())
    typer.echo("kill switch released: posting resumes at the next run")


def post(
    max_posts: Annotated[int, typer.Option("--max", min=1, help="Publish at most this many.")] = 1,
    status: Annotated[
        bool, typer.Option("--status", help="Show queue, guards and kill switch; post nothing.")
    ] = False,
    account: AccountOption = None,
) -> None:
    """Run the posting step once: reconcile expired claims, then publish what is due (exactly once)."""
    with wiring.open_deps(get_settings(), account) as deps:
        if status:
            _echo(posting.queue_status(deps.pool, deps.account_id, now=deps.now(), settings=deps.settings))
        else:
            _echo(asyncio.run(steps.post_step(deps, max_posts=max_posts)).as_dict())


def collect(
    limit: Annotated[int, typer.Option(min=1, help="At most this many passes in this run.")] = 500,
    account: AccountOption = None,
) -> None:
    """Run the collection step once: every due pass (T+1h, T+24h) not stored yet, plus a follower snapshot."""
    with wiring.open_deps(get_settings(), account) as deps:
        _echo(asdict(asyncio.run(steps.collect_step(deps, limit=limit))))
