"""Off-policy evaluation: hand-pinned estimators, exactness, refusals and unbiasedness in simulation."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from xbot_core.domain.ope import (
    NO_DATA_MESSAGE,
    PROPENSITY_BELOW_FLOOR_MESSAGE,
    PROPENSITY_MISSING_MESSAGE,
    STATUS_NO_DATA,
    STATUS_PROPENSITY_BELOW_FLOOR,
    STATUS_PROPENSITY_MISSING,
    OpeConfig,
    evaluate_policy,
    evaluate_reweighted,
)
from xbot_core.errors import StatsError

NO_BOOT = OpeConfig(n_bootstrap=0)


def _rng(seed: int = 0) -> np.random.Generator:
    return np.random.default_rng(seed)


def test_estimators_pinned_by_hand():
    r = [1.0, 0.0, 0.5, 0.2]
    a = [0, 1, 0, 1]
    p = [0.5, 0.5, 0.25, 0.75]
    res = evaluate_policy(r, a, p, [0.8, 0.2], _rng(), NO_BOOT)
    # w = π/p = [1.6, 0.4, 3.2, 0.26667]; w·r = [1.6, 0, 1.6, 0.05333]
    assert round(res.ips.value, 5) == round(3.2533333333 / 4, 5) == 0.81333
    assert round(res.snips.value, 5) == round(3.2533333333 / 5.4666666667, 5) == 0.59512
    # arm means 0.75 and 0.1: DM = 0.8·0.75 + 0.2·0.1
    assert round(res.dm.value, 5) == 0.62
    # r − q = [0.25, −0.1, −0.25, 0.1]; mean(w·(r − q)) = −0.41333 / 4
    assert round(res.dr.value, 5) == round(0.62 - 0.4133333333 / 4, 5) == 0.51667
    assert round(res.effective_sample_size, 5) == round(5.4666666667**2 / 13.0311111111, 5) == 2.29332
    assert res.max_weight == pytest.approx(3.2)
    assert math.isnan(res.ips.ci_low) and res.logged_mean == pytest.approx(0.425)


def test_per_decision_target_policy_pinned_by_hand():
    r, a, p = [1.0, 0.0, 0.5, 0.2], [0, 1, 0, 1], [0.5, 0.5, 0.25, 0.75]
    target = [[0.8, 0.2], [0.5, 0.5], [1.0, 0.0], [0.3, 0.7]]
    res = evaluate_policy(r, a, p, target, _rng(), NO_BOOT)
    # w = [1.6, 1.0, 4.0, 0.93333]; w·r = [1.6, 0, 2.0, 0.18667]
    assert round(res.ips.value, 5) == round(3.7866666667 / 4, 5) == 0.94667
    # mean target row = [0.65, 0.35]: DM = 0.65·0.75 + 0.35·0.1 = 0.5225
    assert round(res.dm.value, 5) == 0.5225
    # w·(r − q) = [0.4, −0.1, −1.0, 0.09333]
    assert round(res.dr.value, 5) == round(0.5225 - 0.6066666667 / 4, 5) == 0.37083


def test_constant_rewards_give_exact_estimates():
    rng = _rng(1)
    n, c = 500, 0.37
    logging = np.array([0.5, 0.3, 0.2])
    a = rng.choice(3, n, p=logging)
    res = evaluate_policy(np.full(n, c), a, logging[a], [0.2, 0.2, 0.6], _rng(2))
    w = np.array([0.2, 0.2, 0.6])[a] / logging[a]
    for est in (res.snips, res.dm, res.dr):
        assert est.value == pytest.approx(c, abs=1e-12)
        assert est.ci_low == pytest.approx(c, abs=1e-12) and est.ci_high == pytest.approx(c, abs=1e-12)
    # IPS is c · mean(w), exact only when the weights average to one
    assert res.ips.value == pytest.approx(c * w.mean(), abs=1e-12)


def test_logging_policy_on_its_own_logs_recovers_observed_mean():
    rng = _rng(3)
    n = 2000
    logging = np.array([0.4, 0.35, 0.25])
    a = rng.choice(3, n, p=logging)
    r = rng.gamma(2.0, 0.05 * (1 + a))
    res = evaluate_policy(r, a, logging[a], logging, _rng(4))
    observed = r.mean()
    assert res.ips.value == pytest.approx(observed, rel=1e-12)
    assert res.snips.value == pytest.approx(observed, rel=1e-12)
    assert res.effective_sample_size == pytest.approx(n)
    for est in (res.ips, res.snips, res.dm, res.dr):
        assert est.ci_low <= observed <= est.ci_high


def test_reweighted_rewards_on_policy_and_for_another_policy():
    rng = _rng(5)
    n = 1000
    logging = np.array([0.6, 0.4])
    a = rng.choice(2, n, p=logging)
    fpki, retweet = rng.gamma(2, 0.5, n) * (1 + a), rng.gamma(2, 0.01, n)
    new_rewards = pl.Series("reward", 0.2 * fpki + 0.8 * retweet / 0.02)  # a Polars column, as notebooks pass
    on_policy = evaluate_reweighted(new_rewards, pl.Series(logging[a]), _rng(6))
    assert on_policy.ips.value == pytest.approx(float(new_rewards.mean()), rel=1e-12)
    assert on_policy.ips.ci_low < on_policy.ips.value < on_policy.ips.ci_high
    other = evaluate_reweighted(new_rewards, logging[a], _rng(6), actions=a, target_probs=[0.1, 0.9])
    direct = evaluate_policy(new_rewards, a, logging[a], [0.1, 0.9], _rng(6))
    assert other == direct


def test_same_seed_same_result_and_ci_brackets_estimate():
    rng = _rng(7)
    a = rng.choice(3, 300, p=[0.5, 0.3, 0.2])
    r = rng.uniform(0, 1, 300)
    p = np.array([0.5, 0.3, 0.2])[a]
    one = evaluate_policy(r, a, p, [0.3, 0.3, 0.4], _rng(8))
    two = evaluate_policy(r, a, p, [0.3, 0.3, 0.4], _rng(8))
    assert one == two
    for est in (one.ips, one.snips, one.dm, one.dr):
        assert est.ci_low < est.value < est.ci_high


def test_refuses_missing_or_tiny_propensities():
    r, a = [0.1, 0.2, 0.3], [0, 1, 0]
    missing = evaluate_policy(r, a, [0.5, None, 0.5], [0.5, 0.5], _rng())
    assert missing.status == STATUS_PROPENSITY_MISSING and missing.message == PROPENSITY_MISSING_MESSAGE
    assert missing.ips is None and missing.n_missing_propensity == 1
    tiny = evaluate_policy(r, a, [0.5, 0.005, 0.5], [0.5, 0.5], _rng())
    assert tiny.status == STATUS_PROPENSITY_BELOW_FLOOR and tiny.message == PROPENSITY_BELOW_FLOOR_MESSAGE
    assert tiny.n_below_floor == 1 and not tiny.ok
    # the floor is a config field
    assert evaluate_policy(r, a, [0.5, 0.005, 0.5], [0.5, 0.5], _rng(), OpeConfig(propensity_floor=0.001)).ok
    assert evaluate_reweighted(r, [0.5, float("nan"), 0.5], _rng()).status == STATUS_PROPENSITY_MISSING
    empty = evaluate_reweighted([], [], _rng())
    assert empty.status == STATUS_NO_DATA and empty.message == NO_DATA_MESSAGE


def test_invalid_input_raises():
    with pytest.raises(StatsError, match=r"\[0, 1\]"):
        evaluate_policy([0.1], [0], [1.5], [1.0], _rng())
    with pytest.raises(StatsError, match="rows"):
        evaluate_policy([0.1, 0.2], [0], [0.5, 0.5], [0.5, 0.5], _rng())
    with pytest.raises(StatsError, match="missing or non-finite"):
        evaluate_policy([0.1, float("nan")], [0, 1], [0.5, 0.5], [0.5, 0.5], _rng())
    with pytest.raises(StatsError, match="sum to 1"):
        evaluate_policy([0.1, 0.2], [0, 1], [0.5, 0.5], [0.5, 0.6], _rng())
    with pytest.raises(StatsError, match="only 2 arms"):
        evaluate_policy([0.1, 0.2], [0, 2], [0.5, 0.5], [0.5, 0.5], _rng())
    with pytest.raises(StatsError, match="integer arm indices"):
        evaluate_policy([0.1, 0.2], [0.0, 1.0], [0.5, 0.5], [0.5, 0.5], _rng())
    with pytest.raises(StatsError, match="propensity_floor"):
        OpeConfig(propensity_floor=1.0)


def _simulate_logs(rng: np.random.Generator, sims: int, n: int, mu: np.ndarray):
    """Per-decision logging and target policies (like a bandit that drifts), Bernoulli rewards.

    The logging policy leans to arm 0 and the target to the last arm, so the logged mean is biased.
    """
    k = mu.size
    logging = 0.05 + 0.85 * rng.dirichlet(np.linspace(3, 0.5, k), size=(sims, n))
    logging /= logging.sum(axis=2, keepdims=True)  # every propensity ≥ 0.05 / (0.05k + 0.85)
    target = rng.dirichlet(np.linspace(0.5, 3, k), size=(sims, n))
    u = rng.uniform(size=(sims, n, 1))
    actions = (u > np.cumsum(logging, axis=2)).sum(axis=2)
    rewards = (rng.uniform(size=(sims, n)) < mu[actions]).astype(float)
    propensity = np.take_along_axis(logging, actions[..., None], axis=2)[..., 0]
    truth = (target @ mu).mean(axis=1)
    return rewards, actions, propensity, target, truth


def test_ips_and_dr_unbiased_for_known_target_policy():
    rng = _rng(20260106)
    sims, n = 2000, 200
    mu = np.array([0.1, 0.2, 0.35])
    rewards, actions, propensity, target, truth = _simulate_logs(rng, sims, n, mu)
    est = np.empty((sims, 3))
    for s in range(sims):
        res = evaluate_policy(rewards[s], actions[s], propensity[s], target[s], rng, NO_BOOT)
        est[s] = [res.ips.value, res.dr.value, res.logged_mean]
    errors = est - truth[:, None]
    standard_error = errors.std(axis=0, ddof=1) / math.sqrt(sims)
    # mean error within 3.5 Monte Carlo standard errors of zero for IPS and DR
    assert abs(errors[:, 0].mean()) < 3.5 * standard_error[0], (errors[:, 0].mean(), standard_error[0])
    assert abs(errors[:, 1].mean()) < 3.5 * standard_error[1], (errors[:, 1].mean(), standard_error[1])
    # the test has power: the naive logged mean is far off
    assert abs(errors[:, 2].mean()) > 10 * standard_error[2]
    # DR's variance is no larger than IPS's here (the arm-mean model explains part of the reward)
    assert errors[:, 1].std() < errors[:, 0].std()


def test_bootstrap_intervals_cover_in_simulation():
    rng = _rng(99)
    sims, n = 300, 300
    mu = np.array([0.1, 0.2, 0.35])
    rewards, actions, propensity, target, truth = _simulate_logs(rng, sims, n, mu)
    hits = np.zeros((sims, 2), dtype=bool)
    for s in range(sims):
        res = evaluate_policy(rewards[s], actions[s], propensity[s], target[s], rng)
        hits[s] = [
            res.ips.ci_low <= truth[s] <= res.ips.ci_high,
            res.dr.ci_low <= truth[s] <= res.dr.ci_high,
        ]
    coverage = hits.mean(axis=0)
    assert (coverage >= 0.90).all(), coverage


def test_dr_differs_from_dm_when_propensities_vary_within_an_arm():
    # "always arm 0" (a fixed target); arm 0 was logged once at p = 0.5 and once at p = 0.1
    r = [0.71, 0.09, 0.3, 0.5]
    a = [0, 0, 1, 1]
    p = [0.5, 0.1, 0.5, 0.9]
    res = evaluate_policy(r, a, p, [1.0, 0.0], _rng(), NO_BOOT)
    # q(0) = (0.71 + 0.09) / 2 = 0.4 = DM
    assert round(res.dm.value, 5) == 0.4
    # w = [2, 10, 0, 0]; w·(r − q) = [2·0.31, 10·(−0.31), 0, 0] → mean −2.48 / 4 = −0.62
    assert round(res.dr.value, 5) == -0.22
    # IPS = (2·0.71 + 10·0.09) / 4; SNIPS = 2.32 / 12
    assert round(res.ips.value, 5) == 0.58 and round(res.snips.value, 5) == 0.19333


def test_floor_accepts_epsilon_over_k_at_the_end_of_the_schedule():
    from xbot_core.domain import bandit

    cfg = bandit.BanditConfig()
    # five arms at the schedule's end (100 pulls): one arm that never wins a Thompson draw
    states = [
        bandit.ArmState("hook_pattern", f"arm{i}", alpha=a, beta=b, pulls=20)
        for i, (a, b) in enumerate([(1.0, 400.0), (200.0, 1.0), (150.0, 2.0), (120.0, 3.0), (100.0, 4.0)])
    ]
    probs, eps = bandit.policy_probabilities(states, "thompson", cfg, _rng())
    assert eps == bandit.epsilon(100, cfg) and eps < 0.05  # 0.04999999999999999 in floating point
    assert probs[0] < 0.01  # ε/K = 0.009999999999999998: the value the planner logs for arm 0
    logged = [probs[0], probs[1], probs[2]]
    res = evaluate_policy([0.1, 0.4, 0.3], [0, 1, 2], logged, [0.2] * 5, _rng(), NO_BOOT)
    assert res.ok and res.n_below_floor == 0
    # the tolerance is for rounding only: a propensity really below the floor is still refused
    below = evaluate_policy([0.1, 0.4], [0, 1], [0.0099, 0.5], [0.5, 0.5], _rng(), NO_BOOT)
    assert below.status == STATUS_PROPENSITY_BELOW_FLOOR and below.n_below_floor == 1
