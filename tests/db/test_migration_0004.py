"""Migration 0004 back-fills marginal propensities of experiment posts on a real server, and rolls back."""

from __future__ import annotations

import uuid

import psycopg
import pytest
from psycopg import sql

from xbot_core.adapters.db import migrations

pytestmark = pytest.mark.db

SHARE = 0.3
# (variant, hook arm, logged p_hook_pattern, generation source); the treatment arm is question_cta
ROWS = {
    "control_other_arm": ("control", "bold_claim", 0.7 * 0.4, "real"),
    "control_treatment_arm": ("control", "question_cta", 0.7 * 0.1, "real"),
    "treatment": ("treatment", "question_cta", SHARE, "real"),
    "synthetic_treatment": ("treatment", "question_cta", SHARE, "synthetic"),
}


@pytest.fixture()
def db_at_0001(server_url: str):
    name = "xbot_migration_0004_test"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(server_url)
    info["dbname"] = name
    url = psycopg.conninfo.make_conninfo(**info)
    migrations.migrate(url, to=1)
    yield url
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _seed(url: str) -> dict[str, uuid.UUID]:
    ids = {key: uuid.uuid4() for key in ROWS}
    with psycopg.connect(url) as conn:
        account = conn.execute(
            "INSERT INTO accounts (handle, x_base_url) VALUES ('m4', 'http://127.0.0.1') RETURNING account_id"
        ).fetchone()[0]
        exp = conn.execute(
            "INSERT INTO experiments (account_id, name, scope, treatment_arm, share, starts_at, ends_at) "
            "VALUES (%s, 'q', 'hook_pattern', 'question_cta', %s, '2026-01-03', '2026-01-05') "
            "RETURNING experiment_id",
            (account, SHARE),
        ).fetchone()[0]
        for key, (variant, arm, p, source) in ROWS.items():
            conn.execute(
                "INSERT INTO content_metadata (decision_id, account_id, status, skip_reason,"
                " generation_source, scheduled_at, content_type, hook_pattern, timing_slot, policy,"
                " p_content_type, p_hook_pattern, p_timing_slot, propensity, experiment_id)"
                " VALUES (%s, %s, 'skipped', 'test', %s, '2026-01-03', 'tip', %s, 'morning', %s, 0.5, %s,"
                " 0.25, %s, %s)",
                (ids[key], account, source, arm, "experiment" if variant == "treatment" else "thompson",
                 p, 0.5 * p * 0.25, exp),
            )  # fmt: skip
            conn.execute(
                "INSERT INTO experiment_assignments (experiment_id, decision_id, variant, arm, probability)"
                " VALUES (%s, %s, %s, %s, %s)",
                (exp, ids[key], variant, arm, SHARE if variant == "treatment" else 1 - SHARE),
            )
        # a post outside any experiment
        ids["no_experiment"] = uuid.uuid4()
        conn.execute(
            "INSERT INTO content_metadata (decision_id, account_id, status, skip_reason, generation_source,"
            " scheduled_at, content_type, hook_pattern, timing_slot, policy, p_content_type, p_hook_pattern,"
            " p_timing_slot, propensity) VALUES (%s, %s, 'skipped', 'test', 'real', '2026-01-01', 'tip',"
            " 'how_to', 'morning', 'thompson', 0.5, 0.2, 0.25, 0.025)",
            (ids["no_experiment"], account),
        )
    return ids


def _state(url: str, ids: dict[str, uuid.UUID], basis: bool = True) -> dict[str, tuple]:
    cols = "p_content_type, p_hook_pattern, p_timing_slot, propensity" + (", propensity_basis" * basis)
    query = f"SELECT {cols} FROM content_metadata WHERE decision_id = %s"
    with psycopg.connect(url) as conn:
        return {
            key: tuple(round(x, 12) if isinstance(x, float) else x for x in row)
            for key, i in ids.items()
            if (row := conn.execute(query, (i,)).fetchone()) is not None
        }


def test_backfill_marginal_propensities_and_roll_back(db_at_0001: str) -> None:
    ids = _seed(db_at_0001)
    before = _state(db_at_0001, ids, basis=False)
    assert 4 in migrations.migrate(db_at_0001)
    after = _state(db_at_0001, ids)
    # control on another arm: (1 − share)·π(arm) is already the marginal 0.3·0 + 0.7·0.4
    assert after["control_other_arm"] == (0.5, 0.28, 0.25, 0.035, "marginal")
    # control on the treatment arm: share + (1 − share)·π(T) = 0.3 + 0.07; the product follows
    assert after["control_treatment_arm"] == (0.5, 0.37, 0.25, round(0.5 * 0.37 * 0.25, 12), "marginal")
    # treatment: π(T) was never logged, so the value stays and is marked
    assert after["treatment"] == (*before["treatment"], "not_marginal")
    # synthetic history never gives control the treatment arm: its logged share is the marginal value
    assert after["synthetic_treatment"] == (*before["synthetic_treatment"], "marginal")
    assert after["no_experiment"] == (*before["no_experiment"], "marginal")
    # running the up SQL again changes nothing (idempotent: no second share added)
    with psycopg.connect(db_at_0001) as conn:
        conn.execute(next(m for m in migrations.discover() if m.version == 4).up_sql.encode())
    assert _state(db_at_0001, ids) == after
    # new rows default to the marginal basis
    with psycopg.connect(db_at_0001) as conn:
        default = conn.execute(
            "SELECT column_default FROM information_schema.columns "
            "WHERE table_name = 'content_metadata' AND column_name = 'propensity_basis'"
        ).fetchone()[0]
    assert default == "'marginal'::text"
    migrations.rollback(db_at_0001, to=1)
    assert _state(db_at_0001, ids, basis=False) == before
