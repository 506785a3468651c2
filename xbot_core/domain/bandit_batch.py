"""Vectorised bandit updates for many outcomes at once (the simulator learns from a day of posts per step).

The rule is `bandit.contribution` applied element-wise (tests/unit/test_bandit_batch.py holds the two equal):
each outcome adds w·clip(r / scale, 0, 1) successes and w·(1 − clip(r / scale, 0, 1)) failures to its arm
(scale = `BanditConfig.reward_scale`), and the posterior
is prior + successes / failures, exactly as `bandit.apply_feedback` adds one final (pass-2) outcome.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from xbot_core.domain.bandit import ArmState, BanditConfig
from xbot_core.errors import ConfigError


def contributions(
    rewards: np.ndarray, weights: np.ndarray, scale: float = 1.0
) -> tuple[np.ndarray, np.ndarray]:
    """(successes, failures) added by each outcome: reward / scale clipped to [0, 1], times its exposure
    weight."""
    r = np.asarray(rewards, dtype=float)
    w = np.asarray(weights, dtype=float)
    if r.shape != w.shape:
        raise ValueError(f"rewards and weights differ in shape: {r.shape} vs {w.shape}")
    if not (np.isfinite(r).all() and np.isfinite(w).all()) or (w < 0).any():
        raise ValueError("rewards and weights must be finite and weights ≥ 0")
    clipped = np.clip(r / scale, 0.0, 1.0)
    return w * clipped, w * (1.0 - clipped)


def add_outcomes(
    states: Sequence[ArmState],
    arm_index: np.ndarray,
    rewards: np.ndarray,
    weights: np.ndarray,
    cfg: BanditConfig,
) -> tuple[ArmState, ...]:
    """Add final outcomes (one per decision, `arm_index` into `states`) to a scope's posteriors."""
    if cfg.discount is not None or cfg.window_days is not None:
        raise ConfigError("a batch has no order within it: with a discount or window, use bandit.fit_scope")
    idx = np.asarray(arm_index, dtype=np.int64)
    k = len(states)
    if idx.size and (idx.min() < 0 or idx.max() >= k):
        raise ValueError(f"arm index outside the scope's {k} arms")
    s, f = contributions(rewards, weights, cfg.reward_scale)
    succ = np.bincount(idx, weights=s, minlength=k)
    fail = np.bincount(idx, weights=f, minlength=k)
    pulls = np.bincount(idx, minlength=k)
    rsum = np.bincount(idx, weights=np.asarray(rewards, dtype=float), minlength=k)
    out = []
    for i, st in enumerate(states):
        successes = st.successes + float(succ[i])
        failures = st.failures + float(fail[i])
        out.append(
            replace(
                st,
                successes=successes,
                failures=failures,
                alpha=cfg.prior_alpha + successes,
                beta=cfg.prior_beta + failures,
                pulls=st.pulls + int(pulls[i]),
                sum_reward=st.sum_reward + float(rsum[i]),
            )
        )
    return tuple(out)
