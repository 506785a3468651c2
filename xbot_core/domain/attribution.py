"""Follows per post from follower snapshots, when X's analytics page does not show them.

Follower growth between two consecutive snapshots is assumed uniform in time. Each stretch of that interval is
split equally among the posts whose 24 h window covers it; stretches with no post in its window are organic
growth and attributed to nobody. A net loss between two snapshots attributes 0 (follows cannot be negative
and unfollows are not follows). Confidence says how many posts shared the window: high (1) / medium (2–5) /
low (>5).
"""

from __future__ import annotations

import itertools
from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

Confidence = Literal["high", "medium", "low"]


@dataclass(frozen=True)
class AttributionConfig:
    """Window of a post's influence and the overlap counts that bound each confidence level."""

    window: timedelta = timedelta(hours=24)
    high_max: int = 1
    medium_max: int = 5


@dataclass(frozen=True)
class PostWindow:
    """A published post: its key (decision id) and when it went live."""

    key: Hashable
    posted_at: datetime


@dataclass(frozen=True)
class Snapshot:
    """The account's follower count at one instant."""

    taken_at: datetime
    followers: int


@dataclass(frozen=True)
class Attribution:
    """Follows attributed to one post; `follows` is None when no snapshot interval covers its window."""

    key: Hashable
    follows: float | None
    overlapping: int
    confidence: Confidence
    covered_s: float


def confidence_of(overlapping: int, config: AttributionConfig = AttributionConfig()) -> Confidence:
    """high for a post alone in its window, medium for 2–5 posts sharing it, low beyond."""
    if overlapping < 1:
        raise ValueError(f"a post overlaps at least itself, got {overlapping}")
    if overlapping <= config.high_max:
        return "high"
    if overlapping <= config.medium_max:
        return "medium"
    return "low"


def _overlap_count(post: PostWindow, posts: Sequence[PostWindow], window: timedelta) -> int:
    """Posts (itself included) whose windows intersect this post's window."""
    return sum(1 for q in posts if abs(q.posted_at - post.posted_at) < window)


def attribute_follows(
    posts: Sequence[PostWindow],
    snapshots: Sequence[Snapshot],
    *,
    until: datetime,
    config: AttributionConfig = AttributionConfig(),
) -> dict[Hashable, Attribution]:
    """Follows attributed to every post from the snapshot intervals that end by `until`.

    `posts` must include every post that may share a window with the ones of interest (the caller reads posts
    from 24 h before the first to 24 h after the last), or their growth would be given to the wrong posts.
    """
    keys = [p.key for p in posts]
    if len(set(keys)) != len(keys):
        raise ValueError("post keys must be unique")
    snaps = sorted((s for s in snapshots if s.taken_at <= until), key=lambda s: s.taken_at)
    for s in snaps:
        if s.followers < 0:
            raise ValueError(f"negative follower count {s.followers} at {s.taken_at.isoformat()}")
    follows: dict[Hashable, float] = {p.key: 0.0 for p in posts}
    covered: dict[Hashable, float] = {p.key: 0.0 for p in posts}
    for a, b in itertools.pairwise(snaps):
        span = (b.taken_at - a.taken_at).total_seconds()
        if span <= 0:
            continue
        growth = max(0, b.followers - a.followers)
        # cut the interval where a window starts or ends, so each piece has one constant set of active posts
        cuts = {a.taken_at, b.taken_at}
        for p in posts:
            for t in (p.posted_at, p.posted_at + config.window):
                if a.taken_at < t < b.taken_at:
                    cuts.add(t)
        edges = sorted(cuts)
        for lo, hi in itertools.pairwise(edges):
            active = [p.key for p in posts if p.posted_at <= lo and hi <= p.posted_at + config.window]
            if not active:
                continue
            piece = (hi - lo).total_seconds()
            share = growth * piece / span / len(active)
            for k in active:
                follows[k] += share
                covered[k] += piece
    out: dict[Hashable, Attribution] = {}
    for p in posts:
        n = _overlap_count(p, posts, config.window)
        out[p.key] = Attribution(
            key=p.key,
            follows=follows[p.key] if covered[p.key] > 0 else None,
            overlapping=n,
            confidence=confidence_of(n, config),
            covered_s=covered[p.key],
        )
    return out
