"""Reading X API v2 bodies: both naming generations, t.co expansion, snowflake times, problem types."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from xbot_core.adapters.x_api import parse
from xbot_core.adapters.x_api.auth import code_from
from xbot_core.errors import ConfigError


def test_snowflake_time_matches_the_spec_example() -> None:
    # X's spec pairs the example post id 1346889436626259968 with created_at 2021-01-06T18:40:40.000Z
    when = parse.snowflake_time("1346889436626259968")
    assert when.replace(microsecond=0) == datetime(2021, 1, 6, 18, 40, 40, tzinfo=UTC)
    assert when.microsecond == 344_000
    with pytest.raises(ValueError, match="not an X id"):
        parse.snowflake_time("12a")


@pytest.mark.parametrize("retweets", ["retweet_count", "repost_count"])
def test_public_counts_read_both_generations(retweets: str) -> None:
    post = {
        "id": "1",
        "public_metrics": {
            "impression_count": 503,
            retweets: 0,
            "like_count": 17,
            "reply_count": 1,
            "quote_count": 0,
            "bookmark_count": 2,
        },
    }
    assert parse.public_counts(post) == parse.PublicCounts(503, 17, 0, 1, 0, 2)


def test_missing_counts_stay_none() -> None:
    assert parse.public_counts({"id": "1"}) == parse.PublicCounts(None, None, None, None, None, None)
    assert parse.public_counts({"public_metrics": {"like_count": True}}).likes is None  # a bool is no count
    assert parse.analytics_totals({"id": "1", "timestamped_metrics": []}) == {}


def test_user_counts_read_both_generations() -> None:
    old = {"public_metrics": {"followers_count": 1240, "tweet_count": 3}}
    new = {"public_metrics": {"followers_count": 1240, "post_count": 3}}
    assert parse.follower_count(old) == parse.follower_count(new) == 1240
    assert parse.post_count(old) == parse.post_count(new) == 3
    assert parse.follower_count({"public_metrics": {}}) is None


def test_analytics_totals_sum_buckets_unless_top_level() -> None:
    item = {
        "id": "1",
        "timestamped_metrics": [
            {
                "timestamp": "2026-01-05T06:00:00Z",
                "metrics": {"follows": 2, "url_clicks": 0, "impressions": 314},
            },
            {"timestamp": "2026-01-05T07:00:00Z", "metrics": {"follows": 1, "impressions": 189}},
        ],
    }
    assert parse.analytics_totals(item) == {"follows": 3, "url_clicks": 0, "impressions": 503}
    assert parse.analytics_totals({**item, "follows": 7})["follows"] == 7  # 2.167's top-level total wins


def test_expanded_text_restores_links_and_entities() -> None:
    post = {
        "id": "5",
        "text": "Notes &amp; links: https://t.co/abc and https://t.co/def",
        "entities": {
            "urls": [
                {"start": 19, "end": 35, "url": "https://t.co/abc", "expanded_url": "https://example.com/a"},
                {
                    "start": 40,
                    "end": 56,
                    "url": "https://t.co/def",
                    "expanded_url": "https://example.org/b?x=1",
                },
            ]
        },
    }
    assert parse.expanded_text(post) == "Notes & links: https://example.com/a and https://example.org/b?x=1"
    [entry] = parse.timeline_posts([{**post, "created_at": "2026-01-05T06:00:00.000Z"}, {"id": "x"}])
    assert entry.posted_at == datetime(2026, 1, 5, 6, tzinfo=UTC)


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("https://api.x.com/2/problems/resource-not-found", "not_found"),
        ("https://api.twitter.com/2/problems/resource-not-found", "not_found"),
        ("https://api.x.com/2/problems/not-authorized-for-resource", "protected"),
        ("https://api.x.com/2/problems/internal-error", "error"),
    ],
)
def test_problem_reason(kind: str, reason: str) -> None:
    assert parse.problem_reason({"type": kind}) == reason


def test_duplicate_detection() -> None:
    body = {"detail": "You are not allowed to create a Tweet with duplicate content.", "status": 403}
    assert parse.is_duplicate(body)
    assert not parse.is_duplicate({"detail": "Forbidden"}) and not parse.is_duplicate(None)


def test_code_from_a_pasted_redirect() -> None:
    assert code_from("http://127.0.0.1:8765/callback?state=s1&code=abc", "s1") == "abc"
    assert code_from("  bare-code ", "s1") == "bare-code"
    with pytest.raises(ConfigError, match="state does not match"):
        code_from("http://127.0.0.1:8765/callback?state=other&code=abc", "s1")
    with pytest.raises(ConfigError, match="refused the authorization: access_denied"):
        code_from("http://127.0.0.1:8765/callback?state=s1&error=access_denied", "s1")
    with pytest.raises(ConfigError, match="no authorization code"):
        code_from("  ", "s1")
