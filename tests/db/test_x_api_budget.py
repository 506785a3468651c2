"""The X API's cost in Postgres: every call of the real client against the sandbox reserved before it is
made and settled after; the daily limit holds under concurrency; `xbot budget` shows both budgets."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool
from typer.testing import CliRunner

from tests.plugins.sandbox import SandboxAdmin, sandbox_clock, write_sandbox_token
from tests.plugins.x_api import oauth2_token
from xbot_core.adapters.x_api import make_api_client
from xbot_core.adapters.x_api.auth import TokenFile, TokenSet
from xbot_core.adapters.x_api.budget import XApiBudget, call_cost
from xbot_core.adapters.x_api.client import CallRecord
from xbot_core.adapters.x_browser.models import Metrics, Unavailable
from xbot_core.errors import ConfigError, RateLimitedError, XApiBudgetExceededError
from xbot_core.settings import Settings, get_settings, load_settings

pytestmark = pytest.mark.db

NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)


@pytest.fixture
def x_api_db(clean_db: str) -> Iterator[str]:
    """The clean (migrated) database with the X API cost tables emptied."""
    with psycopg.connect(clean_db, autocommit=True) as conn:
        conn.execute("TRUNCATE x_api_usage, x_api_budget_days RESTART IDENTITY CASCADE")
    yield clean_db


@pytest.fixture
def x_pool(x_api_db: str) -> Iterator[ConnectionPool]:
    pool = ConnectionPool(x_api_db, min_size=1, max_size=8, open=False)
    pool.open(wait=True, timeout=15)
    yield pool
    pool.close()


def api_settings(url: str, tmp_path: Path, **extra: Any) -> Settings:
    settings = load_settings(
        x_base_url=url, x_api_base_url=url, data_dir=tmp_path, x_backend="api", clock="sandbox", **extra
    )
    write_sandbox_token(url, tmp_path)  # XBOT_CLOCK=sandbox reads it from the data dir
    TokenFile(settings.api_token_file).save(TokenSet.from_response(oauth2_token(url), now=time.time()))
    return settings


def day_row(pool: ConnectionPool) -> tuple[Decimal, Decimal, Decimal]:
    with pool.connection() as conn:
        row = conn.execute("SELECT limit_usd, used_usd, reserved_usd FROM x_api_budget_days").fetchone()
    assert row is not None
    return row[0], row[1], row[2]


def test_prices_pinned_by_hand() -> None:
    assert call_cost(CallRecord("create", 1), 1) == Decimal("0.015")
    assert call_cost(CallRecord("create", 1, has_url=True), 1) == Decimal("0.20")
    assert call_cost(CallRecord("create", 1), 0) == 0  # refused or failed: nothing billed
    assert call_cost(CallRecord("lookup", 100), 37) == Decimal("0.185")  # 37 × 0.005
    assert call_cost(CallRecord("me", 1), 1) == Decimal("0.005")


def test_every_call_is_counted_and_settled(
    x_pool: ConnectionPool, sandbox_admin: SandboxAdmin, tmp_path: Path
) -> None:
    settings = api_settings(sandbox_admin.url, tmp_path)
    meter = XApiBudget(x_pool, settings, now=sandbox_clock(sandbox_admin.url).now)
    meter.check_schema()

    async def go() -> None:
        async with make_api_client(settings, meter=meter) as x:
            plain = await x.publish("Counted once.")
            linked = await x.publish("Counted with a link: https://example.com/pricing")
            sandbox_admin.advance(3600)
            results = await x.read_metrics_many([plain, linked])
            assert all(isinstance(r, Metrics) for r in results)
            await x.read_follower_count()

    asyncio.run(go())
    with x_pool.connection() as conn:
        rows = conn.execute(
            "SELECT operation, resources, has_url, status, billed_resources, cost_usd, reserved_usd"
            " FROM x_api_usage ORDER BY usage_id"
        ).fetchall()
    assert rows == [
        ("create", 1, False, "succeeded", 1, Decimal("0.015000"), Decimal("0.015000")),
        ("create", 1, True, "succeeded", 1, Decimal("0.200000"), Decimal("0.200000")),
        ("lookup", 2, False, "succeeded", 2, Decimal("0.010000"), Decimal("0.010000")),
        ("analytics", 2, False, "succeeded", 2, Decimal("0.010000"), Decimal("0.010000")),
        ("me", 1, False, "succeeded", 1, Decimal("0.005000"), Decimal("0.005000")),
    ]
    # 0.015 + 0.20 + 0.010 + 0.010 + 0.005, nothing left reserved
    assert day_row(x_pool) == (Decimal("2.000000"), Decimal("0.240000"), Decimal("0.000000"))


def test_the_daily_limit_refuses_before_any_request(
    x_pool: ConnectionPool, sandbox_admin: SandboxAdmin, tmp_path: Path
) -> None:
    settings = api_settings(sandbox_admin.url, tmp_path, x_api_daily_budget_usd=0.025)
    meter = XApiBudget(x_pool, settings, now=sandbox_clock(sandbox_admin.url).now)

    async def go() -> None:
        async with make_api_client(settings, meter=meter) as x:
            ref = await x.publish("The first fits.")
            calls = x.calls
            with pytest.raises(XApiBudgetExceededError, match=r"cannot cover 0\.015"):
                await x.publish("The second does not.")
            assert isinstance(XApiBudgetExceededError("x"), RateLimitedError)  # posting requeues it
            [read] = await x.read_metrics_many([ref])  # lookup + analytics: 2 × 0.005 fit exactly...
            assert isinstance(read, Metrics)
            [refused] = await x.read_metrics_many([ref])  # ...then the pass stays pending
            assert isinstance(refused, Unavailable) and refused.reason == "rate_limited"
            assert x.calls == calls + 2  # the refused calls were never sent

    asyncio.run(go())
    assert len(sandbox_admin.ground_truth()["posts"]) == 1
    with x_pool.connection() as conn:
        statuses = [r[0] for r in conn.execute("SELECT status FROM x_api_usage ORDER BY usage_id")]
    assert statuses == ["succeeded", "budget_exceeded", "succeeded", "succeeded", "budget_exceeded"]
    assert day_row(x_pool) == (Decimal("0.025000"), Decimal("0.025000"), Decimal("0.000000"))


def test_concurrent_reservations_never_pass_the_limit(x_pool: ConnectionPool, tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path, x_api_daily_budget_usd=0.05)
    meter = XApiBudget(x_pool, settings, now=lambda: NOW)
    call = CallRecord("lookup", 1)

    def one(_: int) -> bool:
        try:
            meter.reserve_now(call)
            return True
        except XApiBudgetExceededError:
            return False

    with ThreadPoolExecutor(max_workers=8) as pool:
        granted = sum(pool.map(one, range(24)))
    assert granted == 10  # 0.05 / 0.005
    assert day_row(x_pool) == (Decimal("0.050000"), Decimal("0.000000"), Decimal("0.050000"))


def test_missing_tables_are_named(server_url: str, tmp_path: Path) -> None:
    """A database migrated only to 0002 (before the X API cost tables): the API backend refuses to start."""
    from psycopg import sql

    from xbot_core.adapters.db import migrations

    name = "xbot_x_api_before_0003"
    info = psycopg.conninfo.conninfo_to_dict(server_url)
    url = psycopg.conninfo.make_conninfo(**{**info, "dbname": name})  # type: ignore[arg-type]
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        assert migrations.migrate(url, to=2) == [1, 2]
        with ConnectionPool(url, min_size=1, max_size=1) as pool:
            with pytest.raises(ConfigError, match="migration 0003"):
                XApiBudget(pool, load_settings(data_dir=tmp_path)).check_schema()
    finally:
        with psycopg.connect(server_url, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_budget_command_shows_both(
    x_pool: ConnectionPool, x_api_db: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import typer

    from xbot_core.commands.budget import budget

    XApiBudget(x_pool, load_settings(data_dir=tmp_path), now=lambda: datetime.now(UTC)).reserve_now(
        CallRecord("me", 1)
    )
    monkeypatch.setenv("XBOT_DATABASE_URL", x_api_db)
    monkeypatch.setenv("XBOT_X_BASE_URL", "http://127.0.0.1:9")
    get_settings.cache_clear()
    app = typer.Typer()
    app.command()(budget)
    app.command("unused")(lambda: None)
    try:
        result = CliRunner().invoke(app, ["budget", "--json"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["limit_usd"] == "5.000000" and shown["x_api_limit_usd"] == "2.000000"
    assert shown["x_api_reserved_usd"] == "0.005000" and shown["x_api_calls"] == "me 1 (0 USD)"
