"""A seeded simulated history for tests, demos and benchmarks, written through the repositories.

The audience model is additive and therefore has an exact ground truth: each arm of each scope shifts the
post's FPKI, retweet rate and reply rate by a fixed amount, so under reward version 1 each arm adds a known
constant to the expected reward (`arm_effects`; `regret = max effect − chosen effect`, per scope). Decisions
are made by a per-scope Thompson bandit with ε-exploration (DESIGN.md), learning with a two-day lag (only
outcomes whose pass 2 is collected), and the default 7-day experiment plan over the last seven days. Every
row is marked simulated; the ground truth is returned and written as JSON next to nothing else.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import psycopg

from xbot_core.adapters.db.queries import query
from xbot_core.adapters.db.repositories import copy_rows, ensure_account
from xbot_core.domain.catalog import SCOPES, ArmCatalog
from xbot_core.domain.metrics import er_expr, fpki_expr, reply_rate_expr, retweet_rate_expr
from xbot_core.domain.reward import DEFAULT_VERSION, RewardVersion, reward_expr
from xbot_core.errors import ConfigError

# base rates of an average post, and the largest per-arm shift of each (small enough never to go negative)
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
            "source": "xbot_core.services.history",
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
        ids = [uuid.UUID(bytes=rng.bytes(16), version=4) for _ in range(n)]
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
        slot_start = np.array([cfg.catalog.slot_hours[a][0] for a in cols["timing_slot"]])  # type: ignore[index]
        posted_at = [
            day0 + timedelta(hours=float(h), seconds=float(x))
            for h, x in zip(slot_start, rng.uniform(0, 7200, size=n), strict=True)
        ]
        rates = {m: np.full(n, BASE[m]) for m in BASE}
        for m in BASE:
            for s in SCOPES:
                shift = np.array([shifts[m][s][a] for a in arms[s]])
                rates[m] = rates[m] + shift[cols[f"{s}_idx"]]  # type: ignore[index]
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
                "experiment_share": np.where(np.isnan(exp_share), None, exp_share).tolist(),
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
        scored = _pass(frame, 2, DEFAULT_VERSION).select("reward", "exposure_weight")
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


def _pass(posts: pl.DataFrame, p: int, v: RewardVersion) -> pl.DataFrame:
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


def generate(conn: psycopg.Connection, cfg: HistoryConfig, *, replace: bool = False) -> HistoryResult:
    """Simulate and write the history in the caller's connection (one transaction); returns what was written.

    An account that already has simulated rows is refused unless `replace`, which removes them first; an
    account with real rows is never given simulated ones.
    """
    posts, runs, shifts, state = simulate(cfg)
    as_of = cfg.as_of
    with conn.transaction():
        account_id = ensure_account(conn, cfg.handle, "http://127.0.0.1:8765", None)
        (real,) = conn.execute(query("history_real_rows"), {"account_id": account_id}).fetchone()  # type: ignore[misc]
        if real:
            raise ConfigError(
                f"account {cfg.handle!r} has {real} real decisions: simulate into another handle"
            )
        (sim,) = conn.execute(query("history_simulated_rows"), {"account_id": account_id}).fetchone()  # type: ignore[misc]
        if sim and not replace:
            raise ConfigError(
                f"account {cfg.handle!r} already has a simulated history ({sim} decisions); "
                "pass replace=True to regenerate it"
            )
        if sim:
            conn.execute(query("history_clear_simulated"), {"account_id": account_id})
            conn.execute(query("history_clear_experiments"), {"account_id": account_id})
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
        config={k: v for k, v in asdict(cfg).items() if k not in ("catalog", "plan")},
    )


def _write_experiments(conn: psycopg.Connection, cfg: HistoryConfig, account_id: int) -> dict[str, int]:
    out: dict[str, int] = {}
    if cfg.days < 7:
        return out
    plan_start = cfg.start + timedelta(days=cfg.days - 7)
    for spec in cfg.plan:
        starts = plan_start + timedelta(days=spec.first_day)
        ends = starts + timedelta(days=spec.days)
        row = conn.execute(
            query("history_insert_experiment"),
            {
                "account_id": account_id,
                "name": spec.name,
                "scope": spec.scope,
                "treatment_arm": spec.treatment_arm,
                "share": spec.share,
                "starts_at": starts,
                "ends_at": ends,
                "status": "analysing" if ends <= cfg.as_of else "running",
            },
        ).fetchone()
        assert row is not None
        out[spec.name] = int(row[0])
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
        pl.col("content")
        .map_elements(lambda t: hashlib.sha256(t.encode()).hexdigest(), return_dtype=pl.String)
        .alias("content_hash"),
    )
    copy_rows(
        conn,
        "content_metadata",
        (
            "decision_id",
            "account_id",
            "content",
            "content_hash",
            "status",
            "generation_source",
            "simulated",
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
            "created_at",
            "updated_at",
        ),
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
        ).iter_rows(),
    )
    # tweet ids of simulated posts: a numeric range no real X id reaches soon, flagged by content_metadata
    copy_rows(
        conn,
        "posted_decisions",
        ("decision_id", "account_id", "tweet_id", "post_url", "posted_at", "recorded_at"),
        frame.select(
            "decision_id",
            "account_id",
            (pl.int_range(pl.len()) + 9 * 10**18).cast(pl.String).alias("tweet_id"),
            pl.lit(None, pl.String).alias("post_url"),
            "posted_at",
            pl.col("posted_at").alias("recorded_at"),
        ).iter_rows(),
    )
    assigned = frame.filter(pl.col("experiment_id").is_not_null())
    copy_rows(
        conn,
        "experiment_assignments",
        ("experiment_id", "decision_id", "variant", "arm", "probability", "assigned_at"),
        assigned.select(
            "experiment_id",
            "decision_id",
            "variant",
            "experiment_arm",
            pl.when(pl.col("variant") == "treatment")
            .then("experiment_share")
            .otherwise(1 - pl.col("experiment_share"))
            .alias("probability"),
            "scheduled_at",
        ).iter_rows(),
    )


def _write_outcomes(conn: psycopg.Connection, posts: pl.DataFrame, account_id: int, as_of: datetime) -> int:
    """Both passes of every post whose pass was due (and collected, a few minutes later) before `as_of`."""
    cols = (
        "decision_id",
        "collected_pass",
        "account_id",
        "status",
        "due_at",
        "collected_at",
        "impressions",
        "likes",
        "retweets",
        "replies",
        "quotes",
        "bookmarks",
        "profile_visits",
        "link_clicks",
        "follows",
        "follows_source",
        "follows_confidence",
        "er",
        "fpki",
        "retweet_rate",
        "reply_rate",
        "reward_composite",
        "reward_version",
        "simulated",
    )
    n = 0
    for p, delay in ((1, timedelta(hours=1)), (2, timedelta(hours=24))):
        frame = (
            _pass(posts, p, DEFAULT_VERSION)
            .with_columns(
                (pl.col("posted_at") + delay).alias("due_at"),
                (pl.col("posted_at") + delay + pl.duration(seconds=90)).alias("collected_at"),
            )
            .filter(pl.col("collected_at") < as_of)
        )
        n += copy_rows(
            conn,
            "outcomes",
            cols,
            frame.select(
                "decision_id",
                pl.lit(p).alias("collected_pass"),
                pl.lit(account_id).alias("account_id"),
                pl.lit("ok").alias("status"),
                "due_at",
                "collected_at",
                "impressions",
                "likes",
                "retweets",
                "replies",
                "quotes",
                "bookmarks",
                "profile_visits",
                "link_clicks",
                "follows",
                pl.lit("analytics").alias("follows_source"),
                pl.lit("high").alias("follows_confidence"),
                "er",
                "fpki",
                "retweet_rate",
                "reply_rate",
                "reward",
                pl.when(pl.col("reward").is_not_null())
                .then(pl.lit(DEFAULT_VERSION.version))
                .alias("reward_version"),
                pl.lit(True).alias("simulated"),
            ).iter_rows(),
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
    conn: psycopg.Connection, runs: pl.DataFrame, state: dict, account_id: int, as_of: datetime
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
    rows: list[Sequence[object]] = []
    for scope, st in state.items():
        for i, arm in enumerate(st["arms"]):
            a, b = float(st["alpha"][i]), float(st["beta"][i])
            rows.append(
                (
                    account_id,
                    scope,
                    arm,
                    True,
                    a,
                    b,
                    a - 1.0,
                    b - 1.0,
                    int(st["pulls"][i]),
                    float(st["sum_reward"][i]),
                    0,
                    DEFAULT_VERSION.version,
                    as_of,
                )
            )
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
