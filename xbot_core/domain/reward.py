"""The composite reward under immutable, versioned weights and scales: a scalar and a Polars expression.

    reward = w_fpki·fpki/s_fpki + w_retweet·retweet_rate/s_retweet + w_reply·reply_rate/s_reply
             + w_novelty·novelty + w_dup_penalty·dup_penalty            (w_dup_penalty ≤ 0)

Reference scales (the default version 1, seeded by migration 0001) are the metric values of a *good* post, so
each normalised term is about 1 for such a post and the weights mean what they say:

- s_fpki = 2.0 follows per 1000 impressions (good posts gain 1–3 follows per 1000 impressions → term 0.5–1.5);
- s_retweet = 0.01 (a retweet rate of 0.5–1 % → term 0.5–1);
- s_reply = 0.005 (a reply rate of 0.3–1 % → term 0.6–2);
- novelty and dup_penalty are already in [0, 1] and are not rescaled.

A good post therefore scores about 0.5 + 0.3·0.75 + 0.15·1 + 0.05·0.6 ≈ 0.9 under the default weights; the
bandit divides rewards by a fixed scale (bandit.REWARD_SCALE = 3) before its [0, 1] Beta update, so only
exceptional posts saturate. The exposure cap (1000 impressions) is the
reach at which a post counts fully in aggregates: `exposure_weight = min(1, impressions / cap)`.

A reward is undefined (None / null) when any input is unknown or impressions is 0: never imputed.

Bounds (so no version can make `reward()` overflow to inf or divide by a vanishing scale): every weight in
[-10, 10] (the penalty in [-10, 0]), every reference scale in [1e-6, 1e6], the exposure cap in [1, 1e9].
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, fields
from datetime import datetime

import polars as pl

from xbot_core.domain.metrics import FPKI_PER, exposure_weight_expr
from xbot_core.errors import ConfigError

WEIGHT_FIELDS: tuple[str, ...] = ("w_fpki", "w_retweet", "w_reply", "w_novelty", "w_dup_penalty")
PENALTY_FIELDS: tuple[str, ...] = ("w_dup_penalty",)
SCALE_FIELDS: tuple[str, ...] = ("scale_fpki", "scale_retweet", "scale_reply")
WEIGHT_BOUND = 10.0  # |weight| <= this
SCALE_BOUNDS = (1e-6, 1e6)
EXPOSURE_CAP_BOUNDS = (1.0, 1e9)


@dataclass(frozen=True)
class RewardVersion:
    """One immutable set of weights and reference scales; `version` is its number in `reward_versions`."""

    version: int = 1
    w_fpki: float = 0.5
    w_retweet: float = 0.3
    w_reply: float = 0.15
    w_novelty: float = 0.05
    w_dup_penalty: float = -0.1
    scale_fpki: float = 2.0
    scale_retweet: float = 0.01
    scale_reply: float = 0.005
    exposure_cap: float = 1000.0
    created_at: datetime | None = None
    note: str | None = None

    def __post_init__(self) -> None:
        validate_version(self)

    def weights(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in WEIGHT_FIELDS}

    def as_dict(self) -> dict[str, object]:
        return asdict(self)


def validate_version(v: RewardVersion) -> None:
    """Raise ConfigError naming every problem: non-finite values, positive penalties, no positive weight."""
    problems: list[str] = []
    if not isinstance(v.version, int) or v.version < 1:
        problems.append(f"version must be a positive integer, got {v.version!r}")
    for f in fields(v):
        if f.name in WEIGHT_FIELDS + SCALE_FIELDS + ("exposure_cap",):
            value = getattr(v, f.name)
            if not isinstance(value, int | float) or not math.isfinite(value):
                problems.append(f"{f.name} must be a finite number, got {value!r}")
    if problems:
        raise ConfigError("invalid reward version: " + "; ".join(problems))
    for name in PENALTY_FIELDS:
        if getattr(v, name) > 0:
            problems.append(f"{name} is a penalty weight and must be ≤ 0, got {getattr(v, name)!r}")
    if not any(getattr(v, name) > 0 for name in WEIGHT_FIELDS if name not in PENALTY_FIELDS):
        problems.append("at least one of w_fpki, w_retweet, w_reply, w_novelty must be > 0")
    for name in (*SCALE_FIELDS, "exposure_cap"):
        if getattr(v, name) <= 0:
            problems.append(f"{name} must be > 0, got {getattr(v, name)!r}")
    for name in WEIGHT_FIELDS:
        if abs(getattr(v, name)) > WEIGHT_BOUND:
            problems.append(f"{name} must be within ±{WEIGHT_BOUND:g}, got {getattr(v, name)!r}")
    bounds = {name: SCALE_BOUNDS for name in SCALE_FIELDS} | {"exposure_cap": EXPOSURE_CAP_BOUNDS}
    for name, (lo, hi) in bounds.items():
        if getattr(v, name) > 0 and not lo <= getattr(v, name) <= hi:
            problems.append(f"{name} must be within [{lo:g}, {hi:g}], got {getattr(v, name)!r}")
    if problems:
        raise ConfigError("invalid reward version: " + "; ".join(problems))


DEFAULT_VERSION = RewardVersion()


def reward(
    v: RewardVersion,
    *,
    impressions: float | None,
    follows: float | None,
    retweets: float | None,
    replies: float | None,
    novelty: float | None,
    dup_penalty: float | None,
) -> float | None:
    """The reward of one outcome under version `v`; None if any input is unknown or impressions ≤ 0."""
    if None in (impressions, follows, retweets, replies, novelty, dup_penalty):
        return None
    imp = float(impressions)  # type: ignore[arg-type]
    if imp <= 0:
        return None
    fpki_n = ((FPKI_PER * float(follows)) / imp) / v.scale_fpki  # type: ignore[arg-type]
    retweet_n = (float(retweets) / imp) / v.scale_retweet  # type: ignore[arg-type]
    reply_n = (float(replies) / imp) / v.scale_reply  # type: ignore[arg-type]
    return (
        v.w_fpki * fpki_n
        + v.w_retweet * retweet_n
        + v.w_reply * reply_n
        + v.w_novelty * float(novelty)  # type: ignore[arg-type]
        + v.w_dup_penalty * float(dup_penalty)  # type: ignore[arg-type]
    )


def reward_expr(
    v: RewardVersion,
    *,
    impressions: str = "impressions",
    follows: str = "follows",
    retweets: str = "retweets",
    replies: str = "replies",
    novelty: str = "novelty",
    dup_penalty: str = "dup_penalty",
) -> pl.Expr:
    """The same reward as a Polars expression (same operation order as `reward`, so they agree to 1e-12)."""
    imp = pl.col(impressions).cast(pl.Float64)
    fpki_n = ((FPKI_PER * pl.col(follows).cast(pl.Float64)) / imp) / v.scale_fpki
    retweet_n = (pl.col(retweets).cast(pl.Float64) / imp) / v.scale_retweet
    reply_n = (pl.col(replies).cast(pl.Float64) / imp) / v.scale_reply
    total = (
        v.w_fpki * fpki_n
        + v.w_retweet * retweet_n
        + v.w_reply * reply_n
        + v.w_novelty * pl.col(novelty).cast(pl.Float64)
        + v.w_dup_penalty * pl.col(dup_penalty).cast(pl.Float64)
    )
    return pl.when(imp > 0).then(total).otherwise(None).alias("reward")


def with_rewards(frame: pl.DataFrame | pl.LazyFrame, v: RewardVersion) -> pl.DataFrame | pl.LazyFrame:
    """Add `reward` and `exposure_weight` columns computed under version `v`."""
    return frame.with_columns(reward_expr(v), exposure_weight_expr(v.exposure_cap))


def weighted_reward_expr(reward: str = "reward", weight: str = "exposure_weight") -> pl.Expr:
    """Aggregate: the exposure-weighted mean reward Σ(w·r)/Σw over the rows whose reward is known; None when
    their weights sum to 0 (no row, or none with reach)."""
    known = pl.col(reward).is_not_null() & pl.col(weight).is_not_null()
    num = (pl.col(weight) * pl.col(reward)).filter(known).sum()
    den = pl.col(weight).filter(known).sum()
    return pl.when(den > 0).then(num / den).otherwise(None).alias("weighted_reward")
