"""Every flow under Prefect's test harness against the real database, the real sandbox and real Chromium.

The flows wire themselves from XBOT_ settings (as `xbot serve` runs them): their own pool, their own browser.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from flows.collect_metrics import collect, collect_metrics
from flows.learn import learn, learn_task
from flows.plan_and_generate import plan, plan_and_generate
from flows.post_due import post, post_due
from flows.render_reports import render, render_reports
from tests.plugins.posting import SANDBOX_HANDLE, PostingEnv
from tests.plugins.sandbox import LoopThread, SandboxAdmin
from xbot_core.services.operations import ops
from xbot_core.settings import get_settings

pytestmark = [pytest.mark.flows, pytest.mark.db, pytest.mark.browser, pytest.mark.slow]


@pytest.fixture
def flow_env(
    prefect_harness: None,
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    sandbox_admin: SandboxAdmin,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[PostingEnv]:
    """XBOT_ settings for the flows: test database, sandbox (X + LLM + virtual clock), logged-in session."""
    env = make_posting_env()
    values = {
        "XBOT_DATABASE_URL": env.db_url,
        "XBOT_X_BASE_URL": sandbox_admin.url,
        "XBOT_OPENAI_BASE_URL": sandbox_admin.url + "/v1",
        "XBOT_ACCOUNT_HANDLE": SANDBOX_HANDLE,
        "XBOT_X_SESSION_FILE": str(x_client.session_file),
        "XBOT_CLOCK": "sandbox",
        "XBOT_MODE": "live",
        "XBOT_MAX_POSTS_PER_HOUR": "100",
        "XBOT_MIN_POST_INTERVAL_S": "0",
        "XBOT_REPORTS_DIR": str(tmp_path / "reports"),
    }
    for k, v in values.items():
        monkeypatch.setenv(k, v)
    for k in ("POSTING_DISABLED", "LIVE_POSTS"):
        monkeypatch.delenv(k, raising=False)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def test_publish_is_never_retried_and_idempotent_tasks_are() -> None:
    assert post.retries == 0  # a publish is never retried
    assert plan.retries == 0  # the LLM adapter owns the one retry layer
    for task in (collect, learn_task, render):
        assert task.retries == 3 and task.retry_delay_seconds == [2, 5, 15]


def test_the_loop_plan_post_collect_learn(
    flow_env: PostingEnv, browser_runner: LoopThread, sandbox_admin: SandboxAdmin
) -> None:
    start = datetime.fromisoformat(sandbox_admin.now())
    planned = plan_and_generate(count=6, seed=11, experiment_start=start.date())
    assert planned["planned"] == 6 and planned["experiments"] >= 1
    queued = flow_env.rows(
        "SELECT count(*), min(propensity) > 0, bool_and(scheduled_at > %s) FROM content_metadata"
        " WHERE status = 'queued'",
        start - timedelta(minutes=1),
    )[0]
    assert queued[0] == planned["queued"] >= 5 and queued[1] is True and queued[2] is True
    # nothing is due yet: the run returns without opening a browser
    idle = browser_runner.run(post_due(max_posts=10))
    assert idle["posts"] == [] and sandbox_admin.ground_truth()["posts"] == []
    sandbox_admin.advance(26 * 3600)  # every slot of the plan has passed
    state = browser_runner.run(post_due(max_posts=10, return_state=True))
    assert state.is_completed()
    result = state.result()
    posted = [p for p in result["posts"] if p["status"] == "posted"]
    assert len(posted) == queued[0]
    live = {p["tweet_id"] for p in sandbox_admin.ground_truth()["posts"]}
    assert live == {p["tweet_id"] for p in posted}
    assert flow_env.rows("SELECT count(*) FROM posted_decisions") == [(len(posted),)]

    sandbox_admin.advance(25 * 3600)
    collected = browser_runner.run(collect_metrics())
    assert (collected["due"], collected["stored"]) == (2 * len(posted), 2 * len(posted))
    assert collected["followers"] > 0

    trained = learn(seed=3)
    assert trained["status"] == "trained" and trained["simulated"] is True
    assert trained["outcomes_used"] == len(posted)

    day = datetime.fromisoformat(sandbox_admin.now()).date()
    rendered = render_reports(report_date=day)
    assert rendered["report_date"] == day.isoformat() and len(rendered["rendered"]) == 1
    html = Path(rendered["rendered"][0])
    assert html.name == f"daily_report_{day.isoformat()}_{SANDBOX_HANDLE}.html"
    assert html.is_file() and html.parent == get_settings().reports_dir and html.stat().st_size > 10_000


def test_kill_switch_and_shadow_mode_in_the_flow(
    flow_env: PostingEnv,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    d = flow_env.queue("Flow-level kill switch check.")
    ops.stop(flow_env.pool, reason="flow test", by="pytest")
    blocked = browser_runner.run(post_due())
    assert [p["status"] for p in blocked["posts"]] == ["blocked"]
    assert blocked["posts"][0]["reason"].startswith("kill_switch")
    assert flow_env.status(d) == "queued" and sandbox_admin.ground_truth()["posts"] == []
    ops.resume(flow_env.pool, by="pytest")
    monkeypatch.setenv("POSTING_DISABLED", "true")  # the old flag: shadow mode
    get_settings.cache_clear()
    shadow = browser_runner.run(post_due())
    assert (shadow["mode"], shadow["skipped"], shadow["posts"]) == ("shadow", 1, [])
    assert flow_env.status(d) == "skipped" and sandbox_admin.ground_truth()["posts"] == []


def test_collect_flow_skips_when_real_metrics_are_disabled(
    flow_env: PostingEnv, browser_runner: LoopThread, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XBOT_REAL_METRICS_ENABLED", "false")
    get_settings.cache_clear()
    out = browser_runner.run(collect_metrics())
    assert out["skipped"] == "XBOT_REAL_METRICS_ENABLED=false" and out["stored"] == 0
