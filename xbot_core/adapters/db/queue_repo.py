"""More of the posting queue (beside repositories.claim_next / record_posted / release_claim): work counts,
claim attempts, shadow skips, errors noted on a claim, tweet ids already recorded.

Thin: each function runs one named query; callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from uuid import UUID

import psycopg

from xbot_core.adapters.db.queries import query


def posting_work(
    conn: psycopg.Connection, account_id: int, *, now: datetime, grace_s: int
) -> tuple[int, int]:
    """(due queued decisions, expired claims) of the account."""
    row = conn.execute(
        query("posting_work"), {"account_id": account_id, "now": now, "grace_s": grace_s}
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)


def claim_attempts(conn: psycopg.Connection, decision_id: UUID) -> int | None:
    """How many times the decision has been claimed (None: no such decision)."""
    row = conn.execute(query("claim_attempts"), {"decision_id": decision_id}).fetchone()
    return None if row is None else int(row[0])


def skip_due(conn: psycopg.Connection, account_id: int, *, now: datetime, grace_s: int, reason: str) -> int:
    """Close every due queued decision as skipped with `reason`; returns how many."""
    rows = conn.execute(
        query("skip_due_decisions"),
        {"account_id": account_id, "now": now, "grace_s": grace_s, "reason": reason},
    ).fetchall()
    return len(rows)


def note_claim_error(conn: psycopg.Connection, decision_id: UUID, error: str) -> None:
    """Keep the error on a claim whose publish outcome is unknown (the claim itself stays)."""
    conn.execute(query("note_claim_error"), {"decision_id": decision_id, "error": error[:2000]})


def posted_tweet_ids(conn: psycopg.Connection, account_id: int, tweet_ids: Sequence[str]) -> set[str]:
    """Which of `tweet_ids` are already recorded for the account."""
    rows = conn.execute(query("posted_tweet_ids"), {"account_id": account_id, "tweet_ids": list(tweet_ids)})
    return {r[0] for r in rows}


def queue_summary(conn: psycopg.Connection, account_id: int) -> dict[str, dict[str, object]]:
    """Per status: how many, the oldest scheduled time and the oldest lease (`xbot post --status`)."""
    rows = conn.execute(query("queue_summary"), {"account_id": account_id}).fetchall()
    return {r[0]: {"n": r[1], "oldest_scheduled": r[2], "oldest_lease": r[3]} for r in rows}
