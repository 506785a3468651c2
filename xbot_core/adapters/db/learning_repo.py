"""Repositories of the learn step: outcomes to learn from, stamped rewards, bandit arms, training runs.

Thin: each function runs one named query; callers own the transaction.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from xbot_core.adapters.db.queries import query


def learning_outcomes(conn: psycopg.Connection, account_id: int, *, simulated: bool) -> list[dict[str, Any]]:
    """Every collected pass of one data kind with its decision's arms and features."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(
            query("learning_outcomes"), {"account_id": account_id, "simulated": simulated}
        ).fetchall()


def set_rewards(
    conn: psycopg.Connection,
    keys: Sequence[tuple[UUID, int]],
    rewards: Sequence[float | None],
    version: int,
) -> None:
    """Stamp (decision_id, pass) rows with their reward under `version` (NULL where not computable)."""
    conn.execute(
        query("outcome_set_rewards"),
        {
            "decision_ids": [k[0] for k in keys],
            "passes": [k[1] for k in keys],
            "rewards": list(rewards),
            "versions": [version if x is not None else None for x in rewards],
        },
    )


def replace_arms(
    conn: psycopg.Connection, account_id: int, *, simulated: bool, arms: Sequence[dict[str, Any]]
) -> None:
    """This data kind's bandit_arms rows replaced by `arms` (bandit_arm_insert parameters)."""
    conn.execute(query("bandit_arms_delete"), {"account_id": account_id, "simulated": simulated})
    with conn.cursor() as cur:
        cur.executemany(query("bandit_arm_insert"), list(arms))


def insert_training_run(
    conn: psycopg.Connection,
    *,
    account_id: int,
    simulated: bool,
    reward_version: int,
    outcomes_used: int,
    ran_at: datetime,
    status: str,
    arms_trained: int,
    explore_ratio: float | None,
    message: str,
    outcomes_incomplete: int = 0,
    drift: dict[str, Any] | None = None,
) -> int:
    """Record one learn run (every attempt, "insufficient_data" included); returns its id. `drift`: the
    drift check's thresholds and alarms (None: not checked)."""
    row = conn.execute(
        query("training_run_insert"),
        {
            "account_id": account_id,
            "simulated": simulated,
            "reward_version": reward_version,
            "outcomes_used": outcomes_used,
            "ran_at": ran_at,
            "status": status,
            "arms_trained": arms_trained,
            "explore_ratio": explore_ratio,
            "message": message,
            "outcomes_incomplete": outcomes_incomplete,
            "drift": None if drift is None else Jsonb(drift),
        },
    ).fetchone()
    assert row is not None
    return int(row[0])
