"""Pending-pass collection against the real database and the real sandbox through real Chromium."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import pytest

from tests.plugins.posting import PostingEnv
from tests.plugins.sandbox import LoopThread, SandboxAdmin
from xbot_core.services.loop import collection, posting

pytestmark = [pytest.mark.db, pytest.mark.browser]

OUTCOME_COLS = (
    "decision_id, collected_pass, status, unavailable_reason, due_at, collected_at, impressions, likes, "
    "retweets, replies, follows, follows_source, follows_confidence, er, fpki, retweet_rate, reply_rate, "
    "simulated, missing_metrics"
)


def post_n(env: PostingEnv, client: Any, runner: LoopThread, admin: SandboxAdmin, n: int) -> list[Any]:
    """Queue and publish n posts, 10 virtual minutes apart; returns their PostResults."""
    out = []
    for i in range(n):
        env.queue(f"Collection test post {i}: metrics accrue over a day.")
        res = runner.run(
            posting.post_next(
                env.pool, client, account_id=env.account_id, now=env.now(), settings=env.settings
            )
        )
        assert res.status == "posted"
        out.append(res)
        admin.advance(600)
    return out


def collect(env: PostingEnv, client: Any, runner: LoopThread, **kw: Any) -> collection.CollectionReport:
    return runner.run(
        collection.collect_due(
            env.pool,
            client,
            account_id=env.account_id,
            now=env.now(),
            settings=env.settings,
            simulated=True,
            **kw,
        )
    )


def outcomes(env: PostingEnv) -> list[dict[str, Any]]:
    names = [c.strip() for c in OUTCOME_COLS.split(",")]
    rows = env.rows(f"SELECT {OUTCOME_COLS} FROM outcomes ORDER BY due_at, collected_pass")
    return [dict(zip(names, r, strict=True)) for r in rows]


def test_pass_one_then_pass_two_with_real_read_times(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env()
    posted = post_n(env, x_client, browser_runner, sandbox_admin, 2)
    assert collect(env, x_client, browser_runner).due == 0  # 20 virtual minutes: nothing due yet
    sandbox_admin.advance(3600)
    report = collect(env, x_client, browser_runner)
    assert (report.due, report.stored, report.unavailable, report.deferred) == (2, 2, 0, 0)
    rows = outcomes(env)
    assert [(r["decision_id"], r["collected_pass"]) for r in rows] == [(p.decision_id, 1) for p in posted]
    truth = {p["tweet_id"]: p for p in sandbox_admin.ground_truth()["posts"]}
    read_at = datetime.fromisoformat(sandbox_admin.now())
    for r, p in zip(rows, posted, strict=True):
        assert r["status"] == "ok" and r["simulated"] is True and r["missing_metrics"] == []
        assert r["collected_at"] == read_at and r["collected_at"] >= r["due_at"]
        assert r["impressions"] is not None and r["impressions"] > 0
        assert r["follows_source"] == "analytics" and r["follows_confidence"] == "high"
        assert r["er"] == pytest.approx(
            (r["likes"] + r["retweets"] + r["replies"]) / r["impressions"], rel=1e-12
        )
        assert r["fpki"] == pytest.approx(1000 * r["follows"] / r["impressions"], rel=1e-12)
        assert r["retweet_rate"] == pytest.approx(r["retweets"] / r["impressions"], rel=1e-12)
        assert p.tweet_id in truth
    # the pass is stored: a second run at the same time finds nothing due
    assert collect(env, x_client, browser_runner).due == 0
    snaps = env.rows("SELECT source, count(*) FROM follower_snapshots GROUP BY source ORDER BY source")
    assert snaps == [("collect", 2), ("post", 2)]  # one per post, one per collection instant
    sandbox_admin.advance(24 * 3600)
    report = collect(env, x_client, browser_runner)
    assert (report.due, report.stored) == (2, 2)
    by_pass = {(r["decision_id"], r["collected_pass"]): r for r in outcomes(env)}
    for p in posted:
        one, two = by_pass[(p.decision_id, 1)], by_pass[(p.decision_id, 2)]
        assert two["impressions"] >= one["impressions"]  # metrics accrue
        assert two["due_at"] - one["due_at"] == timedelta(hours=23)


def test_a_late_run_backfills_every_missed_pass(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env()
    posted = post_n(env, x_client, browser_runner, sandbox_admin, 3)
    sandbox_admin.advance(30 * 3600)  # the collector was down for more than a day
    report = collect(env, x_client, browser_runner)
    assert (report.due, report.stored) == (6, 6)
    rows = outcomes(env)
    assert {(r["decision_id"], r["collected_pass"]) for r in rows} == {
        (p.decision_id, k) for p in posted for k in (1, 2)
    }
    now = datetime.fromisoformat(sandbox_admin.now())
    for r in rows:  # each pass says when it was really read, not when it was due
        assert r["collected_at"] == now and now - r["due_at"] > timedelta(hours=5)


def test_unavailable_posts_get_a_reason_not_zeros_and_transient_failures_stay_pending(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env(collect_concurrency=1)
    gone, kept = post_n(env, x_client, browser_runner, sandbox_admin, 2)
    sandbox_admin.faults(delete_post=gone.tweet_id)
    sandbox_admin.advance(3600)
    report = collect(env, x_client, browser_runner)
    assert (report.stored, report.unavailable) == (2, 1)
    by_id = {r["decision_id"]: r for r in outcomes(env)}
    dead = by_id[gone.decision_id]
    assert dead["status"] == "unavailable" and dead["unavailable_reason"].startswith("deleted")
    assert dead["missing_metrics"] is None  # nothing was read: unavailable, not judged incomplete
    assert all(
        dead[k] is None for k in ("impressions", "likes", "retweets", "replies", "follows", "er", "fpki")
    )
    assert by_id[kept.decision_id]["status"] == "ok"
    # pass 2: rate-limited reads store nothing and stay pending; a later run stores them
    sandbox_admin.advance(24 * 3600)
    sandbox_admin.faults(rate_limit_next=2)  # the profile page (follower count) and the first post page
    limited = collect(env, x_client, browser_runner)
    assert (limited.due, limited.stored, limited.deferred) == (2, 1, 1)
    assert limited.deferred_reasons == {"rate_limited": 1} and limited.followers is None
    assert env.rows("SELECT count(*) FROM outcomes WHERE collected_pass = 2") == [(1,)]
    report = collect(env, x_client, browser_runner)
    assert (report.due, report.stored, report.deferred) == (1, 1, 0) and report.followers is not None
    assert env.rows("SELECT count(*) FROM outcomes WHERE collected_pass = 2") == [(2,)]


def test_collection_disabled_reads_nothing(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env()
    post_n(env, x_client, browser_runner, sandbox_admin, 1)
    sandbox_admin.advance(7200)
    off = make_posting_env(real_metrics_enabled=False)
    report = collect(off, x_client, browser_runner)
    assert report.skipped == "XBOT_REAL_METRICS_ENABLED=false" and report.stored == 0
    assert env.rows("SELECT count(*) FROM outcomes") == [(0,)]


def test_expired_session_stops_the_run_and_keeps_passes_pending(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env()
    post_n(env, x_client, browser_runner, sandbox_admin, 1)
    sandbox_admin.advance(7200)
    sandbox_admin.faults(expire_sessions=True)
    from xbot_core.errors import SessionExpiredError

    with pytest.raises(SessionExpiredError):
        collect(env, x_client, browser_runner)
    assert env.rows("SELECT count(*) FROM outcomes") == [(0,)]


def test_hidden_analytics_store_incomplete_passes_naming_the_gap(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    """No per-post follows from X and no follower snapshot to attribute from: the pass is stored, incomplete,
    naming `follows`; once snapshots cover the window, attribution fills the next pass (complete)."""
    env = make_posting_env(collect_concurrency=1)
    (posted,) = post_n(env, x_client, browser_runner, sandbox_admin, 1)
    sandbox_admin.faults(hide_analytics=True)
    sandbox_admin.advance(3600)
    sandbox_admin.faults(rate_limit_next=1)  # the follower count of this run cannot be read
    report = collect(env, x_client, browser_runner)
    assert (report.stored, report.incomplete, report.followers) == (1, 1, None)
    assert report.missing == {"follows": 1}
    (one,) = outcomes(env)
    assert one["status"] == "ok" and one["missing_metrics"] == ["follows"]
    assert one["follows"] is None and one["impressions"] is not None and one["fpki"] is None
    assert env.rows("SELECT complete FROM outcomes") == [(False,)]
    sandbox_admin.advance(24 * 3600)
    report = collect(env, x_client, browser_runner)
    assert (report.stored, report.incomplete) == (1, 0)
    two = {r["collected_pass"]: r for r in outcomes(env)}[2]
    assert two["follows_source"] == "attributed" and two["missing_metrics"] == []
    assert posted.decision_id == two["decision_id"]
