"""The account's own reward noise (coefficient of variation) and what a plan can detect with it.

`xbot plan check` and the experiment report call this; the numbers come from domain/plan_power.py and
domain/stats_power.py. Only mature posts count (their T+24h pass is stored): a T+1h reward is provisional.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime

import polars as pl

from xbot_core.domain import stats
from xbot_core.domain.experiments import ExperimentPlan
from xbot_core.domain.plan_power import DEFAULT_CV, DEFAULT_CV_NOTE, ExperimentPower, plan_power
from xbot_core.errors import ConfigError, DatabaseError
from xbot_core.services.read import analytics
from xbot_core.services.read.analytics import Source, Window

MATURE_PASS = 2
MIN_CV_POSTS = 20  # fewer mature posts give a CV too noisy to plan with
CV_DAYS = 28


@dataclass(frozen=True)
class CvEstimate:
    """The reward CV used for power, where it came from, and how many posts it rests on."""

    cv: float
    measured: bool
    posts: int
    note: str


def mature(posts: pl.DataFrame) -> pl.DataFrame:
    """Posts whose T+24h pass is stored and scored (the only ones experiment results use)."""
    return posts.filter((pl.col("collected_pass") == MATURE_PASS) & pl.col("reward").is_not_null())


def reward_cv(posts: pl.DataFrame) -> float | None:
    """Exposure-weighted per-post reward sd / mean of mature posts; None when too few or mean ≤ 0."""
    ok = mature(posts)
    if ok.height < MIN_CV_POSTS:
        return None
    w = stats.WeightedSampleStats.from_values(ok["reward"].to_numpy(), ok["exposure_weight"].to_numpy())
    if not w.mean > 0 or not w.variance > 0:
        return None
    return math.sqrt(w.variance) / w.mean


def latest_post_day(source: Source) -> date | None:
    """The UTC day of the account's newest published post (None without posts)."""
    snap = analytics.data_snapshot(source).filter(pl.col("table_name") == "posted_decisions")
    if snap.is_empty() or snap["max_timestamp"][0] is None:
        return None
    newest = snap["max_timestamp"][0]
    return newest.date() if isinstance(newest, datetime) else None


def account_cv(source: Source, until: date | None = None, days: int = CV_DAYS) -> CvEstimate:
    """The CV of the account's mature rewards over the `days` days ending with its latest post."""
    from xbot_core.services.reporting.report_daily import load_posts

    end = until or latest_post_day(source)
    if end is None:
        return CvEstimate(DEFAULT_CV, False, 0, f"@{source.handle} has no posts yet; {DEFAULT_CV_NOTE}")
    version = analytics.active_reward_version(source)
    posts = load_posts(source, Window.days_ending(end, days), version)
    n = mature(posts).height
    cv = reward_cv(posts)
    if cv is None:
        return CvEstimate(
            DEFAULT_CV,
            False,
            n,
            f"@{source.handle} has {n} mature posts (< {MIN_CV_POSTS}); {DEFAULT_CV_NOTE}",
        )
    return CvEstimate(
        cv, True, n, f"reward CV {cv:.2f} measured on @{source.handle}'s {n} mature posts ending {end}"
    )


def check_plan(
    plan: ExperimentPlan,
    *,
    source: Source | None,
    posts_per_day: float | None = None,
    cv: float | None = None,
) -> tuple[CvEstimate, list[ExperimentPower]]:
    """`xbot plan check`: the CV (given, else the account's own, else the stated default) and each
    experiment's power."""
    if cv is not None:
        if not (math.isfinite(cv) and cv > 0):
            raise ConfigError(f"--cv must be a positive number, got {cv!r}")
        estimate = CvEstimate(cv, False, 0, f"reward CV {cv:g} as given")
    elif source is None:
        estimate = CvEstimate(DEFAULT_CV, False, 0, DEFAULT_CV_NOTE)
    else:
        try:
            estimate = account_cv(source)
        except DatabaseError as exc:
            estimate = CvEstimate(
                DEFAULT_CV, False, 0, f"account data unavailable ({exc}); {DEFAULT_CV_NOTE}"
            )
    return estimate, plan_power(plan, estimate.cv, posts_per_day)
