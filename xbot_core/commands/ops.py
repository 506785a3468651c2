"""`xbot stop | resume | post | collect`: the emergency stop, and one-off runs of posting and collection.

Plain functions; the CLI mounts each as a top-level command. They call the same services the flows call.
"""

from __future__ import annotations

import asyncio
import getpass
import json
from dataclasses import asdict
from typing import Annotated, Any

import typer

from xbot_core.adapters.db.queries import query
from xbot_core.errors import ConfigError
from xbot_core.services import collection, ops, posting
from xbot_core.services.runtime import Runtime, open_runtime, open_x


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
    with open_runtime() as rt:
        ops.stop(rt.pool, reason=reason, by=by or _who())
        with rt.pool.connection() as conn:
            ks = ops.kill_switch(conn)
    typer.echo(f"kill switch ENGAGED by {ks.updated_by} at {ks.updated_at}: {ks.reason}")


def resume(
    by: Annotated[str | None, typer.Option(help="Who resumes (default: the OS user).")] = None,
) -> None:
    """Release the kill switch: posting resumes at the next post_due run."""
    with open_runtime() as rt:
        ops.resume(rt.pool, by=by or _who())
    typer.echo("kill switch released: posting resumes at the next run")


def _status(rt: Runtime) -> dict[str, Any]:
    now = rt.now()
    with rt.pool.connection() as conn:
        ks = ops.kill_switch(conn)
        queue = conn.execute(query("queue_summary"), {"account_id": rt.account_id}).fetchall()
        gate = ops.rate_gate(
            conn,
            rt.account_id,
            now=now,
            max_per_hour=rt.settings.max_posts_per_hour,
            min_interval_s=rt.settings.min_post_interval_s,
        )
    due, expired = posting.pending_work(rt.pool, rt.account_id, now=now)
    return {
        "account": rt.settings.account_handle,
        "now": now,
        "mode": rt.settings.mode,
        "kill_switch": asdict(ks),
        "rate": "open" if gate.allowed else f"{gate.reason}: {gate.detail}",
        "due_now": due,
        "expired_claims": expired,
        "queue": {r[0]: {"n": r[1], "oldest_scheduled": r[2], "oldest_lease": r[3]} for r in queue},
    }


async def _post(rt: Runtime, max_posts: int) -> dict[str, Any]:
    now = rt.now()
    if rt.settings.mode != "live":
        return {
            "mode": rt.settings.mode,
            "skipped": posting.skip_due_in_shadow(rt.pool, rt.account_id, now=now),
        }
    due, expired = posting.pending_work(rt.pool, rt.account_id, now=now)
    if due == 0 and expired == 0:
        return {"mode": "live", "posts": [], "note": "nothing due, no expired claims"}
    async with open_x(rt) as x:
        rec = await posting.reconcile(rt.pool, x, account_id=rt.account_id, now=now, settings=rt.settings)
        results = await posting.post_due(
            rt.pool, x, account_id=rt.account_id, now=now, settings=rt.settings, max_posts=max_posts
        )
    return {"mode": "live", "reconciled": asdict(rec), "posts": [asdict(r) for r in results]}


def post(
    max_posts: Annotated[int, typer.Option("--max", min=1, help="Publish at most this many.")] = 1,
    status: Annotated[
        bool, typer.Option("--status", help="Show queue, guards and kill switch; post nothing.")
    ] = False,
) -> None:
    """Run the posting step once: reconcile expired claims, then publish what is due (exactly once)."""
    with open_runtime() as rt:
        _echo(_status(rt) if status else asyncio.run(_post(rt, max_posts)))


def collect(
    limit: Annotated[int, typer.Option(min=1, help="At most this many passes in this run.")] = 500,
) -> None:
    """Run the collection step once: every due pass (T+1h, T+24h) not stored yet, plus a follower snapshot."""

    async def run(rt: Runtime) -> collection.CollectionReport:
        if not rt.settings.real_metrics_enabled:
            return collection.CollectionReport(skipped="XBOT_REAL_METRICS_ENABLED=false")
        async with open_x(rt) as x:
            return await collection.collect_due(
                rt.pool,
                x,
                account_id=rt.account_id,
                now=rt.now(),
                settings=rt.settings,
                simulated=rt.simulated,
                limit=limit,
            )

    with open_runtime() as rt:
        _echo(asdict(asyncio.run(run(rt))))
