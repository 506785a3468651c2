"""Core repositories: accounts, decisions, the posting queue with leases, outcomes, snapshots, ops control.

Thin: each function runs one named query from sql/queries/core.sql; callers own the transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg import sql
from psycopg.rows import class_row, dict_row

from xbot_core.adapters.db.queries import query

KILL_SWITCH = "kill_switch"


@dataclass(frozen=True)
class DecisionRow:
    """A content_metadata row as the generator writes it (status queued or skipped)."""

    decision_id: UUID
    account_id: int
    content: str | None
    content_hash: str | None
    status: str
    skip_reason: str | None
    generation_source: str
    simulated: bool
    scheduled_at: datetime
    content_type: str
    hook_pattern: str
    timing_slot: str
    policy: str
    p_content_type: float | None = None
    p_hook_pattern: float | None = None
    p_timing_slot: float | None = None
    propensity: float | None = None
    experiment_id: int | None = None
    novelty: float | None = None
    dup_penalty: float | None = None
    readability_score: float | None = None
    sentiment: float | None = None
    llm_model: str | None = None
    prompt_template: str | None = None


@dataclass(frozen=True)
class QueuedPost:
    """A decision in the posting queue (or claimed from it)."""

    decision_id: UUID
    account_id: int
    content: str
    content_hash: str
    scheduled_at: datetime
    simulated: bool


@dataclass(frozen=True)
class ExpiredClaim:
    """A decision left in `posting` after its lease ran out: to be reconciled."""

    decision_id: UUID
    account_id: int
    content: str
    content_hash: str
    scheduled_at: datetime
    simulated: bool
    claimed_by: str
    claimed_at: datetime


@dataclass(frozen=True)
class PendingPass:
    """A collection that is due: (decision, pass) with no stored outcome yet."""

    decision_id: UUID
    account_id: int
    tweet_id: str
    post_url: str | None
    posted_at: datetime
    simulated: bool
    collected_pass: int
    due_at: datetime


@dataclass(frozen=True)
class OutcomeRow:
    """One outcomes row; metrics that are unknown stay None (NULL), never 0."""

    decision_id: UUID
    collected_pass: int
    account_id: int
    due_at: datetime
    collected_at: datetime
    simulated: bool
    status: str = "ok"
    unavailable_reason: str | None = None
    impressions: int | None = None
    likes: int | None = None
    retweets: int | None = None
    replies: int | None = None
    quotes: int | None = None
    bookmarks: int | None = None
    profile_visits: int | None = None
    link_clicks: int | None = None
    follows: float | None = None
    follows_source: str | None = None
    follows_confidence: str | None = None
    er: float | None = None
    fpki: float | None = None
    retweet_rate: float | None = None
    reply_rate: float | None = None
    reward_composite: float | None = None
    reward_version: int | None = None
    missing_metrics: list[str] | None = None  # reward metrics the pass lacks (ok rows); None = not judged


def ensure_account(
    conn: psycopg.Connection, handle: str, x_base_url: str, session_file: str | None, timezone: str = "UTC"
) -> int:
    """Create or update the account row and return its id."""
    row = conn.execute(
        query("ensure_account"),
        {"handle": handle, "x_base_url": x_base_url, "session_file": session_file, "timezone": timezone},
    ).fetchone()
    assert row is not None
    return int(row[0])


def account_timezone(conn: psycopg.Connection, account_id: int) -> str | None:
    """The account's IANA time zone; None when the account does not exist."""
    row = conn.execute(query("account_timezone"), {"account_id": account_id}).fetchone()
    return None if row is None else str(row[0])


def bandit_arms(conn: psycopg.Connection, account_id: int, *, simulated: bool) -> list[dict[str, Any]]:
    """The stored posteriors of one data kind, one dict row per (scope, arm)."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            query("bandit_arms_for_account"), {"account_id": account_id, "simulated": simulated}
        ).fetchall()


def insert_decision(conn: psycopg.Connection, row: DecisionRow) -> bool:
    """Insert a decision; returns False when it already existed (idempotent)."""
    cur = conn.execute(query("insert_decision"), dataclasses.asdict(row))
    return cur.rowcount == 1


def insert_assignment(
    conn: psycopg.Connection,
    experiment_id: int,
    decision_id: UUID,
    variant: str,
    arm: str,
    probability: float,
) -> None:
    conn.execute(
        query("insert_assignment"),
        {
            "experiment_id": experiment_id,
            "decision_id": decision_id,
            "variant": variant,
            "arm": arm,
            "probability": probability,
        },
    )


def claim_next(
    conn: psycopg.Connection, account_id: int, *, now: datetime, worker: str, lease_s: int, grace_s: int = 60
) -> QueuedPost | None:
    """Claim the oldest due queued decision with a lease (FOR UPDATE SKIP LOCKED); None when nothing is due.

    Must run inside a transaction; the claim is visible to other workers once it commits.
    """
    with conn.cursor(row_factory=class_row(QueuedPost)) as cur:
        post = cur.execute(
            query("posting_queue"), {"account_id": account_id, "now": now, "grace_s": grace_s, "limit": 1}
        ).fetchone()
    if post is None:
        return None
    conn.execute(
        query("claim_decision"),
        {"decision_id": post.decision_id, "worker": worker, "now": now, "lease_s": lease_s},
    )
    return post


def expired_claims(conn: psycopg.Connection, account_id: int, *, now: datetime) -> list[ExpiredClaim]:
    """Decisions stuck in `posting` past their lease, locked for this transaction."""
    with conn.cursor(row_factory=class_row(ExpiredClaim)) as cur:
        return cur.execute(query("expired_leases"), {"account_id": account_id, "now": now}).fetchall()


def record_posted(
    conn: psycopg.Connection,
    *,
    decision_id: UUID,
    account_id: int,
    tweet_id: str,
    post_url: str | None,
    posted_at: datetime,
    worker: str | None,
    reconciled: bool = False,
) -> None:
    """posted_decisions row + status posted, in the caller's transaction (one atomic record)."""
    conn.execute(
        query("insert_posted"),
        {
            "decision_id": decision_id,
            "account_id": account_id,
            "tweet_id": tweet_id,
            "post_url": post_url,
            "posted_at": posted_at,
            "reconciled": reconciled,
        },
    )
    if reconciled:
        conn.execute(query("mark_posted_reconciled"), {"decision_id": decision_id})
    else:
        cur = conn.execute(query("mark_posted"), {"decision_id": decision_id, "worker": worker})
        if cur.rowcount != 1:
            raise psycopg.errors.LockNotAvailable(f"decision {decision_id} is no longer claimed by {worker}")


def release_claim(conn: psycopg.Connection, decision_id: UUID, *, status: str, error: str | None) -> None:
    """Return a claimed decision to the queue (status queued) or fail it (status failed)."""
    conn.execute(query("release_claim"), {"decision_id": decision_id, "status": status, "error": error})


def pending_passes(
    conn: psycopg.Connection, account_id: int, *, now: datetime, limit: int = 500
) -> list[PendingPass]:
    """Every due, not yet stored collection pass, oldest due first."""
    with conn.cursor(row_factory=class_row(PendingPass)) as cur:
        return cur.execute(
            query("pending_passes"), {"account_id": account_id, "now": now, "limit": limit}
        ).fetchall()


def upsert_outcome(conn: psycopg.Connection, row: OutcomeRow) -> None:
    """Idempotent write keyed by (decision_id, collected_pass)."""
    conn.execute(query("upsert_outcome"), dataclasses.asdict(row))


def insert_follower_snapshot(
    conn: psycopg.Connection,
    account_id: int,
    *,
    taken_at: datetime,
    followers: int,
    source: str,
    simulated: bool,
) -> None:
    conn.execute(
        query("insert_follower_snapshot"),
        {
            "account_id": account_id,
            "taken_at": taken_at,
            "followers": followers,
            "source": source,
            "simulated": simulated,
        },
    )


def control_row(conn: psycopg.Connection, name: str) -> tuple[Any, ...] | None:
    """(enabled, reason, updated_by, updated_at) of a runtime switch; None when never set."""
    return conn.execute(query("get_control"), {"name": name}).fetchone()


def posting_rate(conn: psycopg.Connection, account_id: int, *, now: datetime) -> tuple[Any, ...] | None:
    """(posts and in-flight claims in the hour before `now`, the last post's time)."""
    return conn.execute(query("posting_rate"), {"account_id": account_id, "now": now}).fetchone()


def lock_account_posting(conn: psycopg.Connection, account_id: int) -> None:
    """Transaction-scoped advisory lock on the account's posting."""
    conn.execute(query("lock_account_posting"), {"account_id": account_id})


def latest_posted(conn: psycopg.Connection, account_id: int) -> tuple[Any, ...] | None:
    """(tweet_id, url, posted_at) of the account's latest published post."""
    return conn.execute(query("latest_posted"), {"account_id": account_id}).fetchone()


def posts_between(
    conn: psycopg.Connection, account_id: int, *, since: datetime, until: datetime
) -> list[tuple[Any, ...]]:
    """(decision_id, posted_at) of the account's posts in the window."""
    return conn.execute(
        query("posts_between"), {"account_id": account_id, "since": since, "until": until}
    ).fetchall()


def snapshots_between(
    conn: psycopg.Connection, account_id: int, *, since: datetime, until: datetime
) -> list[tuple[Any, ...]]:
    """(taken_at, followers) of the account's follower snapshots in the window."""
    return conn.execute(
        query("snapshots_between"), {"account_id": account_id, "since": since, "until": until}
    ).fetchall()


def recent_post_texts(conn: psycopg.Connection, account_id: int, *, since: datetime, limit: int) -> list[str]:
    """Texts of the account's queued and live posts scheduled since `since`, newest first."""
    rows = conn.execute(
        query("recent_account_posts"), {"account_id": account_id, "since": since, "limit": limit}
    ).fetchall()
    return [r[0] for r in rows]


def count_decisions(conn: psycopg.Connection, account_id: int, *, simulated: bool) -> int:
    """The account's decisions of one data kind."""
    name = "history_simulated_rows" if simulated else "history_real_rows"
    row = conn.execute(query(name), {"account_id": account_id}).fetchone()
    return int(row[0]) if row else 0


def clear_simulated_history(conn: psycopg.Connection, account_id: int) -> None:
    """Remove the account's simulated decisions (and what hangs off them) and its experiments."""
    conn.execute(query("history_clear_simulated"), {"account_id": account_id})
    conn.execute(query("history_clear_experiments"), {"account_id": account_id})


def get_control(conn: psycopg.Connection, name: str) -> bool:
    """Whether a runtime switch is on (absent means off)."""
    row = conn.execute(query("get_control"), {"name": name}).fetchone()
    return bool(row and row[0])


def set_control(conn: psycopg.Connection, name: str, *, enabled: bool, reason: str | None, by: str) -> None:
    conn.execute(query("set_control"), {"name": name, "enabled": enabled, "reason": reason, "updated_by": by})


def copy_rows(
    conn: psycopg.Connection, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]
) -> int:
    """Bulk insert with COPY (simulated histories, benchmarks); returns the number of rows written."""
    stmt = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    n = 0
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        for r in rows:
            copy.write_row(r)
            n += 1
    return n


def copy_frame(conn: psycopg.Connection, table: str, frame: Any) -> int:
    """COPY a Polars frame whose column names are the table's (the frame names the columns once)."""
    return copy_rows(conn, table, frame.columns, frame.iter_rows())
