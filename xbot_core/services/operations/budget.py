"""The daily LLM budget around every call: reserve before, settle after, and a quota circuit per day.

Reservation locks the day's row (SELECT ... FOR UPDATE) so concurrent workers on any machine never reserve
past the limit. A failed call releases its reservation; a quota error opens the day's circuit for everyone.
With many accounts, each may spend its share of the day's limit (XBOT_LLM_BUDGET_SHARE or its row's
llm_budget_share), checked under the same lock from its own llm_usage rows.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

import psycopg
from psycopg_pool import ConnectionPool

from xbot_core.adapters.llm import budget_repo
from xbot_core.adapters.llm.budget_repo import BudgetDay
from xbot_core.adapters.llm.client import ChatLLM, ChatResult, Message
from xbot_core.errors import BudgetExceededError, CircuitOpenError, ConfigError, LLMError, QuotaExceededError
from xbot_core.settings import Settings

log = logging.getLogger("xbot.llm")

_MICRO = Decimal("0.000001")  # llm_budget_days stores numeric(12, 6)
MESSAGE_OVERHEAD_TOKENS = 3  # OpenAI chat format: per message, and once for the reply priming


def budget_day(now: datetime, timezone: str) -> date:
    """The budget day containing `now` in the configured zone (UTC by default)."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(ZoneInfo(timezone)).date()


def estimate_prompt_tokens(messages: Sequence[Message]) -> int:
    """Input estimate: characters / 4 (rounded up) plus the chat format's per-message overhead."""
    chars = sum(len(m.get("content") or "") for m in messages)
    return math.ceil(chars / 4) + MESSAGE_OVERHEAD_TOKENS * (len(messages) + 1)


def price(pricing: dict[str, tuple[float, float]], model: str) -> tuple[Decimal, Decimal]:
    """(USD per 1M input tokens, USD per 1M output tokens) of a model."""
    try:
        p_in, p_out = pricing[model]
    except KeyError:
        raise ConfigError(
            f"no price for model {model!r} in XBOT_LLM_PRICING (known: {sorted(pricing)})"
        ) from None
    return Decimal(str(p_in)), Decimal(str(p_out))


def cost_usd(
    pricing: dict[str, tuple[float, float]],
    model: str,
    prompt_tokens: int,
    completion_tokens: int,
    *,
    round_up: bool = False,
) -> Decimal:
    """USD of a call, to the micro-dollar; reservations round up so they never under-reserve."""
    p_in, p_out = price(pricing, model)
    raw = (p_in * prompt_tokens + p_out * completion_tokens) / Decimal(1_000_000)
    return raw.quantize(_MICRO, rounding=ROUND_CEILING if round_up else ROUND_HALF_UP)


def account_limit(day_limit: Decimal, share: float) -> Decimal:
    """An account's daily LLM limit: share x the day's limit, floored to the micro-dollar (never above)."""
    return (day_limit * Decimal(str(share))).quantize(_MICRO, rounding=ROUND_FLOOR)


@dataclass(frozen=True)
class AccountBudget:
    """One account's part of a budget day: its share, the limit that gives, and what it used and reserved."""

    handle: str
    share: float
    limit_usd: Decimal
    used_usd: Decimal
    reserved_usd: Decimal

    @property
    def remaining_usd(self) -> Decimal:
        """What the account can still reserve today (never negative)."""
        return max(Decimal(0), self.limit_usd - self.used_usd - self.reserved_usd).quantize(_MICRO)


def account_budget(pool: ConnectionPool, settings: Settings, account_id: int, now: datetime) -> AccountBudget:
    """The account's share of today's budget (settings carry its share: the row's, else the XBOT_ one)."""
    day = budget_status(pool, settings, now)
    with pool.connection() as conn:
        used, reserved = budget_repo.account_day(conn, account_id, day.budget_day)
    share = settings.llm_budget_share
    return AccountBudget(settings.account_handle, share, account_limit(day.limit_usd, share), used, reserved)


def budget_status(pool: ConnectionPool, settings: Settings, now: datetime) -> BudgetDay:
    """Today's limit, used, reserved and circuit; a day without calls yet shows the configured limit."""
    day = budget_day(now, settings.llm_budget_timezone)
    with pool.connection() as conn:
        row = budget_repo.get_day(conn, day)
    if row is None:
        limit = Decimal(str(settings.llm_daily_budget_usd)).quantize(_MICRO)
        return BudgetDay(day, limit, Decimal(0), Decimal(0), False, None)
    return row


class BudgetedLLM:
    """A ChatLLM whose every call is reserved against the day's budget and logged in llm_usage."""

    def __init__(
        self,
        pool: ConnectionPool,
        client: ChatLLM,
        settings: Settings,
        *,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        account_id: int | None = None,
    ) -> None:
        self.pool = pool
        self.account_id = account_id  # None: the workspace's budget only (no share is checked)
        self.client = client
        self.model = client.model
        self.settings = settings
        self._now = now
        self._limit = Decimal(str(settings.llm_daily_budget_usd)).quantize(_MICRO)

    def reserve(self, day: date, purpose: str, decision_id: UUID | None, amount: Decimal) -> int:
        """Lock the day, check circuit and limit, reserve; raises (after logging the refusal) otherwise."""
        refusal: LLMError | None = None
        with self.pool.connection() as conn, conn.transaction():
            row = budget_repo.lock_day(conn, day, self._limit)
            if row.limit_usd != self._limit:
                # the first writer's limit holds for the whole day: workers with different settings
                # must not flip it back and forth (last writer wins); a new setting applies from the next day
                log.warning(
                    "XBOT_LLM_DAILY_BUDGET_USD=%s differs from the %s USD limit already set for %s; "
                    "that limit holds until the day ends",
                    self._limit,
                    row.limit_usd,
                    day,
                )
            if row.circuit_open:
                status = "circuit_open"
                refusal = CircuitOpenError(f"LLM circuit open for {day}: {row.circuit_reason}")
            elif row.used_usd + row.reserved_usd + amount > row.limit_usd:
                status = "budget_exceeded"
                refusal = BudgetExceededError(
                    f"daily LLM budget of {row.limit_usd} USD for {day} cannot cover {amount} USD "
                    f"(used {row.used_usd}, reserved {row.reserved_usd})"
                )
            elif (over_share := self._share_refusal(conn, row, amount)) is not None:
                status = "budget_exceeded"
                refusal = over_share
            else:
                budget_repo.reserve(conn, day, amount)
                return budget_repo.insert_usage(
                    conn,
                    budget_day=day,
                    account_id=self.account_id,
                    decision_id=decision_id,
                    purpose=purpose,
                    model=self.model,
                    status="reserved",
                    reserved_usd=amount,
                )
            budget_repo.insert_usage(
                conn,
                budget_day=day,
                account_id=self.account_id,
                decision_id=decision_id,
                purpose=purpose,
                model=self.model,
                status=status,
                reserved_usd=Decimal(0),
                error=str(refusal),
            )
        raise refusal

    def _share_refusal(self, conn: psycopg.Connection, row: BudgetDay, amount: Decimal) -> LLMError | None:
        """A refusal when the account's calls of the day plus `amount` pass its share of the day's limit."""
        share = self.settings.llm_budget_share
        if self.account_id is None or share >= 1:
            return None
        limit = account_limit(row.limit_usd, share)
        used, reserved = budget_repo.account_day(conn, self.account_id, row.budget_day)
        if used + reserved + amount <= limit:
            return None
        return BudgetExceededError(
            f"@{self.settings.account_handle}'s LLM budget share {share:g} of {row.limit_usd} USD for "
            f"{row.budget_day} ({limit} USD) cannot cover {amount} USD (used {used}, reserved {reserved})"
        )

    def complete(
        self,
        messages: Sequence[Message],
        *,
        purpose: str,
        max_tokens: int,
        seed: int | None = None,
        decision_id: UUID | None = None,
    ) -> ChatResult:
        """Reserve, call, settle. Raises BudgetExceededError / CircuitOpenError before any HTTP request."""
        day = budget_day(self._now(), self.settings.llm_budget_timezone)
        pricing = self.settings.llm_pricing
        amount = cost_usd(pricing, self.model, estimate_prompt_tokens(messages), max_tokens, round_up=True)
        usage_id = self.reserve(day, purpose, decision_id, amount)
        try:
            result = self.client.complete(messages, purpose=purpose, max_tokens=max_tokens, seed=seed)
        except BaseException as exc:
            quota = isinstance(exc, QuotaExceededError)
            with self.pool.connection() as conn, conn.transaction():
                budget_repo.lock_day(conn, day, self._limit)
                budget_repo.settle(conn, day, reserved=amount, cost=Decimal(0))
                if quota:
                    budget_repo.open_circuit(conn, day, f"insufficient_quota: {exc}")
                budget_repo.finish_usage(
                    conn,
                    usage_id,
                    status="quota_exceeded" if quota else "failed",
                    attempts=getattr(exc, "attempts", 1),
                    prompt_tokens=None,
                    completion_tokens=None,
                    cost_usd=Decimal(0),
                    error=f"{type(exc).__name__}: {exc}"[:1000],
                )
            if quota:
                log.error("LLM_CIRCUIT_OPEN day=%s purpose=%s: insufficient quota", day, purpose)
            raise
        cost = cost_usd(pricing, self.model, result.prompt_tokens, result.completion_tokens)
        with self.pool.connection() as conn, conn.transaction():
            budget_repo.lock_day(conn, day, self._limit)
            budget_repo.settle(conn, day, reserved=amount, cost=cost)
            budget_repo.finish_usage(
                conn,
                usage_id,
                status="succeeded",
                attempts=result.attempts,
                prompt_tokens=result.prompt_tokens,
                completion_tokens=result.completion_tokens,
                cost_usd=cost,
                error=None,
            )
        return result
