"""Migration 0007 (reward bounds) on a database that already holds reward versions outside the new bounds:
the migration stops naming them (nothing of it applied), and goes through once they are removed."""

from __future__ import annotations

import psycopg
import pytest

from tests.db.test_migrations import empty_db  # noqa: F401  (fixture)
from xbot_core.adapters.db import migrations
from xbot_core.errors import MigrationError

pytestmark = pytest.mark.db

COLUMNS = (
    "w_fpki, w_retweet, w_reply, w_novelty, w_dup_penalty, scale_fpki, scale_retweet, scale_reply,"
    " exposure_cap"
)
# version -> its values; all pass 0001's checks, 2, 3 and 5 fail 0007's (4 sits on every edge of them)
VERSIONS: dict[int, tuple[float, ...]] = {
    2: (10.5, 0.3, 0.15, 0.05, -0.1, 1.0, 0.01, 0.005, 1000.0),  # a weight above 10
    3: (0.5, 0.3, 0.15, 0.05, -0.1, 1.0, 0.01, 2e6, 1000.0),  # a scale above 1e6
    4: (10.0, -10.0, 0.15, 0.05, -10.0, 1e-6, 1e6, 0.005, 1e9),  # on the bounds: kept
    5: (0.5, 0.3, 0.15, 0.05, -0.1, 1.0, 0.01, 0.005, float("nan")),  # NaN passes `> 0`, not BETWEEN
}
BOUNDS = (
    "reward_versions_weights_bounded",
    "reward_versions_scales_bounded",
    "reward_versions_exposure_cap_bounded",
)


def _constraints(conn: psycopg.Connection) -> set[str]:
    rows = conn.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = 'reward_versions'::regclass"
    ).fetchall()
    return {r[0] for r in rows} & set(BOUNDS)


def test_out_of_bounds_versions_stop_the_migration_naming_them(empty_db: str) -> None:  # noqa: F811
    migrations.migrate(empty_db, to=6)
    with psycopg.connect(empty_db) as conn:
        for version, values in VERSIONS.items():
            conn.execute(
                f"INSERT INTO reward_versions (version, {COLUMNS}) VALUES (%s, {', '.join(['%s'] * 9)})",
                (version, *values),
            )

    with pytest.raises(
        MigrationError, match=r"0007_reward_bounds failed: reward_versions 2, 3, 5 are out"
    ) as exc:
        migrations.migrate(empty_db)
    assert isinstance(exc.value.__cause__, psycopg.errors.CheckViolation)
    with psycopg.connect(empty_db) as conn:
        assert migrations.current_version(conn) == 6  # nothing of 0007 (or after it) applied
        assert _constraints(conn) == set()
        kept = conn.execute("SELECT version FROM reward_versions ORDER BY version").fetchall()
        assert [v for (v,) in kept] == [1, 2, 3, 4, 5]  # the migration changes no row itself

        conn.execute("DELETE FROM reward_versions WHERE version IN (2, 3, 5)")  # what its message asks
    assert 7 in migrations.migrate(empty_db)
    with psycopg.connect(empty_db) as conn:
        assert _constraints(conn) == set(BOUNDS)
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                f"INSERT INTO reward_versions (version, {COLUMNS}) VALUES (6, {', '.join(['%s'] * 9)})",
                VERSIONS[2],
            )
