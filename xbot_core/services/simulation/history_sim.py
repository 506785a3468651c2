"""The simulated audience and bandit behind the seeded history (pure: numpy + Polars, no database).

The audience model is additive and therefore has an exact ground truth: each arm of each scope shifts the
post's FPKI, retweet rate and reply rate by a fixed amount, so under reward version 1 each arm adds a known
constant to the expected reward (`arm_effects`). Decisions follow the live rules of xbot_core.domain:
per-scope bandits (`bandit.policy_probabilities`: Thompson by Monte Carlo, ε decay), learning with a lag
(only outcomes whose pass 2 is collected, `bandit_batch.add_outcomes`), and the 7-day experiment plan
(`experiments.assign`, `override.marginal_probabilities`) over the last days.
xbot_core.services.simulation.history writes the result.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import polars as pl

from xbot_core.domain.bandit import ArmState, BanditConfig, policy_probabilities, prior
from xbot_core.domain.bandit_batch import add_outcomes
from xbot_core.domain.catalog import SCOPES, ArmCatalog
from xbot_core.domain.experiments import ExperimentPlan, ExperimentSpec, assign, load_plan
from xbot_core.domain.metrics import (
    COUNT_METRICS,
    er_expr,
    fpki_expr,
    reply_rate_expr,
    retweet_rate_expr,
)
from xbot_core.domain.override import EXPERIMENT_POLICY, marginal_probabilities
from xbot_core.domain.reward import DEFAULT_VERSION, RewardVersion, with_rewards
from xbot_core.errors import ConfigError
from xbot_core.package_data import EXPERIMENT_PLAN

BASE = {"fpki": 1.5, "retweet_rate": 0.006, "reply_rate": 0.004}
SHIFT = {"fpki": 0.4, "retweet_rate": 0.0015, "reply_rate": 0.001}
OTHER_RATES = {
    "likes": 0.02,
    "quotes": 0.001,
    "bookmarks": 0.004,
    "profile_visits": 0.01,
    "link_clicks": 0.003,
}


DEFAULT_PLAN: ExperimentPlan = load_plan(EXPERIMENT_PLAN)


@dataclass(frozen=True)
class HistoryConfig:
    """Every tunable of the simulated history, seed included."""

    seed: int = 7
    handle: str = "xbot_sim"
    end_day: date = date(2026, 1, 7)
    days: int = 14
    posts_per_day: int = 12
    base_followers: int = 1200
    median_impressions: float = 900.0
    impressions_sigma: float = 0.8
    pass1_share: float = 0.55
    learn_lag_days: int = 2
    plan: ExperimentPlan = DEFAULT_PLAN
    bandit: BanditConfig = field(default_factory=BanditConfig)
    catalog: ArmCatalog = field(default_factory=ArmCatalog)

    def __post_init__(self) -> None:
        problems = []
        if self.days < 1 or self.posts_per_day < 1:
            problems.append("days and posts_per_day must be ≥ 1")
        if not 0 < self.pass1_share <= 1:
            problems.append("pass1_share must be in (0, 1]")
        if self.learn_lag_days < 1:
            problems.append("learn_lag_days must be ≥ 1")
        for spec in self.plan.experiments:
            if spec.treatment_arm not in self.catalog.arms(spec.scope):
                problems.append(f"experiment {spec.name!r}: {spec.treatment_arm!r} is not a {spec.scope} arm")
        if problems:
            raise ConfigError("invalid history config: " + "; ".join(problems))

    @property
    def start(self) -> datetime:
        return datetime.combine(self.end_day - timedelta(days=self.days - 1), time(0), tzinfo=UTC)

    @property
    def plan_start(self) -> date | None:
        """Day 1 of the plan, which runs over the last `plan.length_days` days; None in a shorter history."""
        if self.days < self.plan.length_days:
            return None
        return self.end_day - timedelta(days=self.plan.length_days - 1)

    def experiment_on(self, day: int) -> ExperimentSpec | None:
        """The plan's experiment on simulated day `day` (0-based), if any."""
        offset = self.days - self.plan.length_days
        if offset < 0:
            return None
        for spec in self.plan.experiments:
            if spec.first_day - 1 <= day - offset <= spec.last_day - 1:
                return spec
        return None

    @property
    def as_of(self) -> datetime:
        """The moment the history stops: the end of end_day; later collections do not exist yet."""
        return datetime.combine(self.end_day + timedelta(days=1), time(0), tzinfo=UTC)


def arm_shifts(cfg: HistoryConfig, rng: np.random.Generator) -> dict[str, dict[str, dict[str, float]]]:
    """metric -> scope -> arm -> additive shift of that metric's rate, centred on 0 within each scope."""
    out: dict[str, dict[str, dict[str, float]]] = {m: {} for m in SHIFT}
    for scope in SCOPES:
        arms = cfg.catalog.arms(scope)
        for metric, size in SHIFT.items():
            raw = rng.uniform(-1.0, 1.0, size=len(arms))
            raw = raw - raw.mean()
            raw = raw / max(1.0, float(np.abs(raw).max()))  # |shift| ≤ size keeps every rate positive
            out[metric][scope] = {a: float(size * r) for a, r in zip(arms, raw, strict=True)}
    return out


def arm_effects(
    shifts: dict[str, dict[str, dict[str, float]]], v: RewardVersion
) -> dict[str, dict[str, float]]:
    """Expected reward each arm adds under version `v`: E[follows/imp]·1000 = fpki etc. are exact."""
    return {
        scope: {
            arm: v.w_fpki * shifts["fpki"][scope][arm] / v.scale_fpki
            + v.w_retweet * shifts["retweet_rate"][scope][arm] / v.scale_retweet
            + v.w_reply * shifts["reply_rate"][scope][arm] / v.scale_reply
            for arm in shifts["fpki"][scope]
        }
        for scope in SCOPES
    }


_ID_NAMESPACE = uuid.UUID("6f1d2a52-3c0e-4f5e-9b7a-0c1d2e3f4a5b")  # fixed: ids reproduce across runs


# an experiment's key for the assignment hash: the simulator runs before the database gives experiment ids
def _assignment_key(spec: ExperimentSpec) -> str:
    return f"sim:{spec.name}"


@dataclass
class _Learner:
    """Per-scope posteriors, updated a day's outcomes at a time."""

    cfg: HistoryConfig
    states: dict[str, tuple[ArmState, ...]] = field(init=False)
    used: int = 0

    def __post_init__(self) -> None:
        self.states = {
            s: tuple(prior(s, a, self.cfg.bandit) for a in self.cfg.catalog.arms(s)) for s in SCOPES
        }

    def learn(self, done: pl.DataFrame) -> None:
        """Final (pass-2) outcomes of one day's posts; a post without a reward or reach is no observation."""
        seen = done.filter(pl.col("reward").is_not_null() & pl.col("exposure_weight").is_not_null())
        for s in SCOPES:
            self.states[s] = add_outcomes(
                self.states[s],
                seen[f"{s}_idx"].to_numpy(),
                seen["reward"].to_numpy(),
                seen["exposure_weight"].to_numpy(),
                self.cfg.bandit,
            )
        self.used += done.height


def _choose_arms(
    cfg: HistoryConfig,
    learner: _Learner,
    ids: list[uuid.UUID],
    spec: ExperimentSpec | None,
    rng: np.random.Generator,
) -> tuple[dict[str, object], list[float], np.ndarray | None]:
    """Arms and logged probabilities of a day's decisions: the bandit per scope, the experiment's override
    on its scope (treatment forced, control drawn from the bandit, the marginal logged)."""
    n = len(ids)
    treated = None
    if spec is not None:
        key = _assignment_key(spec)
        treated = np.array([assign(key, spec.share, i).variant == "treatment" for i in ids])
    cols: dict[str, object] = {}
    eps_day = []
    for s in SCOPES:
        arms = cfg.catalog.arms(s)
        probs, eps = policy_probabilities(learner.states[s], cfg.bandit.policy(s), cfg.bandit, rng)
        eps_day.append(eps)
        chosen = rng.choice(len(arms), size=n, p=probs)
        logged = probs
        if spec is not None and spec.scope == s and treated is not None:
            t = arms.index(spec.treatment_arm)
            chosen = np.where(treated, t, chosen)
            logged = marginal_probabilities(probs, t, spec.share)
        cols[f"{s}_idx"] = chosen
        cols[s] = [arms[i] for i in chosen]
        cols[f"p_{s}"] = logged[chosen]
    return cols, eps_day, treated


def simulate(cfg: HistoryConfig) -> tuple[pl.DataFrame, pl.DataFrame, dict, dict[str, tuple[ArmState, ...]]]:
    """The whole history as frames (posts, daily learning state), the arm shifts and the final posteriors.

    Day by day: learn from the posts whose T+24h pass is in by now, choose the day's arms (bandit and
    experiment override), log the learning run, draw the posts' outcomes; random draws in a fixed order."""
    rng = np.random.default_rng(cfg.seed)
    shifts = arm_shifts(cfg, rng)
    learner = _Learner(cfg)
    pending: dict[int, pl.DataFrame] = {}
    day_frames: list[pl.DataFrame] = []
    runs: list[dict[str, object]] = []
    for d in range(cfg.days):
        day0 = cfg.start + timedelta(days=d)
        if (d - cfg.learn_lag_days) in pending:
            learner.learn(pending.pop(d - cfg.learn_lag_days))
        # deterministic per (handle, seed, day, row): two simulated accounts never share a decision id
        ids = [
            uuid.uuid5(_ID_NAMESPACE, f"{cfg.handle}/{cfg.seed}/{d}/{i}") for i in range(cfg.posts_per_day)
        ]
        spec = cfg.experiment_on(d)
        cols, eps_day, treated = _choose_arms(cfg, learner, ids, spec, rng)
        runs.append(_learning_run(d, day0, learner, eps_day))
        frame = _day_posts(cfg, d, day0, ids, spec, cols, treated, _rates(cfg, cols, shifts), rng)
        scored = pass_outcomes(frame, 2, DEFAULT_VERSION).select("reward", "exposure_weight")
        pending[d] = frame.select(*(f"{s}_idx" for s in SCOPES)).with_columns(scored)
        day_frames.append(frame)
    return pl.concat(day_frames), pl.DataFrame(runs), shifts, learner.states


def _learning_run(d: int, day0: datetime, learner: _Learner, eps_day: list[float]) -> dict[str, object]:
    """The day's learning-run row: outcomes used so far, the mean ε across scopes, arms with any pull."""
    pulls = [st.pulls for s in SCOPES for st in learner.states[s]]
    return {
        "day": d,
        "ran_at": day0 + timedelta(minutes=5),
        "outcomes_used": learner.used,
        "explore_ratio": float(np.mean(eps_day)),
        "arms_trained": int(sum(p > 0 for p in pulls)),
    }


def _rates(cfg: HistoryConfig, cols: dict[str, object], shifts: dict) -> dict[str, np.ndarray]:
    """Each post's true rates: the base rate plus its arms' shifts in every scope."""
    n = len(cols[f"{SCOPES[0]}_idx"])  # type: ignore[arg-type]
    rates = {m: np.full(n, BASE[m]) for m in BASE}
    for m in BASE:
        for s in SCOPES:
            shift = np.array([shifts[m][s][a] for a in cfg.catalog.arms(s)])
            rates[m] = rates[m] + shift[cols[f"{s}_idx"]]  # type: ignore[call-overload, index]
    return rates


def _day_posts(
    cfg: HistoryConfig,
    d: int,
    day0: datetime,
    ids: list[uuid.UUID],
    spec: ExperimentSpec | None,
    cols: dict[str, object],
    treated: np.ndarray | None,
    rates: dict[str, np.ndarray],
    rng: np.random.Generator,
) -> pl.DataFrame:
    """A day's posts: decisions as logged, times within their slots, T+24h counts drawn from the rates and
    the T+1h counts as a binomial share of them."""
    n = len(ids)
    policies = (
        np.where(treated, EXPERIMENT_POLICY, cfg.bandit.policy(SCOPES[0]))
        if treated is not None
        else np.full(n, cfg.bandit.policy(SCOPES[0]), dtype=object)
    )
    variants = np.where(treated, "treatment", "control") if treated is not None else np.full(n, None)
    propensity = np.prod([np.asarray(cols[f"p_{s}"]) for s in SCOPES], axis=0)
    slot_start = np.array([cfg.catalog.slot_hours[a][0] for a in cols["timing_slot"]])  # type: ignore[attr-defined, index]
    posted_at = [
        day0 + timedelta(hours=float(h), seconds=float(x))
        for h, x in zip(slot_start, rng.uniform(0, 7200, size=n), strict=True)
    ]
    imp2 = np.maximum(1, np.round(rng.lognormal(np.log(cfg.median_impressions), cfg.impressions_sigma, n)))
    counts2 = {
        "retweets": rng.poisson(imp2 * rates["retweet_rate"]),
        "replies": rng.poisson(imp2 * rates["reply_rate"]),
        "follows": rng.poisson(imp2 * rates["fpki"] / 1000.0),
        **{c: rng.poisson(imp2 * r) for c, r in OTHER_RATES.items()},
    }
    return pl.DataFrame(
        {
            "decision_id": [str(i) for i in ids],
            "day": d,
            "posted_at": posted_at,
            "policy": policies.tolist(),
            "experiment": [spec.name if spec else None] * n,
            "variant": variants.tolist(),
            **cols,
            "propensity": propensity,
            "experiment_arm": cols[spec.scope] if spec else [None] * n,
            "experiment_share": [spec.share if spec else None] * n,
            "novelty": rng.beta(4, 3, size=n),
            "dup_penalty": np.where(rng.uniform(size=n) < 0.1, rng.uniform(size=n), 0.0),
            "impressions_2": imp2.astype(np.int64),
            **{f"{c}_2": v.astype(np.int64) for c, v in counts2.items()},
            "impressions_1": rng.binomial(imp2.astype(np.int64), cfg.pass1_share),
            **{f"{c}_1": rng.binomial(v, cfg.pass1_share) for c, v in counts2.items()},
        },
        schema_overrides={
            "experiment": pl.String,
            "variant": pl.String,
            "experiment_arm": pl.String,
            "experiment_share": pl.Float64,
        },
        strict=False,
    )


def pass_outcomes(posts: pl.DataFrame, p: int, v: RewardVersion) -> pl.DataFrame:
    """The pass-p outcome columns of every post, with metrics and the reward under `v`."""
    frame = posts.select(
        "decision_id",
        "posted_at",
        "novelty",
        "dup_penalty",
        *(pl.col(f"{c}_{p}").alias(c) for c in COUNT_METRICS),
    ).with_columns(pl.col("follows").cast(pl.Float64))
    return with_rewards(frame.with_columns(er_expr(), fpki_expr(), retweet_rate_expr(), reply_rate_expr()), v)  # type: ignore[return-value]
