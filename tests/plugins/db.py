"""Database fixtures: a real Postgres server, one fresh migrated database per test session.

XBOT_TEST_DATABASE_URL points the suite at any server (CI runs the db tests a second time against Debian's
PostgreSQL 15 over 127.0.0.1); unset, the embedded server from the pip wheel is started under /tmp.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql
from psycopg_pool import ConnectionPool

from xbot_core.adapters.db import embedded, migrations

TEST_PGDATA = Path(os.environ.get("XBOT_TEST_PGDATA", f"/tmp/xbot-test-{os.getuid()}/pgdata"))
# tables emptied between tests; reward_versions keeps its migrated default row
_TABLES = (
    "outcomes",
    "posted_decisions",
    "experiment_assignments",
    "content_metadata",
    "experiments",
    "follower_snapshots",
    "bandit_arms",
    "training_runs",
    "llm_usage",
    "llm_budget_days",
    "ops_control",
    "imported_reads",
    "imported_post_rows",
    "content_type_labels",
    "accounts",
)


def _with_dbname(url: str, dbname: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(url)
    info["dbname"] = dbname
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


@pytest.fixture(scope="session")
def server_url() -> str:
    """URL of the server under test (its maintenance database)."""
    url = os.environ.get("XBOT_TEST_DATABASE_URL")
    if url:
        return url
    return embedded.start(TEST_PGDATA)


@pytest.fixture(scope="session")
def fresh_database(server_url: str) -> Iterator[str]:
    """An empty database of its own for this session (dropped at the end)."""
    name = f"xbot_test_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield _with_dbname(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture(scope="session")
def db_url(fresh_database: str) -> str:
    """A migrated database (all migrations applied)."""
    migrations.migrate(fresh_database)
    return fresh_database


@pytest.fixture(scope="session")
def db_pool(db_url: str) -> Iterator[ConnectionPool]:
    pool = ConnectionPool(db_url, min_size=1, max_size=6, open=False)
    pool.open(wait=True, timeout=15)
    yield pool
    pool.close()


@pytest.fixture()
def clean_db(db_url: str) -> str:
    """The migrated database with every data table emptied (default reward version kept)."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(
                sql.SQL(", ").join(sql.Identifier(t) for t in _TABLES)
            )
        )
        conn.execute("DELETE FROM reward_versions WHERE version > 1")
        conn.execute("UPDATE reward_versions SET is_active = (version = 1)")
    return db_url


@pytest.fixture()
def account_id(clean_db: str) -> int:
    """One account row in the clean database."""
    with psycopg.connect(clean_db) as conn:
        row = conn.execute(
            "INSERT INTO accounts (handle, x_base_url) VALUES ('xbot_test', 'http://127.0.0.1:1')"
            " RETURNING account_id"
        ).fetchone()
        assert row is not None
        return int(row[0])
