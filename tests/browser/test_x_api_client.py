"""XApiClient (the API backend) against the real sandbox over HTTP: publish, exact metrics and follower
count, reconciliation text, both naming generations, error mapping, retries, token refresh, login."""

from __future__ import annotations

import asyncio
import logging
import stat
import time
from collections.abc import Coroutine
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from tests.browser.test_sandbox_http import create, logged_in
from tests.plugins.sandbox import SandboxAdmin, sandbox_clock, write_sandbox_token
from tests.plugins.x_api import oauth2_token
from xbot_core.adapters.x_api import make_api_client, oauth2_config
from xbot_core.adapters.x_api.auth import OAuth1Signer, OAuth2Signer, TokenFile, TokenSet
from xbot_core.adapters.x_api.client import XApiClient
from xbot_core.adapters.x_api.login import run_api_login, sandbox_consent
from xbot_core.adapters.x_browser.models import Metrics, PostRef, Unavailable
from xbot_core.domain.text import content_hash
from xbot_core.errors import (
    ConfigError,
    DuplicatePostError,
    PublishError,
    RateLimitedError,
    SessionExpiredError,
)
from xbot_core.sandbox.api_auth import (
    OAUTH1_ACCESS_TOKEN,
    OAUTH1_ACCESS_TOKEN_SECRET,
    OAUTH1_CONSUMER_KEY,
    OAUTH1_CONSUMER_SECRET,
)
from xbot_core.settings import Settings, load_settings

T = TypeVar("T")
FIELDS = ("impressions", "likes", "retweets", "replies", "quotes", "bookmarks")
FIELDS += ("profile_visits", "link_clicks", "new_follows")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


class Sleeps:
    def __init__(self) -> None:
        self.delays: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.delays.append(seconds)


def settings_for(url: str, tmp_path: Path, **extra: Any) -> Settings:
    write_sandbox_token(url, tmp_path)  # XBOT_CLOCK=sandbox reads it from the data dir
    return load_settings(
        x_base_url=url, x_api_base_url=url, data_dir=tmp_path, x_backend="api", clock="sandbox", **extra
    )


def logged_in_client(url: str, tmp_path: Path, **kw: Any) -> XApiClient:
    """A client whose token file comes from the sandbox's PKCE flow, as `xbot x login --api` makes it."""
    settings = settings_for(url, tmp_path)
    token = oauth2_token(url)
    TokenFile(settings.api_token_file).save(TokenSet.from_response(token, now=time.time()))
    signer = OAuth2Signer(
        oauth2_config(settings), TokenFile(settings.api_token_file), timeout=httpx.Timeout(5.0)
    )
    return XApiClient(
        api_base_url=url, site_base_url=url, handle="xbot_demo", signer=signer, clock=sandbox_clock(url), **kw
    )


def assert_exact(metrics: Metrics | Unavailable, accrued: dict[str, int]) -> None:
    assert isinstance(metrics, Metrics), metrics
    for field in FIELDS:
        assert getattr(metrics, field) == accrued[field], field


@pytest.mark.parametrize("fields_param", ["tweet.fields", "post.fields"])
def test_publish_metrics_followers_exact_in_either_generation(
    sandbox_admin: SandboxAdmin, tmp_path: Path, fields_param: Any
) -> None:
    async def go() -> None:
        async with logged_in_client(sandbox_admin.url, tmp_path, fields_param=fields_param) as x:
            refs = [await x.publish(f"Note {i}: small batches beat big launches.") for i in range(3)]
            for ref in refs:
                assert ref.posted_at == datetime.fromisoformat(sandbox_admin.now())
                assert sandbox_admin.post_truth(ref.tweet_id)["text"].startswith("Note")
            for hours in (1, 24):
                sandbox_admin.set_clock((refs[0].posted_at + timedelta(hours=hours)).isoformat())  # type: ignore[operator]
                calls = x.calls
                results = await x.read_metrics_many(refs)
                assert x.calls - calls == 2  # one lookup + one analytics call for the three posts
                for ref, metrics in zip(refs, results, strict=True):
                    assert_exact(metrics, sandbox_admin.post_truth(ref.tweet_id)["accrued"])
                    assert isinstance(metrics, Metrics)
                    assert metrics.read_at == datetime.fromisoformat(sandbox_admin.now())
            assert await x.read_follower_count() == sandbox_admin.ground_truth()["followers"]["xbot_demo"]

    run(go())


def test_hidden_analytics_leave_the_analytics_metrics_unread(
    sandbox_admin: SandboxAdmin, tmp_path: Path
) -> None:
    """The sandbox's `hide_analytics` switch answers GET /2/tweets/analytics with a per-post error: the public
    counts are read, follows / profile visits / URL clicks come back None (never 0), so collection stores the
    pass as incomplete (domain.completeness, shared with the browser backend)."""

    async def go() -> None:
        async with logged_in_client(sandbox_admin.url, tmp_path) as x:
            ref = await x.publish("Hidden analytics: the public counts still arrive.")
            sandbox_admin.set_clock((ref.posted_at + timedelta(hours=1)).isoformat())  # type: ignore[operator]
            sandbox_admin.faults(hide_analytics=True)
            [hidden] = await x.read_metrics_many([ref])
            assert isinstance(hidden, Metrics)
            assert hidden.impressions == sandbox_admin.post_truth(ref.tweet_id)["accrued"]["impressions"]
            assert (hidden.new_follows, hidden.profile_visits, hidden.link_clicks) == (None, None, None)
            sandbox_admin.faults(hide_analytics=False)
            [shown] = await x.read_metrics_many([ref])
            assert isinstance(shown, Metrics) and shown.new_follows is not None

    run(go())


def test_hundred_ids_per_call_and_posts_made_on_the_site(sandbox_admin: SandboxAdmin, tmp_path: Path) -> None:
    site = logged_in(sandbox_admin.url)
    ids = [
        create(site, f"Site post number {i}.").json()["data"]["create_tweet"]["tweet_results"]["result"][
            "rest_id"
        ]
        for i in range(101)
    ]
    sandbox_admin.advance(3600)
    refs = [PostRef(i, "", None) for i in ids]

    async def go() -> list[Metrics | Unavailable]:
        async with logged_in_client(sandbox_admin.url, tmp_path) as x:
            results = await x.read_metrics_many(refs)
            assert x.calls == 4  # 100 + 1 ids: two lookups, two analytics calls
            return results

    results = run(go())
    truth = {p["tweet_id"]: p["accrued"] for p in sandbox_admin.ground_truth()["posts"]}
    for tweet_id, metrics in zip(ids, results, strict=True):
        assert_exact(metrics, truth[tweet_id])


def test_recent_posts_expand_links_for_reconciliation(sandbox_admin: SandboxAdmin, tmp_path: Path) -> None:
    text = "Long read on shipping: https://example.com/notes/small-batches-beat-big-launches-every-time ok"

    async def go() -> None:
        async with logged_in_client(sandbox_admin.url, tmp_path) as x:
            ref = await x.publish(text)
            for i in range(7):
                await x.publish(f"Filler {i}.")
            timeline = await x.recent_posts(limit=50)
            assert len(timeline) == 8
            [match] = [p for p in timeline if p.tweet_id == ref.tweet_id]
            assert content_hash(match.text) == content_hash(text)
            assert match.posted_at == ref.posted_at
            assert [p.tweet_id for p in await x.recent_posts(limit=6)] == [p.tweet_id for p in timeline[:6]]

    run(go())


def test_error_mapping(sandbox_admin: SandboxAdmin, tmp_path: Path) -> None:
    sleeps = Sleeps()
    wall = [time.time()]

    async def go() -> None:
        async with logged_in_client(sandbox_admin.url, tmp_path, sleep=sleeps, wall=lambda: wall[0]) as x:
            ref = await x.publish("Only once, please.")
            with pytest.raises(DuplicatePostError):
                await x.publish("Only  once, please.")
            sandbox_admin.faults(server_error_next=1)
            calls = x.calls
            with pytest.raises(PublishError):  # never retried: the post may exist
                await x.publish("A post during an outage.")
            assert x.calls - calls == 1
            sandbox_admin.faults(server_error_next=1)  # a read is retried once and succeeds
            assert isinstance((await x.read_metrics_many([ref]))[0], Metrics)
            assert len(sleeps.delays) == 1 and 0.35 <= sleeps.delays[0] <= 0.65
            sandbox_admin.faults(server_error_next=3)
            [failed] = await x.read_metrics_many([ref])
            assert isinstance(failed, Unavailable) and failed.reason == "error"
            sandbox_admin.faults(rate_limit_next=1)
            [limited] = await x.read_metrics_many([ref])
            assert isinstance(limited, Unavailable) and limited.reason == "rate_limited"
            calls = x.calls
            [still] = await x.read_metrics_many([ref])  # before the reset: refused without a request
            assert isinstance(still, Unavailable) and still.reason == "rate_limited" and x.calls == calls
            with pytest.raises(RateLimitedError):  # other operations have their own windows
                sandbox_admin.faults(rate_limit_next=1)
                await x.read_follower_count()
            wall[0] = time.time() + 3  # past x-rate-limit-reset (2 s after the injected 429)
            assert isinstance((await x.read_metrics_many([ref]))[0], Metrics)
            sandbox_admin.faults(delete_post=ref.tweet_id)
            [gone] = await x.read_metrics_many([ref])
            assert isinstance(gone, Unavailable) and gone.reason == "not_found"
            sandbox_admin.faults(expire_sessions=True)
            with pytest.raises(SessionExpiredError, match="login --api"):
                await x.read_follower_count()
            [expired] = await x.read_metrics_many([ref])
            assert isinstance(expired, Unavailable) and expired.reason == "session_expired"

    run(go())


def test_token_is_refreshed_before_it_expires_and_never_logged(
    sandbox_admin: SandboxAdmin, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    settings = settings_for(sandbox_admin.url, tmp_path)
    store = TokenFile(settings.api_token_file)
    first = TokenSet.from_response(oauth2_token(sandbox_admin.url), now=time.time())
    first.expires_at = time.time() + 60  # inside the refresh margin
    store.save(first)

    async def go() -> int:
        async with make_api_client(settings) as x:
            return await x.read_follower_count()

    assert run(go()) == sandbox_admin.ground_truth()["followers"]["xbot_demo"]
    second = store.load()
    assert second.access_token != first.access_token and second.refresh_token != first.refresh_token
    assert second.expires_at > time.time() + 7000
    assert stat.S_IMODE(settings.api_token_file.stat().st_mode) == 0o600
    logged = caplog.text + repr(second)
    for secret in (first.access_token, second.access_token, str(second.refresh_token)):
        assert secret not in logged
    second.expires_at, second.refresh_token = time.time() - 1, None
    store.save(second)
    with pytest.raises(SessionExpiredError, match="no refresh token"):
        run(go())


def test_login_api_saves_a_private_token_file(sandbox_admin: SandboxAdmin, tmp_path: Path) -> None:
    settings = settings_for(sandbox_admin.url, tmp_path)
    shown: list[str] = []
    line = run_api_login(settings, ask=lambda _: "unused", say=shown.append, sandbox=True)
    assert "X API token saved" in line and "with a refresh token" in line
    assert "code_challenge_method=S256" in shown[0] and "offline.access" in shown[0]
    tokens = TokenFile(settings.api_token_file).load()
    assert tokens.access_token not in line + shown[0]
    assert stat.S_IMODE(settings.api_token_file.stat().st_mode) == 0o600
    # a person pasting the redirect URL works the same; a stale one (other state) is refused
    pasted: dict[str, str] = {}

    def person(prompt: str) -> str:
        return sandbox_consent(pasted["url"], timeout=httpx.Timeout(5.0))

    def read_url(text: str) -> None:
        pasted["url"] = text.splitlines()[-1]

    assert "saved" in run_api_login(settings, ask=person, say=read_url, sandbox=False)
    with pytest.raises(ConfigError, match="state does not match"):
        run_api_login(
            settings,
            ask=lambda _: "http://127.0.0.1:8765/callback?state=stale&code=x",
            say=lambda _: None,
            sandbox=False,
        )


def test_oauth1_keys_from_settings(sandbox_admin: SandboxAdmin, tmp_path: Path) -> None:
    keys = {
        "x_api_consumer_key": OAUTH1_CONSUMER_KEY,
        "x_api_consumer_secret": OAUTH1_CONSUMER_SECRET,
        "x_api_access_token": OAUTH1_ACCESS_TOKEN,
        "x_api_access_token_secret": OAUTH1_ACCESS_TOKEN_SECRET,
    }
    settings = settings_for(sandbox_admin.url, tmp_path, **keys)

    async def go() -> str:
        async with make_api_client(settings) as x:
            assert isinstance(x.signer, OAuth1Signer) and OAUTH1_CONSUMER_SECRET not in repr(x.signer)
            ref = await x.publish("Signed with OAuth 1.0a.")
            return ref.tweet_id

    assert sandbox_admin.post_truth(run(go()))["text"] == "Signed with OAuth 1.0a."
    half = settings_for(sandbox_admin.url, tmp_path, x_api_consumer_key="k")
    with pytest.raises(ConfigError, match="XBOT_X_API_CONSUMER_SECRET"):
        make_api_client(half)


def test_login_api_command(
    sandbox_admin: SandboxAdmin, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from xbot_core.cli import app
    from xbot_core.settings import get_settings

    for name, value in {"X_BASE_URL": sandbox_admin.url, "X_API_BASE_URL": sandbox_admin.url}.items():
        monkeypatch.setenv(f"XBOT_{name}", value)
    monkeypatch.setenv("XBOT_DATA_DIR", str(tmp_path))
    get_settings.cache_clear()
    try:
        result = CliRunner().invoke(app, ["x", "login", "--api"])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    token = TokenFile(tmp_path / "x_api" / "token.json").load()
    assert "X API token saved" in result.output and token.access_token not in result.output
    assert str(token.refresh_token) not in result.output
