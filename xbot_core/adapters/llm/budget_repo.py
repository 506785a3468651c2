"""Postgres access of the daily LLM budget and the llm_usage log; callers own the transaction."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from uuid import UUID

import psycopg
from psycopg.rows import class_row

from xbot_core.adapters.db.queries import query


@dataclass(frozen=True)
class BudgetDay:
    """One llm_budget_days row."""

    budget_day: date
    limit_usd: Decimal
    used_usd: Decimal
    reserved_usd: Decimal
    circuit_open: bool
    circuit_reason: str | None

    @property
    def remaining_usd(self) -> Decimal:
        """What can still be reserved today (never negative)."""
        return max(Decimal(0), self.limit_usd - self.used_usd - self.reserved_usd)


def lock_day(conn: psycopg.Connection, budget_day: date, limit_usd: Decimal) -> BudgetDay:
    """Create the day's row if needed and lock it FOR UPDATE until the transaction ends."""
    conn.execute(query("budget_day_ensure"), {"budget_day": budget_day, "limit_usd": limit_usd})
    with conn.cursor(row_factory=class_row(BudgetDay)) as cur:
        row = cur.execute(query("budget_day_lock"), {"budget_day": budget_day}).fetchone()
    assert row is not None  # just ensured, and rows are never deleted by the application
    return row


def get_day(conn: psycopg.Connection, budget_day: date) -> BudgetDay | None:
    with conn.cursor(row_factory=class_row(BudgetDay)) as cur:
        return cur.execute(query("budget_day_get"), {"budget_day": budget_day}).fetchone()


def reserve(conn: psycopg.Connection, budget_day: date, amount: Decimal) -> None:
    conn.execute(query("budget_reserve"), {"budget_day": budget_day, "amount": amount})


def settle(conn: psycopg.Connection, budget_day: date, *, reserved: Decimal, cost: Decimal) -> None:
    """Release `reserved` and add `cost` (0 for a failed call) to the day's spend."""
    conn.execute(query("budget_settle"), {"budget_day": budget_day, "reserved": reserved, "cost": cost})


def open_circuit(conn: psycopg.Connection, budget_day: date, reason: str) -> None:
    conn.execute(query("budget_open_circuit"), {"budget_day": budget_day, "reason": reason})


def account_day(conn: psycopg.Connection, account_id: int, budget_day: date) -> tuple[Decimal, Decimal]:
    """(used, reserved) USD of one account on a budget day."""
    params = {"account_id": account_id, "budget_day": budget_day}
    row = conn.execute(query("llm_account_day"), params).fetchone()
    assert row is not None  # an aggregate always returns one row
    micro = Decimal("0.000001")
    return Decimal(row[0]).quantize(micro), Decimal(row[1]).quantize(micro)


def insert_usage(
    conn: psycopg.Connection,
    *,
    budget_day: date,
    account_id: int | None = None,
    decision_id: UUID | None,
    purpose: str,
    model: str,
    status: str,
    reserved_usd: Decimal,
    error: str | None = None,
) -> int:
    row = conn.execute(
        query("llm_usage_insert"),
        {
            "budget_day": budget_day,
            "account_id": account_id,
            "decision_id": decision_id,
            "purpose": purpose,
            "model": model,
            "status": status,
            "reserved_usd": reserved_usd,
            "error": error,
        },
    ).fetchone()
    assert row is not None
    return int(row[0])


def finish_usage(
    conn: psycopg.Connection,
    usage_id: int,
    *,
    status: str,
    attempts: int,
    prompt_tokens: int | None,
    completion_tokens: int | None,
    cost_usd: Decimal | None,
    error: str | None,
) -> None:
    conn.execute(
        query("llm_usage_finish"),
        {
            "usage_id": usage_id,
            "status": status,
            "attempts": attempts,
            "prompt_tokens": prompt_tokens,
            "completion_tokens": completion_tokens,
            "cost_usd": cost_usd,
            "error": error,
        },
    )
