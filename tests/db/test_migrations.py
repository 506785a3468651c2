"""The migration runner against a real server: idempotent, reversible, and refusing edited history."""

from __future__ import annotations

import shutil
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from xbot_core.adapters.db import migrations
from xbot_core.errors import MigrationError

pytestmark = pytest.mark.db

CATALOG = """
SELECT 'column', c.table_name || '.' || c.column_name || ':' || c.data_type || ':' || c.is_nullable
       || ':' || coalesce(c.column_default, '')
  FROM information_schema.columns c WHERE c.table_schema = 'public'
UNION ALL
SELECT 'constraint', t.relname || ':' || pg_get_constraintdef(k.oid)
  FROM pg_constraint k JOIN pg_class t ON t.oid = k.conrelid
  JOIN pg_namespace n ON n.oid = t.relnamespace WHERE n.nspname = 'public'
UNION ALL
SELECT 'index', indexdef FROM pg_indexes WHERE schemaname = 'public'
UNION ALL
SELECT 'trigger', tgname || ':' || tgrelid::regclass::text FROM pg_trigger WHERE NOT tgisinternal
ORDER BY 1, 2
"""


@pytest.fixture()
def empty_db(server_url: str):
    name = "xbot_migrations_test"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    info = psycopg.conninfo.conninfo_to_dict(server_url)
    info["dbname"] = name
    yield psycopg.conninfo.make_conninfo(**info)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def catalog(url: str) -> list[tuple[str, str]]:
    with psycopg.connect(url) as conn:
        return [(r[0], r[1]) for r in conn.execute(CATALOG).fetchall() if "schema_migrations" not in r[1]]


def test_migrate_twice_applies_nothing_the_second_time(empty_db: str) -> None:
    assert migrations.migrate(empty_db) == [m.version for m in migrations.discover()]
    assert migrations.migrate(empty_db) == []
    assert all(s.applied_at is not None and not s.edited for s in migrations.status(empty_db))


def test_rollback_to_zero_then_migrate_gives_identical_catalog(empty_db: str) -> None:
    migrations.migrate(empty_db)
    before = catalog(empty_db)
    assert any(kind == "index" and "content_metadata_queue" in d for kind, d in before)
    undone = migrations.rollback(empty_db, to=0)
    assert undone == sorted(undone, reverse=True) and undone
    assert catalog(empty_db) == []
    migrations.migrate(empty_db)
    assert catalog(empty_db) == before


def test_each_up_migration_is_idempotent_sql(empty_db: str) -> None:
    migrations.migrate(empty_db)
    before = catalog(empty_db)
    with psycopg.connect(empty_db) as conn:
        for m in migrations.discover():
            conn.execute(m.up_sql.encode())
    assert catalog(empty_db) == before


def test_edited_applied_migration_is_refused(empty_db: str, tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, directory)
    migrations.migrate(empty_db, directory=directory)
    first = sorted(directory.glob("0001_*.up.sql"))[0]
    first.write_text(first.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match="edited after it was applied"):
        migrations.migrate(empty_db, directory=directory)
    with pytest.raises(MigrationError, match="edited"):
        migrations.rollback(empty_db, to=0, directory=directory)
    assert migrations.status(empty_db, directory=directory)[0].edited


def test_missing_rollback_file_is_refused(tmp_path: Path) -> None:
    directory = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, directory)
    (directory / "0099_extra.up.sql").write_text("SELECT 1;")
    with pytest.raises(MigrationError, match="rollback"):
        migrations.discover(directory)


def test_migrate_to_stops_at_version(empty_db: str) -> None:
    assert migrations.migrate(empty_db, to=0) == []
    assert migrations.migrate(empty_db, to=1) == [1]


def test_current_version_on_empty_and_migrated(empty_db: str) -> None:
    with psycopg.connect(empty_db) as conn:
        assert migrations.current_version(conn) == 0
    migrations.migrate(empty_db)
    with psycopg.connect(empty_db) as conn:
        assert migrations.current_version(conn) == migrations.discover()[-1].version
