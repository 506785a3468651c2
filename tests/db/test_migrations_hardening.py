"""Migration history checks (issue 17): rollback files are checksummed, `db status` fails on edited or
missing history, and databases stamped by the old up-only checksum upgrade without being locked out."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from tests.db.test_migrations import empty_db  # noqa: F401  (fixture)
from xbot_core.adapters.db import migrations
from xbot_core.errors import MigrationError
from xbot_core.settings import PROJECT_DIR

pytestmark = pytest.mark.db


def _copy(tmp_path: Path) -> Path:
    directory = tmp_path / "migrations"
    shutil.copytree(migrations.MIGRATIONS_DIR, directory)
    return directory


def _recorded(url: str) -> dict[int, str]:
    with psycopg.connect(url) as conn:
        return dict(conn.execute("SELECT version, checksum FROM schema_migrations").fetchall())


def test_checksum_covers_the_down_file() -> None:
    m = migrations.discover()[0]
    edited = migrations.Migration(m.version, m.name, m.up_sql, m.down_sql + "\n-- edited\n")
    assert edited.checksum != m.checksum and edited.legacy_checksum == m.legacy_checksum
    moved = migrations.Migration(m.version, m.name, m.up_sql + m.down_sql[:1], m.down_sql[1:])
    assert moved.checksum != m.checksum


def test_edited_down_file_is_refused(empty_db: str, tmp_path: Path) -> None:  # noqa: F811
    directory = _copy(tmp_path)
    migrations.migrate(empty_db, directory=directory)
    down = sorted(directory.glob("0001_*.down.sql"))[0]
    down.write_text(down.read_text() + "\nDROP TABLE IF EXISTS accounts CASCADE;\n")
    with pytest.raises(MigrationError, match="edited after it was applied"):
        migrations.rollback(empty_db, to=0, directory=directory)
    with pytest.raises(MigrationError, match="edited after it was applied"):
        migrations.migrate(empty_db, directory=directory)
    assert migrations.status(empty_db, directory=directory)[0].edited
    with psycopg.connect(empty_db) as conn:  # nothing was rolled back
        assert conn.execute("SELECT to_regclass('accounts') IS NOT NULL").fetchone() == (True,)


def test_legacy_up_only_checksum_is_restamped_by_migrate(empty_db: str, tmp_path: Path) -> None:  # noqa: F811
    migrations.migrate(empty_db)
    first = migrations.discover()[0]
    with psycopg.connect(empty_db) as conn:  # as the pre-issue-17 runner recorded it
        conn.execute("UPDATE schema_migrations SET checksum = %s WHERE version = 1", (first.legacy_checksum,))
    state = migrations.status(empty_db)[0]
    assert state.legacy and not state.edited
    with pytest.raises(MigrationError, match="run `xbot db migrate` once"):
        migrations.rollback(empty_db, to=0)
    assert migrations.migrate(empty_db) == []
    assert _recorded(empty_db)[1] == first.checksum
    assert not migrations.status(empty_db)[0].legacy
    assert 1 in migrations.rollback(empty_db, to=0)


def test_legacy_row_with_edited_up_file_is_still_refused(empty_db: str, tmp_path: Path) -> None:  # noqa: F811
    directory = _copy(tmp_path)
    migrations.migrate(empty_db, directory=directory)
    first = migrations.discover(directory)[0]
    with psycopg.connect(empty_db) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = %s WHERE version = 1", (first.legacy_checksum,))
    up = sorted(directory.glob("0001_*.up.sql"))[0]
    up.write_text(up.read_text() + "\n-- edited\n")
    with pytest.raises(MigrationError, match="edited"):
        migrations.migrate(empty_db, directory=directory)


def test_status_lists_applied_migrations_whose_files_are_missing(empty_db: str, tmp_path: Path) -> None:  # noqa: F811
    migrations.migrate(empty_db)
    nothing = tmp_path / "none"
    nothing.mkdir()
    states = migrations.status(empty_db, directory=nothing)
    assert [(s.version, s.missing) for s in states] == [(m.version, True) for m in migrations.discover()]


def test_rollback_or_migrate_beyond_the_newest_is_an_error(empty_db: str) -> None:  # noqa: F811
    newest = len(migrations.discover())
    with pytest.raises(MigrationError, match="above the newest"):
        migrations.rollback(empty_db, to=newest + 98)
    with pytest.raises(MigrationError, match="between 0 and"):
        migrations.migrate(empty_db, to=-1)


def _db_cli(url: str, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XBOT_DATABASE_URL": url, "PYTHONPATH": str(PROJECT_DIR)}
    return subprocess.run(
        [sys.executable, "-m", "xbot_core.cli", "db", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_DIR,
    )


def test_db_status_exits_non_zero_on_edited_or_missing_history(empty_db: str) -> None:  # noqa: F811
    migrations.migrate(empty_db)
    ok = _db_cli(empty_db, "status")
    assert ok.returncode == 0, ok.stderr
    with psycopg.connect(empty_db) as conn:
        conn.execute("UPDATE schema_migrations SET checksum = repeat('0', 64) WHERE version = 1")
    edited = _db_cli(empty_db, "status")
    assert edited.returncode != 0 and "EDITED AFTER APPLY" in edited.stdout
    assert "Traceback" not in edited.stderr
    with psycopg.connect(empty_db) as conn:
        conn.execute(
            "UPDATE schema_migrations SET checksum = %s WHERE version = 1",
            (migrations.discover()[0].checksum,),
        )
        conn.execute(
            "INSERT INTO schema_migrations (version, name, checksum) VALUES (99, 'ghost', repeat('a', 64))"
        )
    missing = _db_cli(empty_db, "status")
    assert missing.returncode != 0 and "0099_ghost" in missing.stdout and "FILES MISSING" in missing.stdout
    rollback = _db_cli(empty_db, "rollback", "--to", "99")
    assert rollback.returncode != 0 and "Traceback" not in rollback.stderr
