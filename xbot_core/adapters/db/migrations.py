"""Numbered SQL migrations with rollbacks: applied once each, in a transaction, recorded with a checksum.

The runner refuses to run when an applied migration's up or down file was edited since it was applied.

Checksums: since issue 17 the recorded checksum covers the up AND the down file. Databases migrated before
recorded the up file's checksum only; `migrate` accepts such a legacy row when the up file still matches and
re-stamps it with the full checksum (trusting the down file on disk at that moment, once). `rollback` refuses
to run a down file it cannot verify: run `xbot db migrate` first. `status` reports legacy rows as such.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import psycopg

from xbot_core.errors import MigrationError
from xbot_core.package_data import MIGRATIONS_DIR

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
        """sha256 over both files (length-prefixed, so moving text between them changes it)."""
        digest = hashlib.sha256()
        for text in (self.up_sql, self.down_sql):
            raw = text.encode("utf-8")
            digest.update(len(raw).to_bytes(8, "big"))
            digest.update(raw)
        return digest.hexdigest()

    @property
    def legacy_checksum(self) -> str:
        """What the runner recorded before issue 17: the up file only."""
        return hashlib.sha256(self.up_sql.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class MigrationState:
    """A migration and whether (and when) it is applied."""

    version: int
    name: str
    applied_at: datetime | None
    edited: bool
    missing: bool = False  # applied in the database, but no file for it
    legacy: bool = False  # recorded with the old up-only checksum (re-stamped by the next migrate)


def discover(directory: Path = MIGRATIONS_DIR) -> list[Migration]:
    """All migrations in version order; every up file needs its down file. Numbers may have gaps: they are
    assigned to parallel branches ahead of time, so one may land before a lower one."""
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
    if any(v < 1 for v in ups):
        raise MigrationError(f"migration numbers start at 0001, found {sorted(ups)}")
    return [
        Migration(v, ups[v][0], ups[v][1].read_text("utf-8"), downs[v].read_text("utf-8"))
        for v in sorted(ups)
    ]


def _applied(conn: psycopg.Connection) -> dict[int, tuple[str, str, datetime]]:
    conn.execute(_BOOTSTRAP)
    rows = conn.execute("SELECT version, name, checksum, applied_at FROM schema_migrations").fetchall()
    return {r[0]: (r[1], r[2], r[3]) for r in rows}


def _check_unedited(
    migrations: list[Migration], applied: dict[int, tuple[str, str, datetime]], *, allow_legacy: bool
) -> list[Migration]:
    """Refuse edited or missing history; returns the applied migrations recorded with a legacy checksum."""
    by_version = {m.version: m for m in migrations}
    legacy = []
    for version, (name, checksum, _) in sorted(applied.items()):
        m = by_version.get(version)
        if m is None:
            raise MigrationError(f"migration {version:04d}_{name} is applied but its file is missing")
        if m.checksum == checksum:
            continue
        if m.legacy_checksum == checksum:
            if not allow_legacy:
                raise MigrationError(
                    f"migration {version:04d}_{m.name} was recorded before rollback files were checksummed; "
                    "run `xbot db migrate` once to re-stamp it, then roll back"
                )
            legacy.append(m)
            continue
        raise MigrationError(
            f"migration {version:04d}_{m.name} was edited after it was applied "
            "(checksum of its up/down files differs); add a new migration instead"
        )
    return legacy


def migrate(url: str, *, to: int | None = None, directory: Path = MIGRATIONS_DIR) -> list[int]:
    """Apply pending migrations up to `to` (default: all); returns the versions applied."""
    migrations = discover(directory)
    if to is not None and not 0 <= to <= len(migrations):
        raise MigrationError(
            f"--to must be between 0 and the newest migration ({len(migrations):04d}), got {to}"
        )
    done: list[int] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            applied = _applied(conn)
            for m in _check_unedited(migrations, applied, allow_legacy=True):
                conn.execute(
                    "UPDATE schema_migrations SET checksum = %s WHERE version = %s AND checksum = %s",
                    (m.checksum, m.version, m.legacy_checksum),
                )
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
    if to > max(migrations, default=0):
        raise MigrationError(f"--to {to} is above the newest migration ({max(migrations, default=0):04d})")
    undone: list[int] = []
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_ID,))
        try:
            applied = _applied(conn)
            _check_unedited(list(migrations.values()), applied, allow_legacy=False)
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
    """Every known migration with its applied time (None when pending) and whether its files were edited,
    plus every applied migration whose files are missing (`missing`)."""
    migrations = discover(directory)
    with psycopg.connect(url, autocommit=True) as conn:
        applied = _applied(conn)
    states = []
    for m in migrations:
        recorded = applied.get(m.version)
        legacy = recorded is not None and recorded[1] == m.legacy_checksum != m.checksum
        states.append(
            MigrationState(
                m.version,
                m.name,
                recorded[2] if recorded else None,
                recorded is not None and recorded[1] != m.checksum and not legacy,
                legacy=legacy,
            )
        )
    known = {m.version for m in migrations}
    for version, (name, _, at) in sorted(applied.items()):
        if version not in known:
            states.append(MigrationState(version, name, at, edited=False, missing=True))
    return sorted(states, key=lambda s: s.version)


def current_version(conn: psycopg.Connection) -> int:
    """The highest applied migration (0 when none); used by the API's health check."""
    exists = conn.execute("SELECT to_regclass('schema_migrations') IS NOT NULL").fetchone()
    if not exists or not exists[0]:
        return 0
    row = conn.execute("SELECT coalesce(max(version), 0) FROM schema_migrations").fetchone()
    return int(row[0]) if row else 0
