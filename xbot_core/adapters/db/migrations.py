"""Numbered SQL migrations with rollbacks: applied once each, in a transaction, recorded with a checksum.

The runner refuses to run when an applied migration's file was edited since it was applied.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

from xbot_core.errors import MigrationError
from xbot_core.settings import PROJECT_DIR

MIGRATIONS_DIR = PROJECT_DIR / "sql" / "migrations"
_FILE = re.compile(r"^(\d{4})_([a-z0-9_]+)\.(up|down)\.sql$")
# one lock id for the whole workspace: two migrators never interleave
_LOCK_ID = 7_100_042

_BOOTSTRAP = """
CREATE TABLE IF NOT EXISTS schema_migrations (
    version     integer PRIMARY KEY CHECK (version > 0),
    name        text NOT NULL,
    checksum    text NOT NULL CHECK (checksum ~ '^[0-9a-f]{64}$'),
    applied_at  timestamptz NOT NULL DEFAULT now()
)
"""


@dataclass(frozen=True)
class Migration:
    """One numbered migration: its forward and rollback SQL."""

    version: int
    name: str
    up_sql: str
    down_sql: str

    @property
    def checksum(self) -> str:
        return hashlib.sha256(self.up_sql.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class MigrationState:
    """A migration and whether (and when) it is applied."""

    version: int
    name: str
    applied_at: datetime | None
    edited: bool


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """All migrations in version order; every up file needs its down file; numbers are unique and >= 1."""
    ups: dict[int, tuple[str, Path]] = {}
    downs: dict[int, Path] = {}
    for path in sorted(directory.glob("*.sql")):
        m = _FILE.match(path.name)
        if not m:
            raise MigrationError(f"unexpected file in {directory}: {path.name} (want NNNN_name.up|down.sql)")
        version, name, kind = int(m.group(1)), m.group(2), m.group(3)
        if kind == "up":
            if version in ups:
                raise MigrationError(f"two up migrations numbered {version:04d}")
            ups[version] = (name, path)
        else:
            downs[version] = path
    if set(ups) != set(downs):
        raise MigrationError(f"migrations without a rollback or vice versa: {sorted(set(ups) ^ set(downs))}")
    if any(v < 1 for v in ups):  # numbers are assigned per change, so gaps are allowed (applied in order)
        raise MigrationError(f"migration numbers start at 1, found {sorted(ups)}")
    return [
        Migration(v, ups[v][0], ups[v][1].read_text("utf-8"), downs[v].read_text("utf-8"))
        for v in sorted(ups)
    ]


def _applied(conn: psycopg.Connection) -> dict[int, tuple[str, str, datetime]]:
    conn.execute(_BOOTSTRAP)
    rows = conn.execute("SELECT version, name, checksum, applied_at FROM schema_migrations").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _check_unedited(migrations: list[Migration], applied: dict[int, tuple[str, str, datetime]]) -> None:
    by_version = {m.version: m for m in migrations}
    for version, (name, checksum, _) in sorted(applied.items()):
        m = by_version.get(version)
        if m is None:
            raise MigrationError(f"migration {version:04d}_{name} is applied but its file is missing")
        if m.checksum != checksum:
            raise MigrationError(
                f"migration {version:04d}_{m.name} was edited after it was applied "
                "(checksum differs); add a new migration instead"
            )


def migrate(url: str, *, to: int | None = None, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply pending migrations up to `to` (default: all); returns the versions applied."""
    migrations = discover(directory)
    done: list[int] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            applied = _applied(conn)
            _check_unedited(migrations, applied)
            for m in migrations:
                if m.version in applied or (to is not None and m.version > to):
                    continue
                try:
                    with conn.transaction():
                        conn.execute(m.up_sql.encode("utf-8"))
                        conn.execute(
                            "INSERT INTO schema_migrations (version, name, checksum) VALUES (%s, %s, %s)",
                            (m.version, m.name, m.checksum),
                        )
                except psycopg.Error as exc:
                    raise MigrationError(f"migration {m.version:04d}_{m.name} failed: {exc}") from exc
                done.append(m.version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    return done


def rollback(url: str, *, to: int, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Roll back applied migrations above version `to`, newest first; returns the versions rolled back."""
    if to < 0:
        raise MigrationError(f"--to must be >= 0, got {to}")
    migrations = {m.version: m for m in discover(directory)}
    undone: list[int] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            applied = _applied(conn)
            _check_unedited(list(migrations.values()), applied)
            for version in sorted((v for v in applied if v > to), reverse=True):
                m = migrations[version]
                try:
                    with conn.transaction():
                        conn.execute(m.down_sql.encode("utf-8"))
                        conn.execute("DELETE FROM schema_migrations WHERE version = %s", (version,))
                except psycopg.Error as exc:
                    raise MigrationError(f"rollback of {version:04d}_{m.name} failed: {exc}") from exc
                undone.append(version)
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_ID,))
    return undone


def status(url: str, *, directory: Path = MIGRATIONS_DIR) -> list[MigrationState]:
    """Every known migration with its applied time (None when pending) and whether its file was edited."""
    migrations = discover(directory)
    with psycopg.connect(url, autocommit=True) as conn:
        applied = _applied(conn)
    return [
        MigrationState(
            m.version,
            m.name,
            applied[m.version][2] if m.version in applied else None,
            m.version in applied and applied[m.version][1] != m.checksum,
        )
        for m in migrations
    ]


def current_version(conn: psycopg.Connection) -> int:
    """The highest applied migration (0 when none); used by the API's health check."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0
