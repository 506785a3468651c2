"""The database itself rejects bad enum values, passes and placeholder-shaped data."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import psycopg
import pytest
from psycopg import errors

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
