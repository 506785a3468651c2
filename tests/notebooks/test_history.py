"""The simulated history generator against the real database: seeded, flagged simulated, honest truth."""

from __future__ import annotations

from datetime import date

import psycopg
import pytest

from xbot_core.domain.reward import DEFAULT_VERSION
from xbot_core.errors import ConfigError
from xbot_core.services.simulation import history

pytestmark = [pytest.mark.db]
CFG = history.HistoryConfig(seed=11, handle="hist_test", end_day=date(2026, 1, 7), days=8, posts_per_day=6)


def test_same_seed_same_history_and_everything_simulated(clean_db: str) -> None:
    posts_a, _, shifts_a, _ = history.simulate(CFG)
    posts_b, _, shifts_b, _ = history.simulate(CFG)
    assert posts_a.equals(posts_b) and shifts_a == shifts_b
    with psycopg.connect(clean_db) as conn:
        result = history.generate(conn, CFG)
        assert result.posts == 48
        flags = conn.execute(
            "SELECT bool_and(c.simulated), bool_and(o.simulated), count(DISTINCT c.decision_id), count(*)"
            " FROM content_metadata c JOIN outcomes o USING (decision_id)"
        ).fetchone()
        assert flags is not None and flags[0] and flags[1] and flags[2] == 48
        # pass 2 of the last day is not due before the history ends: 48 pass-1 rows, 42 pass-2 rows
        passes = dict(conn.execute("SELECT collected_pass, count(*) FROM outcomes GROUP BY 1").fetchall())
        assert passes == {1: 48, 2: 42}
        stored = conn.execute(
            "SELECT reward_composite FROM outcomes o JOIN content_metadata c USING (decision_id)"
            " WHERE c.decision_id = %s AND collected_pass = 2",
            (posts_a["decision_id"][0],),
        ).fetchone()
        assert stored is not None and stored[0] is not None
        with pytest.raises(ConfigError, match="already has a simulated history"):
            history.generate(conn, CFG)
        conn.rollback()
        again = history.generate(conn, CFG, replace=True)
        assert again.posts == 48
        (count,) = conn.execute("SELECT count(*) FROM content_metadata").fetchone()  # type: ignore[misc]
        assert count == 48


def test_arm_effects_are_the_expected_reward_shift_by_hand() -> None:
    scopes = ("content_type", "hook_pattern", "timing_slot")
    shifts = {
        "fpki": {s: {"a": 0.4, "b": -0.4} for s in scopes},
        "retweet_rate": {s: {"a": 0.001, "b": -0.001} for s in scopes},
        "reply_rate": {s: {"a": -0.0005, "b": 0.0005} for s in scopes},
    }
    effects = history.arm_effects(shifts, DEFAULT_VERSION)
    # a: 0.5·0.4/2 + 0.3·0.001/0.01 + 0.15·(−0.0005)/0.005 = 0.1 + 0.03 − 0.015 = 0.115
    assert {arm: round(v, 5) for arm, v in effects["hook_pattern"].items()} == {"a": 0.115, "b": -0.115}


def test_shifts_are_centred_and_bounded() -> None:
    import numpy as np

    shifts = history.arm_shifts(CFG, np.random.default_rng(3))
    for metric, size in history.SHIFT.items():
        for arms in shifts[metric].values():
            assert abs(sum(arms.values())) < 1e-12 and max(abs(v) for v in arms.values()) <= size + 1e-15


def test_two_accounts_get_histories_in_one_database(clean_db: str) -> None:
    small = history.HistoryConfig(seed=1, handle="hist_a", end_day=date(2026, 1, 7), days=2, posts_per_day=3)
    with psycopg.connect(clean_db) as conn:
        a = history.generate(conn, small)
        b = history.generate(conn, history.HistoryConfig(**{**small.__dict__, "handle": "hist_b"}))
        assert a.account_id != b.account_id
        (n,) = conn.execute("SELECT count(DISTINCT tweet_id) FROM posted_decisions").fetchone()  # type: ignore[misc]
        assert n == 12
