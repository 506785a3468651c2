"""Posts needed to tell two arms apart, per reward term, at an account's own rates (its imported history).

Each reward term is a ratio pooled over impressions, R = Σevents / Σimpressions. By the delta method its
per-post spread is that of the residual e_i = events_i − R · impressions_i, so the per-post coefficient of
variation of the pooled ratio is cv = sd(e) / mean(events). domain.stats_power turns a cv and a relative
lift into the posts a two-sided pooled t-test needs at the given power (an even split: posts per arm is half
the total). Sparse terms (few events or posts) get "not enough data" and how many more posts would do.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import polars as pl

from xbot_core.domain import stats_power
from xbot_core.domain.history_analysis import METRICS

STATUS_OK = "ok"
STATUS_NOT_ENOUGH_DATA = "not_enough_data"


@dataclass(frozen=True)
class HistoryPowerConfig:
    """Relative lifts to detect, test level and power, and the least data a spread is estimated from."""

    lifts: tuple[float, ...] = (0.5, 1.0)
    alpha: float = stats_power.DEFAULT_ALPHA
    power: float = stats_power.DEFAULT_POWER
    min_posts: int = 10
    min_events: int = 5


def ratio_cv(events: np.ndarray, impressions: np.ndarray) -> float:
    """Per-post coefficient of variation of the pooled ratio Σevents/Σimpressions: sd(e)/mean(events) with
    e = events − R · impressions (sample sd, n − 1); nan when there are fewer than 2 posts or no events."""
    y, x = np.asarray(events, dtype=float), np.asarray(impressions, dtype=float)
    if y.size < 2 or y.sum() <= 0 or x.sum() <= 0:
        return math.nan
    resid = y - (y.sum() / x.sum()) * x
    return float(resid.std(ddof=1) / y.mean())


def posts_per_arm(cv: float, lift: float, cfg: HistoryPowerConfig) -> int:
    """Posts in each of two equal arms for a two-sided test to detect a relative `lift` with cfg.power."""
    total = stats_power.posts_needed(lift, 0.5, cv, cfg.alpha, cfg.power)
    return math.ceil(total / 2)


def posts_needed_table(posts: pl.DataFrame, cfg: HistoryPowerConfig | None = None) -> pl.DataFrame:
    """One row per reward term and lift: the account's posts, events, pooled rate, per-post cv and the posts
    per arm that lift needs; status/message say "not enough data" (and how many more posts) when the term
    has too few events or posts to estimate its spread."""
    cfg = cfg or HistoryPowerConfig()
    rows: list[dict[str, object]] = []
    for metric, (columns, scale) in METRICS.items():
        total = pl.sum_horizontal(pl.col(c) for c in columns)
        known = posts.filter(
            pl.all_horizontal(pl.col(c).is_not_null() for c in columns) & (pl.col("impressions") > 0)
        )
        y = known.select(total.cast(pl.Float64)).to_series().to_numpy()
        x = known["impressions"].cast(pl.Float64).to_numpy()
        n, events = int(y.size), float(y.sum())
        rate = scale * events / x.sum() if n and x.sum() > 0 else math.nan
        enough = n >= cfg.min_posts and events >= cfg.min_events
        cv = ratio_cv(y, x) if enough else math.nan
        if not enough:
            message = _not_enough(n, events, cfg)
        elif not cv > 0:
            message = "not enough data: every post has the same rate, so there is no spread to plan from"
        else:
            message = ""
        for lift in cfg.lifts:
            rows.append(
                {
                    "metric": metric,
                    "posts": n,
                    "events": events,
                    "rate": rate,
                    "cv": cv,
                    "lift": lift,
                    "posts_per_arm": posts_per_arm(cv, lift, cfg) if not message else None,
                    "status": STATUS_NOT_ENOUGH_DATA if message else STATUS_OK,
                    "message": message,
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "metric": pl.String,
            "posts": pl.Int64,
            "events": pl.Float64,
            "rate": pl.Float64,
            "cv": pl.Float64,
            "lift": pl.Float64,
            "posts_per_arm": pl.Int64,
            "status": pl.String,
            "message": pl.String,
        },
    )


def _not_enough(n: int, events: float, cfg: HistoryPowerConfig) -> str:
    """What the term lacks, and the posts that would supply it at the account's present events per post."""
    have = f"{events:,.0f} events in {n:,} posts"
    need = f"the spread needs ≥ {cfg.min_events} events and ≥ {cfg.min_posts} posts"
    if events <= 0:
        return f"not enough data: {have}; {need}, and with no events yet there is no rate to plan from"
    more = max(cfg.min_posts - n, math.ceil(cfg.min_events * n / events) - n, 0)
    return f"not enough data: {have}; {need} (about {more:,} more posts at this rate)"
