"""Bandit diagnostics: posteriors over time, pulls and propensities, explore ratio, pass-1 → pass-2
calibration, cumulative regret against a ground truth (simulated data only), OPE of alternative policies.

Posteriors over time are replayed from the window's outcomes with the learning rule of domain/bandit.py
(Beta(1, 1) prior; successes += w·clip(r / scale), failures += w·(1 − clip(r / scale)); latest pass per post).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import polars as pl
from scipy import stats as sps

from xbot_core.domain import arm_ope, bandit, ope
from xbot_core.domain.catalog import SCOPES, ArmCatalog
from xbot_core.errors import ConfigError
from xbot_core.sandbox.token import admin_headers
from xbot_core.services.read import analytics, arm_values
from xbot_core.services.read.analytics import Source, Window
from xbot_core.services.reporting.report_daily import load_posts


@dataclass(frozen=True)
class GroundTruth:
    """A value per arm per scope, its unit and where it came from; regret = best value − chosen value."""

    values: dict[str, dict[str, float]]
    unit: str
    origin: str


def ground_truth(
    path: str, *, simulated: bool, sandbox_url: str | None, data_dir: Path | None = None
) -> GroundTruth | None:
    """The ground truth from a history generator's JSON file or the sandbox's GET /admin/ground_truth (with
    the admin token `xbot sandbox` wrote to `data_dir`).

    Never for real data (there is none). Generator files give each arm's expected reward (additive model);
    the sandbox gives multipliers, valued as follow × engagement (the sandbox's own best-arm criterion).
    """
    if not simulated:
        return None
    if path:
        raw = json.loads(Path(path).read_text(encoding="utf-8"))
        origin = f"file {path}"
    elif sandbox_url:
        try:
            headers = admin_headers(sandbox_url, data_dir) if data_dir is not None else {}
            raw = (
                httpx.get(f"{sandbox_url}/admin/ground_truth", headers=headers, timeout=5.0)
                .raise_for_status()
                .json()
            )
        except (httpx.HTTPError, ValueError):
            return None
        origin = f"{sandbox_url}/admin/ground_truth"
    else:
        return None
    effects = raw.get("arm_effects")
    if not isinstance(effects, dict):
        raise ConfigError(f"ground truth from {origin} has no arm_effects")
    values: dict[str, dict[str, float]] = {}
    unit = "expected reward (reward version 1)"
    for scope, arms in effects.items():
        values[scope] = {}
        for arm, v in arms.items():
            if isinstance(v, dict):  # sandbox multipliers
                values[scope][arm] = float(v.get("follow", 1.0)) * float(v.get("engagement", 1.0))
                unit = "sandbox follow × engagement multiplier"
            else:
                values[scope][arm] = float(v)
    return GroundTruth(values=values, unit=unit, origin=origin)


@dataclass(frozen=True)
class BanditReport:
    day: date
    source: Source
    posteriors: pl.DataFrame
    current: pl.DataFrame
    pulls: pl.DataFrame
    explore: pl.DataFrame
    calibration: pl.DataFrame
    calibration_summary: pl.DataFrame
    regret: pl.DataFrame | None
    truth: GroundTruth | None
    ope: pl.DataFrame
    ope_note: str
    arm_values: pl.DataFrame
    arm_values_note: str
    days: int = 14
    posts: int = 0


def headline(report: BanditReport) -> str:
    """Who, which data and window; with no posts in it, the sentence that says so and how to fill it."""
    if report.posts == 0:
        return analytics.empty_window_note(report.source, Window.days_ending(report.day, report.days))
    kind = "simulated" if report.source.simulated else "real"
    return (
        f"**@{report.source.handle}**, {kind} data, {report.days} days to **{report.day}**, "
        f"{report.posts} posts"
    )


def _long(posts: pl.DataFrame) -> pl.DataFrame:
    """One row per (post, scope) with the arm, its usable logged propensity, reward and exposure weight."""
    return arm_values.long_by_scope(posts)


def posteriors_over_time(long: pl.DataFrame) -> pl.DataFrame:
    """Daily replay of each arm's Beta posterior: mean and 90 % interval."""
    scored = long.filter(pl.col("reward").is_not_null()).with_columns(
        day=pl.col("posted_at").dt.truncate("1d"),
        s=pl.col("exposure_weight") * (pl.col("reward") / bandit.REWARD_SCALE).clip(0.0, 1.0),
        f=pl.col("exposure_weight") * (1.0 - (pl.col("reward") / bandit.REWARD_SCALE).clip(0.0, 1.0)),
    )
    daily = (
        scored.group_by("scope", "arm", "day")
        .agg(pl.col("s").sum(), pl.col("f").sum())
        .sort("day", "scope", "arm")
    )
    cum = daily.with_columns(
        alpha=1.0 + pl.col("s").cum_sum().over("scope", "arm", order_by="day"),
        beta=1.0 + pl.col("f").cum_sum().over("scope", "arm", order_by="day"),
    )
    a, b = cum["alpha"].to_numpy(), cum["beta"].to_numpy()
    return cum.with_columns(
        mean=pl.Series(a / (a + b)),
        low=pl.Series(sps.beta.ppf(0.05, a, b)),
        high=pl.Series(sps.beta.ppf(0.95, a, b)),
    ).select("scope", "arm", "day", "alpha", "beta", "mean", "low", "high")


def calibration(posts: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Pass-1 vs pass-2 reward of posts that have both, and a summary (n, correlation, slope, mean ratio)."""
    both = posts.filter(
        pl.col("reward_pass1").is_not_null()
        & pl.col("reward_composite").is_not_null()
        & (pl.col("collected_pass") == 2)
    ).select(pl.col("reward_pass1").alias("pass1"), pl.col("reward_composite").alias("pass2"))
    if both.height < 3:
        return both, pl.DataFrame({"posts": [both.height], "note": ["fewer than 3 posts with both passes"]})
    x, y = both["pass1"].to_numpy(), both["pass2"].to_numpy()
    fit = sps.linregress(x, y)
    summary = pl.DataFrame(
        {
            "posts": [both.height],
            "correlation": [float(fit.rvalue)],
            "slope": [float(fit.slope)],
            "intercept": [float(fit.intercept)],
            "mean pass1": [float(x.mean())],
            "mean pass2": [float(y.mean())],
        }
    )
    return both, summary


def regret(long: pl.DataFrame, truth: GroundTruth) -> pl.DataFrame:
    """Cumulative per-scope regret of the logged decisions: Σ (best value − chosen arm's value)."""
    rows = []
    for scope, values in truth.values.items():
        best = max(values.values())
        rows.append(
            pl.DataFrame({"arm": list(values), "regret": [best - v for v in values.values()], "scope": scope})
        )
    table = pl.concat(rows)
    return (
        long.join(table, on=["scope", "arm"], how="inner")
        .sort("posted_at")
        .with_columns(cumulative_regret=pl.col("regret").cum_sum().over("scope", order_by="posted_at"))
        .select("scope", "posted_at", "arm", "regret", "cumulative_regret")
    )


CROSSFIT_FOLDS = 2


def crossfit_posterior_targets(
    logged: pl.DataFrame, scope: str, arms: tuple[str, ...], rng: np.random.Generator, n_folds: int
) -> dict[str, np.ndarray]:
    """Thompson and greedy target policies, each fold's fitted (bandit rule, prior Beta(1, 1)) on the other
    folds' posts only (folds = whole days), as per-decision probabilities; {} with fewer days than folds."""
    days = arm_values.day_blocks(logged["posted_at"])
    if np.unique(days).size < n_folds:
        return {}
    folds = arm_ope.block_folds(days, n_folds)
    obs = [
        bandit.Observation(
            str(r["decision_id"]), r["arm"], 2, r["reward"], r["exposure_weight"], r["posted_at"]
        )
        for r in logged.iter_rows(named=True)
    ]
    cfg = bandit.BanditConfig()

    def states(train: np.ndarray) -> tuple[bandit.ArmState, ...]:
        return bandit.fit_scope(scope, arms, [o for o, keep in zip(obs, train, strict=True) if keep], cfg)

    def thompson(train: np.ndarray) -> np.ndarray:
        st = states(train)
        alpha, beta = np.array([s.alpha for s in st]), np.array([s.beta for s in st])
        return bandit.thompson_probabilities(alpha, beta, bandit.MIN_MC_DRAWS, rng)

    return {
        "Thompson (fitted on other days)": arm_ope.crossfit_target_probs(folds, thompson),
        "greedy (fitted on other days)": arm_ope.crossfit_target_probs(
            folds, lambda train: bandit.greedy_probabilities(states(train))
        ),
    }


def ope_alternatives(long: pl.DataFrame, rng: np.random.Generator, catalog: ArmCatalog) -> pl.DataFrame:
    """Per scope, the estimated mean reward of alternative policies on the bandit's own logged decisions;
    fitted target policies are cross-fitted (never evaluated on the days they were fitted on)."""
    rows: list[dict[str, Any]] = []
    for scope in SCOPES:
        arms = catalog.arms(scope)
        scoped = long.filter(
            (pl.col("scope") == scope) & pl.col("reward").is_not_null() & pl.col("arm").is_in(arms)
        )
        logged = scoped.filter(pl.col("p").is_not_null())  # experiment posts included: marginal propensities
        targets: dict[str, np.ndarray] = {"uniform": np.full(len(arms), 1.0 / len(arms))}
        targets.update(crossfit_posterior_targets(logged, scope, arms, rng, CROSSFIT_FOLDS))
        for arm_i, arm in enumerate(arms):
            always = np.zeros(len(arms))
            always[arm_i] = 1.0
            targets[f"always {arm}"] = always
        actions = logged["arm"].replace_strict({a: i for i, a in enumerate(arms)}, return_dtype=pl.Int64)
        for name, probs in targets.items():
            res = ope.evaluate_policy(
                logged["reward"].to_numpy(), actions.to_numpy(), logged["p"].to_numpy(), probs, rng
            )
            row: dict[str, Any] = {
                "scope": scope,
                "policy": name,
                "n": res.n,
                "excluded (no usable propensity)": scoped.height - logged.height,
                "status": res.status,
                "message": res.message,
            }
            for est in ("snips", "dr"):
                e = getattr(res, est)
                row[est] = e.value if e else None
                row[f"{est}_low"] = e.ci_low if e else None
                row[f"{est}_high"] = e.ci_high if e else None
            row["ess"] = res.effective_sample_size
            rows.append(row)
    return pl.DataFrame(rows, infer_schema_length=None)


def build(
    source: Source,
    day: date,
    *,
    days: int,
    seed: int,
    ground_truth_path: str = "",
    sandbox_url: str | None = None,
    data_dir: Path | None = None,
) -> BanditReport:
    version = analytics.active_reward_version(source)
    window = Window.days_ending(day, days)
    posts = load_posts(source, window, version)
    long = _long(posts)
    current = analytics.load(source, "bandit_arms")
    truth = ground_truth(
        ground_truth_path, simulated=source.simulated, sandbox_url=sandbox_url, data_dir=data_dir
    )
    pulls = (
        long.with_columns(day=pl.col("posted_at").dt.truncate("1d"))
        .group_by("scope", "arm", "day")
        .agg(pulls=pl.len(), mean_propensity=pl.col("p").mean())
        .sort("scope", "arm", "day")
    )
    cal, cal_summary = calibration(posts)
    rng = np.random.default_rng(seed)
    return BanditReport(
        day=day,
        source=source,
        posteriors=posteriors_over_time(long),
        current=current,
        pulls=pulls,
        explore=analytics.load(source, "training_runs", until=window.until).filter(
            pl.col("ran_at") >= window.since
        ),
        calibration=cal,
        calibration_summary=cal_summary,
        regret=regret(long, truth) if truth else None,
        truth=truth,
        ope=ope_alternatives(long, rng, ArmCatalog()),
        arm_values=arm_values.always_arm_table(long, ArmCatalog(), rng),
        arm_values_note=arm_values.NOTE,
        days=days,
        posts=posts.height,
        ope_note=(
            "Off-policy estimates (SNIPS and DR, 95 % bootstrap CIs) of each alternative policy's mean "
            f"reward under reward version {version.version}, on the bandit's own decisions of the window; "
            "Thompson and greedy are fitted on alternate days and evaluated on the others (cross-fitting) "
            "(experiment posts included, with the marginal propensity of their arm), per scope with that "
            "scope's logged propensity; posts whose propensity is not usable are counted, not used."
        ),
    )
