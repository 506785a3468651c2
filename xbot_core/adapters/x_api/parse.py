"""Reading X API v2 bodies into the adapter's values, in both naming generations of X's spec.

Spec 2.167 renamed `retweet_count` → `repost_count`, user `tweet_count` → `post_count` and
`edit_history_tweet_ids` → `edit_history_post_ids`, while X's docs still show the old names; which one the
live API sends is unknown offline (../shared/x-api/README.md), so every reader here accepts both.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from xbot_core.adapters.x_browser.models import TimelinePost, UnavailableReason

TWITTER_EPOCH_MS = 1288834974657  # X's snowflake epoch: ids carry their creation time in ms
ANALYTICS_FIELDS: tuple[str, ...] = (
    "impressions",
    "follows",
    "user_profile_clicks",
    "url_clicks",
    "engagements",
    "bookmarks",
    "likes",
    "retweets",
    "replies",
    "quote_tweets",
)


@dataclass(frozen=True)
class PublicCounts:
    """A post's public_metrics; None where the body did not carry the field."""

    impressions: int | None
    likes: int | None
    retweets: int | None
    replies: int | None
    quotes: int | None
    bookmarks: int | None


def first_of(mapping: Mapping[str, Any], *names: str) -> int | None:
    """The first of `names` present with an integer value (0 included), else None."""
    for name in names:
        value = mapping.get(name)
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    return None


def snowflake_time(post_id: str) -> datetime:
    """The creation time an X id encodes (ms since X's epoch in the bits above 22)."""
    if not post_id.isdigit():
        raise ValueError(f"not an X id: {post_id!r}")
    ms = (int(post_id) >> 22) + TWITTER_EPOCH_MS
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def parse_time(value: Any) -> datetime | None:
    """An ISO 8601 time as X sends it ('2026-01-05T06:00:00.000Z'), or None."""
    if not isinstance(value, str) or not value:
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when.astimezone(UTC) if when.tzinfo else None


def public_counts(post: Mapping[str, Any]) -> PublicCounts:
    m = post.get("public_metrics") or {}
    return PublicCounts(
        impressions=first_of(m, "impression_count"),
        likes=first_of(m, "like_count"),
        retweets=first_of(m, "repost_count", "retweet_count"),
        replies=first_of(m, "reply_count"),
        quotes=first_of(m, "quote_count"),
        bookmarks=first_of(m, "bookmark_count"),
    )


def analytics_totals(item: Mapping[str, Any]) -> dict[str, int]:
    """Totals of one Analytics item: its top-level counts (2.167) where present, else the sum of its
    timestamped buckets; a field in neither is absent (never 0)."""
    totals: dict[str, int] = {}
    buckets = [b.get("metrics") or {} for b in item.get("timestamped_metrics") or [] if isinstance(b, dict)]
    for name in ANALYTICS_FIELDS:
        top = first_of(item, name)
        if top is not None:
            totals[name] = top
            continue
        values = [v for v in (first_of(b, name) for b in buckets) if v is not None]
        if values:
            totals[name] = sum(values)
    return totals


def follower_count(user: Mapping[str, Any]) -> int | None:
    return first_of(user.get("public_metrics") or {}, "followers_count")


def post_count(user: Mapping[str, Any]) -> int | None:
    return first_of(user.get("public_metrics") or {}, "post_count", "tweet_count")


def expanded_text(post: Mapping[str, Any]) -> str:
    """The text as written: t.co links replaced by entities.urls' expanded_url, HTML entities undone
    (X's v2 text escapes &, < and >)."""
    text = str(post.get("text") or "")
    urls = ((post.get("entities") or {}).get("urls")) or []
    for entity in urls:
        short, full = entity.get("url"), entity.get("expanded_url")
        if isinstance(short, str) and isinstance(full, str) and short:
            text = text.replace(short, full, 1)
    return html.unescape(text)


def timeline_posts(data: Iterable[Mapping[str, Any]]) -> list[TimelinePost]:
    out = []
    for post in data:
        post_id = str(post.get("id", ""))
        if not post_id.isdigit():
            continue
        posted_at = parse_time(post.get("created_at")) or snowflake_time(post_id)
        out.append(TimelinePost(tweet_id=post_id, text=expanded_text(post), posted_at=posted_at))
    return out


def problem_reason(problem: Mapping[str, Any]) -> UnavailableReason:
    """Why a post in a 200 body's `errors` cannot be read, from the problem type (both domains)."""
    kind = str(problem.get("type", "")).rsplit("/", 1)[-1]
    if kind == "resource-not-found":
        return "not_found"
    if kind in ("not-authorized-for-resource", "resource-unauthorized"):
        return "protected"
    return "error"


def problem_id(problem: Mapping[str, Any]) -> str | None:
    value = problem.get("resource_id") or problem.get("value")
    return str(value) if value is not None else None


def is_duplicate(body: Any) -> bool:
    """A 403 that refuses duplicate content (the about:blank problem X users report)."""
    if not isinstance(body, dict):
        return False
    text = " ".join(str(body.get(k, "")) for k in ("detail", "title", "message")).lower()
    return "duplicate" in text
