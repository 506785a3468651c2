"""Small-n inference: the randomization test against scipy's permutation_test and a hand count, the t chance
to win against numerical integration, and seeded A/A and A/B simulations through the domain functions that
pin false-positive, coverage and power rates."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import integrate
from scipy import stats as sps

from xbot_core.domain.stats import (
    SampleStats,
    WeightedSampleStats,
    compare_arrays,
    mde,
    moments,
)
from xbot_core.domain.stats_smalln import (
    METHOD_EXACT,
    METHOD_MONTE_CARLO,
    METHOD_NOT_ENOUGH,
    RandomizationConfig,
    _t_partial,
    randomization_test,
    t_chance_to_win,
    t_chance_to_win_arrays,
)
from xbot_core.errors import StatsError


def test_randomization_exact_by_hand():
    # 1..5 with posts 4 and 5 treated: Δ = 4.5 − 2 = 2.5; of the C(5,2) = 10 splits only {4,5} (+2.5) and
    # {1,2} (−2.5) are as extreme → p = 2/10
    r = randomization_test([1, 2, 3, 4, 5], [0, 0, 0, 1, 1], 0.3, np.random.default_rng(0))
    assert (r.method, r.draws, r.statistic, r.p_value) == (METHOD_EXACT, 10, 2.5, 0.2)
    assert (r.n_control, r.n_treatment) == (3, 2)


def test_randomization_monte_carlo_matches_scipy_permutation_test():
    rng = np.random.default_rng(3)
    x = rng.gamma(2.0, 0.5, 30)
    z = np.zeros(30, dtype=bool)
    z[:9] = True
    x[z] *= 1.6
    ours = randomization_test(x, z, 0.3, np.random.default_rng(1), config=RandomizationConfig(draws=19_999))
    ref = sps.permutation_test(
        (x[z], x[~z]),
        lambda a, b, axis: np.abs(np.mean(a, axis=axis) - np.mean(b, axis=axis)),
        permutation_type="independent",
        alternative="greater",  # P(|Δ*| ≥ |Δ|): scipy's "two-sided" doubles the smaller tail instead
        n_resamples=19_999,
        rng=np.random.default_rng(2),
    )
    assert ours.method == METHOD_MONTE_CARLO
    assert abs(ours.statistic) == pytest.approx(ref.statistic)
    assert ours.p_value == pytest.approx(ref.pvalue, abs=0.006)  # two Monte Carlo errors of ≈ 0.0015


def test_randomization_weights_and_unconditional_draws():
    # equal weights change nothing; the unconditional re-draw at the share is valid too (same ballpark)
    x, z = [0.2, 0.9, 0.4, 1.3, 0.7, 0.3, 1.1, 0.5], [0, 1, 0, 1, 0, 0, 1, 0]
    a = randomization_test(x, z, 0.3, np.random.default_rng(0))
    b = randomization_test(x, z, 0.3, np.random.default_rng(0), weights=[2.0] * 8)
    assert a.p_value == b.p_value
    c = randomization_test(
        x, z, 0.3, np.random.default_rng(0), config=RandomizationConfig(condition_on_split=False)
    )
    assert c.method == METHOD_MONTE_CARLO and abs(c.p_value - a.p_value) < 0.05
    same = randomization_test(x, z, 0.3, np.random.default_rng(5), config=RandomizationConfig(max_exact=1))
    again = randomization_test(x, z, 0.3, np.random.default_rng(5), config=RandomizationConfig(max_exact=1))
    assert same == again  # same seed, same result


def test_randomization_bad_input_and_empty_arm():
    rng = np.random.default_rng(0)
    assert randomization_test([1.0, 2.0], [0, 0], 0.3, rng).method == METHOD_NOT_ENOUGH
    with pytest.raises(StatsError, match="differ in length"):
        randomization_test([1.0, 2.0], [0], 0.3, rng)
    with pytest.raises(StatsError, match="finite"):
        randomization_test([1.0, math.nan], [0, 1], 0.3, rng)
    with pytest.raises(StatsError, match="share"):
        randomization_test([1.0, 2.0], [0, 1], 1.0, rng)


@pytest.mark.parametrize(("c", "nu"), [(0.3, 3.0), (-1.2, 5.0), (2.0, 2.5), (0.0, 14.0)])
def test_t_partial_expectation_matches_integration(c, nu):
    want = integrate.quad(lambda t: (c - t) * sps.t.pdf(t, nu), -np.inf, c)[0]
    assert float(_t_partial(c, nu)) == pytest.approx(want, rel=1e-9)


def test_t_chance_to_win_by_hand():
    # control 10 posts mean 1.0 sd 0.5, treatment 5 posts mean 1.3 sd 0.6:
    # s_p² = (9·0.25 + 4·0.36)/13 = 0.283846, se = √(s_p²·(1/10 + 1/5)) = 0.291810, ν = 13
    c = SampleStats(n=10, sum=10.0, sum_squares=9 * 0.25 + 10 * 1.0)
    t = SampleStats(n=5, sum=6.5, sum_squares=4 * 0.36 + 5 * 1.69)
    r = t_chance_to_win(c, t)
    se = math.sqrt((9 * 0.25 + 4 * 0.36) / 13 * 0.3)
    assert round(r.std_error, 5) == round(se, 5) == 0.29181
    assert r.dof == 13
    assert r.chance_to_win == pytest.approx(sps.t.cdf(0.3 / se, 13), rel=1e-12)
    loss = integrate.quad(lambda x: max(-x, 0.0) * sps.t.pdf((x - 0.3) / se, 13) / se, -20, 20, points=[0])[0]
    assert r.expected_loss == pytest.approx(loss, rel=1e-6)  # relative to the control mean 1.0
    gain = integrate.quad(lambda x: max(x, 0.0) * sps.t.pdf((x - 0.3) / se, 13) / se, -20, 20, points=[0])[0]
    assert r.risk_control == pytest.approx(gain, rel=1e-6)
    assert round(r.chance_to_win, 5) == 0.83866  # scipy.stats.t.cdf(0.3 / 0.291811, 13)


def test_t_chance_to_win_undefined_cases_are_nan():
    one = SampleStats(n=1, sum=1.0, sum_squares=1.0)
    many = SampleStats(n=5, sum=5.0, sum_squares=6.0)
    assert math.isnan(t_chance_to_win(one, many).chance_to_win)
    zero_mean = SampleStats(n=5, sum=0.0, sum_squares=2.0)
    assert math.isnan(t_chance_to_win(zero_mean, many).expected_loss)


# ---- simulations: the default plan's sizes and a reward model like the simulator's (cv ≈ 0.6, skewed) ----

CV = 0.6


def _simulate(rng: np.random.Generator, runs: int, n: int, share: float, lift: float, dist: str):
    """Per-run arm moments (exposure-weighted, through WeightedSampleStats) and the assignment draws."""
    rows, kept = [], []
    shape = 1 / CV**2
    for _ in range(runs):
        z = rng.random(n) < share
        if z.sum() < 2 or (~z).sum() < 2:
            continue
        base = rng.gamma(shape, 1 / shape, n) if dist == "gamma" else rng.normal(1.0, CV, n)
        x = base * np.where(z, 1 + lift, 1.0)
        w = np.minimum(1.0, rng.lognormal(0.0, 0.6, n))
        c = WeightedSampleStats.from_values(x[~z], w[~z])
        t = WeightedSampleStats.from_values(x[z], w[z])
        rows.append((*moments(c), *moments(t)))
        kept.append((x, z, w))
    return np.array(rows).T, kept


@pytest.mark.parametrize(
    ("dist", "n", "share"),
    [
        ("normal", 16, 0.3),
        ("normal", 16, 0.2),
        ("gamma", 16, 0.3),
        ("gamma", 16, 0.2),
        ("gamma", 48, 0.3),
        ("gamma", 48, 0.2),
    ],
)
def test_aa_chance_to_win_is_calibrated(dist, n, share):
    """A/A: the share of runs calling treatment a loser (chance to win < 5 %) or a winner (> 95 %) is within
    2 points of 5 % (measured 3.3–6.5 % for gamma rewards over seeds 11–13, 4.0–5.1 % for normal ones); the
    normal approximation of compare() is not (> 9 % at 16 posts: the reason for this module)."""
    arms, _ = _simulate(np.random.default_rng(11), 4000, n, share, 0.0, dist)
    r = t_chance_to_win_arrays(*arms)
    assert abs(np.mean(r.chance_to_win < 0.05) - 0.05) <= 0.02
    assert abs(np.mean(r.chance_to_win > 0.95) - 0.05) <= 0.02
    if n == 16:
        assert np.mean(compare_arrays(*arms).chance_to_win < 0.05) > 0.09


def test_aa_randomization_false_positive_rate():
    """A/A: the randomization p-value is below 0.05 in at most 5 % of runs (± Monte Carlo error)."""
    _, runs = _simulate(np.random.default_rng(5), 800, 16, 0.3, 0.0, "gamma")
    cfg = RandomizationConfig(draws=499)
    rng = np.random.default_rng(6)
    p = np.array([randomization_test(x, z, 0.3, rng, weights=w, config=cfg).p_value for x, z, w in runs])
    assert np.mean(p < 0.05) <= 0.05 + 2 * math.sqrt(0.05 * 0.95 / len(p))
    assert np.mean(p < 0.05) >= 0.02  # and it is not a test that never fires


def test_ab_relative_ci_coverage():
    """A/B at +30 %: the Welch delta-method 95 % CI of the lift covers the truth 93–97 % of the time at 48
    posts; at the pilot's 16 posts it under-covers (≈ 92 %), one more reason for 'not enough data'."""
    big, _ = _simulate(np.random.default_rng(21), 4000, 48, 0.3, 0.3, "gamma")
    c = compare_arrays(*big)
    assert 0.93 <= np.mean((c.ci_low < 0.3) & (c.ci_high > 0.3)) <= 0.97
    small, _ = _simulate(np.random.default_rng(22), 4000, 16, 0.3, 0.3, "gamma")
    c = compare_arrays(*small)
    assert 0.89 <= np.mean((c.ci_low < 0.3) & (c.ci_high > 0.3)) < 0.94


def test_ab_power_at_the_mde_is_the_planned_power():
    """Normal rewards, fixed arms of 35 and 15: at lift = mde() the pooled t (chance to win outside
    [2.5 %, 97.5 %]) rejects in 80 % ± 2 points of 4000 runs."""
    rng = np.random.default_rng(31)
    lift = mde(35, 15, CV)
    rows = []
    for _ in range(4000):
        c = SampleStats.from_values(rng.normal(1.0, CV, 35))
        t = SampleStats.from_values(rng.normal(1.0 + lift, CV, 15))
        rows.append((*moments(c), *moments(t)))
    r = t_chance_to_win_arrays(*np.array(rows).T)
    rejected = (r.chance_to_win > 0.975) | (r.chance_to_win < 0.025)
    assert abs(np.mean(rejected) - 0.8) <= 0.02
