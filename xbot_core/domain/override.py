"""The experiment override and the propensity it logs: one rule for the live planner and the simulator.

While an experiment runs on a scope, a decision assigned to treatment takes the treatment arm T; a decision
in control takes the bandit's choice, which may be T too. Assignment is a coin with P(treatment) = share,
independent of the bandit, so the probability that the logging policy picks arm a in that scope is

    P(a) = share·1[a = T] + (1 − share)·π_b(a)

with π_b the bandit's (ε-mixed) probability vector. That marginal is what is logged as the scope's propensity,
for treatment and control alike, so importance weights for off-policy evaluation stay valid on every post.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from xbot_core.domain.bandit import ArmState, Choice, draw
from xbot_core.domain.experiments import Variant
from xbot_core.errors import ConfigError

EXPERIMENT_POLICY = "experiment"


def _check(share: float, k: int, treatment_index: int) -> None:
    if not 0 < share < 1:
        raise ConfigError(f"experiment share must be in (0, 1), got {share!r}")
    if not 0 <= treatment_index < k:
        raise ConfigError(f"treatment arm index {treatment_index} is outside the scope's {k} arms")


def marginal_probabilities(bandit: np.ndarray, treatment_index: int, share: float) -> np.ndarray:
    """P(arm) under the experiment: share·1[a = T] + (1 − share)·π_b(a), for every arm (sums to 1)."""
    probs = np.asarray(bandit, dtype=float)
    _check(share, probs.shape[0], treatment_index)
    out = (1.0 - share) * probs
    out[treatment_index] += share
    return out


def marginal_propensity(arm: str, treatment_arm: str, share: float, bandit_probability: float) -> float:
    """The logged propensity of `arm`: share·1[arm = T] + (1 − share)·π_b(arm)."""
    if not 0 < share < 1:
        raise ConfigError(f"experiment share must be in (0, 1), got {share!r}")
    if not 0 <= bandit_probability <= 1:
        raise ConfigError(f"bandit probability must be in [0, 1], got {bandit_probability!r}")
    return share * (arm == treatment_arm) + (1.0 - share) * bandit_probability


def experiment_choice(
    states: Sequence[ArmState],
    probs: np.ndarray,
    eps: float,
    policy: str,
    *,
    variant: Variant,
    treatment_arm: str,
    share: float,
    rng: np.random.Generator,
) -> Choice:
    """The arm of an experiment's scope: T in treatment (no draw), the bandit's draw in control; either way
    logged with the marginal propensity. `probs`/`eps` come from `bandit.policy_probabilities`."""
    arms = [s.arm for s in states]
    if treatment_arm not in arms:
        raise ConfigError(f"treatment arm {treatment_arm!r} is not one of {arms}")
    marginal = marginal_probabilities(probs, arms.index(treatment_arm), share)
    if variant == "treatment":
        arm, chosen_policy = treatment_arm, EXPERIMENT_POLICY
    elif variant == "control":
        bandit = draw(states, probs, eps, policy, rng)
        arm, chosen_policy = bandit.arm, policy
    else:
        raise ConfigError(f"unknown variant {variant!r} (expected 'control' or 'treatment')")
    return Choice(
        scope=states[0].scope,
        arm=arm,
        propensity=float(marginal[arms.index(arm)]),
        policy=chosen_policy,
        epsilon=eps,
        probabilities=dict(zip(arms, map(float, marginal), strict=True)),
    )
