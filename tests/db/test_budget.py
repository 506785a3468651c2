"""The daily LLM budget against the real database and the real openai client over HTTP."""

from __future__ import annotations

import multiprocessing
import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from tests.plugins.llm import LLMEndpoint, reserve_until_refused
from xbot_core.adapters.llm.client import OpenAIChatClient
from xbot_core.errors import BudgetExceededError, CircuitOpenError, LLMError, QuotaExceededError
from xbot_core.services.operations.budget import (
    BudgetedLLM,
    budget_day,
    budget_status,
    cost_usd,
    estimate_prompt_tokens,
)
from xbot_core.settings import DEFAULT_PRICING, Settings, load_settings

pytestmark = pytest.mark.db

NOW = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)
MESSAGES = [
    {"role": "system", "content": "You write posts for X."},
    {"role": "user", "content": "content_type: insight\nhook_pattern: bold_claim\ntopic: pricing\nWrite it."},
]


def _settings(ep: LLMEndpoint, limit: float = 5.0, **over: object) -> Settings:
    return load_settings(openai_base_url=ep.base_url, llm_daily_budget_usd=limit, **over)


def _llm(pool: ConnectionPool, ep: LLMEndpoint, settings: Settings, now: datetime = NOW) -> BudgetedLLM:
    client = OpenAIChatClient.from_settings(settings, sleep=lambda s: None, rng=random.Random(0))
    return BudgetedLLM(pool, client, settings, now=lambda: now)


def _day(conn: psycopg.Connection, day: date) -> tuple:
    row = conn.execute(
        "SELECT limit_usd, used_usd, reserved_usd, circuit_open FROM llm_budget_days WHERE budget_day = %s",
        (day,),
    ).fetchone()
    assert row is not None
    return tuple(row)


def test_cost_and_estimate_pinned_by_hand() -> None:
    # 1000 in × 0.15/1M + 500 out × 0.60/1M = 0.00015 + 0.0003
    assert cost_usd(DEFAULT_PRICING, "gpt-4o-mini", 1000, 500) == Decimal("0.000450")
    # 2.50/1M × 7 + 10/1M × 3 = 0.0000475 → rounds up to 0.000048 for a reservation, half-up otherwise
    assert cost_usd(DEFAULT_PRICING, "gpt-4o", 7, 3, round_up=True) == Decimal("0.000048")
    assert cost_usd(DEFAULT_PRICING, "gpt-4o", 7, 3) == Decimal("0.000048")
    assert cost_usd(DEFAULT_PRICING, "gpt-4o", 5, 1) == Decimal("0.000023")  # 0.0000225 half-up
    # 22 + 75 = 97 chars → ceil(97 / 4) = 25, + 3 × (2 messages + 1)
    msgs = [{"role": "system", "content": "x" * 22}, {"role": "user", "content": "y" * 75}]
    assert estimate_prompt_tokens(msgs) == 25 + 9


def test_budget_day_follows_the_configured_zone() -> None:
    assert budget_day(NOW, "UTC") == date(2026, 3, 10)
    assert budget_day(NOW, "Europe/Berlin") == date(2026, 3, 11)  # 00:30 CET
    with pytest.raises(ValueError):
        budget_day(datetime(2026, 1, 1), "UTC")


def test_success_settles_to_actual_usage(
    clean_db: str, db_pool: ConnectionPool, llm_endpoint: LLMEndpoint
) -> None:
    settings = _settings(llm_endpoint)
    result = _llm(db_pool, llm_endpoint, settings).complete(MESSAGES, purpose="generate_post", max_tokens=120)
    expected = cost_usd(DEFAULT_PRICING, "gpt-4o-mini", result.prompt_tokens, result.completion_tokens)
    with psycopg.connect(clean_db) as conn:
        assert _day(conn, NOW.date()) == (Decimal("5.000000"), expected, Decimal(0), False)
        usage = conn.execute(
            "SELECT status, attempts, prompt_tokens, completion_tokens, cost_usd, reserved_usd, purpose"
            " FROM llm_usage"
        ).fetchall()
    reserved = cost_usd(DEFAULT_PRICING, "gpt-4o-mini", estimate_prompt_tokens(MESSAGES), 120, round_up=True)
    assert usage == [
        ("succeeded", 1, result.prompt_tokens, result.completion_tokens, expected, reserved, "generate_post")
    ]
    status = budget_status(db_pool, settings, NOW)
    assert (status.used_usd, status.reserved_usd, status.remaining_usd) == (
        expected,
        0,
        Decimal(5) - expected,
    )


def test_budget_exhausted_makes_no_http_call(
    clean_db: str, db_pool: ConnectionPool, llm_endpoint: LLMEndpoint
) -> None:
    settings = _settings(llm_endpoint, limit=0.00005)  # below one reservation (≈ 0.000078 USD)
    with pytest.raises(BudgetExceededError, match="cannot cover"):
        _llm(db_pool, llm_endpoint, settings).complete(MESSAGES, purpose="generate_post", max_tokens=120)
    assert llm_endpoint.stats()["requests"] == 0
    with psycopg.connect(clean_db) as conn:
        assert _day(conn, NOW.date()) == (Decimal("0.000050"), 0, 0, False)
        assert conn.execute("SELECT status, attempts FROM llm_usage").fetchall() == [("budget_exceeded", 0)]


def test_quota_opens_the_circuit_for_the_rest_of_the_day(
    clean_db: str, db_pool: ConnectionPool, llm_endpoint: LLMEndpoint
) -> None:
    settings = _settings(llm_endpoint)
    llm_endpoint.faults(insufficient_quota=1)
    with pytest.raises(QuotaExceededError):
        _llm(db_pool, llm_endpoint, settings).complete(MESSAGES, purpose="generate_post", max_tokens=120)
    assert llm_endpoint.stats()["requests"] == 1
    # a new client and a new budget wrapper (another worker) later that day: refused without a request
    later = NOW + timedelta(minutes=20)
    with pytest.raises(CircuitOpenError, match="insufficient_quota"):
        _llm(db_pool, llm_endpoint, settings, now=later).complete(MESSAGES, purpose="p", max_tokens=120)
    assert llm_endpoint.stats()["requests"] == 1
    with psycopg.connect(clean_db) as conn:
        assert _day(conn, NOW.date()) == (Decimal("5.000000"), 0, 0, True)
        rows = conn.execute("SELECT status, attempts FROM llm_usage ORDER BY usage_id").fetchall()
    assert rows == [("quota_exceeded", 1), ("circuit_open", 0)]
    # the next day (00:30 UTC) has its own, closed circuit
    tomorrow = NOW + timedelta(hours=1)
    _llm(db_pool, llm_endpoint, settings, now=tomorrow).complete(MESSAGES, purpose="p", max_tokens=120)
    assert llm_endpoint.stats()["requests"] == 2


def test_failed_call_releases_its_reservation(
    clean_db: str, db_pool: ConnectionPool, llm_endpoint: LLMEndpoint
) -> None:
    settings = _settings(llm_endpoint)
    llm_endpoint.faults(server_error=3)
    with pytest.raises(LLMError, match="HTTP 500 after 3 attempts"):
        _llm(db_pool, llm_endpoint, settings).complete(MESSAGES, purpose="generate_post", max_tokens=120)
    with psycopg.connect(clean_db) as conn:
        assert _day(conn, NOW.date())[1:] == (0, 0, False)
        assert conn.execute("SELECT status, attempts, cost_usd FROM llm_usage").fetchall() == [
            ("failed", 3, Decimal(0))
        ]


def test_two_processes_reserving_at_once_never_exceed_the_limit(clean_db: str) -> None:
    amount, limit = "0.000070", 0.0035  # exactly 50 reservations fit
    ctx = multiprocessing.get_context("spawn")
    barrier, results = ctx.Barrier(2), ctx.Queue()
    args = (clean_db, limit, amount, NOW.date().isoformat(), barrier, results)
    procs = [ctx.Process(target=reserve_until_refused, args=args) for _ in range(2)]
    for p in procs:
        p.start()
    counts = [results.get(timeout=120) for _ in procs]
    for p in procs:
        p.join(timeout=30)
        assert p.exitcode == 0
    assert sum(counts) == 50
    assert min(counts) > 0  # both really competed
    with psycopg.connect(clean_db) as conn:
        limit_usd, used, reserved, _ = _day(conn, NOW.date())
        assert reserved == Decimal(amount) * 50 <= limit_usd
        assert used == 0
        n_reserved, n_refused = conn.execute(
            "SELECT count(*) FILTER (WHERE status = 'reserved'),"
            " count(*) FILTER (WHERE status = 'budget_exceeded') FROM llm_usage"
        ).fetchone()
    assert (n_reserved, n_refused) == (50, 2)
