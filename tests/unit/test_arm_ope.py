"""Per-arm "always this arm" estimates: pinned by hand, empirical Bayes against statsmodels, block bootstrap,
cross-fitted target policies."""

from __future__ import annotations

import math

import numpy as np
import pytest

from xbot_core.domain import arm_ope, ope
from xbot_core.errors import StatsError

NO_BOOT = arm_ope.ArmOpeConfig(n_bootstrap=0)
R = [0.71, 0.09, 0.3, 0.5]
A = [0, 0, 1, 1]
P = [0.5, 0.1, 0.5, 0.9]
DAYS = [1, 1, 2, 2]


def test_always_arm_values_pinned_by_hand() -> None:
    res = arm_ope.always_arm_values(R, A, P, DAYS, 3, np.random.default_rng(0), NO_BOOT)
    assert res.ok and res.n == 4 and res.n_blocks == 2
    arm0, arm1, arm2 = res.arms
    # arm 0: IPS = (0.71/0.5 + 0.09/0.1)/4 = 0.58; q = 0.4, AIPW = 0.4 + (2·0.31 − 10·0.31)/4 = −0.22;
    # SNIPS = 2.32 / (2 + 10) = 0.19333
    assert (round(arm0.ips.value, 5), round(arm0.aipw.value, 5)) == (0.58, -0.22)
    assert round(arm0.naive_mean, 5) == 0.4 and round(arm0.snips.value, 5) == 0.19333
    # arm 1: IPS = (0.3/0.5 + 0.5/0.9)/4 = 0.28889; q = 0.4, AIPW = 0.4 + (−0.1/0.5 + 0.1/0.9)/4 = 0.37778
    assert (round(arm1.ips.value, 5), round(arm1.aipw.value, 5)) == (0.28889, 0.37778)
    assert arm1.n == 2 and round(arm1.naive_mean, 5) == 0.4
    # an arm never logged has no estimate (NaN), not 0
    assert arm2.n == 0 and math.isnan(arm2.ips.value) and math.isnan(arm2.aipw.value)


def test_agrees_with_ope_for_the_always_arm_target() -> None:
    rng = np.random.default_rng(1)
    n, k = 400, 4
    logging = rng.dirichlet(np.ones(k) * 2, size=n) * 0.8 + 0.2 / k  # per-decision, like a moving bandit
    a = (rng.uniform(size=(n, 1)) > np.cumsum(logging, axis=1)).sum(axis=1)
    p = logging[np.arange(n), a]
    r = rng.gamma(2.0, 0.1 * (1 + a))
    res = arm_ope.always_arm_values(r, a, p, np.arange(n) // 20, k, rng, NO_BOOT)
    for arm in range(k):
        target = np.eye(k)[arm]
        ref = ope.evaluate_policy(r, a, p, target, rng, ope.OpeConfig(n_bootstrap=0))
        assert res.arms[arm].ips.value == pytest.approx(ref.ips.value, rel=1e-12)
        assert res.arms[arm].aipw.value == pytest.approx(ref.dr.value, rel=1e-12)
        assert res.arms[arm].snips.value == pytest.approx(ref.snips.value, rel=1e-12)


def test_empirical_bayes_morris_on_statsmodels_dersimonian_laird() -> None:
    from statsmodels.stats.meta_analysis import combine_effects

    t = np.array([0.2, 0.5, 0.35, 0.9])
    s = np.array([0.1, 0.15, 0.2, 0.3])
    ref = combine_effects(t, s**2, method_re="dl")
    shrunk, sd, mu, tau2 = arm_ope.empirical_bayes(t, s)
    assert round(tau2, 5) == round(float(ref.tau2), 5) == 0.03255
    assert round(mu, 5) == round(float(ref.mean_effect_re), 5) == 0.40797
    # Morris: B_a = (k − 3)/(k − 1) · s²/(s² + τ²), shrunk_a = t_a − B_a·(t_a − μ); arm 0:
    # B = (1/3)·0.01/0.04255 = 0.07833, shrunk = 0.2 + 0.07833·0.20797 = 0.21629
    assert [round(x, 5) for x in shrunk] == [0.21629, 0.48746, 0.36065, 0.77956]
    # sd² = s²·(1 − B) + B²·Var(μ̂) + 2/(k − 3)·B²·(t − μ)², Var(μ̂) = 1/Σ 1/(s² + τ²) = 0.01572; arm 0:
    # 0.01·0.92167 + 0.07833²·0.01572 + 2·0.07833²·0.20797² = 0.0092167 + 0.0000965 + 0.0005308 → 0.09922
    assert [round(x, 5) for x in sd] == [0.09922, 0.14157, 0.18278, 0.31293]
    # invariants: every estimate moves towards μ, never past it; the spread shrinks
    assert (np.abs(shrunk - mu) <= np.abs(t - mu)).all() and shrunk.std() < t.std()
    # no heterogeneity beyond noise (τ² = 0): every estimate moves (k − 3)/(k − 1) = 1/3 of the way to μ,
    # never all of it; sd² = 0.25·2/3 + (1/9)·0.25/4 + 2·(1/9)·(t − μ)² = 0.17361 (+0.00002 off-centre)
    same, same_sd, mu_same, tau_same = arm_ope.empirical_bayes(
        np.array([0.3, 0.31, 0.29, 0.3]), np.array([0.5, 0.5, 0.5, 0.5])
    )
    assert tau_same == 0.0 and mu_same == pytest.approx(0.3)
    assert [round(x, 5) for x in same] == [0.3, 0.30667, 0.29333, 0.3]
    assert [round(x, 5) for x in same_sd] == [0.41667, 0.41669, 0.41669, 0.41667]
    # fewer than 4 usable estimates: left alone, sd = se (the correction is 0 at k = 3)
    three, three_sd, mu_three, _ = arm_ope.empirical_bayes(np.array([0.3, 0.31, 0.29]), np.full(3, 0.5))
    assert list(three) == [0.3, 0.31, 0.29] and list(three_sd) == [0.5] * 3 and math.isnan(mu_three)
    alone, alone_sd, _, _ = arm_ope.empirical_bayes(np.array([0.3, 0.7]), np.array([0.1, 0.2]), [True, False])
    assert list(alone) == [0.3, 0.7] and alone_sd[0] == 0.1 and math.isnan(alone_sd[1])


def test_block_bootstrap_resamples_whole_blocks() -> None:
    rng = np.random.default_rng(2)
    n = 300
    a = rng.integers(0, 3, n)
    r = rng.uniform(size=n)
    p = np.full(n, 1 / 3)
    one_block = arm_ope.always_arm_values(r, a, p, np.zeros(n), 3, np.random.default_rng(3))
    for arm in one_block.arms:  # a single block: no variation between blocks to measure, so no interval
        assert math.isnan(arm.ips.ci_low) and math.isnan(arm.aipw.ci_high) and math.isnan(arm.se)
    days = np.arange(n) // 10
    one = arm_ope.always_arm_values(r, a, p, days, 3, np.random.default_rng(4))
    two = arm_ope.always_arm_values(r, a, p, days, 3, np.random.default_rng(4))
    assert one == two  # same seed, same result
    # 30 blocks of 10: se = bootstrap sd · √(30/29), interval = value ± t(29) · se
    block_sums = np.add.reduceat(arm_ope._design(r, a, p, 3), np.arange(0, n, 10))
    boot = arm_ope._block_bootstrap(block_sums, 3, np.random.default_rng(4), arm_ope.ArmOpeConfig())
    assert boot is not None
    se = boot.std(axis=0, ddof=1) * math.sqrt(30 / 29)
    t = 2.04523  # scipy.stats.t.ppf(0.975, 29)
    assert one.arms[1].se == pytest.approx(se[2, 1])
    assert one.arms[1].snips.ci_high - one.arms[1].snips.value == pytest.approx(t * se[1, 1], rel=1e-5)
    for arm in one.arms:
        assert arm.ips.ci_low < arm.ips.value < arm.ips.ci_high
        assert arm.snips.ci_low < arm.snips.value < arm.snips.ci_high
        assert arm.aipw.ci_low < arm.aipw.value < arm.aipw.ci_high
        assert arm.shrunk.ci_low < arm.shrunk.value < arm.shrunk.ci_high and arm.se > 0


def test_refusals_and_invalid_input() -> None:
    rng = np.random.default_rng(0)
    missing = arm_ope.always_arm_values(R, A, [0.5, None, 0.5, 0.9], DAYS, 2, rng)
    assert missing.status == ope.STATUS_PROPENSITY_MISSING and missing.arms == ()
    low = arm_ope.always_arm_values(R, A, [0.5, 0.005, 0.5, 0.9], DAYS, 2, rng)
    assert low.status == ope.STATUS_PROPENSITY_BELOW_FLOOR and not low.ok
    assert arm_ope.always_arm_values([], [], [], [], 2, rng).status == ope.STATUS_NO_DATA
    with pytest.raises(StatsError, match=r"0\.\.1"):
        arm_ope.always_arm_values(R, [0, 0, 1, 2], P, DAYS, 2, rng)
    with pytest.raises(StatsError, match="differ in length"):
        arm_ope.always_arm_values(R, A, P, [1, 1], 2, rng)
    with pytest.raises(StatsError, match="folds"):
        arm_ope.block_folds(DAYS, 1)


def test_crossfit_target_probs_never_uses_the_evaluated_fold() -> None:
    days = np.array([3, 3, 5, 5, 7, 7, 9, 9])
    folds = arm_ope.block_folds(days, 2)
    assert folds.tolist() == [0, 0, 1, 1, 0, 0, 1, 1]  # days 3, 7 → fold 0; days 5, 9 → fold 1
    a = np.array([0, 0, 1, 1, 0, 0, 1, 1])  # fold 0 only ever played arm 0, fold 1 only arm 1
    seen: list[list[int]] = []

    def fit(train: np.ndarray) -> np.ndarray:  # greedy on the training decisions' most played arm
        seen.append(np.flatnonzero(train).tolist())
        return np.eye(2)[np.bincount(a[train], minlength=2).argmax()]

    probs = arm_ope.crossfit_target_probs(folds, fit)
    assert seen == [[2, 3, 6, 7], [0, 1, 4, 5]]
    # each fold is evaluated with the policy of the other fold
    assert probs.tolist() == [[0, 1], [0, 1], [1, 0], [1, 0], [0, 1], [0, 1], [1, 0], [1, 0]]
