"""The simulated audience and bandit behind the seeded history (pure: numpy + Polars, no database).

The audience model is additive and therefore has an exact ground truth: each arm of each scope shifts the
post's FPKI, retweet rate and reply rate by a fixed amount, so under reward version 1 each arm adds a known
constant to the expected reward (`arm_effects`). Decisions are made by a per-scope Thompson bandit with
ε-exploration (DESIGN.md), learning with a lag (only outcomes whose pass 2 is collected), and the default
7-day experiment plan over the last seven days. xbot_core.services.history writes the result.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta

import numpy as np
import polars as pl

from xbot_core.domain.catalog import SCOPES, ArmCatalog
from xbot_core.domain.metrics import er_expr, fpki_expr, reply_rate_expr, retweet_rate_expr
from xbot_core.domain.reward import DEFAULT_VERSION, RewardVersion, reward_expr
from xbot_core.errors import ConfigError

BASE = {"fpki": 1.5, "retweet_rate": 0.006, "reply_rate": 0.004}
SHIFT = {"fpki": 0.4, "retweet_rate": 0.0015, "reply_rate": 0.001}
OTHER_RATES = {
    "likes": 0.02,
    "quotes": 0.001,
    "bookmarks": 0.004,
    "profile_visits": 0.01,
    "link_clicks": 0.003,
}


@dataclass(frozen=True)
class ExperimentSpec:
    """One experiment of the plan, placed by day offset within the last seven days (0 = first day)."""

    name: str
    scope: str
    treatment_arm: str
    share: float
    first_day: int
    days: int


DEFAULT_PLAN: tuple[ExperimentSpec, ...] = (
    ExperimentSpec("question_cta", "hook_pattern", "question_cta", 0.30, first_day=2, days=2),
    ExperimentSpec("late_evening_slot", "timing_slot", "late_evening", 0.20, first_day=4, days=2),
)


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
    mc_draws: int = 2000
    learn_lag_days: int = 2
    plan: tuple[ExperimentSpec, ...] = DEFAULT_PLAN
    catalog: ArmCatalog = field(default_factory=ArmCatalog)

    def __post_init__(self) -> None:
        problems = []
        if self.days < 1 or self.posts_per_day < 1:
            problems.append("days and posts_per_day must be ≥ 1")
        if not 0 < self.pass1_share <= 1:
            problems.append("pass1_share must be in (0, 1]")
        if self.learn_lag_days < 1:
            problems.append("learn_lag_days must be ≥ 1")
        for spec in self.plan:
            if spec.treatment_arm not in self.catalog.arms(spec.scope):
                problems.append(f"experiment {spec.name!r}: {spec.treatment_arm!r} is not a {spec.scope} arm")
        if problems:
            raise ConfigError("invalid history config: " + "; ".join(problems))

    @property
    def start(self) -> datetime:
        return datetime.combine(self.end_day - timedelta(days=self.days - 1), time(0), tzinfo=UTC)

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


def _thompson(alpha: np.ndarray, beta: np.ndarray, draws: int, rng: np.random.Generator) -> np.ndarray:
    samples = rng.beta(alpha[:, None], beta[:, None], size=(alpha.size, draws))
    wins = np.bincount(samples.argmax(axis=0), minlength=alpha.size)
    return wins / draws


def _epsilon(samples: float) -> float:
    return 0.20 - 0.15 * min(max(samples, 0.0), 100.0) / 100.0


def simulate(cfg: HistoryConfig) -> tuple[pl.DataFrame, pl.DataFrame, dict, dict]:
    """The whole history as frames (posts, daily learning state), the arm shifts and the final posteriors."""
    rng = np.random.default_rng(cfg.seed)
    shifts = arm_shifts(cfg, rng)
    arms = {s: cfg.catalog.arms(s) for s in SCOPES}
    alpha = {s: np.ones(len(arms[s])) for s in SCOPES}
    beta = {s: np.ones(len(arms[s])) for s in SCOPES}
    pulls = {s: np.zeros(len(arms[s]), dtype=np.int64) for s in SCOPES}
    sum_reward = {s: np.zeros(len(arms[s])) for s in SCOPES}
    plan_start = cfg.days - 7
    pending: dict[int, pl.DataFrame] = {}
    day_frames: list[pl.DataFrame] = []
    runs: list[dict[str, object]] = []
    used = 0
    for d in range(cfg.days):
        day0 = cfg.start + timedelta(days=d)
        if (d - cfg.learn_lag_days) in pending:  # learn from posts whose pass 2 is in by now
            done = pending.pop(d - cfg.learn_lag_days)
            for s in SCOPES:
                idx = done[f"{s}_idx"].to_numpy()
                r = done["reward"].fill_null(0.0).clip(0.0, 1.0).to_numpy()
                w = (
                    done["exposure_weight"].fill_null(0.0).to_numpy()
                    * done["reward"].is_not_null().to_numpy()
                )
                np.add.at(alpha[s], idx, w * r)
                np.add.at(beta[s], idx, w * (1.0 - r))
                np.add.at(pulls[s], idx, 1)
                np.add.at(sum_reward[s], idx, done["reward"].fill_null(0.0).to_numpy())
            used += done.height
        n = cfg.posts_per_day
        cols: dict[str, object] = {}
        eps_day = []
        policy = np.full(n, "thompson", dtype=object)
        experiment = np.full(n, None, dtype=object)
        variant = np.full(n, None, dtype=object)
        exp_share = np.full(n, np.nan)
        exp_scope: str | None = None
        # deterministic per (handle, seed, day, row): two simulated accounts never share a decision id
        ids = [uuid.uuid5(_ID_NAMESPACE, f"{cfg.handle}/{cfg.seed}/{d}/{i}") for i in range(n)]
        u_assign = np.array([int(i.hex[:8], 16) / 2**32 for i in ids])
        propensity = np.ones(n)
        for s in SCOPES:
            k = len(arms[s])
            eps = _epsilon(float(pulls[s].sum()))
            eps_day.append(eps)
            p = (1 - eps) * _thompson(alpha[s], beta[s], cfg.mc_draws, rng) + eps / k
            chosen = rng.choice(k, size=n, p=p)
            p_chosen = p[chosen]
            for spec in cfg.plan:
                if spec.scope != s or not (
                    plan_start + spec.first_day <= d < plan_start + spec.first_day + spec.days
                ):
                    continue
                t = arms[s].index(spec.treatment_arm)
                treated = u_assign < spec.share
                p_ctrl = p.copy()
                p_ctrl[t] = 0.0
                p_ctrl = p_ctrl / p_ctrl.sum()
                ctrl_choice = rng.choice(k, size=n, p=p_ctrl)
                chosen = np.where(treated, t, ctrl_choice)
                p_chosen = np.where(treated, spec.share, (1 - spec.share) * p_ctrl[chosen])
                experiment[:] = spec.name
                exp_share[:] = spec.share
                exp_scope = s
                variant[:] = np.where(treated, "treatment", "control")
                policy[treated] = "experiment"
            cols[f"{s}_idx"] = chosen
            cols[s] = [arms[s][i] for i in chosen]
            cols[f"p_{s}"] = p_chosen
            propensity = propensity * p_chosen
        runs.append(
            {
                "day": d,
                "ran_at": day0 + timedelta(minutes=5),
                "outcomes_used": used,
                "explore_ratio": float(np.mean(eps_day)),
                "arms_trained": int(sum((pulls[s] > 0).sum() for s in SCOPES)),
            }
        )
        slot_start = np.array([cfg.catalog.slot_hours[a][0] for a in cols["timing_slot"]])  # type: ignore[attr-defined, index]
        posted_at = [
            day0 + timedelta(hours=float(h), seconds=float(x))
            for h, x in zip(slot_start, rng.uniform(0, 7200, size=n), strict=True)
        ]
        rates = {m: np.full(n, BASE[m]) for m in BASE}
        for m in BASE:
            for s in SCOPES:
                shift = np.array([shifts[m][s][a] for a in arms[s]])
                rates[m] = rates[m] + shift[cols[f"{s}_idx"]]  # type: ignore[call-overload, index]
        imp2 = np.maximum(
            1, np.round(rng.lognormal(np.log(cfg.median_impressions), cfg.impressions_sigma, n))
        )
        counts2 = {
            "retweets": rng.poisson(imp2 * rates["retweet_rate"]),
            "replies": rng.poisson(imp2 * rates["reply_rate"]),
            "follows": rng.poisson(imp2 * rates["fpki"] / 1000.0),
            **{c: rng.poisson(imp2 * r) for c, r in OTHER_RATES.items()},
        }
        frame = pl.DataFrame(
            {
                "decision_id": [str(i) for i in ids],
                "day": d,
                "posted_at": posted_at,
                "policy": policy.tolist(),
                "experiment": experiment.tolist(),
                "variant": variant.tolist(),
                **cols,
                "propensity": propensity,
                "experiment_arm": cols[exp_scope] if exp_scope else [None] * n,
                "experiment_share": np.where(np.isnan(exp_share), None, exp_share).tolist(),  # type: ignore[call-overload]
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
        scored = pass_outcomes(frame, 2, DEFAULT_VERSION).select("reward", "exposure_weight")
        pending[d] = frame.select(*(f"{s}_idx" for s in SCOPES)).with_columns(scored)
        day_frames.append(frame)
    posts = pl.concat(day_frames)
    state = {
        s: {
            "arms": arms[s],
            "alpha": alpha[s],
            "beta": beta[s],
            "pulls": pulls[s],
            "sum_reward": sum_reward[s],
        }
        for s in SCOPES
    }
    return posts, pl.DataFrame(runs), shifts, state


def pass_outcomes(posts: pl.DataFrame, p: int, v: RewardVersion) -> pl.DataFrame:
    """The pass-p outcome columns of every post, with metrics and the reward under `v`."""
    counts = (
        "impressions",
        "likes",
        "retweets",
        "replies",
        "quotes",
        "bookmarks",
        "profile_visits",
        "link_clicks",
        "follows",
    )
    frame = posts.select(
        "decision_id",
        "posted_at",
        "novelty",
        "dup_penalty",
        *(pl.col(f"{c}_{p}").alias(c) for c in counts),
    ).with_columns(pl.col("follows").cast(pl.Float64))
    return frame.with_columns(
        er_expr(),
        fpki_expr(),
        retweet_rate_expr(),
        reply_rate_expr(),
        reward_expr(v).alias("reward"),
        (pl.col("impressions").cast(pl.Float64) / v.exposure_cap)
        .clip(upper_bound=1.0)
        .alias("exposure_weight"),
    )
