"""The main job: the default 7-day experiment plan, end to end, on the embedded defaults and virtual time.

A driver outside the services: it starts the sandbox through its process wrapper, moves the sandbox's virtual
clock over HTTP from one due event to the next, and calls the same step functions the flows and the CLI call
(`xbot_core.services.steps`) with one set of dependencies and one browser for the whole run. The steps run
against the real parts — embedded Postgres, the sandbox X site driven by Chromium through the Playwright
adapter, the sandbox LLM endpoint through the openai client. Everything it writes is marked simulated and
belongs to the sandbox's own account, never to a configured real one.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from psycopg_pool import ConnectionPool
from pydantic import SecretStr

from xbot_core.adapters.clock import SandboxClock
from xbot_core.adapters.db import migrations
from xbot_core.adapters.db.connection import database_url, open_pool
from xbot_core.adapters.db.queries import query
from xbot_core.errors import XbotError
from xbot_core.sandbox.process import SandboxProcess
from xbot_core.sandbox.token import admin_headers, admin_token_file, token_file_for
from xbot_core.services import steps, wiring
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
SANDBOX_START_TIMEOUT_S = 120  # its imports alone took over 30 s on the shared 2-core machine at load 15


@dataclass(frozen=True)
class DemoConfig:
    """What `xbot demo` runs; every tunable has its default here."""

    days: int = 7
    seed: int = 7
    fresh: bool = False
    posts_per_day: int = 8
    plan_hour_utc: int = 6  # the day's plan and generation run at this virtual hour
    render_reports: bool = True
    # report notebooks rendered at once beside the simulation, each in its own kernel process
    report_workers: int = 2
    audience_file: Path | None = (
        None  # the sandbox's audience (default its template; `xbot sandbox calibrate`)
    )

    def __post_init__(self) -> None:
        from xbot_core.errors import ConfigError

        if not 1 <= self.days <= 60:
            raise ConfigError(f"--days must be between 1 and 60, got {self.days}")
        if not 1 <= self.posts_per_day <= 24:
            raise ConfigError(f"--posts-per-day must be between 1 and 24, got {self.posts_per_day}")
        if self.audience_file is not None:  # a bad file is one clear error naming it, before anything starts
            from xbot_core.sandbox.config import load_audience_config

            load_audience_config(self.audience_file)


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
    fingerprint: dict[str, str] = field(default_factory=dict)  # md5 per table of what the run decided

    @property
    def digest(self) -> str:
        """One digest of the fingerprint: two runs of the same plan and seed print the same."""
        joined = ",".join(f"{k}={v}" for k, v in sorted(self.fingerprint.items()))
        return hashlib.sha256(joined.encode()).hexdigest()[:16]


def demo_settings(base: Settings, sandbox_url: str, audience_file: Path | None = None) -> Settings:
    """The configured settings, pointed at the sandbox and its own account (a real x.com/OpenAI config is
    never touched by the demo; a calibrated audience keeps the template's sandbox account)."""
    from xbot_core.sandbox.config import AUDIENCE_FILE, load_audience_config

    handle = load_audience_config(audience_file or AUDIENCE_FILE).account.handle
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


@functools.cache
def _admin_http() -> httpx.Client:
    """One client for the run's admin writes (one per write built an SSL context each time)."""
    return httpx.Client(timeout=10)


def _admin_post(url: str, path: str, data_dir: Path, **kwargs: Any) -> None:
    """A sandbox admin write, with the per-process token `xbot sandbox` wrote to the data dir."""
    resp = _admin_http().post(f"{url}{path}", headers=admin_headers(url, data_dir), **kwargs)
    if resp.status_code in (401, 403):
        raise XbotError(
            f"the sandbox at {url} refused {path} ({resp.status_code}): no admin token for it in "
            f"{admin_token_file(data_dir, urlsplit(url).port or 80)} (another process's sandbox?)"
        )
    resp.raise_for_status()


def _set_clock(url: str, when: datetime, data_dir: Path) -> None:
    _admin_post(url, "/admin/clock", data_dir, json={"set": when.isoformat()})


def _reset(pool: ConnectionPool, account_id: int, sandbox_url: str, days: int, data_dir: Path) -> None:
    """--fresh: the demo account's rows, the sandbox's posts and clock, the demo days' LLM usage."""
    with pool.connection() as conn, conn.transaction():
        for name in RESET_QUERIES:
            conn.execute(query(name), {"account_id": account_id})
    _admin_post(sandbox_url, "/admin/reset", data_dir)
    start = SandboxClock(sandbox_url, token_file=token_file_for(sandbox_url, data_dir)).now()
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
            audience_file=config.audience_file,
        ).start(timeout_s=SANDBOX_START_TIMEOUT_S)
    try:
        settings = demo_settings(base, sandbox.url, config.audience_file)
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
    clock = SandboxClock(sandbox_url, token_file=token_file_for(sandbox_url, settings.data_dir))
    with times.phase("setup"):
        deps = wiring.deps_for(settings, pool)
        if config.fresh:
            _reset(pool, deps.account_id, sandbox_url, config.days, settings.data_dir)
        await _login(settings)
        started = _scalar(pool, "demo_plan_start", account_id=deps.account_id)
        start_day = started.astimezone(UTC).date() if started else clock.now().date()
        end = datetime.combine(start_day + timedelta(days=config.days), datetime.min.time(), UTC)

    units = _report_units(start_day, config) if config.render_reports else []
    # each render runs its notebook in a kernel of its own (papermill), in a thread beside the simulation
    renderer = ThreadPoolExecutor(config.report_workers, thread_name_prefix="report") if units else None
    rendering: dict[int, Future[steps.ReportRun]] = {}

    def render_ready(now: datetime, *, final: bool = False) -> None:
        """Submit every report whose data is final by `now`, so it renders beside the simulation: a daily
        report once the day after it is over (its posts' T+24h passes are in); the rest when `final`."""
        for i, unit in enumerate(units):
            due = final or (unit["kind"] == "daily" and unit["day"] + timedelta(days=2) <= now.date())
            if renderer is not None and i not in rendering and due:
                rendering[i] = renderer.submit(partial(_render, deps, config.seed, unit))

    try:
        await _simulate(deps, config, sandbox_url, times, start_day, end, on_day, render_ready)
        render_ready(end, final=True)
        with times.phase("reports"):
            runs = [await asyncio.wrap_future(rendering[i]) for i in range(len(units))]
    finally:
        if renderer is not None:
            await asyncio.to_thread(renderer.shutdown, cancel_futures=True)
    reports = [str(r.html) for run in runs for r in run.rendered]
    with pool.connection() as conn:
        cur = conn.execute(query("demo_summary"), {"account_id": deps.account_id})
        cols = [d.name for d in cur.description or []]
        row = cur.fetchone()
        cur = conn.execute(query("demo_fingerprint"), {"account_id": deps.account_id})
        fingerprint = dict(zip([d.name for d in cur.description or []], cur.fetchone() or (), strict=True))
    summary = dict(zip(cols, row or (), strict=True))
    return DemoResult(start_day, end.date(), config.days, summary, reports, times, sandbox_url, fingerprint)


async def _simulate(
    deps: steps.StepDeps,
    config: DemoConfig,
    sandbox_url: str,
    times: PhaseTimes,
    start_day: date,
    end: datetime,
    on_day: Callable[[int, int, str], None],
    on_progress: Callable[[datetime], None],
) -> None:
    """The plan's days on virtual time, one browser for all of them; `on_progress(now)` after each day."""
    settings, pool = deps.settings, deps.pool
    async with wiring.shared_browser(deps) as shared:
        now = deps.clock.now()
        day_index = (now.date() - start_day).days
        on_day(min(day_index, config.days), config.days, f"virtual {now:%Y-%m-%d %H:%M}")
        while now < end:
            day = now.date()
            plan_at = datetime.combine(day, datetime.min.time(), UTC) + timedelta(hours=config.plan_hour_utc)
            next_day = datetime.combine(day + timedelta(days=1), datetime.min.time(), UTC)
            if now <= plan_at:
                now = plan_at
                _set_clock(sandbox_url, now, settings.data_dir)
            if not _scalar(
                pool,
                "demo_decisions_between",
                account_id=deps.account_id,
                start=datetime.combine(day, datetime.min.time(), UTC),
                end=next_day,
            ):
                with times.phase("learning"):
                    steps.learn_step(shared, seed=config.seed + day_index, now=now)
                with times.phase("llm"):
                    steps.plan_step(
                        shared,
                        count=config.posts_per_day,
                        seed=config.seed * 1000 + day_index,
                        experiment_start=start_day,
                        now=now,
                    )
            now = await _events_until(next_day, shared, sandbox_url, times)
            day_index = (now.date() - start_day).days
            on_day(min(day_index, config.days), config.days, f"virtual {now:%Y-%m-%d}")
            on_progress(now)
        with times.phase("learning"):
            steps.learn_step(shared, seed=config.seed + config.days, now=now)


async def _events_until(
    until: datetime, deps: steps.StepDeps, sandbox_url: str, times: PhaseTimes
) -> datetime:
    """Move the virtual clock from due event to due event (a post, a collection pass) until `until`."""
    settings, account_id = deps.settings, deps.account_id
    step = timedelta(seconds=max(60, settings.min_post_interval_s))
    now = deps.clock.now()
    while True:
        next_post = _scalar(deps.pool, "demo_next_queued", account_id=account_id)
        next_pass = _scalar(deps.pool, "demo_next_pass_due", account_id=account_id)
        due = [t for t in (next_post, next_pass) if t is not None and t < until]
        if not due:
            break
        target = max(min(due), now)
        if target > now:
            now = target
            _set_clock(sandbox_url, now, settings.data_dir)
        progressed = False
        if next_post is not None and next_post <= now:
            with times.phase("browser"):
                posted = await steps.post_step(deps, max_posts=settings.max_posts_per_hour or 1, now=now)
            progressed |= any(p.status == "posted" for p in posted.posts)
        if next_pass is not None and next_pass <= now:
            with times.phase("browser"):
                collected = await steps.collect_step(deps, now=now)
            progressed |= bool(collected.stored)
        if not progressed:
            # a cap, the minimum interval or a transient failure held things back: let virtual time pass
            now = min(now + step, until)
            _set_clock(sandbox_url, now, settings.data_dir)
    if now < until:
        now = until
        _set_clock(sandbox_url, now, settings.data_dir)
    return now


def _report_units(start_day: date, config: DemoConfig) -> list[dict[str, Any]]:
    """Every day's daily report, then the 7-day experiment report and the analyses of the last day, one
    notebook each (the order of the rendered list)."""
    last = start_day + timedelta(days=config.days - 1)
    units: list[dict[str, Any]] = [
        {"kind": "daily", "day": start_day + timedelta(days=i)} for i in range(config.days)
    ]
    units.append({"kind": "experiment", "day": last, "start": start_day})
    units += [{"kind": kind, "day": last} for kind in ("reward", "bandit")]
    return units


def _render(deps: steps.StepDeps, seed: int, unit: dict[str, Any]) -> steps.ReportRun:
    return steps.report_step(deps, seed=seed, **unit)
