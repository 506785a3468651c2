"""Experiments and their assignments: one named query each (sql/queries), callers own the transaction."""

from __future__ import annotations

from datetime import datetime

import psycopg
from psycopg.rows import class_row

from xbot_core.adapters.db.queries import query
from xbot_core.domain.experiments import Experiment, ExperimentSpec


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


def insert(
    conn: psycopg.Connection,
    account_id: int,
    spec: ExperimentSpec,
    starts_at: datetime,
    ends_at: datetime,
    *,
    status: str | None = None,
) -> int:
    """Store the spec's window for the account (idempotent on account, name and start); returns its id.

    A new row starts `planned`, an existing one keeps its status (planning again never resets a running
    experiment), unless `status` is given: the simulated history sets it on either."""
    row = {
        "account_id": account_id,
        "name": spec.name,
        "scope": spec.scope,
        "treatment_arm": spec.treatment_arm,
        "share": spec.share,
        "starts_at": starts_at,
        "ends_at": ends_at,
        "status": status,
    }
    found = conn.execute(query("experiment_insert"), row).fetchone()
    assert found is not None  # RETURNING on an insert or an update of the one row
    return int(found[0])


def advance_status(conn: psycopg.Connection, account_id: int, *, now: datetime) -> int:
    """planned → running → analysing by the windows; returns how many rows changed."""
    return conn.execute(query("experiments_advance_status"), {"account_id": account_id, "now": now}).rowcount
