"""Learning leaves incomplete passes out and says how many, under the active reward version's needs."""

from __future__ import annotations

import logging

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from tests.db.learning_data import T0, posted_decision
from xbot_core.services.loop import learning
from xbot_core.services.operations import rewards

pytestmark = pytest.mark.db
NOW = T0.replace(day=7)


def _m(impressions: int, follows: float | None, retweets: int = 10, replies: int = 5) -> dict[str, object]:
    return {"impressions": impressions, "follows": follows, "retweets": retweets, "replies": replies}


def test_incomplete_passes_are_counted_per_run_under_the_active_version(
    db_pool: ConnectionPool, clean_db: str, account_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    with psycopg.connect(clean_db) as conn:
        for _ in range(4):
            posted_decision(conn, account_id, passes={2: _m(1000, 2)})
        posted_decision(conn, account_id, passes={1: _m(1000, None, replies=None), 2: _m(1000, None)})  # type: ignore[arg-type]
        conn.commit()
    with caplog.at_level(logging.WARNING, logger="xbot_core.services.loop.learning"):
        before = learning.learn(db_pool, account_id, simulated=False, now=NOW)
    assert (before.status, before.outcomes_used) == ("insufficient_data", 4)
    assert (
        "learn (reward v1): incomplete_passes_left_out=2 (missing: follows 2, replies 1)" in caplog.messages
    )
    with psycopg.connect(clean_db) as conn:
        rewards.create_version(
            conn, w_fpki=0, w_retweet=0.5, w_reply=0.5, w_novelty=0, w_dup_penalty=0, activate=True
        )
        conn.commit()
    # follows carry no weight now: only pass 1 (no replies) is incomplete
    after = learning.learn(db_pool, account_id, simulated=False, now=NOW)
    with psycopg.connect(clean_db) as conn:
        runs = conn.execute(
            "SELECT status, outcomes_incomplete FROM training_runs ORDER BY run_id"
        ).fetchall()
    assert runs == [("insufficient_data", 2), ("insufficient_data", 1)]
    assert after.outcomes_used == 4  # the complete pass 2 without follows still has no reward (reward.py)
