"""The main job: the default 7-day experiment plan, end to end, on the embedded defaults and virtual time.

The real flows run against the real parts — embedded Postgres, the sandbox X site driven by Chromium through
the Playwright adapter, the sandbox LLM endpoint through the openai client — while this driver only moves the
sandbox's virtual clock from one due event to the next and times each phase. Everything it writes is
marked simulated and belongs to the sandbox's own account, never to a configured real one.
"""

from __future__ import annotations

import asyncio
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
from psycopg_pool import ConnectionPool
from pydantic import SecretStr

from xbot_core.adapters.clock import SandboxClock
from xbot_core.adapters.db import migrations
from xbot_core.adapters.db.connection import database_url, open_pool
from xbot_core.adapters.db.queries import query
from xbot_core.adapters.db.repositories import ensure_account
from xbot_core.sandbox.process import SandboxProcess
from xbot_core.settings import Settings

RESET_QUERIES = (
    "demo_reset_outcomes",
    "demo_reset_posted",
    "demo_reset_assignments",
    "demo_reset_decisions",
    "demo_reset_experiments",
    "demo_reset_learning",
    "demo_reset_training",
    "demo_reset_snapshots",
)
PHASES = ("setup", "llm", "browser", "learning", "reports")


@dataclass(frozen=True)
class DemoConfig:
    """What `xbot demo` runs; every tunable has its default here."""

    days: int = 7
    seed: int = 7
    fresh: bool = False
    posts_per_day: int = 8
    plan_hour_utc: int = 6  # the day's plan and generation run at this virtual hour
    render_reports: bool = True

    def __post_init__(self) -> None:
        from xbot_core.errors import ConfigError

        if not 1 <= self.days <= 60:
            raise ConfigError(f"--days must be between 1 and 60, got {self.days}")
        if not 1 <= self.posts_per_day <= 24:
            raise ConfigError(f"--posts-per-day must be between 1 and 24, got {self.posts_per_day}")


@dataclass
class PhaseTimes:
    """Wall time per phase of the run, in seconds."""

    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    @contextmanager
    def phase(self, name: str) -> Iterator[None]:
        t0 = time.perf_counter()
        try:
            yield
        finally:
            self.seconds[name] += time.perf_counter() - t0

    @property
    def total(self) -> float:
        return sum(self.seconds.values())


@dataclass
class DemoResult:
    """What the run did: the plan window, counts from the database, reports and the phase split."""

    start: date
    end: date
    days_run: int
    summary: dict[str, Any]
    reports: list[str]
    times: PhaseTimes
    sandbox_url: str


def demo_settings(base: Settings, sandbox_url: str) -> Settings:
    """The configured settings, pointed at the sandbox and its own account (a real x.com/OpenAI config is
    never touched by the demo)."""
    from xbot_core.sandbox.config import AUDIENCE_FILE, load_audience_config

    handle = load_audience_config(AUDIENCE_FILE).account.handle
    return base.model_copy(
        update={
            "clock": "sandbox",
            "x_base_url": sandbox_url,
            "openai_base_url": sandbox_url + "/v1",
            "openai_api_key": SecretStr("sandbox-key"),
            "account_handle": handle,
            "x_session_file": base.data_dir / "session" / "sandbox_storage_state.json",
            "x_api_base_url": sandbox_url,
            "x_api_token_file": base.data_dir / "session" / "sandbox_x_api_token.json",
            "mode": "live",
            "real_metrics_enabled": True,
        }
    )


def _scalar(pool: ConnectionPool, name: str, **params: Any) -> Any:
    with pool.connection() as conn:
        row = conn.execute(query(name), params).fetchone()
        return row[0] if row else None


def _set_clock(url: str, when: datetime) -> None:
    httpx.post(f"{url}/admin/clock", json={"set": when.isoformat()}, timeout=10).raise_for_status()


def _reset(pool: ConnectionPool, account_id: int, sandbox_url: str, days: int) -> None:
    """--fresh: the demo account's rows, the sandbox's posts and clock, the demo days' LLM usage."""
    with pool.connection() as conn, conn.transaction():
        for name in RESET_QUERIES:
            conn.execute(query(name), {"account_id": account_id})
    httpx.post(f"{sandbox_url}/admin/reset", timeout=10).raise_for_status()
    start = SandboxClock(sandbox_url).now()
    window = {"start": start.date() - timedelta(days=1), "end": start.date() + timedelta(days=days + 3)}
    with pool.connection() as conn, conn.transaction():
        conn.execute(query("demo_reset_llm_usage"), window)
        conn.execute(query("demo_reset_llm_days"), window)


async def _login(settings: Settings) -> None:
    if settings.x_backend == "api":  # the sandbox's OAuth 2.0 PKCE consent, as `xbot x login --api`
        from xbot_core.adapters.x_api.login import run_api_login

        await asyncio.to_thread(run_api_login, settings, ask=str, say=lambda _: None, sandbox=True)
        return
    from playwright.async_api import async_playwright

    from xbot_core.adapters.x_browser.browser import launch_chromium
    from xbot_core.adapters.x_browser.session import check_session, sandbox_login

    async with async_playwright() as pw:
        browser = await launch_chromium(pw, settings.chromium_path)
        try:
            if settings.session_file.is_file() and await check_session(
                browser, settings.x_base_url, settings.session_file
            ):
                return
            await sandbox_login(browser, settings.x_base_url, settings.account_handle, settings.session_file)
        finally:
            await browser.close()


def run_demo(
    base: Settings,
    config: DemoConfig,
    *,
    on_day: Callable[[int, int, str], None] | None = None,
) -> DemoResult:
    """Run (or continue) the plan; `on_day(done, total, note)` reports progress per simulated day."""
    return asyncio.run(_run(base, config, on_day or (lambda *_: None)))


async def _run(base: Settings, config: DemoConfig, on_day: Callable[[int, int, str], None]) -> DemoResult:
    times = PhaseTimes()
    with times.phase("setup"):
        base.data_dir.mkdir(parents=True, exist_ok=True)
        url = database_url(base)
        migrations.migrate(url)
        sandbox = SandboxProcess(
            host=base.sandbox_host,
            port=base.sandbox_port,
            seed=config.seed,
            state_dir=base.data_dir / "sandbox",
            log_file=base.data_dir / "logs" / "sandbox.log",
        ).start()
    try:
        settings = demo_settings(base, sandbox.url)
        with open_pool(url, max_size=base.db_pool_max) as pool:
            return await _run_with(settings, config, pool, sandbox.url, times, on_day)
    finally:
        sandbox.stop()


async def _run_with(
    settings: Settings,
    config: DemoConfig,
    pool: ConnectionPool,
    sandbox_url: str,
    times: PhaseTimes,
    on_day: Callable[[int, int, str], None],
) -> DemoResult:
    from flows.collect_metrics import collect_metrics
    from flows.learn import learn
    from flows.plan_and_generate import plan_and_generate
    from flows.post_due import post_due
    from xbot_core.services.runtime import Runtime, use_runtime
    from xbot_core.services.x_backend import open_x_client

    clock = SandboxClock(sandbox_url)
    with times.phase("setup"):
        with pool.connection() as conn:
            account_id = ensure_account(
                conn,
                settings.account_handle,
                settings.x_base_url,
                str(settings.session_file),
                settings.timezone,
            )
        if config.fresh:
            _reset(pool, account_id, sandbox_url, config.days)
        await _login(settings)
        started = _scalar(pool, "demo_plan_start", account_id=account_id)
        start_day = started.astimezone(UTC).date() if started else clock.now().date()
        end = datetime.combine(start_day + timedelta(days=config.days), datetime.min.time(), UTC)

    rt = Runtime(settings, pool, account_id, clock, simulated=True)
    async with open_x_client(settings, pool, clock) as x:
        rt.x = x
        with use_runtime(rt):
            now = clock.now()
            day_index = (now.date() - start_day).days
            on_day(min(day_index, config.days), config.days, f"virtual {now:%Y-%m-%d %H:%M}")
            while now < end:
                day = now.date()
                plan_at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(
                    hours=config.plan_hour_utc
                )
                next_day = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
                if now <= plan_at:
                    now = plan_at
                    _set_clock(sandbox_url, now)
                if not _scalar(
                    pool,
                    "demo_decisions_between",
                    account_id=account_id,
                    start=datetime.combine(day, datetime.min.time(), UTC),
                    end=next_day,
                ):
                    with times.phase("learning"):
                        await asyncio.to_thread(learn, seed=config.seed + day_index, now=now)
                    with times.phase("llm"):
                        await asyncio.to_thread(
                            plan_and_generate,
                            count=config.posts_per_day,
                            seed=config.seed * 1000 + day_index,
                            experiment_start=start_day,
                            now=now,
                        )
                now = await _events_until(
                    next_day, pool, account_id, sandbox_url, times, settings, post_due, collect_metrics
                )
                day_index = (now.date() - start_day).days
                on_day(min(day_index, config.days), config.days, f"virtual {now:%Y-%m-%d}")
            with times.phase("learning"):
                await asyncio.to_thread(learn, seed=config.seed + config.days, now=now)

    reports: list[str] = []
    if config.render_reports:
        with times.phase("reports"):
            reports = await asyncio.to_thread(_render_all, rt, start_day, config)
    with pool.connection() as conn:
        cur = conn.execute(query("demo_summary"), {"account_id": account_id})
        cols = [d.name for d in cur.description or []]
        row = cur.fetchone()
    summary = dict(zip(cols, row or (), strict=True))
    return DemoResult(start_day, end.date(), config.days, summary, reports, times, sandbox_url)


async def _events_until(
    until: datetime,
    pool: ConnectionPool,
    account_id: int,
    sandbox_url: str,
    times: PhaseTimes,
    settings: Settings,
    post_due: Any,
    collect_metrics: Any,
) -> datetime:
    """Move the virtual clock from due event to due event (a post, a collection pass) until `until`."""
    step = timedelta(seconds=max(60, settings.min_post_interval_s))
    now = SandboxClock(sandbox_url).now()
    while True:
        next_post = _scalar(pool, "demo_next_queued", account_id=account_id) if post_due else None
        next_pass = _scalar(pool, "demo_next_pass_due", account_id=account_id)
        due = [t for t in (next_post, next_pass) if t is not None and t < until]
        if not due:
            break
        target = max(min(due), now)
        if target > now:
            now = target
            _set_clock(sandbox_url, now)
        progressed = False
        if post_due is not None and next_post is not None and next_post <= now:
            with times.phase("browser"):
                out = await post_due(max_posts=settings.max_posts_per_hour or 1, now=now)
            progressed |= any(p.get("status") == "posted" for p in out.get("posts", []))
        if next_pass is not None and next_pass <= now:
            with times.phase("browser"):
                out = await collect_metrics(now=now)
            progressed |= bool(out.get("stored"))
        if not progressed:
            # a cap, the minimum interval or a transient failure held things back: let virtual time pass
            now = min(now + step, until)
            _set_clock(sandbox_url, now)
    if now < until:
        now = until
        _set_clock(sandbox_url, now)
    return now


def _render_all(rt: Any, start_day: date, config: DemoConfig) -> list[str]:
    """Every day's daily report, then on the last day all reports (the 7-day experiment report included)."""
    from flows.render_reports import render_reports

    last = start_day + timedelta(days=config.days - 1)
    out: list[str] = []
    for i in range(config.days - 1):
        out += render_reports(report_date=start_day + timedelta(days=i), kind="daily", seed=config.seed)[
            "rendered"
        ]
    out += render_reports(report_date=last, kind="all", experiment_start=start_day, seed=config.seed)[
        "rendered"
    ]
    return out
