"""The audience simulator: a post's true 24 h metrics, how they accrue, and how followers grow.

Deterministic: a post's draw depends only on (seed, post id) and its inputs; accrual is pure in age.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import numpy as np

from xbot_core.domain.catalog import slot_of_hour
from xbot_core.sandbox.config import METRICS, AudienceConfig

FULL_ACCRUAL_HOURS = 24.0
_ENGAGEMENT = {
    "likes": "like",
    "retweets": "retweet",
    "replies": "reply",
    "quotes": "quote",
    "bookmarks": "bookmark",
}


@dataclass(frozen=True)
class Perceived:
    """What the audience 'sees' of a post: its arms (None when unknown, which is neutral)."""

    content_type: str | None
    hook_pattern: str | None
    timing_slot: str | None
    local_hour: int
    weekday: int


def perceive_time(config: AudienceConfig, posted_at: datetime) -> tuple[str | None, int, int]:
    """Timing slot, local hour and weekday (0 = Monday) of a post in the account's time zone."""
    local = posted_at.astimezone(ZoneInfo(config.account.timezone))
    return slot_of_hour(local.hour), local.hour, local.weekday()


def expected_reach(config: AudienceConfig, perceived: Perceived, followers: int) -> float:
    """Median impressions of a post before lognormal noise."""
    median = config.reach.base_impressions + config.reach.per_follower * followers
    for scope, arm in (
        ("content_type", perceived.content_type),
        ("hook_pattern", perceived.hook_pattern),
        ("timing_slot", perceived.timing_slot),
    ):
        median *= config.effect(scope, arm).reach
    return (
        median
        * config.hour_of_day.multipliers[perceived.local_hour]
        * config.day_of_week.multipliers[perceived.weekday]
    )


def expected_rates(config: AudienceConfig, perceived: Perceived) -> dict[str, float]:
    """Per-impression rate of every count metric before per-post noise (ground truth of the arms)."""
    effects = [
        config.effect("content_type", perceived.content_type),
        config.effect("hook_pattern", perceived.hook_pattern),
        config.effect("timing_slot", perceived.timing_slot),
    ]
    engagement = math.prod(e.engagement for e in effects)
    follow = math.prod(e.follow for e in effects)
    link = math.prod(e.link for e in effects)
    r = config.rates
    rates = {metric: getattr(r, base) * engagement for metric, base in _ENGAGEMENT.items()}
    rates["profile_visits"] = r.profile_visit * follow
    rates["new_follows"] = r.follow * follow
    rates["link_clicks"] = r.link_click * link
    return rates


@dataclass(frozen=True)
class AccountAudience:
    """One hosted account's audience: followers at the clock's start, and multipliers of every post's median
    reach and of every per-impression rate (1.0 for audience.toml's own account)."""

    audience_seed: int
    initial_followers: int
    reach: float
    rates: float


def derived_seed(sandbox_seed: int, handle: str) -> int:
    """An account's audience seed when none is given: stable in (sandbox seed, handle), 32 bits."""
    digest = hashlib.sha256(f"{sandbox_seed}:{handle.lower()}".encode()).digest()
    return int.from_bytes(digest[:4], "big")


def account_audience(config: AudienceConfig, audience_seed: int) -> AccountAudience:
    """A hosted account's audience drawn from its seed (lognormal around [account]): same seed, same one."""
    rng = np.random.default_rng(np.random.SeedSequence([audience_seed, 0]))
    h = config.hosted
    followers = round(config.account.initial_followers * float(rng.lognormal(0.0, h.followers_sigma)))
    return AccountAudience(
        audience_seed=audience_seed,
        initial_followers=followers,
        reach=float(rng.lognormal(0.0, h.reach_sigma)),
        rates=float(rng.lognormal(0.0, h.rates_sigma)),
    )


def post_rng(seed: int, post_id: str) -> np.random.Generator:
    """The generator of one post's draw: same seed and id, same numbers."""
    return np.random.default_rng(np.random.SeedSequence([seed, int(post_id)]))


def draw_final_metrics(
    config: AudienceConfig,
    perceived: Perceived,
    followers: int,
    rng: np.random.Generator,
    *,
    reach: float = 1.0,
    rates: float = 1.0,
) -> dict[str, int]:
    """The post's true metrics at T+24h: lognormal reach, noisy rates, binomial counts. `reach` and `rates`
    are the posting account's audience multipliers (AccountAudience)."""
    median = expected_reach(config, perceived, followers) * reach
    impressions = round(float(rng.lognormal(math.log(median), config.reach.sigma)))
    sigma = config.rates.rate_sigma
    final = {"impressions": impressions}
    for metric, rate in expected_rates(config, perceived).items():
        noisy = min(0.5, rate * rates * float(rng.lognormal(-sigma * sigma / 2, sigma)))
        final[metric] = int(rng.binomial(impressions, noisy))
    return {m: final[m] for m in METRICS}


def accrual_share(age_hours: float, tau_hours: float) -> float:
    """Share of the 24 h total visible at a post's age: saturating, 0 before posting, 1 from 24 h."""
    if age_hours <= 0:
        return 0.0
    if age_hours >= FULL_ACCRUAL_HOURS:
        return 1.0
    return (1 - math.exp(-age_hours / tau_hours)) / (1 - math.exp(-FULL_ACCRUAL_HOURS / tau_hours))


def accrued_metrics(config: AudienceConfig, final: dict[str, int], age_hours: float) -> dict[str, int]:
    """Counts visible at an age: floor of the final count times its accrual share (monotone in age)."""
    out = {}
    for metric in METRICS:
        tau = config.accrual.follow_tau_hours if metric == "new_follows" else config.accrual.tau_hours
        out[metric] = math.floor(final[metric] * accrual_share(age_hours, tau) + 1e-9)
    return out


def organic_followers(config: AudienceConfig, start: datetime, at: datetime) -> int:
    """Follows not caused by any post since the virtual clock's start (never negative)."""
    days = max(0.0, (at - start).total_seconds() / 86400)
    return math.floor(config.account.organic_followers_per_day * days)
