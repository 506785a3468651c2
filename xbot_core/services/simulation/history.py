"""A seeded simulated history for tests, demos and benchmarks, written through the repositories.

The simulation itself (audience model, bandit, experiment plan, ground truth) is history_sim; this module
writes it with `copy_rows` in one transaction, every row marked simulated, and returns the ground truth
(each arm's expected reward under version 1; regret = max effect − chosen effect, per scope).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import psycopg

from xbot_core.adapters.db import experiment_repo
from xbot_core.adapters.db import repositories as repo
from xbot_core.adapters.db.repositories import copy_frame, copy_rows, ensure_account
from xbot_core.domain.bandit import ArmState
from xbot_core.domain.metrics import COUNT_METRICS
from xbot_core.domain.reward import DEFAULT_VERSION
from xbot_core.domain.text import content_hash
from xbot_core.errors import ConfigError
from xbot_core.services.simulation.history_sim import (
    BASE,
    DEFAULT_PLAN,
    OTHER_RATES,
    SHIFT,
    ExperimentSpec,
    HistoryConfig,
    arm_effects,
    arm_shifts,
    pass_outcomes,
    simulate,
)

__all__ = [
    "BASE",
    "DEFAULT_PLAN",
    "OTHER_RATES",
    "SHIFT",
    "ExperimentSpec",
    "HistoryConfig",
    "HistoryResult",
    "arm_effects",
    "arm_shifts",
    "generate",
    "simulate",
]


@dataclass(frozen=True)
class HistoryResult:
    """What was written, and the ground truth the analysis may compare against (simulated data only)."""

    account_id: int
    handle: str
    posts: int
    outcomes: int
    snapshots: int
    experiments: dict[str, int]
    arm_effects: dict[str, dict[str, float]]
    config: dict[str, object]

    def ground_truth(self) -> dict[str, object]:
        return {
            "source": "xbot_core.services.simulation.history",
            "handle": self.handle,
            "reward_version": DEFAULT_VERSION.version,
            "arm_effects": self.arm_effects,
            "note": "expected reward added by each arm under reward version 1 (additive audience model); "
            "per-scope regret of a decision = max effect - effect of the chosen arm",
            "config": self.config,
        }

    def write_ground_truth(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(self.ground_truth(), indent=2, default=str), encoding="utf-8")
        return path


def generate(conn: psycopg.Connection, cfg: HistoryConfig, *, replace: bool = False) -> HistoryResult:
    """Simulate and write the history in the caller's connection (one transaction); returns what was written.

    An account that already has simulated rows is refused unless `replace`, which removes them first; an
    account with real rows is never given simulated ones.
    """
    posts, runs, shifts, state = simulate(cfg)
    as_of = cfg.as_of
    with conn.transaction():
        account_id = ensure_account(conn, cfg.handle, "http://127.0.0.1:8765", None)
        real = repo.count_decisions(conn, account_id, simulated=False)
        if real:
            raise ConfigError(
                f"account {cfg.handle!r} has {real} real decisions: simulate into another handle"
            )
        sim = repo.count_decisions(conn, account_id, simulated=True)
        if sim and not replace:
            raise ConfigError(
                f"account {cfg.handle!r} already has a simulated history ({sim} decisions); "
                "pass replace=True to regenerate it"
            )
        if sim:
            repo.clear_simulated_history(conn, account_id)
        experiments = _write_experiments(conn, cfg, account_id)
        _write_decisions(conn, posts, account_id, experiments)
        n_out = _write_outcomes(conn, posts, account_id, as_of)
        n_snap = _write_snapshots(conn, cfg, posts, account_id)
        _write_learning(conn, runs, state, account_id, as_of)
    return HistoryResult(
        account_id=account_id,
        handle=cfg.handle,
        posts=posts.height,
        outcomes=n_out,
        snapshots=n_snap,
        experiments=experiments,
        arm_effects=arm_effects(shifts, DEFAULT_VERSION),
        config={k: v for k, v in asdict(cfg).items() if k not in ("catalog", "plan", "bandit")},
    )


def _write_experiments(conn: psycopg.Connection, cfg: HistoryConfig, account_id: int) -> dict[str, int]:
    """The plan's experiments over the history's last days (none in a history shorter than the plan)."""
    out: dict[str, int] = {}
    if cfg.plan_start is None:
        return out
    for spec, starts, ends in cfg.plan.windows(cfg.plan_start, "UTC"):
        status = "analysing" if ends <= cfg.as_of else "running"
        out[spec.name] = experiment_repo.insert(conn, account_id, spec, starts, ends, status=status)
    return out


def _write_decisions(
    conn: psycopg.Connection, posts: pl.DataFrame, account_id: int, experiments: dict[str, int]
) -> None:
    frame = posts.with_columns(
        pl.format(
            "[simulated] a {} post with a {} hook ({})",
            "content_type",
            "hook_pattern",
            pl.col("decision_id").cast(pl.String).str.slice(0, 8),
        ).alias("content"),
        (pl.col("posted_at") - pl.duration(seconds=30)).alias("scheduled_at"),
        pl.col("experiment")
        .replace_strict(experiments, default=None, return_dtype=pl.Int64)
        .alias("experiment_id"),
        pl.lit(account_id).alias("account_id"),
    ).with_columns(
        pl.col("content").map_elements(content_hash, return_dtype=pl.String).alias("content_hash"),
    )
    copy_frame(
        conn,
        "content_metadata",
        frame.select(
            "decision_id",
            "account_id",
            "content",
            "content_hash",
            pl.lit("posted").alias("status"),
            pl.lit("synthetic").alias("generation_source"),
            pl.lit(True).alias("simulated"),
            "scheduled_at",
            "content_type",
            "hook_pattern",
            "timing_slot",
            "policy",
            "p_content_type",
            "p_hook_pattern",
            "p_timing_slot",
            "propensity",
            "experiment_id",
            "novelty",
            "dup_penalty",
            pl.col("scheduled_at").alias("created_at"),
            pl.col("posted_at").alias("updated_at"),
        ),
    )
    # tweet ids of simulated posts: 25 digits, beyond any real X id; the rows are flagged simulated
    copy_frame(
        conn,
        "posted_decisions",
        frame.select(
            "decision_id",
            "account_id",
            # "9" + account (12 digits) + row (12 digits): 25 digits, unique across accounts
            pl.format(
                "9{}{}", pl.lit(f"{account_id:012d}"), pl.int_range(pl.len()).cast(pl.String).str.zfill(12)
            ).alias("tweet_id"),
            pl.lit(None, pl.String).alias("post_url"),
            "posted_at",
            pl.col("posted_at").alias("recorded_at"),
        ),
    )
    assigned = frame.filter(pl.col("experiment_id").is_not_null())
    copy_frame(
        conn,
        "experiment_assignments",
        assigned.select(
            "experiment_id",
            "decision_id",
            "variant",
            pl.col("experiment_arm").alias("arm"),
            pl.when(pl.col("variant") == "treatment")
            .then("experiment_share")
            .otherwise(1 - pl.col("experiment_share"))
            .alias("probability"),
            pl.col("scheduled_at").alias("assigned_at"),
        ),
    )


def _write_outcomes(conn: psycopg.Connection, posts: pl.DataFrame, account_id: int, as_of: datetime) -> int:
    """Both passes of every post whose pass was due (and collected, a few minutes later) before `as_of`."""
    n = 0
    for p, delay in ((1, timedelta(hours=1)), (2, timedelta(hours=24))):
        frame = (
            pass_outcomes(posts, p, DEFAULT_VERSION)
            .with_columns(
                (pl.col("posted_at") + delay).alias("due_at"),
                (pl.col("posted_at") + delay + pl.duration(seconds=90)).alias("collected_at"),
            )
            .filter(pl.col("collected_at") < as_of)
        )
        n += copy_frame(
            conn,
            "outcomes",
            frame.select(
                "decision_id",
                pl.lit(p).alias("collected_pass"),
                pl.lit(account_id).alias("account_id"),
                pl.lit("ok").alias("status"),
                "due_at",
                "collected_at",
                *COUNT_METRICS,
                pl.lit("analytics").alias("follows_source"),
                pl.lit("high").alias("follows_confidence"),
                "er",
                "fpki",
                "retweet_rate",
                "reply_rate",
                pl.col("reward").alias("reward_composite"),
                pl.when(pl.col("reward").is_not_null())
                .then(pl.lit(DEFAULT_VERSION.version))
                .alias("reward_version"),
                pl.lit(True).alias("simulated"),
            ),
        )
    return n


def _write_snapshots(
    conn: psycopg.Connection, cfg: HistoryConfig, posts: pl.DataFrame, account_id: int
) -> int:
    """Hourly follower counts: the base plus follows as they arrive (spread over 24 h), minus some churn."""
    rng = np.random.default_rng(cfg.seed + 1)
    hours = cfg.days * 24
    gained = np.zeros(hours + 24)
    start = cfg.start
    offs = ((posts["posted_at"] - start).dt.total_seconds() // 3600).cast(pl.Int64).to_numpy()
    follows = posts["follows_2"].to_numpy().astype(float)
    for lag in range(24):  # follows arrive evenly over the post's first day
        np.add.at(gained, offs + lag, follows / 24.0)
    churn = rng.poisson(0.1, size=hours)
    followers = cfg.base_followers + np.round(np.cumsum(gained[:hours]) - np.cumsum(churn)).astype(np.int64)
    rows = (
        (account_id, start + timedelta(hours=h + 1), int(max(0, f)), "collect", True)
        for h, f in enumerate(followers)
    )
    return copy_rows(
        conn, "follower_snapshots", ("account_id", "taken_at", "followers", "source", "simulated"), rows
    )


def _write_learning(
    conn: psycopg.Connection,
    runs: pl.DataFrame,
    state: dict[str, tuple[ArmState, ...]],
    account_id: int,
    as_of: datetime,
) -> None:
    copy_rows(
        conn,
        "training_runs",
        (
            "account_id",
            "simulated",
            "status",
            "reward_version",
            "outcomes_used",
            "arms_trained",
            "explore_ratio",
            "message",
            "ran_at",
        ),
        (
            (
                account_id,
                True,
                "trained" if r["outcomes_used"] >= 5 else "insufficient_data",
                DEFAULT_VERSION.version,
                r["outcomes_used"],
                r["arms_trained"],
                r["explore_ratio"],
                "simulated history",
                r["ran_at"],
            )
            for r in runs.iter_rows(named=True)
        ),
    )
    rows: list[Sequence[object]] = [
        (
            account_id,
            st.scope,
            st.arm,
            True,
            st.alpha,
            st.beta,
            st.successes,
            st.failures,
            st.pulls,
            st.sum_reward,
            st.provisional,
            DEFAULT_VERSION.version,
            as_of,
        )
        for states in state.values()
        for st in states
    ]
    copy_rows(
        conn,
        "bandit_arms",
        (
            "account_id",
            "scope",
            "arm",
            "simulated",
            "alpha",
            "beta",
            "successes",
            "failures",
            "pulls",
            "sum_reward",
            "provisional",
            "reward_version",
            "updated_at",
        ),
        rows,
    )
