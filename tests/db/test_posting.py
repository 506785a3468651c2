"""Exactly-once posting against the real database and the real sandbox through real Chromium."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import psycopg
import pytest
from psycopg_pool import ConnectionPool

from tests.plugins.posting import PostingEnv
from tests.plugins.sandbox import LoopThread, SandboxAdmin
from xbot_core.adapters.db import repositories as repo
from xbot_core.services.loop import posting
from xbot_core.services.operations import ops

pytestmark = [pytest.mark.db, pytest.mark.browser]


def sandbox_posts(admin: SandboxAdmin) -> list[dict[str, Any]]:
    return list(admin.ground_truth()["posts"])


def test_posts_once_and_records_atomically(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env()
    d = env.queue("Exactly once: claim, publish, record in one transaction.")
    res = browser_runner.run(
        posting.post_next(env.pool, x_client, account_id=env.account_id, now=env.now(), settings=env.settings)
    )
    assert res.status == "posted" and res.decision_id == d
    live = sandbox_posts(sandbox_admin)
    assert [p["tweet_id"] for p in live] == [res.tweet_id]
    assert env.rows("SELECT tweet_id, reconciled FROM posted_decisions") == [(res.tweet_id, False)]
    assert env.status(d) == "posted"
    assert env.rows("SELECT lease_expires_at IS NULL, attempts FROM content_metadata") == [(True, 1)]
    snaps = env.rows("SELECT source, followers, simulated FROM follower_snapshots")
    assert len(snaps) == 1 and snaps[0][0] == "post" and int(snaps[0][1]) > 0 and snaps[0][2] is True
    again = browser_runner.run(
        posting.post_next(env.pool, x_client, account_id=env.account_id, now=env.now(), settings=env.settings)
    )
    assert again.status == "idle"
    assert len(sandbox_posts(sandbox_admin)) == 1


def test_future_decision_is_not_posted(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env()
    d = env.queue("Scheduled for later.", env.now() + timedelta(hours=2))
    res = browser_runner.run(
        posting.post_next(env.pool, x_client, account_id=env.account_id, now=env.now(), settings=env.settings)
    )
    assert res.status == "idle" and env.status(d) == "queued" and sandbox_posts(sandbox_admin) == []


def test_kill_switch_takes_effect_without_restart(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env()
    d = env.queue("Held back by the kill switch.")
    # engaged from another connection pool (as `xbot stop` in another process would)
    other = ConnectionPool(env.db_url, min_size=1, max_size=1, open=True)
    try:
        ops.stop(other, reason="incident 42", by="oncall")
    finally:
        other.close()
    res = browser_runner.run(
        posting.post_next(env.pool, x_client, account_id=env.account_id, now=env.now(), settings=env.settings)
    )
    assert res.status == "blocked" and res.reason and res.reason.startswith("kill_switch")
    assert "incident 42" in res.reason
    assert env.status(d) == "queued" and sandbox_posts(sandbox_admin) == []
    ops.resume(env.pool, by="oncall")
    res = browser_runner.run(
        posting.post_next(env.pool, x_client, account_id=env.account_id, now=env.now(), settings=env.settings)
    )
    assert res.status == "posted" and len(sandbox_posts(sandbox_admin)) == 1


def test_shadow_mode_never_publishes_and_closes_due_decisions(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env(mode="shadow")
    due = env.queue("Shadow: would go out now.")
    later = env.queue("Shadow: later.", env.now() + timedelta(hours=3))
    res = browser_runner.run(
        posting.post_next(env.pool, x_client, account_id=env.account_id, now=env.now(), settings=env.settings)
    )
    assert res.status == "blocked" and res.reason and res.reason.startswith("shadow_mode")
    assert posting.skip_due_in_shadow(env.pool, env.account_id, now=env.now()) == 1
    assert env.status(due) == "skipped" and env.status(later) == "queued"
    assert env.rows("SELECT skip_reason FROM content_metadata WHERE decision_id = %s", due) == [
        (posting.SHADOW_SKIP_REASON,)
    ]
    assert sandbox_posts(sandbox_admin) == []


def test_hourly_cap_and_min_interval(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env(max_posts_per_hour=2, min_post_interval_s=600)
    for i in range(3):
        env.queue(f"Capped post number {i} about rate limits.")

    def attempt() -> posting.PostResult:
        return browser_runner.run(
            posting.post_next(
                env.pool, x_client, account_id=env.account_id, now=env.now(), settings=env.settings
            )
        )

    assert attempt().status == "posted"
    blocked = attempt()
    assert blocked.status == "blocked" and blocked.reason and blocked.reason.startswith("min_interval")
    sandbox_admin.advance(601)
    assert attempt().status == "posted"
    sandbox_admin.advance(601)
    capped = attempt()
    assert capped.status == "blocked" and capped.reason and capped.reason.startswith("hourly_cap")
    assert len(sandbox_posts(sandbox_admin)) == 2
    sandbox_admin.advance(3600)
    assert attempt().status == "posted"
    assert len(sandbox_posts(sandbox_admin)) == 3


def test_guards_fail_closed_on_database_errors(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env()
    env.queue("Never published while the database cannot answer.")
    # a pool whose database does not exist: every connection attempt fails
    info = psycopg.conninfo.conninfo_to_dict(env.db_url)
    info["dbname"] = "xbot_no_such_database"
    broken = ConnectionPool(
        psycopg.conninfo.make_conninfo(**info), min_size=0, max_size=1, open=True, timeout=1
    )
    try:
        res = browser_runner.run(
            posting.post_next(
                broken, x_client, account_id=env.account_id, now=env.now(), settings=env.settings
            )
        )
    finally:
        broken.close()
    assert res.status == "blocked" and res.reason and res.reason.startswith("db_error")
    assert sandbox_posts(sandbox_admin) == []
    # each guard on a connection in a failed transaction answers "no"
    with psycopg.connect(env.db_url) as conn:
        with pytest.raises(psycopg.errors.DivisionByZero):
            conn.execute("SELECT 1 / 0")
        gate = ops.kill_switch_gate(conn)
        assert (gate.allowed, gate.reason) == (False, "db_error")
        gate = ops.rate_gate(conn, env.account_id, now=env.now(), max_per_hour=10, min_interval_s=0)
        assert (gate.allowed, gate.reason) == (False, "db_error")


def test_refused_before_posting_goes_back_to_the_queue_then_fails(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env()
    d = env.queue("Rate limited three times, then given up.")
    for attempt in range(1, posting.MAX_ATTEMPTS + 1):
        sandbox_admin.faults(rate_limit_next=1)
        res = browser_runner.run(
            posting.post_next(
                env.pool, x_client, account_id=env.account_id, now=env.now(), settings=env.settings
            )
        )
        expected = "failed" if attempt == posting.MAX_ATTEMPTS else "requeued"
        assert res.status == expected, (attempt, res)
        assert "RateLimitedError" in (res.reason or "")
    assert env.status(d) == "failed"
    assert env.rows("SELECT attempts, last_error LIKE 'RateLimitedError%%' FROM content_metadata") == [
        (posting.MAX_ATTEMPTS, True)
    ]
    assert sandbox_posts(sandbox_admin) == []


def test_x_refusing_a_post_requeues_it_and_stops_the_run(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    """226 (looks automated) and 344 (daily limit) arrive as HTTP 200 with `errors`: nothing was posted, so
    the decision goes back to the queue and the run stops there (backs off) instead of trying the next."""
    env = make_posting_env()
    first = env.queue("Refused once as automated.")
    env.queue("Waits behind the refused one.", env.now() + timedelta(seconds=1))
    sandbox_admin.faults(refuse_next_post=226)
    results = browser_runner.run(
        posting.post_due(
            env.pool,
            x_client,
            account_id=env.account_id,
            now=env.now() + timedelta(seconds=2),
            settings=env.settings,
            max_posts=2,
        )
    )
    assert [(r.status, r.decision_id) for r in results] == [("requeued", first)]
    assert (results[0].reason or "").startswith("PostRefusedError: X refused the post for now (226)")
    assert env.status(first) == "queued" and sandbox_posts(sandbox_admin) == []
    res = browser_runner.run(
        posting.post_next(env.pool, x_client, account_id=env.account_id, now=env.now(), settings=env.settings)
    )
    assert res.status == "posted" and res.decision_id == first


def test_reconcile_records_what_x_shows_and_requeues_what_it_does_not(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env(lease_seconds=30)
    live_text = "Published by a worker that died before recording it."
    published = env.queue(live_text)
    lost = env.queue("Claimed by a worker that died before publishing.")
    now = env.now()
    # a crashed worker: both claimed, one really published through the browser, nothing recorded
    with psycopg.connect(env.db_url) as conn:
        for _ in range(2):
            with conn.transaction():
                assert repo.claim_next(conn, env.account_id, now=now, worker="dead:1", lease_s=30)
    ref = browser_runner.run(x_client.publish(live_text))

    def reconcile(at: Any) -> posting.ReconcileReport:
        return browser_runner.run(
            posting.reconcile(env.pool, x_client, account_id=env.account_id, now=at, settings=env.settings)
        )

    early = reconcile(now + timedelta(seconds=10))  # leases still valid: nothing touched
    assert early == posting.ReconcileReport() and env.status(published) == "posting"
    report = reconcile(now + timedelta(seconds=31))
    assert report.recorded == [published] and report.requeued == [lost] and report.failed == []
    assert env.rows("SELECT decision_id, tweet_id, reconciled FROM posted_decisions") == [
        (published, ref.tweet_id, True)
    ]
    assert env.status(published) == "posted" and env.status(lost) == "queued"
    assert reconcile(now + timedelta(seconds=62)) == posting.ReconcileReport()  # idempotent
    res = browser_runner.run(
        posting.post_next(env.pool, x_client, account_id=env.account_id, now=env.now(), settings=env.settings)
    )
    assert res.status == "posted" and res.decision_id == lost
    assert len(sandbox_posts(sandbox_admin)) == 2


def test_uncertain_publish_stays_claimed_and_a_recorded_tweet_is_never_taken_twice(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env(lease_seconds=30)
    text = "Same words twice: X refuses the second as a duplicate."
    first = env.queue(text)
    second = env.queue(text, env.now() + timedelta(seconds=1))
    now = env.now()

    def post(at: Any) -> posting.PostResult:
        return browser_runner.run(
            posting.post_next(env.pool, x_client, account_id=env.account_id, now=at, settings=env.settings)
        )

    assert post(now).status == "posted"
    res = post(now + timedelta(seconds=2))
    assert res.status == "uncertain" and res.decision_id == second
    assert (res.reason or "").startswith("DuplicatePostError")  # 187: reconcile, never post again
    assert env.status(second) == "posting"  # not requeued blindly: X may or may not have it
    report = browser_runner.run(
        posting.reconcile(
            env.pool,
            x_client,
            account_id=env.account_id,
            now=now + timedelta(seconds=40),
            settings=env.settings,
        )
    )
    # the only matching post on the timeline is the first decision's: the second goes back to the queue
    assert report.requeued == [second] and report.recorded == []
    assert env.rows("SELECT decision_id FROM posted_decisions") == [(first,)]
    assert len(sandbox_posts(sandbox_admin)) == 1
