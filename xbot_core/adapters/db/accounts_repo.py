"""Accounts as rows with their own settings: add, read, list, enable/disable (named queries in accounts.sql).

Thin: each function runs one named query; callers own the transaction.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import psycopg
from psycopg.rows import class_row

from xbot_core.adapters.db.queries import query


@dataclass(frozen=True)
class AccountRow:
    """One account and its own settings; None means the workspace's XBOT_ setting applies."""

    account_id: int
    handle: str
    x_base_url: str
    session_file: str | None
    timezone: str
    enabled: bool
    max_posts_per_hour: int | None
    min_post_interval_s: int | None
    experiment_plan: str | None
    x_backend: str | None = None
    x_api_token_file: str | None = None
    reward_version: int | None = None
    llm_budget_share: float | None = None


@dataclass(frozen=True)
class NewAccount:
    """What `xbot account add` writes (validated before)."""

    handle: str
    x_base_url: str
    session_file: str | None
    timezone: str
    max_posts_per_hour: int | None = None
    min_post_interval_s: int | None = None
    experiment_plan: str | None = None
    x_backend: str | None = None
    x_api_token_file: str | None = None
    reward_version: int | None = None
    llm_budget_share: float | None = None


def insert_account(conn: psycopg.Connection, new: NewAccount) -> int:
    """Insert the account; raises psycopg.errors.UniqueViolation when the handle exists."""
    row = conn.execute(query("account_insert"), dataclasses.asdict(new)).fetchone()
    assert row is not None
    return int(row[0])


def account_by_handle(conn: psycopg.Connection, handle: str) -> AccountRow | None:
    with conn.cursor(row_factory=class_row(AccountRow)) as cur:
        return cur.execute(query("account_by_handle"), {"handle": handle}).fetchone()


def list_accounts(conn: psycopg.Connection) -> list[AccountRow]:
    with conn.cursor(row_factory=class_row(AccountRow)) as cur:
        return cur.execute(query("account_list")).fetchall()


def set_enabled(conn: psycopg.Connection, handle: str, *, enabled: bool) -> bool:
    """Enable or disable an account; returns False when no account has that handle."""
    row = conn.execute(query("account_set_enabled"), {"handle": handle, "enabled": enabled}).fetchone()
    return row is not None
