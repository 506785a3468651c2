"""The vectorised bandit update is `bandit.contribution` / `bandit.apply_feedback`, element-wise."""

from __future__ import annotations

import numpy as np
import pytest

from xbot_core.domain import bandit as b
from xbot_core.domain.bandit_batch import add_outcomes, contributions
from xbot_core.errors import ConfigError

CFG = b.BanditConfig()
ARMS = ("x", "y", "z")


def test_contributions_by_hand_and_equal_to_the_scalar_rule() -> None:
    rewards = np.array([-0.5, 0.0, 0.25, 1.0, 1.7])
    weights = np.array([1.0, 0.5, 0.8, 0.2, 1.0])
    s, f = contributions(rewards, weights)
    # clip to [0, 1]: 0, 0, 0.25, 1, 1 → successes w·r, failures w·(1 − r)
    assert [round(v, 5) for v in s] == [0.0, 0.0, 0.2, 0.2, 1.0]
    assert [round(v, 5) for v in f] == [1.0, 0.5, 0.6, 0.0, 0.0]
    rng = np.random.default_rng(4)
    r, w = rng.normal(0.5, 0.6, 500), rng.uniform(0, 1, 500)
    s, f = contributions(r, w)
    scalar = np.array([b.contribution(float(ri), float(wi)) for ri, wi in zip(r, w, strict=True)])
    assert np.array_equal(s, scalar[:, 0]) and np.array_equal(f, scalar[:, 1])


def test_batch_equals_one_outcome_at_a_time() -> None:
    rng = np.random.default_rng(9)
    idx = rng.integers(0, 3, 200)
    r, w = rng.uniform(-0.2, 1.2, 200), rng.uniform(0, 1, 200)
    start = tuple(b.prior("hook_pattern", a, CFG) for a in ARMS)
    one_by_one = start
    for i, (k, ri, wi) in enumerate(zip(idx, r, w, strict=True)):
        one_by_one = b.apply_feedback(
            one_by_one, b.Observation(str(i), ARMS[k], 2, float(ri), float(wi)), CFG
        )
    batch = add_outcomes(
        add_outcomes(start, idx[:120], r[:120], w[:120], CFG), idx[120:], r[120:], w[120:], CFG
    )
    for got, want in zip(batch, one_by_one, strict=True):
        assert (got.arm, got.pulls, got.provisional) == (want.arm, want.pulls, 0)
        for name in ("alpha", "beta", "successes", "failures", "sum_reward"):
            assert getattr(got, name) == pytest.approx(getattr(want, name), abs=1e-9)


def test_batch_by_hand() -> None:
    start = tuple(b.prior("hook_pattern", a, CFG) for a in ARMS)
    out = add_outcomes(start, np.array([0, 0, 2]), np.array([0.5, 2.0, 0.1]), np.array([1.0, 0.5, 1.0]), CFG)
    # rewards enter divided by REWARD_SCALE = 3:
    # x: 1·(0.5/3) + 0.5·(2/3) = 0.5 successes, 1·(5/6) + 0.5·(1/3) = 1.0 failures → Beta(1.5, 2.0)
    # y untouched; z: 0.1/3 = 0.03333 successes, 0.96667 failures → Beta(1.03333, 1.96667)
    assert [(round(s.alpha, 5), round(s.beta, 5), s.pulls) for s in out] == [
        (1.5, 2.0, 2),
        (1.0, 1.0, 0),
        (1.03333, 1.96667, 1),
    ]
    assert round(out[0].sum_reward, 5) == 2.5


def test_bad_batches() -> None:
    start = tuple(b.prior("hook_pattern", a, CFG) for a in ARMS)
    with pytest.raises(ConfigError, match="with a discount"):
        add_outcomes(start, np.array([0]), np.array([0.5]), np.array([1.0]), b.BanditConfig(discount=0.9))
    with pytest.raises(ValueError, match="arm index outside"):
        add_outcomes(start, np.array([3]), np.array([0.5]), np.array([1.0]), CFG)
    with pytest.raises(ValueError, match="finite"):
        contributions(np.array([np.nan]), np.array([1.0]))
    with pytest.raises(ValueError, match="differ in shape"):
        contributions(np.array([0.1, 0.2]), np.array([1.0]))
