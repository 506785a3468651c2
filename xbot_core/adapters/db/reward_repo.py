"""Reward versions as stored: one named query each (sql/queries), callers own the transaction."""

from __future__ import annotations

from typing import Any

import psycopg
from psycopg.rows import dict_row

from xbot_core.adapters.db.queries import query


def all_rows(conn: psycopg.Connection) -> list[dict[str, Any]]:
    """Every version as a dict row, oldest first."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("reward_versions_all")).fetchall()


def lock(conn: psycopg.Connection) -> None:
    """Serialise version creation and activation (transaction-scoped)."""
    conn.execute(query("reward_version_lock"))


def next_number(conn: psycopg.Connection) -> int:
    row = conn.execute(query("reward_version_next")).fetchone()
    assert row is not None
    return int(row[0])


def insert(conn: psycopg.Connection, params: dict[str, object]) -> None:
    conn.execute(query("reward_version_insert"), params)


def activate(conn: psycopg.Connection, version: int) -> bool:
    """Make `version` the only active one; False when it does not exist."""
    conn.execute(query("reward_version_deactivate_all"), {"version": version})
    return conn.execute(query("reward_version_activate"), {"version": version}).rowcount == 1
