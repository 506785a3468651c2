"""Reward analysis: reward and its terms per arm, stored reward versions compared, and what-if weights.

Two different things answer "what if the weights were different":
- the re-scored mean and the slider ranking are exact arithmetic: the same logged posts scored under other
  weights (the ranking per arm is exact because the reward is linear in its weights); they change the
  yardstick, not the decisions, so they are not the value of any policy;
- the what-if is off-policy evaluation (domain/whatif.py): each scope's bandit re-fitted on the history
  re-scored under the weights (cross-fitted by day), its follows per post and its active-version reward
  estimated by IPS / SNIPS / DR from the logged propensities. Those are estimates, with bootstrap CIs.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Any

import numpy as np
import polars as pl

from xbot_core.domain import whatif
from xbot_core.domain.catalog import SCOPES, ArmCatalog
from xbot_core.domain.reward import WEIGHT_FIELDS, RewardVersion
from xbot_core.services.read import analytics, arm_values
from xbot_core.services.read.analytics import TERMS, Source, Window
from xbot_core.services.reporting.report_daily import load_posts

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
    rescored: pl.DataFrame
    what_if_note: str
    arm_values: pl.DataFrame
    arm_values_note: str


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


def rescored_mean(posts: pl.DataFrame, base: RewardVersion, weights: dict[str, float]) -> pl.DataFrame:
    """The window's posts scored under the active and the chosen weights: mean reward per post (exact
    arithmetic on the same posts; a different yardstick, not what another policy would have earned)."""
    rows = []
    for label, v in (("active weights", base), ("chosen weights", chosen_version(base, weights))):
        scored = analytics.score_posts(posts, v).filter(pl.col("reward").is_not_null())
        rows.append(
            {
                "weights": label,
                **{k: getattr(v, k) for k in WEIGHT_FIELDS},
                "posts": scored.height,
                "re-scored mean": scored["reward"].mean() if scored.height else None,
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None)


OUTCOMES = {"follows per post": "follows", "active reward": "reward"}


def what_if(
    posts: pl.DataFrame,
    base: RewardVersion,
    weights: dict[str, float],
    seed: int,
    catalog: ArmCatalog | None = None,
    cfg: whatif.WhatIfConfig | None = None,
) -> pl.DataFrame:
    """Per scope, outcome and weights (active, chosen): the estimated outcome per post of the bandit re-fitted
    on the history re-scored under those weights (IPS, SNIPS, DR with 95 % CIs), beside the logged mean."""
    rng = np.random.default_rng(seed)
    catalog = catalog or ArmCatalog()
    cfg = cfg or whatif.WhatIfConfig()
    versions = {"active weights": base, "chosen weights": chosen_version(base, weights)}
    scores = {label: analytics.score_posts(posts, v)["reward"] for label, v in versions.items()}
    frame = posts.with_columns(
        *(s.alias(f"score: {label}") for label, s in scores.items()),
        day=arm_values.day_blocks(posts["posted_at"]),
    ).filter(pl.col("reward").is_not_null() & pl.col("follows").is_not_null())
    rows: list[dict[str, Any]] = []
    for scope in SCOPES:
        arms = catalog.arms(scope)
        usable = frame.filter(
            pl.col(scope).is_in(arms)
            & pl.col(f"p_{scope}").is_not_null()
            & (pl.col("p_unusable_scope").fill_null("") != scope)
        )
        log = whatif.ScopeLog(
            scope=scope,
            arms=arms,
            actions=usable[scope]
            .replace_strict({a: i for i, a in enumerate(arms)}, return_dtype=pl.Int64)
            .to_numpy(),
            propensity=usable[f"p_{scope}"].to_numpy(),
            days=usable["day"].to_numpy(),
            exposure=usable["exposure_weight"].to_numpy(),
            posted_at=tuple(usable["posted_at"].to_list()),
        )
        for outcome, column in OUTCOMES.items():
            y = usable[column].cast(pl.Float64).to_numpy()
            for label in versions:
                res = whatif.evaluate_weights(log, usable[f"score: {label}"].to_numpy(), y, rng, cfg)
                row: dict[str, Any] = {
                    "scope": scope,
                    "outcome": outcome,
                    "policy": f"bandit fitted on {label}",
                    "posts": res.n,
                    "logged mean": res.logged_mean if res.n else None,
                }
                for est in ("ips", "snips", "dr"):
                    e = getattr(res, est)
                    row[est] = e.value if e else None
                    row[f"{est}_low"] = e.ci_low if e else None
                    row[f"{est}_high"] = e.ci_high if e else None
                row["ess"] = res.effective_sample_size if res.ok else None
                row["excluded (no usable propensity)"] = frame.height - usable.height
                row["status"] = res.status
                row["message"] = res.message
                rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def what_if_note(weights: dict[str, float]) -> str:
    """Which numbers of the page are exact arithmetic and which are estimates, naming the weights the
    estimates were computed at (the notebook's parameters; the sliders never change them)."""
    at = ", ".join(f"{name} = {weights[name]:g}" for name in WEIGHT_FIELDS if name in weights)
    return (
        "**Exact arithmetic:** the re-scored mean (the window's posts scored under each set of weights) and "
        "the interactive weights chart (each arm's re-scored mean reward under the slider weights, which the "
        "sliders recompute in the page). They change the yardstick, not the decisions, so they say nothing "
        "about what a bandit using those weights would have earned. "
        f"**Estimates:** the off-policy what-if table, computed at the notebook's parameter weights only "
        f"({at}); moving a slider does not change it (render the report with other `w_*` parameters to "
        "estimate other weights). For each scope, the bandit is re-fitted on the history re-scored under the "
        "weights (Thompson with ε, fitted on alternate days and evaluated on the others), and what it would "
        "have earned is estimated from the logged propensities by IPS, SNIPS and DR (95 % bootstrap "
        "intervals), measured in follows per post and in the active version's reward, which do not change "
        "with the weights. The logged mean is what the posts actually earned."
    )


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
        rescored=rescored_mean(posts, version, weights),
        what_if_note=what_if_note(weights),
        arm_values=arm_values.always_arm_table(
            arm_values.long_by_scope(posts), ArmCatalog(), np.random.default_rng(seed)
        ),
        arm_values_note=arm_values.NOTE,
    )


def headline(report: RewardReport, days: int) -> str:
    """Who, which data and window; with no posts in it, the sentence that says so and how to fill it."""
    if report.posts.is_empty():
        return analytics.empty_window_note(report.source, Window.days_ending(report.day, days))
    kind = "simulated" if report.source.simulated else "real"
    return (
        f"**@{report.source.handle}**, {kind} data, {days} days to **{report.day}**, {report.posts.height} "
        f"posts, active reward version {report.version.version}"
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
