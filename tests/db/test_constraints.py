"""The database itself rejects bad enum values, passes and placeholder-shaped data."""

from __future__ import annotations

import math
import uuid
from dataclasses import asdict
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import errors

from xbot_core.domain.reward import EXPOSURE_CAP_BOUNDS, SCALE_BOUNDS, WEIGHT_BOUND, RewardVersion
from xbot_core.errors import ConfigError

pytestmark = pytest.mark.db

NOW = datetime(2026, 1, 6, 9, 0, tzinfo=UTC)


def decision(conn: psycopg.Connection, account_id: int, **over: object) -> uuid.UUID:
    row = {
        "decision_id": uuid.uuid4(),
        "account_id": account_id,
        "content": "hello",
        "content_hash": "a" * 64,
        "status": "queued",
        "generation_source": "real",
        "scheduled_at": NOW,
        "content_type": "tip",
        "hook_pattern": "how_to",
        "timing_slot": "morning",
        "policy": "thompson",
        "skip_reason": None,
    }
    row.update(over)
    cols = ", ".join(row)
    vals = ", ".join(f"%({k})s" for k in row)
    conn.execute(f"INSERT INTO content_metadata ({cols}) VALUES ({vals})", row)
    return row["decision_id"]  # type: ignore[return-value]


@pytest.mark.parametrize(
    "over",
    [
        {"status": "published"},
        {"generation_source": "fake"},
        {"policy": "random_guess"},
        {"status": "skipped"},  # skipped needs a skip_reason
        {"novelty": 1.5},
        {"sentiment": -2.0},
        {"propensity": 0.0},
        {"content": None},  # a queued post must have content
        {"content_hash": "not-a-hash"},
    ],
)
def test_bad_decision_values_are_rejected(db_url: str, account_id: int, over: dict) -> None:
    with psycopg.connect(db_url) as conn, pytest.raises(errors.CheckViolation):
        decision(conn, account_id, **over)


def test_bad_pass_and_negative_metrics_rejected(db_url: str, account_id: int) -> None:
    with psycopg.connect(db_url) as conn:
        d = decision(conn, account_id, status="posted")
        conn.execute(
            "INSERT INTO posted_decisions (decision_id, account_id, tweet_id, posted_at)"
            " VALUES (%s, %s, %s, %s)",
            (d, account_id, "1234567890", NOW),
        )
        conn.commit()
        base = (
            "INSERT INTO outcomes (decision_id, collected_pass, account_id, due_at, collected_at, simulated"
        )
        for extra_cols, extra_vals, params in [
            ("", "", (d, 3, account_id, NOW, NOW, False)),
            (", likes", ", %s", (d, 1, account_id, NOW, NOW, False, -1)),
            (", status", ", %s", (d, 1, account_id, NOW, NOW, False, "unavailable")),  # needs a reason
        ]:
            with pytest.raises(errors.CheckViolation):
                conn.execute(f"{base}{extra_cols}) VALUES (%s, %s, %s, %s, %s, %s{extra_vals})", params)
            conn.rollback()


def test_fabricated_tweet_ids_and_duplicates_rejected(db_url: str, account_id: int) -> None:
    with psycopg.connect(db_url) as conn:
        d1 = decision(conn, account_id, status="posted")
        d2 = decision(conn, account_id, status="posted")
        conn.commit()
        ins = (
            "INSERT INTO posted_decisions (decision_id, account_id, tweet_id, posted_at)"
            " VALUES (%s, %s, %s, %s)"
        )
        with pytest.raises(errors.CheckViolation):
            conn.execute(ins, (d1, account_id, "fake_123", NOW))
        conn.rollback()
        conn.execute(ins, (d1, account_id, "111", NOW))
        conn.commit()
        with pytest.raises(errors.UniqueViolation):
            conn.execute(ins, (d2, account_id, "111", NOW))
        conn.rollback()


def test_reward_versions_are_immutable_and_single_active(db_url: str, clean_db: str) -> None:
    with psycopg.connect(db_url) as conn:
        with pytest.raises(errors.CheckViolation, match="immutable"):
            conn.execute("UPDATE reward_versions SET w_fpki = 0.9 WHERE version = 1")
        conn.rollback()
        with pytest.raises(errors.CheckViolation):
            conn.execute(
                "INSERT INTO reward_versions (version, w_fpki, w_retweet, w_reply, w_novelty, w_dup_penalty,"
                " scale_fpki, scale_retweet, scale_reply, exposure_cap)"
                " VALUES (2, 0.5, 0.3, 0.1, 0, 0.2, 1, 1, 1, 1)"
            )  # a positive penalty weight
        conn.rollback()
        conn.execute(
            "INSERT INTO reward_versions (version, w_fpki, w_retweet, w_reply, w_novelty, w_dup_penalty,"
            " scale_fpki, scale_retweet, scale_reply, exposure_cap, is_active)"
            " VALUES (2, 0.5, 0.3, 0.1, 0, -0.2, 1, 1, 1, 1, false)"
        )
        with pytest.raises(errors.UniqueViolation):
            conn.execute("UPDATE reward_versions SET is_active = true WHERE version = 2")
        conn.rollback()


def _bound_cases() -> list[tuple[dict[str, float], bool]]:
    """(values, within bounds?) at and just past every bound of domain/reward.py: the database must agree."""
    up, down = math.inf, -math.inf
    w, (s_lo, s_hi), (c_lo, c_hi) = WEIGHT_BOUND, SCALE_BOUNDS, EXPOSURE_CAP_BOUNDS
    cases: list[tuple[dict[str, float], bool]] = []
    for name in ("w_fpki", "w_retweet", "w_reply", "w_novelty"):
        cases += [({name: w}, True), ({name: math.nextafter(w, up)}, False)]
        cases += [({name: -w}, True), ({name: math.nextafter(-w, down)}, False)]
    cases += [({"w_dup_penalty": -w}, True), ({"w_dup_penalty": math.nextafter(-w, down)}, False)]
    for name in ("scale_fpki", "scale_retweet", "scale_reply"):
        cases += [({name: s_lo}, True), ({name: math.nextafter(s_lo, down)}, False)]
        cases += [({name: s_hi}, True), ({name: math.nextafter(s_hi, up)}, False)]
    cases += [({"exposure_cap": c_lo}, True), ({"exposure_cap": math.nextafter(c_lo, down)}, False)]
    cases += [({"exposure_cap": c_hi}, True), ({"exposure_cap": math.nextafter(c_hi, up)}, False)]
    cases += [
        ({"w_fpki": 1e308}, False),
        ({"w_retweet": math.nan}, False),
        ({"scale_reply": math.inf}, False),
    ]
    return cases


def test_reward_version_bounds_are_enforced_by_the_database(db_url: str, clean_db: str) -> None:
    """Migration 0007: an out-of-bounds version written around the code (psql) is refused by Postgres, at the
    same edges as RewardVersion's own validation (issue 17)."""
    base = {k: v for k, v in asdict(RewardVersion()).items() if k not in ("version", "created_at", "note")}
    cols = ", ".join(["version", *base])
    vals = ", ".join(["%(version)s", *(f"%({k})s" for k in base)])
    insert = f"INSERT INTO reward_versions ({cols}) VALUES ({vals})"
    with psycopg.connect(db_url) as conn:
        for over, within in _bound_cases():
            row = {**base, **over, "version": 99}
            try:
                RewardVersion(**{k: v for k, v in row.items() if k != "version"})
                domain_ok = True
            except ConfigError:
                domain_ok = False
            assert domain_ok is within, over
            if within:
                conn.execute(insert, row)
            else:
                with pytest.raises(errors.CheckViolation, match=r"reward_versions_\w+_bounded"):
                    conn.execute(insert, row)
            conn.rollback()
