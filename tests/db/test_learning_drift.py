"""The drift alarm of the learn step on the real schema: in the run's message, stored as data and shown as
its own field of the learning status; its thresholds, the discount and the window set by XBOT_ settings."""

from __future__ import annotations

import logging
from datetime import date, timedelta

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from tests.db.learning_data import T0, posted_decision
from xbot_core.services import steps, wiring
from xbot_core.services.loop import learning
from xbot_core.services.read import status
from xbot_core.settings import load_settings

pytestmark = pytest.mark.db


def _metrics(follows: int) -> dict[str, object]:
    return {"impressions": 1000, "follows": follows, "retweets": 0, "replies": 0}


def _seed_drift(clean_db: str, account_id: int) -> None:
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


def _status(clean_db: str) -> status.LearningStatus:
    with psycopg.connect(clean_db) as conn:
        return status.learning_status(
            conn, handle="xbot_test", simulated=False, budget_day=date(2026, 1, 25), default_limit_usd=1.0
        )


def test_learning_raises_the_drift_alarm(
    db_pool: ConnectionPool, clean_db: str, account_id: int, caplog: pytest.LogCaptureFixture
) -> None:
    _seed_drift(clean_db, account_id)
    with caplog.at_level(logging.INFO, logger="xbot_core.services.loop.learning"):
        result = learning.learn(db_pool, account_id, simulated=False, now=T0 + timedelta(days=20))
    # means 0.375 → 1.375, sample variances 0.01875: z = 1 / √(2 · 0.01875 / 6) = 12.6; every post is
    # tip / how_to / morning, so each scope's arm drifts the same way
    expected = "drift_alarm=" + "; ".join(
        f"{s}:{a} 0.375→1.375 (z=+12.6)"
        for s, a in (("content_type", "tip"), ("hook_pattern", "how_to"), ("timing_slot", "morning"))
    )
    assert result.status == "trained" and result.message.endswith(expected)
    assert result.message in caplog.messages
    got = _status(clean_db)
    assert got.lastTrainingRun is not None and got.lastTrainingRun.message == result.message
    # the same alarm as its own field: the default thresholds and each arm's figures
    assert got.driftAlarm is not None and got.driftAlarm.raised
    assert (got.driftAlarm.recentDays, got.driftAlarm.minPosts, got.driftAlarm.zAlarm) == (7, 5, 3.0)
    assert got.driftAlarm.runId == result.run_id
    assert [(a.scope, a.arm, a.n_recent, a.n_before) for a in got.driftAlarm.arms] == [
        ("content_type", "tip", 6, 6),
        ("hook_pattern", "how_to", 6, 6),
        ("timing_slot", "morning", 6, 6),
    ]
    tip = got.driftAlarm.arms[0]
    assert (tip.mean_before, tip.mean_recent) == (pytest.approx(0.375), pytest.approx(1.375))
    assert tip.z == pytest.approx(1 / (2 * 0.01875 / 6) ** 0.5)


def test_settings_set_the_window_discount_and_drift_thresholds_of_the_learn_step(
    db_pool: ConnectionPool, clean_db: str, account_id: int
) -> None:
    """XBOT_BANDIT_* and XBOT_DRIFT_* reach the learn step through the wiring."""
    _seed_drift(clean_db, account_id)
    settings = load_settings(
        _env_file=None,
        database_url=clean_db,
        account_handle="xbot_test",
        x_base_url="https://x.com",  # real data, like the seeded rows
        bandit_discount=0.5,
        bandit_window_days=7,
        drift_recent_days=3,
        drift_min_posts=2,
        drift_z_alarm=20.0,
    )
    deps = wiring.deps_for(settings, db_pool)
    assert deps.account_id == account_id
    result = steps.learn_step(deps, now=T0 + timedelta(days=20))
    assert result.status == "trained"
    # |z| 12.6 would raise the default alarm, not one at 20; the window and discount are named in the log
    assert result.message.endswith(" discount=0.5 window_days=7") and "drift_alarm" not in result.message
    got = _status(clean_db)
    assert got.driftAlarm is not None and not got.driftAlarm.raised and got.driftAlarm.arms == []
    assert (got.driftAlarm.recentDays, got.driftAlarm.minPosts, got.driftAlarm.zAlarm) == (3, 2, 20.0)
    tip = next(a for a in got.arms if a.name == "tip")
    # window: collected days 11–16 only (the newest collected at day 16, 7 days back), so 6 of 12 posts;
    # discount 0.5 per newer post, rewards newest first 1.5, 1.25, 1.5, 1.25, 1.5, 1.25, exposure weight 1,
    # scaled by 3: successes = (1.5 + 0.625 + 0.375 + 0.15625 + 0.09375 + 0.0390625) / 3 = 0.9296875,
    # failures = (1 + 0.5 + … + 0.5⁵) − successes = 1.96875 − 0.9296875 = 1.0390625
    assert tip.sample_count == 6
    assert (round(tip.successes, 7), round(tip.failures, 7)) == (0.9296875, 1.0390625)
