"""Fit the sandbox's audience scale parameters to an account's real history (`xbot sandbox calibrate`).

The sandbox draws impressions ~ LogNormal(ln(base · m_reach), sigma) and each count ~ Binomial(impressions,
rate · m_rate · noise) with mean-1 noise, where the m are the post's multipliers (its arms, hour and weekday)
that the calibrated file keeps from the template. Given each real post's multipliers, the maximum-likelihood
fits are
    mu    = mean(ln impressions − ln m_reach),  sigma = population sd of the same (ddof 0),  base = exp(mu)
    rate  = Σ count / Σ (impressions · m_rate)   (pooled over the posts that report the metric)
Posts with 0 impressions have no log and are left out of the reach fit (counted). Replies are counted for the
reply share but, by default, left out of the fit: the bot writes original posts, and a small account's replies
reach a different (smaller) audience.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from xbot_core.errors import StatsError

# the sandbox's rate keys and the history column each is fitted from
RATE_SOURCES: tuple[tuple[str, str], ...] = (
    ("like", "likes"),
    ("retweet", "retweets"),
    ("reply", "replies"),
    ("bookmark", "bookmarks"),
    ("profile_visit", "profile_visits"),
    ("link_click", "link_clicks"),
    ("follow", "follows"),
)
NOT_ENOUGH_DATA = "not enough data"


@dataclass(frozen=True)
class PostSample:
    """One real post: its counts (None where the export has no such column), whether it is a reply, and the
    sandbox multipliers of its reach and of each rate key (absent: 1.0)."""

    impressions: int
    counts: Mapping[str, int | None]
    is_reply: bool = False
    reach_multiplier: float = 1.0
    rate_multipliers: Mapping[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class FitConfig:
    """Tunables of the fit."""

    min_posts: int = 20  # fewer usable posts: "not enough data" (a lognormal's sd from a handful is noise)
    include_replies: bool = False


@dataclass(frozen=True)
class AudienceFit:
    """The fitted scale parameters and what they came from; `rates` holds only the keys the data reports."""

    posts: int  # every post given
    replies: int
    used: int  # posts in the reach fit (after replies and zero-impression posts are left out)
    zero_impressions: int
    mu: float
    sigma: float
    rates: Mapping[str, float]
    rate_posts: Mapping[str, int]

    @property
    def base_impressions(self) -> float:
        return math.exp(self.mu)

    @property
    def reply_share(self) -> float:
        return self.replies / self.posts

    @property
    def follows_per_1k(self) -> float | None:
        rate = self.rates.get("follow")
        return None if rate is None else 1000.0 * rate


def fit_audience(posts: Sequence[PostSample], config: FitConfig | None = None) -> AudienceFit:
    """The maximum-likelihood scale parameters (module docstring); StatsError with "not enough data" and the
    number needed when fewer than `min_posts` posts are usable."""
    cfg = config or FitConfig()
    chosen = [p for p in posts if cfg.include_replies or not p.is_reply]
    for p in chosen:
        if p.impressions < 0 or p.reach_multiplier <= 0:
            raise ValueError(f"impressions must be ≥ 0 and multipliers > 0, got {p}")
    usable = [p for p in chosen if p.impressions > 0]
    kind = "posts" if cfg.include_replies else "original posts"
    if len(usable) < cfg.min_posts:
        raise StatsError(
            f"{NOT_ENOUGH_DATA}: {len(usable)} {kind} with impressions, {cfg.min_posts} needed to fit the "
            "audience"
        )
    logs = [math.log(p.impressions) - math.log(p.reach_multiplier) for p in usable]
    mu = sum(logs) / len(logs)
    sigma = math.sqrt(sum((x - mu) ** 2 for x in logs) / len(logs))
    rates: dict[str, float] = {}
    rate_posts: dict[str, int] = {}
    for key, column in RATE_SOURCES:
        known = [p for p in chosen if p.counts.get(column) is not None]
        exposure = sum(p.impressions * p.rate_multipliers.get(key, 1.0) for p in known)
        if known and exposure > 0:
            rates[key] = sum(int(p.counts[column] or 0) for p in known) / exposure
            rate_posts[key] = len(known)
    return AudienceFit(
        posts=len(posts),
        replies=sum(p.is_reply for p in posts),
        used=len(usable),
        zero_impressions=len(chosen) - len(usable),
        mu=mu,
        sigma=sigma,
        rates=rates,
        rate_posts=rate_posts,
    )
