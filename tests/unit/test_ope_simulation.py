"""Off-policy estimates checked against the sandbox audience model's ground truth, over seeded runs of an
adaptive Thompson bandit (tests/unit/ope_sim.py). Figures print with `pytest -s`."""

from __future__ import annotations

import numpy as np
import pytest

from tests.unit.ope_sim import ARMS, SCOPE, TRUE_FOLLOWS, simulate, version
from xbot_core.domain import arm_ope, whatif
from xbot_core.domain.ope import OpeConfig

pytestmark = pytest.mark.slow


def test_always_arm_intervals_cover_the_true_arm_means() -> None:
    runs = 100
    hits = np.zeros((runs, 4, len(ARMS)), dtype=bool)
    for s in range(runs):
        logs = simulate(20_000 + s)
        res = arm_ope.always_arm_values(
            logs.follows, logs.actions, logs.propensity, logs.days, len(ARMS), np.random.default_rng(s)
        )
        assert res.ok and res.n_blocks == 14
        for v in res.arms:
            truth = TRUE_FOLLOWS[v.arm]
            for j, est in enumerate((v.ips, v.snips, v.aipw, v.shrunk)):
                hits[s, j, v.arm] = est.ci_low <= truth <= est.ci_high  # an unplayed arm (NaN) is a miss
    coverage = hits.mean(axis=(0, 2))
    per_arm = hits.mean(axis=0)  # (estimator, arm)
    names = ("IPS", "SNIPS", "AIPW", "shrunk AIPW")
    figures = ", ".join(
        f"{n} {c:.3f} (worst arm {w:.2f})"
        for n, c, w in zip(names, coverage, per_arm.min(axis=1), strict=True)
    )
    print(
        f"\ncoverage of the true follows per post, {runs} runs × {len(ARMS)} arms, 95 % intervals: {figures}"
    )
    # measured: IPS 0.932, SNIPS 0.936, AIPW 0.936, shrunk 0.940 (worst arm 0.90: the one clearly better arm,
    # which shrinkage with τ² plugged in as if known covered 0.63 of the time, 0.870 over all arms)
    assert (coverage >= 0.90).all(), coverage
    assert per_arm[3].min() >= 0.85, per_arm[3]


def test_what_if_ranks_weight_vectors_like_their_true_value() -> None:
    """The true value of a weight vector: follows per post of the bandit it implies (cross-fitted), from the
    simulator's truth; the what-if's DR estimate should order the vectors the same way."""
    weights = {
        "fpki only": version(w_fpki=1.0),
        "retweet only": version(w_retweet=1.0),
        "novelty only": version(w_novelty=1.0),
    }
    cfg = whatif.WhatIfConfig(ope=OpeConfig(n_bootstrap=0))
    runs = 40
    agree, concordant = 0, []
    for s in range(runs):
        logs = simulate(30_000 + s)
        log = whatif.ScopeLog(
            SCOPE, ARMS, logs.actions, logs.propensity, logs.days, logs.exposure, logs.posted_at
        )
        est, true = {}, {}
        for name, v in weights.items():
            scores = logs.rewards(v)
            policy = whatif.implied_policy(log, scores, np.random.default_rng(s), cfg)
            true[name] = float((policy @ TRUE_FOLLOWS).mean())
            res = whatif.evaluate_weights(log, scores, logs.follows, np.random.default_rng(s), cfg)
            assert res.dr is not None
            est[name] = res.dr.value
        names = list(weights)
        pairs = [
            (est[a] - est[b]) * (true[a] - true[b]) > 0 for i, a in enumerate(names) for b in names[i + 1 :]
        ]
        concordant.append(np.mean(pairs))
        agree += all(pairs)
    print(f"\nwhat-if ranking of 3 weight vectors, {runs} runs: true order in {agree / runs:.3f} of runs, "
          f"pairwise concordance {np.mean(concordant):.3f}")  # fmt: skip
    assert agree / runs >= 0.75 and np.mean(concordant) >= 0.85
