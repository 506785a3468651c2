"""The posting and collection services through the API backend (XBOT_X_BACKEND=api): the real database,
the real sandbox over HTTP, the real httpx client with its cost meter, no browser."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.browser.test_sandbox_http import create, logged_in
from tests.plugins.posting import PostingEnv
from tests.plugins.sandbox import SandboxAdmin
from tests.plugins.x_api import oauth2_token
from xbot_core.adapters.x_api.auth import TokenFile, TokenSet
from xbot_core.errors import SessionExpiredError
from xbot_core.services.loop import collection, posting
from xbot_core.services.x_backend import open_x_client

pytestmark = pytest.mark.db

LINKED = "Why small batches win: https://example.com/notes/small-batches-beat-big-launches"


@pytest.fixture
def api_env(
    make_posting_env: Callable[..., PostingEnv], sandbox_admin: SandboxAdmin, tmp_path: Path
) -> Iterator[PostingEnv]:
    """A posting env on the API backend, logged in through the sandbox's PKCE flow, cost tables emptied."""
    env = make_posting_env(
        x_backend="api", x_api_base_url=sandbox_admin.url, data_dir=tmp_path, lease_seconds=5
    )
    TokenFile(env.settings.api_token_file).save(
        TokenSet.from_response(oauth2_token(sandbox_admin.url), now=time.time())
    )
    with psycopg.connect(env.db_url, autocommit=True) as conn:
        conn.execute("TRUNCATE x_api_usage, x_api_budget_days RESTART IDENTITY CASCADE")
    yield env


@asynccontextmanager
async def api_client(env: PostingEnv) -> Any:
    async with open_x_client(env.settings, env.pool, env.clock) as x:
        yield x


def test_post_then_collect_both_passes_exactly(api_env: PostingEnv, sandbox_admin: SandboxAdmin) -> None:
    env = api_env

    async def go() -> None:
        async with api_client(env) as x:
            ids = [env.queue(f"API loop post {i}: follows come from analytics.") for i in range(2)]
            for _ in ids:
                res = await posting.post_next(
                    env.pool, x, account_id=env.account_id, now=env.now(), settings=env.settings
                )
                assert res.status == "posted"
                sandbox_admin.advance(600)
            for hours in (1, 24):
                sandbox_admin.advance(hours * 3600)
                report = await collection.collect_due(
                    env.pool,
                    x,
                    account_id=env.account_id,
                    now=env.now(),
                    settings=env.settings,
                    simulated=True,
                )
                assert report.stored == 2 and report.deferred == 0
                assert report.followers == sandbox_admin.ground_truth()["followers"]["xbot_demo"]

    asyncio.run(go())
    truth = {p["tweet_id"]: p for p in sandbox_admin.ground_truth()["posts"]}
    rows = env.rows(
        "SELECT p.tweet_id, o.collected_pass, o.impressions, o.likes, o.retweets, o.replies, o.quotes,"
        " o.bookmarks, o.profile_visits, o.link_clicks, o.follows, o.follows_source, o.collected_at"
        " FROM outcomes o JOIN posted_decisions p USING (decision_id) ORDER BY o.collected_pass, p.tweet_id"
    )
    assert len(rows) == 4
    keys = ("impressions", "likes", "retweets", "replies", "quotes", "bookmarks", "profile_visits")
    keys += ("link_clicks", "new_follows")
    for tweet_id, pass_, *counts, source, _collected_at in rows:
        assert None not in counts and source == "analytics"
        if pass_ == 2:  # read at the current virtual time: equal to the sandbox's truth, follows included
            assert [float(c) for c in counts] == [float(truth[tweet_id]["accrued"][k]) for k in keys]
    snapshots = env.rows("SELECT followers FROM follower_snapshots ORDER BY taken_at")
    assert len(snapshots) == 4  # one after each post, one per collection run: exact counts, not "1.2K"
    spent = env.rows("SELECT operation, count(*) FROM x_api_usage GROUP BY operation ORDER BY operation")
    assert spent == [("analytics", 2), ("create", 2), ("lookup", 2), ("me", 4)]


def test_a_lost_publish_response_is_reconciled_never_reposted(
    api_env: PostingEnv, sandbox_admin: SandboxAdmin
) -> None:
    env = api_env
    decision = env.queue(LINKED)

    async def go() -> None:
        async with api_client(env) as x:
            create(logged_in(sandbox_admin.url), LINKED)  # live already: the API's 201 "was lost"
            res = await posting.post_next(
                env.pool, x, account_id=env.account_id, now=env.now(), settings=env.settings
            )
            assert res.status == "uncertain" and "DuplicatePostError" in str(res.reason)
            sandbox_admin.advance(env.settings.lease_seconds + 1)
            report = await posting.reconcile(
                env.pool, x, account_id=env.account_id, now=env.now(), settings=env.settings
            )
            assert report.recorded == [decision]

    asyncio.run(go())
    [(tweet_id,)] = env.rows("SELECT tweet_id FROM posted_decisions WHERE decision_id = %s", decision)
    assert [p["tweet_id"] for p in sandbox_admin.ground_truth()["posts"]] == [tweet_id]  # posted once
    assert env.status(decision) == "posted"


def test_rate_limit_and_expired_token_keep_passes_pending(
    api_env: PostingEnv, sandbox_admin: SandboxAdmin
) -> None:
    env = api_env

    async def go() -> None:
        async with api_client(env) as x:
            env.queue("Pending through a rate limit.")
            await posting.post_next(
                env.pool, x, account_id=env.account_id, now=env.now(), settings=env.settings
            )
            sandbox_admin.advance(3600)
            sandbox_admin.faults(rate_limit_next=2)  # users/me, then the lookup
            report = await collection.collect_due(
                env.pool, x, account_id=env.account_id, now=env.now(), settings=env.settings, simulated=True
            )
            assert (report.due, report.stored, report.deferred) == (1, 0, 1)
            assert report.deferred_reasons == {"rate_limited": 1} and report.followers is None
        sandbox_admin.faults(expire_sessions=True)
        async with api_client(env) as x:  # a new run: the old client waits out its 429s
            with pytest.raises(SessionExpiredError, match="login --api"):
                await collection.collect_due(
                    env.pool,
                    x,
                    account_id=env.account_id,
                    now=env.now(),
                    settings=env.settings,
                    simulated=True,
                )

    asyncio.run(go())
    assert env.rows("SELECT count(*) FROM outcomes") == [(0,)]
