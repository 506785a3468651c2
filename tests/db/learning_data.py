"""Helpers for the learning and planning db tests: posted decisions with outcomes, via the real schema."""

from __future__ import annotations

import itertools
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from xbot_core.adapters.db import repositories as repo
from xbot_core.adapters.db.queries import query
from xbot_core.domain.text import content_hash

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
_tweet_ids = itertools.count(1_900_000_000_000_000_000)


def posted_decision(
    conn: psycopg.Connection,
    account_id: int,
    *,
    simulated: bool = False,
    content_type: str = "tip",
    hook_pattern: str = "how_to",
    timing_slot: str = "morning",
    novelty: float | None = 0.0,
    dup_penalty: float | None = 0.0,
    posted_at: datetime = T0,
    passes: dict[int, dict[str, Any]] | None = None,
) -> uuid.UUID:
    """A posted decision and its outcome rows ({pass: metrics}); returns the decision id."""
    decision_id = uuid.uuid4()
    text = f"post {decision_id}"
    repo.insert_decision(
        conn,
        repo.DecisionRow(
            decision_id=decision_id,
            account_id=account_id,
            content=text,
            content_hash=content_hash(text),
            status="posted",
            skip_reason=None,
            generation_source="real",
            simulated=simulated,
            scheduled_at=posted_at,
            content_type=content_type,
            hook_pattern=hook_pattern,
            timing_slot=timing_slot,
            policy="thompson",
            p_content_type=0.2,
            p_hook_pattern=0.2,
            p_timing_slot=0.25,
            propensity=0.01,
            novelty=novelty,
            dup_penalty=dup_penalty,
        ),
    )
    conn.execute(
        query("insert_posted"),
        {
            "decision_id": decision_id,
            "account_id": account_id,
            "tweet_id": str(next(_tweet_ids)),
            "post_url": None,
            "posted_at": posted_at,
            "reconciled": False,
        },
    )
    for p, metrics in (passes or {}).items():
        due = posted_at + (timedelta(hours=1) if p == 1 else timedelta(hours=24))
        follows = metrics.get("follows")
        repo.upsert_outcome(
            conn,
            repo.OutcomeRow(
                decision_id=decision_id,
                collected_pass=p,
                account_id=account_id,
                due_at=due,
                collected_at=due,
                simulated=simulated,
                follows_source="analytics" if follows is not None else None,
                **metrics,
            ),
        )
    return decision_id
