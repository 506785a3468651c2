"""Reward versions in Postgres: list, create (validated, immutable), activate, and read the active one.

Version 1 (DESIGN.md weights) is seeded by migration 0001; `active_version` re-seeds it if the table was
emptied, so learning always has a version to stamp.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import psycopg

from xbot_core.adapters.db import reward_repo
from xbot_core.domain.reward import DEFAULT_VERSION, RewardVersion
from xbot_core.errors import ConfigError, DatabaseError

_FIELDS = {f.name for f in dataclasses.fields(RewardVersion)}


@dataclass(frozen=True)
class StoredVersion:
    """A reward version as stored, with whether learning and reports use it."""

    reward: RewardVersion
    is_active: bool


def list_versions(conn: psycopg.Connection) -> list[StoredVersion]:
    """Every version, oldest first."""
    rows = reward_repo.all_rows(conn)
    return [
        StoredVersion(RewardVersion(**{k: v for k, v in r.items() if k in _FIELDS}), bool(r["is_active"]))
        for r in rows
    ]


def active_version(conn: psycopg.Connection) -> RewardVersion:
    """The active version; seeds and activates version 1 when the table holds no active version at all."""
    versions = list_versions(conn)
    active = [v.reward for v in versions if v.is_active]
    if len(active) == 1:
        return active[0]
    if active:
        raise DatabaseError(f"{len(active)} reward versions are marked active; expected one")
    if versions:
        raise DatabaseError("no reward version is active; activate one with `xbot reward activate N`")
    with conn.transaction():
        reward_repo.lock(conn)
        reward_repo.insert(conn, _params(DEFAULT_VERSION))
        _activate(conn, DEFAULT_VERSION.version)
    return next(v.reward for v in list_versions(conn) if v.is_active)


def version_for(conn: psycopg.Connection, pinned: int | None) -> RewardVersion:
    """The version an account uses: its pinned one (XBOT_REWARD_VERSION or its row), else the active one."""
    return active_version(conn) if pinned is None else get_version(conn, pinned)


def get_version(conn: psycopg.Connection, version: int) -> RewardVersion:
    for v in list_versions(conn):
        if v.reward.version == version:
            return v.reward
    raise ConfigError(f"reward version {version} does not exist")


def _params(v: RewardVersion) -> dict[str, object]:
    d = dataclasses.asdict(v)
    d.pop("created_at")
    return d


def _activate(conn: psycopg.Connection, version: int) -> None:
    if not reward_repo.activate(conn, version):
        raise ConfigError(f"reward version {version} does not exist")


def create_version(
    conn: psycopg.Connection, *, activate: bool = False, note: str | None = None, **values: float
) -> RewardVersion:
    """Store a new version numbered after the newest; unspecified weights and scales come from the active one.

    Validation (finite, penalty ≤ 0, one positive weight, scales > 0) raises ConfigError before any write.
    """
    unknown = set(values) - (_FIELDS - {"version", "created_at", "note"})
    if unknown:
        raise ConfigError(f"unknown reward version fields: {sorted(unknown)}")
    base = active_version(conn)
    with conn.transaction():
        reward_repo.lock(conn)
        new = dataclasses.replace(
            base, version=reward_repo.next_number(conn), created_at=None, note=note, **values
        )
        reward_repo.insert(conn, _params(new))
        if activate:
            _activate(conn, new.version)
    return get_version(conn, new.version)


def activate_version(conn: psycopg.Connection, version: int) -> RewardVersion:
    """Make `version` the one learning and reports use (exactly one is active)."""
    with conn.transaction():
        reward_repo.lock(conn)
        _activate(conn, version)
    return get_version(conn, version)
