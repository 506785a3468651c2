"""The drift alarm of the learn step on the real schema: in the run's message and the learning status."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from tests.db.learning_data import T0, posted_decision
from xbot_core.services import learning, status

pytestmark = pytest.mark.db


def _metrics(follows: int) -> dict[str, object]:
    return {"impressions": 1000, "follows": follows, "retweets": 0, "replies": 0}


def test_learning_raises_the_drift_alarm(
    db_pool: ConnectionPool, clean_db: str, account_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    with psycopg.connect(clean_db) as conn:
        # reward = 0.5 · fpki / 2 = 0.25 · follows: days 0–5 alternate 0.25 / 0.5, days 10–15 1.25 / 1.5
        for day in range(6):
            posted_decision(
                conn, account_id, posted_at=T0 + timedelta(days=day), passes={2: _metrics(1 + day % 2)}
            )
            posted_decision(
                conn, account_id, posted_at=T0 + timedelta(days=10 + day), passes={2: _metrics(5 + day % 2)}
            )
        conn.commit()
    with caplog.at_level(logging.INFO, logger="xbot_core.services.learning"):
        result = learning.learn(db_pool, account_id, simulated=False, now=T0 + timedelta(days=20))
    # means 0.375 → 1.375, sample variances 0.01875: z = 1 / √(2 · 0.01875 / 6) = 12.6; every post is
    # tip / how_to / morning, so each scope's arm drifts the same way
    expected = "drift_alarm=" + "; ".join(
        f"{s}:{a} 0.375→1.375 (z=+12.6)"
        for s, a in (("content_type", "tip"), ("hook_pattern", "how_to"), ("timing_slot", "morning"))
    )
    assert result.status == "trained" and result.message.endswith(expected)
    assert result.message in caplog.messages
    with psycopg.connect(clean_db) as conn:
        got = status.learning_status(
            conn, handle="xbot_test", simulated=False, budget_day=date(2026, 1, 25), default_limit_usd=1.0
        )
    assert got.lastTrainingRun is not None and got.lastTrainingRun.message == result.message
