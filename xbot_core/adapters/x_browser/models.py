"""Values the X adapter returns, and the Protocol services depend on."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

UnavailableReason = Literal[
    "deleted", "protected", "session_expired", "rate_limited", "not_found", "error", "network"
]


@dataclass(frozen=True)
class PostRef:
    """A post as X confirmed it: the id comes from X's CreateTweet response, never invented."""

    tweet_id: str
    url: str
    posted_at: datetime | None


@dataclass(frozen=True)
class Metrics:
    """Counts read from a post's page and its analytics page; None where X showed nothing (never 0)."""

    impressions: int | None
    likes: int | None
    retweets: int | None
    replies: int | None
    quotes: int | None
    bookmarks: int | None
    profile_visits: int | None
    link_clicks: int | None
    new_follows: int | None
    read_at: datetime | None


@dataclass(frozen=True)
class Unavailable:
    """Why metrics could not be read: an expected outcome, not a crash and not zeros."""

    reason: UnavailableReason
    detail: str


@dataclass(frozen=True)
class TimelinePost:
    """A post seen on the account's profile timeline (used to reconcile exactly-once posting)."""

    tweet_id: str
    text: str
    posted_at: datetime | None


class XClient(Protocol):
    """What services need from X. Publishing is never retried by an implementation."""

    async def publish(self, text: str) -> PostRef: ...

    async def read_metrics(self, post: PostRef) -> Metrics | Unavailable: ...

    async def read_metrics_many(
        self, posts: Sequence[PostRef], concurrency: int | None = None
    ) -> list[Metrics | Unavailable]: ...

    async def read_follower_count(self) -> int: ...

    async def recent_posts(self, limit: int = 50) -> list[TimelinePost]: ...
