"""Per-arm tables for the reports: the naive mean beside the off-policy "always this arm" estimates.

Both the reward analysis and the bandit diagnostics show, for every arm of every scope, what the logged posts
on that arm averaged (naive: the bandit chose when to play it) and what "always play this arm" is estimated to
earn (IPS and AIPW with the logged propensities, per-day block bootstrap, AIPW shrunk within the scope), all
from domain/arm_ope.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from xbot_core.domain import arm_ope
from xbot_core.domain.catalog import SCOPES, ArmCatalog

NOTE = (
    "Per arm: **naive mean** = plain mean reward of the posts that played the arm (exact arithmetic, but the "
    "bandit chose when to play it, so it mixes arms with days); **IPS**, **SNIPS** (self-normalised) and "
    "**AIPW** = estimated mean reward of the policy *always play this arm*, from the logged propensities "
    "(estimates; 95 % intervals: t on a bootstrap that resamples whole days); **shrunk** = AIPW pulled "
    "towards the scope's average by empirical Bayes (estimate; noisy arms move most; its interval also "
    "counts the uncertainty of that pull; with fewer than 4 arms played it equals AIPW)."
)


def long_by_scope(posts: pl.DataFrame, reward: str = "reward") -> pl.DataFrame:
    """One row per (post, scope): the arm, the reward column given, the day, and the usable propensity."""
    return pl.concat(
        [
            posts.select(
                "decision_id",
                "posted_at",
                pl.col(reward).alias("reward"),
                "exposure_weight",
                "experiment_id",
                pl.lit(s).alias("scope"),
                pl.col(s).alias("arm"),
                # a propensity that is not the arm's marginal probability (migration 0004) counts as missing
                pl.when(pl.col("p_unusable_scope").fill_null("") == s)
                .then(None)
                .otherwise(pl.col(f"p_{s}"))
                .alias("p"),
            )
            for s in SCOPES
        ]
    )


def day_blocks(posted_at: pl.Series) -> np.ndarray:
    """The UTC day of each post as an integer (the bootstrap's block)."""
    return posted_at.dt.date().cast(pl.Int32).to_numpy()


def always_arm_table(
    long: pl.DataFrame,
    catalog: ArmCatalog,
    rng: np.random.Generator,
    config: arm_ope.ArmOpeConfig | None = None,
) -> pl.DataFrame:
    """Per scope and arm: n, naive mean, IPS, AIPW and shrunk AIPW with their intervals, and the status."""
    rows: list[dict[str, Any]] = []
    for scope in SCOPES:
        arms = catalog.arms(scope)
        scoped = long.filter(
            (pl.col("scope") == scope) & pl.col("reward").is_not_null() & pl.col("arm").is_in(arms)
        )
        logged = scoped.filter(pl.col("p").is_not_null())
        actions = logged["arm"].replace_strict({a: i for i, a in enumerate(arms)}, return_dtype=pl.Int64)
        res = arm_ope.always_arm_values(
            logged["reward"].to_numpy(),
            actions.to_numpy(),
            logged["p"].to_numpy(),
            day_blocks(logged["posted_at"]),
            len(arms),
            rng,
            config,
        )
        naive = scoped.group_by("arm").agg(pl.len().alias("n"), pl.col("reward").mean().alias("mean"))
        naive_of = {r["arm"]: r for r in naive.iter_rows(named=True)}
        for i, arm in enumerate(arms):
            row: dict[str, Any] = {
                "scope": scope,
                "arm": arm,
                "n": naive_of[arm]["n"] if arm in naive_of else 0,
                "naive mean": naive_of[arm]["mean"] if arm in naive_of else None,
            }
            value = res.arms[i] if res.ok else None
            for name in ("ips", "snips", "aipw", "shrunk"):
                est = getattr(value, name) if value is not None and value.n > 0 else None
                row[name] = est.value if est else None
                row[f"{name}_low"] = est.ci_low if est else None
                row[f"{name}_high"] = est.ci_high if est else None
            row["days"] = res.n_blocks
            row["excluded (no usable propensity)"] = scoped.height - logged.height
            row["status"] = res.status
            row["message"] = res.message
            rows.append(row)
    estimates = [f"{e}{s}" for e in ("ips", "snips", "aipw", "shrunk") for s in ("", "_low", "_high")]
    return pl.DataFrame(rows, infer_schema_length=None).with_columns(
        pl.col(c).cast(pl.Float64).fill_nan(None) for c in (*estimates, "naive mean")
    )
