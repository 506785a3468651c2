"""The reward what-if as off-policy evaluation: what the bandit would have earned had it learned from other
reward weights, measured on an outcome that does not change with the weights.

Re-scoring the logged posts under new weights and averaging them only changes the yardstick (doubling every
weight doubles the "estimate"). Here the yardstick is held fixed (follows per post, or the active reward),
and what changes is the policy: the scope's bandit is re-fitted on the history re-scored under the candidate
weights (Thompson with ε, the learning rule of domain/bandit.py) and the outcome of that policy is estimated
with IPS, SNIPS and DR from the logged propensities. The bandit is fitted on other folds (whole days) than the
ones it is evaluated on (cross-fitting), so no post judges a policy it helped to fit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np
from numpy.typing import ArrayLike

from xbot_core.domain import arm_ope, bandit, ope
from xbot_core.errors import StatsError

NAN = float("nan")
STATUS_TOO_FEW_DAYS = "too_few_days"
TOO_FEW_DAYS_MESSAGE = "Cross-fitting needs posts on at least as many days as folds; no estimate is given."


@dataclass(frozen=True)
class WhatIfConfig:
    """Folds for cross-fitting, the bandit that is re-fitted and the OPE settings."""

    n_folds: int = 2
    policy: str = "thompson"
    bandit: bandit.BanditConfig = field(default_factory=bandit.BanditConfig)
    ope: ope.OpeConfig = field(default_factory=ope.OpeConfig)


@dataclass(frozen=True)
class ScopeLog:
    """One scope's logged posts: arm index, propensity, day, exposure weight and time, one row per post."""

    scope: str
    arms: tuple[str, ...]
    actions: np.ndarray
    propensity: np.ndarray
    days: np.ndarray
    exposure: np.ndarray
    posted_at: tuple[datetime, ...]

    def __post_init__(self) -> None:
        n = self.actions.size
        sizes = (self.propensity.size, self.days.size, self.exposure.size, len(self.posted_at))
        if any(s != n for s in sizes):
            raise StatsError(f"scope {self.scope!r}: log columns differ in length ({n}, {sizes})")


def implied_policy(
    log: ScopeLog, scores: ArrayLike, rng: np.random.Generator, cfg: WhatIfConfig
) -> np.ndarray:
    """Per-post probabilities (n × K) of the bandit re-fitted on `scores` (the posts' rewards under the
    candidate weights), each fold's from the other folds' posts."""
    s = np.asarray(scores, dtype=float).ravel()
    if s.size != log.actions.size or not np.isfinite(s).all():
        raise StatsError(f"scope {log.scope!r}: scores need one finite value per logged post")
    ids = [str(i) for i in range(s.size)]

    def fit(train: np.ndarray) -> np.ndarray:
        obs = [
            bandit.Observation(ids[i], log.arms[int(log.actions[i])], 2, float(s[i]), float(log.exposure[i]),
                               log.posted_at[i])
            for i in np.flatnonzero(train)
        ]  # fmt: skip
        states = bandit.fit_scope(log.scope, log.arms, obs, cfg.bandit)
        probs, _ = bandit.policy_probabilities(states, cfg.policy, cfg.bandit, rng)
        return probs

    return arm_ope.crossfit_target_probs(arm_ope.block_folds(log.days, cfg.n_folds), fit)


def evaluate_weights(
    log: ScopeLog, scores: ArrayLike, outcome: ArrayLike, rng: np.random.Generator, cfg: WhatIfConfig
) -> ope.OpeResult:
    """Estimated mean `outcome` per post of the bandit re-fitted on `scores`, from the logged propensities."""
    if np.unique(log.days).size < cfg.n_folds:
        y = np.asarray(outcome, dtype=float)
        return ope.OpeResult(
            STATUS_TOO_FEW_DAYS, TOO_FEW_DAYS_MESSAGE, y.size, float(y.mean()) if y.size else NAN
        )
    target = implied_policy(log, scores, rng, cfg)
    return ope.evaluate_policy(outcome, log.actions, log.propensity, target, rng, cfg.ope)
