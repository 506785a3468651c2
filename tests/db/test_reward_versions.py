"""Reward versions in Postgres: the seeded default, creation with validation, activation."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Iterator

import psycopg
import pytest

from xbot_core.domain.reward import DEFAULT_VERSION
from xbot_core.errors import ConfigError
from xbot_core.services.operations import rewards

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


@pytest.fixture()
def cli_env(clean_db: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    from xbot_core.settings import get_settings

    monkeypatch.setenv("XBOT_DATABASE_URL", clean_db)
    get_settings.cache_clear()
    yield clean_db
    get_settings.cache_clear()


def test_reward_cli_show_new_activate(cli_env: str) -> None:
    from typer.testing import CliRunner

    from xbot_core.commands.reward import app

    runner = CliRunner()
    shown = runner.invoke(app, ["show"])
    assert shown.exit_code == 0, shown.output
    assert re.search(
        r"^\*\s+1\s+0\.5\s+0\.3\s+0\.15\s+0\.05\s+-0\.1\s+2\s+0\.01\s+0\.005\s+1000", shown.output, re.M
    )
    made = runner.invoke(
        app,
        [
            "new",
            "--fpki",
            "0.4",
            "--retweet",
            "0.3",
            "--reply",
            "0.2",
            "--novelty",
            "0.1",
            "--dup-penalty",
            "-0.2",
            "--activate",
            "--note",
            "more replies",
        ],
    )
    assert made.exit_code == 0, made.output
    assert "created reward version 2: active" in made.output
    shown = runner.invoke(app, ["show"])
    assert re.search(r"^\*\s+2\s+0\.4\s+0\.3\s+0\.2\s+0\.1\s+-0\.2\s+2\s.*more replies$", shown.output, re.M)
    assert re.search(r"^ \s+1\s", shown.output, re.M)
    bad = runner.invoke(app, ["new", "--dup-penalty", "0.5"])
    assert bad.exit_code != 0 and isinstance(bad.exception, ConfigError)
    assert "w_dup_penalty is a penalty weight and must be ≤ 0" in str(bad.exception)
    assert runner.invoke(app, ["activate", "1"]).exit_code == 0
    with psycopg.connect(cli_env) as conn:
        assert rewards.active_version(conn).version == 1
        assert [v.reward.version for v in rewards.list_versions(conn)] == [1, 2]
