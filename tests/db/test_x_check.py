"""`xbot x check --deep` against the real database, the real sandbox and real Chromium."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.plugins.posting import PostingEnv
from tests.plugins.sandbox import LoopThread, SandboxAdmin
from xbot_core.services.loop import posting
from xbot_core.services.operations.x_check import deep_check

pytestmark = [pytest.mark.db, pytest.mark.browser]


def check(env: PostingEnv, client: Any, runner: LoopThread) -> Any:
    return runner.run(deep_check(env.pool, client, env.account_id))


def test_deep_check_names_each_metric_it_could_not_read(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
) -> None:
    env = make_posting_env()
    nothing = check(env, x_client, browser_runner)
    assert not nothing.ok and nothing.summary() == (
        "deep check failed: no published post to read yet (post one first)"
    )
    env.queue("A post to check the metrics of.")
    res = browser_runner.run(
        posting.post_next(env.pool, x_client, account_id=env.account_id, now=env.now(), settings=env.settings)
    )
    assert res.status == "posted"
    sandbox_admin.advance(3 * 3600)
    good = check(env, x_client, browser_runner)
    accrued = sandbox_admin.post_truth(res.tweet_id)["accrued"]
    assert good.ok and good.tweet_id == res.tweet_id and good.values["new_follows"] == accrued["new_follows"]
    assert good.summary() == f"deep check ok: every metric of post {res.tweet_id} was read"
    sandbox_admin.faults(hide_analytics=True)
    bad = check(env, x_client, browser_runner)
    assert not bad.ok
    assert bad.unreadable == ("profile_visits", "link_clicks", "new_follows")
    assert bad.reward_gaps == ("follows",)
    assert bad.summary().startswith(
        f"deep check failed: post {res.tweet_id}: could not read profile_visits, link_clicks, new_follows; "
        "the reward needs follows"
    )
    sandbox_admin.faults(delete_post=res.tweet_id)
    gone = check(env, x_client, browser_runner)
    assert gone.summary() == f"deep check failed: post {res.tweet_id} deleted: This post is unavailable."


def test_x_check_deep_cli_fails_loudly(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    browser_runner: LoopThread,
    sandbox_admin: SandboxAdmin,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from xbot_core.commands.x import app
    from xbot_core.settings import get_settings

    env = make_posting_env()
    env.queue("Checked from the command line.")
    res = browser_runner.run(
        posting.post_next(env.pool, x_client, account_id=env.account_id, now=env.now(), settings=env.settings)
    )
    sandbox_admin.advance(3600)
    for name, value in {
        "XBOT_DATABASE_URL": env.db_url,
        "XBOT_X_BASE_URL": sandbox_admin.url,
        "XBOT_X_SESSION_FILE": str(x_client.session_file),
        "XBOT_CLOCK": "sandbox",
    }.items():
        monkeypatch.setenv(name, value)
    get_settings.cache_clear()
    try:
        runner = CliRunner()
        ok = runner.invoke(app, ["check", "--deep"])
        assert ok.exit_code == 0, ok.output
        assert f"deep check ok: every metric of post {res.tweet_id} was read" in ok.output
        sandbox_admin.faults(hide_analytics=True)
        bad = runner.invoke(app, ["check", "--deep"])
        assert bad.exit_code == 1
        assert "could not read profile_visits, link_clicks, new_follows" in bad.output
    finally:
        get_settings.cache_clear()
