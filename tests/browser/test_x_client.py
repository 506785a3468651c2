"""PlaywrightXClient against the real sandbox in real Chromium: publish, metrics, outcomes, timeline."""

from __future__ import annotations

import stat
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.sandbox import LoopThread, SandboxAdmin, make_x_client, start_sandbox
from xbot_core.adapters.x_browser import Metrics, PlaywrightXClient, PostRef, Unavailable, parse_x_count
from xbot_core.domain.text import normalize_text
from xbot_core.errors import (
    DuplicatePostError,
    PostRefusedError,
    PublishError,
    RateLimitedError,
    SessionExpiredError,
)
from xbot_core.sandbox.config import METRICS, SandboxConfig, load_audience_config
from xbot_core.sandbox.display import format_x_count

pytestmark = pytest.mark.browser

# exact aria-labels of the post page, and the TweetActivityQuery JSON of its analytics page
EXACT = (
    "impressions",
    "likes",
    "retweets",
    "replies",
    "bookmarks",
    "profile_visits",
    "link_clicks",
    "new_follows",
)
SHOWN = ("quotes",)  # read from abbreviated display text


def assert_matches_truth(metrics: Metrics, accrued: dict[str, int]) -> None:
    """Every field equals the sandbox's value: exactly, or within X's display rounding where abbreviated."""
    for field in EXACT:
        assert getattr(metrics, field) == accrued[field], field
    for field in SHOWN:
        assert getattr(metrics, field) == parse_x_count(format_x_count(accrued[field])), field


def test_session_file_is_private(x_client: PlaywrightXClient) -> None:
    mode = stat.S_IMODE(x_client.session_file.stat().st_mode)
    assert mode == 0o600
    assert "auth_token" in x_client.session_file.read_text()


def test_publish_returns_the_id_of_the_post_that_exists(
    x_client: PlaywrightXClient, sandbox_admin: SandboxAdmin, browser_runner: LoopThread
) -> None:
    ref = browser_runner.run(
        x_client.publish("Shipping less, learning more: what did your team cut this week?")
    )
    assert ref.tweet_id.isdigit()
    truth = sandbox_admin.post_truth(ref.tweet_id)
    assert truth["text"] == "Shipping less, learning more: what did your team cut this week?"
    assert ref.posted_at == datetime.fromisoformat(sandbox_admin.now())
    assert ref.url.endswith(f"/xbot_demo/status/{ref.tweet_id}")
    timeline = browser_runner.run(x_client.recent_posts(limit=10))
    assert [(p.tweet_id, p.text) for p in timeline] == [(ref.tweet_id, truth["text"])]
    assert timeline[0].posted_at == ref.posted_at


def test_metrics_equal_the_sandbox_at_each_virtual_time(
    x_client: PlaywrightXClient, sandbox_admin: SandboxAdmin, browser_runner: LoopThread
) -> None:
    refs = [
        browser_runner.run(x_client.publish(f"Note {i}: small batches beat big launches.")) for i in range(3)
    ]
    for hours in (1, 5, 24):
        sandbox_admin.set_clock(_plus_hours(refs[0].posted_at, hours))
        results = browser_runner.run(x_client.read_metrics_many(refs, concurrency=3))
        for ref, metrics in zip(refs, results, strict=True):
            assert isinstance(metrics, Metrics)
            assert_matches_truth(metrics, sandbox_admin.post_truth(ref.tweet_id)["accrued"])
            assert metrics.read_at == datetime.fromisoformat(sandbox_admin.now())
    truth = sandbox_admin.post_truth(refs[0].tweet_id)
    assert truth["accrued"] == truth["final"]  # at 24 h everything has accrued
    followers = browser_runner.run(x_client.read_follower_count())
    assert followers == sandbox_admin.ground_truth()["followers"]["xbot_demo"]


@pytest.mark.parametrize(
    ("fault", "reason"),
    [
        ("delete", "deleted"),
        ("protect", "protected"),
        ("expire", "session_expired"),
        ("rate_limit", "rate_limited"),
        ("server_error", "error"),
        ("unknown_id", "not_found"),
    ],
)
def test_unavailable_posts_map_to_their_outcome(
    fault: str,
    reason: str,
    x_client: PlaywrightXClient,
    sandbox_admin: SandboxAdmin,
    browser_runner: LoopThread,
) -> None:
    ref = browser_runner.run(x_client.publish("A post that will meet trouble."))
    change: dict[str, Any] = {
        "delete": {"delete_post": ref.tweet_id},
        "protect": {"protect_account": "xbot_demo"},
        "expire": {"expire_sessions": True},
        "rate_limit": {"rate_limit_next": 1},
        "server_error": {"server_error_next": 1},
        "unknown_id": {},
    }[fault]
    sandbox_admin.faults(**change)
    target = PostRef("1" + ref.tweet_id, ref.url, None) if fault == "unknown_id" else ref
    outcome = browser_runner.run(x_client.read_metrics(target))
    assert isinstance(outcome, Unavailable)
    assert outcome.reason == reason
    assert outcome.detail


def test_publish_failures_raise_and_post_nothing(
    x_client: PlaywrightXClient, sandbox_admin: SandboxAdmin, browser_runner: LoopThread
) -> None:
    browser_runner.run(x_client.publish("Only once."))
    with pytest.raises(DuplicatePostError, match=r"duplicate \(187\).*reconcile"):
        browser_runner.run(x_client.publish("Only  once."))
    for code in (226, 344):  # refused with HTTP 200 + errors: nothing posted, back off and requeue
        sandbox_admin.faults(refuse_next_post=code)
        with pytest.raises(PostRefusedError, match=rf"for now \({code}\)"):
            browser_runner.run(x_client.publish(f"Refused post {code}."))
    sandbox_admin.faults(rate_limit_next=1)
    with pytest.raises(RateLimitedError):
        browser_runner.run(x_client.publish("Rate limited post."))
    sandbox_admin.faults(server_error_next=1)
    with pytest.raises(PublishError):
        browser_runner.run(x_client.publish("Server error post."))
    sandbox_admin.faults(expire_sessions=True)
    with pytest.raises(SessionExpiredError):
        browser_runner.run(x_client.publish("Logged out post."))
    with pytest.raises(SessionExpiredError):
        browser_runner.run(x_client.read_follower_count())
    assert [p["text"] for p in sandbox_admin.ground_truth()["posts"]] == ["Only once."]


def test_abbreviated_counts_are_read_within_display_rounding(
    browser_runner: LoopThread, sandbox_browser: Any, tmp_path: Path
) -> None:
    """A second sandbox whose audience is huge, so every count shows as 12.3K / 1.2M."""
    base = load_audience_config()
    big = base.model_copy(
        update={
            "reach": base.reach.model_copy(update={"base_impressions": 3.0e7, "sigma": 0.2}),
            "rates": base.rates.model_copy(update={"quote": 0.01, "link_click": 0.01, "profile_visit": 0.02}),
        }
    )
    server = start_sandbox(SandboxConfig(latency_ms=0, audience=big))
    admin = SandboxAdmin(server.url, server.token)
    client = make_x_client(browser_runner, sandbox_browser, server.url, tmp_path / "big.json")
    try:
        ref = browser_runner.run(client.publish("Scale changes everything."))
        admin.advance(6 * 3600)
        metrics = browser_runner.run(client.read_metrics(ref))
        accrued = admin.post_truth(ref.tweet_id)["accrued"]
        assert isinstance(metrics, Metrics)
        assert all(accrued[f] >= 10_000 for f in METRICS), accrued  # every field is abbreviated somewhere
        assert_matches_truth(metrics, accrued)
        assert metrics.quotes != accrued["quotes"] or accrued["quotes"] % 100 == 0  # really rounded
    finally:
        browser_runner.run(client.close())
        admin.close()
        server.stop()


def test_timeline_text_restores_emoji_and_expands_links(
    x_client: PlaywrightXClient, browser_runner: LoopThread
) -> None:
    """As on x.com, the timeline shows emoji as <img alt> and links as t.co anchors with most of the URL
    hidden: reconciliation compares the text as posted, so both must come back."""
    text = "Ship small 🚀👩‍💻 then read https://example.com/guides/shipping-small?ref=xbot and tell me ❤️"
    ref = browser_runner.run(x_client.publish(text))
    (seen,) = browser_runner.run(x_client.recent_posts(limit=5))
    assert (seen.tweet_id, seen.text) == (ref.tweet_id, normalize_text(text))


def test_zero_counts_are_zero_not_missing(
    x_client: PlaywrightXClient, sandbox_admin: SandboxAdmin, browser_runner: LoopThread
) -> None:
    """At publication every count is 0: X shows bare "Like"/"Repost" labels and leaves zeros out of the
    TweetActivityQuery grid; both read as 0, never as unknown."""
    ref = browser_runner.run(x_client.publish("Nobody has seen this yet."))
    assert set(sandbox_admin.post_truth(ref.tweet_id)["accrued"].values()) == {0}
    metrics = browser_runner.run(x_client.read_metrics(ref))
    assert isinstance(metrics, Metrics)
    assert all(getattr(metrics, f) == 0 for f in (*EXACT, *SHOWN)), metrics


def test_hidden_analytics_leave_follows_unknown(
    x_client: PlaywrightXClient, sandbox_admin: SandboxAdmin, browser_runner: LoopThread
) -> None:
    ref = browser_runner.run(x_client.publish("Analytics come and go."))
    sandbox_admin.advance(5 * 3600)
    sandbox_admin.faults(hide_analytics=True)
    hidden = browser_runner.run(x_client.read_metrics(ref))
    accrued = sandbox_admin.post_truth(ref.tweet_id)["accrued"]
    assert isinstance(hidden, Metrics)
    assert (hidden.new_follows, hidden.profile_visits, hidden.link_clicks) == (None, None, None)
    assert (hidden.impressions, hidden.likes) == (accrued["impressions"], accrued["likes"])  # the post page
    sandbox_admin.faults(hide_analytics=False)
    shown = browser_runner.run(x_client.read_metrics(ref))
    assert isinstance(shown, Metrics) and shown.new_follows == accrued["new_follows"]


def _plus_hours(when: datetime | None, hours: float) -> str:
    from datetime import timedelta

    assert when is not None
    return (when + timedelta(hours=hours)).isoformat()


def test_a_profile_with_no_posts_reads_as_an_empty_timeline(
    browser_runner: LoopThread, x_client: PlaywrightXClient
) -> None:
    """Reconciling an account whose only post was lost reads a profile without posts: an empty timeline (it
    used to wait for a post that never came and time out, failing every post_due run of that account)."""
    assert browser_runner.run(x_client.recent_posts(limit=10)) == []
