"""Experiments and their assignments: one named query each (sql/queries), callers own the transaction."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import class_row

from xbot_core.adapters.db.queries import query
from xbot_core.domain.experiments import Experiment


def active(conn: psycopg.Connection, account_id: int, *, now: datetime) -> list[Experiment]:
    """The account's experiments running at `now`."""
    with conn.cursor(row_factory=class_row(Experiment)) as cur:
        return cur.execute(query("experiments_active"), {"account_id": account_id, "now": now}).fetchall()


def by_id(conn: psycopg.Connection, experiment_id: int) -> Experiment | None:
    with conn.cursor(row_factory=class_row(Experiment)) as cur:
        return cur.execute(query("experiment_by_id"), {"experiment_id": experiment_id}).fetchone()


def for_account(conn: psycopg.Connection, account_id: int) -> list[Experiment]:
    with conn.cursor(row_factory=class_row(Experiment)) as cur:
        return cur.execute(query("experiments_for_account"), {"account_id": account_id}).fetchall()


def insert(conn: psycopg.Connection, **row: Any) -> None:
    """Store an experiment window (idempotent on account, name and start)."""
    conn.execute(query("experiment_insert"), row)


def insert_with_status(conn: psycopg.Connection, **row: Any) -> int:
    """Store an experiment with an explicit status (the simulated history); returns its id."""
    found = conn.execute(query("history_insert_experiment"), row).fetchone()
    assert found is not None
    return int(found[0])


def advance_status(conn: psycopg.Connection, account_id: int, *, now: datetime) -> int:
    """planned → running → analysing by the windows; returns how many rows changed."""
    return conn.execute(query("experiments_advance_status"), {"account_id": account_id, "now": now}).rowcount
