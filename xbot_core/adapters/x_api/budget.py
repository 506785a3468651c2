"""The X API's pay-per-use cost meter (the client's `Meter`) over Postgres: every call reserved against the
day's budget before it is made and settled from what X bills after it (x_api_budget_days, x_api_usage), like
the LLM budget.

Reservation locks the day's row (SELECT ... FOR UPDATE) so concurrent workers never reserve past the limit.
Prices (X, 2026; ../shared/x-api/README.md): creating a post $0.015, $0.20 when it contains a URL; reading
a post or user $0.005 per resource. A read is billed for the resources X returned, a failure for nothing.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
from psycopg.rows import class_row
from psycopg_pool import ConnectionPool

from xbot_core.adapters.db.queries import query
from xbot_core.adapters.x_api.client import CallRecord, Meter
from xbot_core.errors import ConfigError, XApiBudgetExceededError
from xbot_core.settings import Settings

log = logging.getLogger("xbot.x_api")

PRICE_POST = Decimal("0.015")
PRICE_POST_WITH_URL = Decimal("0.20")
PRICE_READ = Decimal("0.005")
_MICRO = Decimal("0.000001")


def q(name: str) -> str:
    return query(name)


def call_cost(call: CallRecord, resources: int) -> Decimal:
    """USD of a call billed for `resources` resources (0 for a call that failed)."""
    if call.op == "create":
        return (PRICE_POST_WITH_URL if call.has_url else PRICE_POST) * min(resources, 1)
    return PRICE_READ * resources


@dataclass(frozen=True)
class XApiBudgetDay:
    """One x_api_budget_days row."""

    budget_day: date
    limit_usd: Decimal
    used_usd: Decimal
    reserved_usd: Decimal

    @property
    def remaining_usd(self) -> Decimal:
        return max(Decimal(0), self.limit_usd - self.used_usd - self.reserved_usd)


def _lock_day(conn: psycopg.Connection, day: date, limit: Decimal) -> XApiBudgetDay:
    conn.execute(q("x_api_day_ensure"), {"budget_day": day, "limit_usd": limit})
    conn.execute(q("x_api_day_set_limit"), {"budget_day": day, "limit_usd": limit})
    with conn.cursor(row_factory=class_row(XApiBudgetDay)) as cur:
        row = cur.execute(q("x_api_day_lock"), {"budget_day": day}).fetchone()
    assert row is not None
    return row


def x_api_budget_status(pool: ConnectionPool, settings: Settings, now: datetime) -> XApiBudgetDay:
    """Today's X API limit, used and reserved; a day without calls shows the configured limit."""
    day = now.astimezone(UTC).date()
    limit = Decimal(str(settings.x_api_daily_budget_usd)).quantize(_MICRO)
    with pool.connection() as conn:
        with conn.cursor(row_factory=class_row(XApiBudgetDay)) as cur:
            row = cur.execute(q("x_api_day_get"), {"budget_day": day}).fetchone()
    return row or XApiBudgetDay(day, limit, Decimal(0), Decimal(0))


def x_api_usage_by_operation(pool: ConnectionPool, day: date) -> list[tuple[str, int, Decimal]]:
    with pool.connection() as conn:
        rows = conn.execute(q("x_api_usage_by_operation"), {"budget_day": day}).fetchall()
    return [(str(r[0]), int(r[1]), Decimal(r[2])) for r in rows]


@dataclass(frozen=True)
class _Reservation:
    usage_id: int
    day: date
    amount: Decimal


class XApiBudget(Meter):
    """The client's cost meter over Postgres; refuses (XApiBudgetExceededError) before any HTTP request."""

    def __init__(
        self,
        pool: ConnectionPool,
        settings: Settings,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.pool = pool
        self._now = now
        self._limit = Decimal(str(settings.x_api_daily_budget_usd)).quantize(_MICRO)

    def check_schema(self) -> None:
        """ConfigError when migration 0003 is not applied (its tables are missing)."""
        with self.pool.connection() as conn:
            row = conn.execute("SELECT to_regclass('x_api_usage') IS NOT NULL").fetchone()
        if not row or not row[0]:
            raise ConfigError("the X API cost tables are missing: run `xbot db migrate` (migration 0003)")

    def reserve_now(self, call: CallRecord) -> _Reservation:
        day = self._now().astimezone(UTC).date()
        amount = call_cost(call, call.resources)
        with self.pool.connection() as conn, conn.transaction():
            row = _lock_day(conn, day, self._limit)
            fits = row.used_usd + row.reserved_usd + amount <= row.limit_usd
            if fits:
                conn.execute(q("x_api_reserve"), {"budget_day": day, "amount": amount})
            params = {
                "budget_day": day,
                "operation": call.op,
                "resources": call.resources,
                "has_url": call.has_url,
                "status": "reserved" if fits else "budget_exceeded",
                "reserved_usd": amount if fits else Decimal(0),
                "error": None,
            }
            if not fits:
                params["error"] = (
                    f"daily X API budget of {row.limit_usd} USD for {day} cannot cover {amount} USD "
                    f"(used {row.used_usd}, reserved {row.reserved_usd})"
                )
            found = conn.execute(q("x_api_usage_insert"), params).fetchone()
            assert found is not None
        if not fits:
            log.warning("[x_api] refused %s: %s", call.op, params["error"])
            raise XApiBudgetExceededError(str(params["error"]))
        return _Reservation(int(found[0]), day, amount)

    def settle_now(self, reservation: _Reservation, call: CallRecord, *, status: str, resources: int) -> None:
        cost = call_cost(call, resources) if status == "succeeded" else Decimal(0)
        with self.pool.connection() as conn, conn.transaction():
            _lock_day(conn, reservation.day, self._limit)
            conn.execute(
                q("x_api_settle"),
                {"budget_day": reservation.day, "reserved": reservation.amount, "cost": cost},
            )
            conn.execute(
                q("x_api_usage_finish"),
                {
                    "usage_id": reservation.usage_id,
                    "status": status,
                    "billed": resources if status == "succeeded" else 0,
                    "cost_usd": cost,
                },
            )

    async def reserve(self, call: CallRecord) -> _Reservation:
        return await asyncio.to_thread(self.reserve_now, call)

    async def settle(self, token: object, call: CallRecord, *, status: str, resources: int) -> None:
        assert isinstance(token, _Reservation)
        await asyncio.to_thread(self.settle_now, token, call, status=status, resources=resources)


def x_api_budget_fields(pool: ConnectionPool, settings: Settings, now: datetime) -> dict[str, str]:
    """`xbot budget`'s X API lines: limit, used, reserved, remaining, calls per operation."""
    try:
        b = x_api_budget_status(pool, settings, now)
        per_op = x_api_usage_by_operation(pool, b.budget_day)
    except psycopg.errors.UndefinedTable:
        return {"x_api": "cost tables missing: run `xbot db migrate` (migration 0003)"}
    fields = {
        "x_api_day": b.budget_day.isoformat(),
        "x_api_limit_usd": str(b.limit_usd),
        "x_api_used_usd": str(b.used_usd),
        "x_api_reserved_usd": str(b.reserved_usd),
        "x_api_remaining_usd": str(b.remaining_usd),
    }
    fields["x_api_calls"] = ", ".join(f"{op} {n} ({cost} USD)" for op, n, cost in per_op) or "none"
    return fields
