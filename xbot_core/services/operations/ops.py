"""Operational guards of posting: kill switch, mode, hourly cap and minimum interval.

Every guard fails closed: when the database cannot answer, the answer is "do not post".
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import psycopg
from psycopg_pool import ConnectionPool, PoolTimeout

from xbot_core.adapters.db import repositories as repo
from xbot_core.settings import Settings

log = logging.getLogger("xbot.ops")

BlockReason = Literal["kill_switch", "shadow_mode", "hourly_cap", "min_interval", "db_error"]
DB_ERRORS: tuple[type[BaseException], ...] = (psycopg.Error, PoolTimeout)


@dataclass(frozen=True)
class Gate:
    """Whether a publish may happen now; `reason` and `detail` say why not."""

    allowed: bool
    reason: BlockReason | None = None
    detail: str = ""


OPEN = Gate(True)


@dataclass(frozen=True)
class KillSwitchState:
    """The kill switch as stored in ops_control (absent row = off)."""

    engaged: bool
    reason: str | None
    updated_by: str | None
    updated_at: datetime | None


def kill_switch(conn: psycopg.Connection) -> KillSwitchState:
    """Read the kill switch row (raises on database errors; callers decide how to fail)."""
    row = repo.control_row(conn, repo.KILL_SWITCH)
    if row is None:
        return KillSwitchState(False, None, None, None)
    return KillSwitchState(bool(row[0]), row[1], row[2], row[3])


def stop(pool: ConnectionPool, *, reason: str, by: str) -> None:
    """Engage the kill switch: no publish starts after this commits, in any process, without a restart."""
    if not reason.strip():
        raise ValueError("a reason is required to stop posting")
    with pool.connection() as conn, conn.transaction():
        repo.set_control(conn, repo.KILL_SWITCH, enabled=True, reason=reason.strip(), by=by)
    log.warning("[ops] kill switch engaged by %s: %s", by, reason.strip())


def resume(pool: ConnectionPool, *, by: str) -> None:
    """Release the kill switch."""
    with pool.connection() as conn, conn.transaction():
        repo.set_control(conn, repo.KILL_SWITCH, enabled=False, reason=None, by=by)
    log.warning("[ops] kill switch released by %s", by)


def kill_switch_gate(conn: psycopg.Connection) -> Gate:
    """The check made right before every publish; a database error blocks."""
    try:
        ks = kill_switch(conn)
    except DB_ERRORS as exc:
        return Gate(False, "db_error", f"kill switch unreadable: {type(exc).__name__}: {exc}")
    if ks.engaged:
        return Gate(False, "kill_switch", f"stopped by {ks.updated_by}: {ks.reason}")
    return OPEN


def rate_gate(
    conn: psycopg.Connection, account_id: int, *, now: datetime, max_per_hour: int, min_interval_s: int
) -> Gate:
    """Hourly cap and minimum interval, counting in-flight claims as posts; a database error blocks."""
    try:
        row = repo.posting_rate(conn, account_id, now=now)
    except DB_ERRORS as exc:
        return Gate(False, "db_error", f"posting rate unreadable: {type(exc).__name__}: {exc}")
    last_hour, last_post_at = (int(row[0]), row[1]) if row else (0, None)
    if last_hour >= max_per_hour:
        return Gate(False, "hourly_cap", f"{last_hour} posts in the last hour (cap {max_per_hour})")
    if last_post_at is not None and now - last_post_at < timedelta(seconds=min_interval_s):
        wait = min_interval_s - (now - last_post_at).total_seconds()
        return Gate(False, "min_interval", f"last post at {last_post_at.isoformat()}; wait {wait:.0f} s more")
    return OPEN


def posting_gate(conn: psycopg.Connection, account_id: int, *, now: datetime, settings: Settings) -> Gate:
    """Mode, kill switch and rate limits together, in that order."""
    if settings.mode != "live":
        return Gate(False, "shadow_mode", "XBOT_MODE=shadow: never publishes")
    gate = kill_switch_gate(conn)
    if not gate.allowed:
        return gate
    return rate_gate(
        conn,
        account_id,
        now=now,
        max_per_hour=settings.max_posts_per_hour,
        min_interval_s=settings.min_post_interval_s,
    )


def lock_account(conn: psycopg.Connection, account_id: int) -> None:
    """Transaction-scoped lock so the rate check and the claim of one account are never interleaved."""
    repo.lock_account_posting(conn, account_id)
