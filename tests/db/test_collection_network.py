"""One network error no longer sinks a collection run (issue 17): real Chromium against the real sandbox, with
one post's pages refused at the network layer (Chromium's own net::ERR_CONNECTION_REFUSED)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import pytest

from tests.db.test_collection import collect, outcomes, post_n
from tests.plugins.posting import PostingEnv
from tests.plugins.sandbox import LoopThread, SandboxAdmin

pytestmark = [pytest.mark.db, pytest.mark.browser]


def test_a_refused_page_is_deferred_and_the_others_are_stored(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
    caplog: pytest.LogCaptureFixture,
) -> None:
    env = make_posting_env(collect_concurrency=2)
    first, refused, last = post_n(env, x_client, browser_runner, sandbox_admin, 3)
    sandbox_admin.advance(3600)
    context = x_client._require_context()
    patterns = [f"**/status/{refused.tweet_id}**", f"**/{env.settings.account_handle}"]  # + the profile

    async def refuse() -> None:
        for pattern in patterns:
            await context.route(pattern, lambda route: route.abort("connectionrefused"))

    async def allow() -> None:
        for pattern in patterns:
            await context.unroute(pattern)

    browser_runner.run(refuse())
    caplog.set_level(logging.INFO, logger="xbot.collect")
    try:
        report = collect(env, x_client, browser_runner)
    finally:
        browser_runner.run(allow())
    assert (report.due, report.stored, report.deferred) == (3, 2, 1)
    assert report.deferred_reasons == {"network": 1}
    assert report.followers is None  # the follower snapshot failed the same way and did not stop the reads
    stored = {r["decision_id"] for r in outcomes(env)}
    assert stored == {first.decision_id, last.decision_id}
    assert f"post {refused.tweet_id} not read, deferred" in caplog.text
    assert "ERR_CONNECTION_REFUSED" in caplog.text
    assert "[collect] due=3 stored=2 unavailable=0 deferred=1" in caplog.text  # the summary line
    # the pass stayed pending: the next run stores it
    again = collect(env, x_client, browser_runner)
    assert (again.due, again.stored, again.deferred) == (1, 1, 0)
    assert {r["decision_id"] for r in outcomes(env)} == {p.decision_id for p in (first, refused, last)}
