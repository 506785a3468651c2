"""Reward versions in Postgres: the seeded default, creation with validation, activation."""

from __future__ import annotations

import dataclasses

import psycopg
import pytest

from xbot_core.domain.reward import DEFAULT_VERSION
from xbot_core.errors import ConfigError
from xbot_core.services import rewards

pytestmark = pytest.mark.db


def test_default_version_is_seeded_and_active(clean_db: str) -> None:
    with psycopg.connect(clean_db) as conn:
        active = rewards.active_version(conn)
    assert active.version == 1
    assert active.created_at is not None
    assert dataclasses.replace(active, created_at=None, note=None) == DEFAULT_VERSION


def test_create_inherits_unspecified_values_and_activates(clean_db: str) -> None:
    with psycopg.connect(clean_db) as conn:
        v2 = rewards.create_version(conn, w_fpki=0.4, w_dup_penalty=-0.2, note="less fpki")
        assert (v2.version, v2.w_fpki, v2.w_retweet, v2.w_dup_penalty, v2.scale_reply) == (
            2,
            0.4,
            0.3,
            -0.2,
            0.005,
        )
        assert rewards.active_version(conn).version == 1
        v3 = rewards.create_version(conn, w_reply=0.25, activate=True)
        assert rewards.active_version(conn) == v3
        # inherits from the active version (v1 at the time), not from v2
        assert (v3.version, v3.w_fpki, v3.w_reply) == (3, 0.5, 0.25)
        assert [v.is_active for v in rewards.list_versions(conn)] == [False, False, True]
        rewards.activate_version(conn, 1)
        assert rewards.active_version(conn).version == 1
        conn.commit()


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"w_dup_penalty": 0.3}, "penalty weight"),
        ({"w_fpki": float("nan")}, "finite"),
        ({"w_fpki": 0, "w_retweet": 0, "w_reply": 0, "w_novelty": 0}, "at least one"),
        ({"bogus": 1.0}, "unknown"),
    ],
)
def test_invalid_versions_write_nothing(clean_db: str, values: dict[str, float], message: str) -> None:
    with psycopg.connect(clean_db) as conn:
        with pytest.raises(ConfigError, match=message):
            rewards.create_version(conn, activate=True, **values)
        conn.commit()
        assert [v.reward.version for v in rewards.list_versions(conn)] == [1]
        assert rewards.active_version(conn).version == 1


def test_activating_a_missing_version_fails_cleanly(clean_db: str) -> None:
    with psycopg.connect(clean_db) as conn:
        with pytest.raises(ConfigError, match="reward version 9 does not exist"):
            rewards.activate_version(conn, 9)
        assert rewards.active_version(conn).version == 1


def test_emptied_table_is_reseeded(clean_db: str) -> None:
    with psycopg.connect(clean_db) as conn:
        conn.execute("DELETE FROM reward_versions")
        v = rewards.active_version(conn)
        conn.commit()
    assert dataclasses.replace(v, created_at=None, note=None) == DEFAULT_VERSION
