"""Reward analysis: reward and its terms per arm, stored reward versions compared, and what-if weights.

The what-if re-scores the window's logged posts under the chosen weights (scales and exposure cap of the
active version) and estimates what they would have earned with ope.evaluate_reweighted; the ranking
under other weights is exact per arm because the reward is linear in its weights.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date

import numpy as np
import polars as pl

from xbot_core.domain import ope
from xbot_core.domain.reward import WEIGHT_FIELDS, RewardVersion
from xbot_core.services import analytics
from xbot_core.services.analytics import TERMS, Source, Window
from xbot_core.services.report_daily import load_posts

WEIGHT_OF_TERM = dict(zip(TERMS, WEIGHT_FIELDS, strict=True))


@dataclass(frozen=True)
class RewardReport:
    day: date
    source: Source
    version: RewardVersion
    posts: pl.DataFrame
    arms: pl.DataFrame
    terms: pl.DataFrame
    versions: pl.DataFrame
    what_if: pl.DataFrame


def term_contributions(arms: pl.DataFrame, version: RewardVersion) -> pl.DataFrame:
    """Per scope and arm, each term's exposure-weighted mean times its weight (they add up to the reward)."""
    return arms.select(
        "scope",
        "arm",
        *(
            (pl.col(f"sum_{t}") / pl.col("weight") * getattr(version, WEIGHT_OF_TERM[t])).alias(t)
            for t in TERMS
        ),
    ).unpivot(index=["scope", "arm"], variable_name="term", value_name="contribution")


def compare_versions(posts: pl.DataFrame, versions: list[RewardVersion]) -> pl.DataFrame:
    """Each arm's exposure-weighted reward and rank within its scope under every stored version."""
    out = []
    for v in versions:
        arms = analytics.duck("arms", posts=analytics.score_posts(posts, v))
        out.append(
            arms.select(
                "scope",
                "arm",
                pl.lit(v.version).alias("version"),
                "weighted_reward",
                pl.col("weighted_reward")
                .rank(descending=True, method="min")
                .over("scope")
                .cast(pl.Int32)
                .alias("rank"),
            )
        )
    return pl.concat(out) if out else pl.DataFrame()


def what_if(posts: pl.DataFrame, base: RewardVersion, weights: dict[str, float], seed: int) -> pl.DataFrame:
    """What the window's logged decisions earned under the active weights and under `weights` (OPE, CIs)."""
    rng = np.random.default_rng(seed)
    rows = []
    # on-policy re-scoring: every importance weight is 1, so low propensities cannot dominate (floor 0)
    cfg = ope.OpeConfig(propensity_floor=0.0)
    for label, v in (("active weights", base), ("chosen weights", chosen_version(base, weights))):
        scored = analytics.score_posts(posts, v).filter(
            pl.col("reward").is_not_null() & pl.col("propensity").is_not_null()
        )
        res = ope.evaluate_reweighted(
            scored["reward"].to_numpy(), scored["propensity"].to_numpy(), rng, config=cfg
        )
        est = res.snips
        rows.append(
            {
                "weights": label,
                **{k: getattr(v, k) for k in WEIGHT_FIELDS},
                "posts": res.n,
                "mean reward": est.value if est else None,
                "ci_low": est.ci_low if est else None,
                "ci_high": est.ci_high if est else None,
                "status": res.status,
                "message": res.message,
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)


def chosen_version(base: RewardVersion, weights: dict[str, float]) -> RewardVersion:
    """The active version's scales with other weights (validated like any version; not stored)."""
    unknown = set(weights) - set(WEIGHT_FIELDS)
    if unknown:
        from xbot_core.errors import ConfigError

        raise ConfigError(f"unknown reward weights {sorted(unknown)}; expected {list(WEIGHT_FIELDS)}")
    return replace(base, note="what-if (not stored)", **weights)  # type: ignore[arg-type]


def build(source: Source, day: date, *, days: int, weights: dict[str, float], seed: int) -> RewardReport:
    version = analytics.active_reward_version(source)
    posts = load_posts(source, Window.days_ending(day, days), version)
    arms = analytics.duck("arms", posts=posts)
    return RewardReport(
        day=day,
        source=source,
        version=version,
        posts=posts,
        arms=arms,
        terms=term_contributions(arms, version),
        versions=compare_versions(posts, analytics.reward_versions(source)),
        what_if=what_if(posts, version, weights, seed),
    )


def rank_arms(arms: pl.DataFrame, weights: dict[str, float]) -> pl.DataFrame:
    """Each arm's exposure-weighted reward under `weights`, best first per scope (what the sliders do)."""
    total = sum(weights[WEIGHT_OF_TERM[t]] * pl.col(f"sum_{t}") for t in TERMS)
    return (
        arms.select("scope", "arm", "n", (total / pl.col("weight")).alias("reward"))
        .sort(["scope", "reward"], descending=[False, True])
        .with_columns(
            pl.col("reward").rank(descending=True, method="min").over("scope").cast(pl.Int32).alias("rank")
        )
    )
