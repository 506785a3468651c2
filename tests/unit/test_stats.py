"""Sufficient statistics and compare(): pinned to gbstats' own test numbers and to hand computations."""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats as sps

from xbot_core.domain.stats import (
    STATUS_BASELINE_ZERO,
    STATUS_NOT_ENOUGH_DATA,
    STATUS_ZERO_VARIANCE,
    ProportionStats,
    RatioStats,
    SampleStats,
    SequentialConfig,
    WeightedSampleStats,
    compare,
    compare_arrays,
    sequential_arrays,
    sequential_ci,
)
from xbot_core.errors import StatsError

# gbstats fixtures: growthbook/growthbook packages/stats/tests/frequentist/test_tests.py,
# TestTwoSidedTTest.setUp
GB_A = SampleStats(n=3407, sum=1396.87, sum_squares=52377.9767)
GB_B = SampleStats(n=3461, sum=2422.7, sum_squares=134698.29)


def test_two_sided_ttest_matches_gbstats():
    # gbstats tests/frequentist/test_tests.py::TestTwoSidedTTest::test_two_sided_ttest
    r = compare(GB_A, GB_B)
    assert round(r.lift, 5) == 0.70732
    assert (round(r.ci_low, 5), round(r.ci_high, 5)) == (-0.03526, 1.44989)
    assert round(r.std_error, 5) == 0.37879
    assert round(r.p_value, 5) == 0.06191


def test_two_sided_ttest_binomial_matches_gbstats():
    # gbstats tests/frequentist/test_tests.py::TestTwoSidedTTest::test_two_sided_ttest_binom
    r = compare(ProportionStats(n=28, successes=14), ProportionStats(n=30, successes=16))
    assert round(r.lift, 5) == 0.06667
    assert (round(r.ci_low, 5), round(r.ci_high, 5)) == (-0.47767, 0.61101)
    assert round(r.std_error, 5) == 0.2717
    assert round(r.p_value, 5) == 0.80707


def test_bayesian_flat_prior_matches_gbstats_gaussian():
    # gbstats tests/bayesian/test_tests.py::TestNorm::test_bayesian_gaussian_ab_test (EffectBayesianABTest,
    # improper flat prior): expected 0.05, stddev 0.03572, chance_to_win 0.91923, risk [0.05131, 0.00131]
    c = SampleStats(n=10, sum=100, sum_squares=1002.25)
    r = compare(c, SampleStats(n=10, sum=105, sum_squares=1111.5))
    assert round(r.lift, 5) == 0.05
    assert round(r.std_error, 5) == 0.03572
    assert round(r.chance_to_win, 5) == 0.91923
    assert (round(r.risk_control, 5), round(r.expected_loss, 5)) == (0.05131, 0.00131)


def test_bayesian_flat_prior_matches_gbstats_binomial():
    # gbstats tests/bayesian/test_tests.py::TestBinom::test_bayesian_binomial_ab_test (EffectBayesianABTest)
    r = compare(ProportionStats(n=100, successes=49), ProportionStats(n=100, successes=51))
    assert round(r.lift, 5) == 0.04082
    assert round(r.std_error, 5) == 0.14725
    assert round(r.chance_to_win, 5) == 0.60918
    assert (round(r.risk_control, 5), round(r.expected_loss, 5)) == (0.0814, 0.04058)


def test_sequential_matches_gbstats():
    # gbstats tests/frequentist/test_tests.py::TestSequentialTTest::test_sequential_test_runs (N* = 1000)
    a = SampleStats(n=3000, sum=1396.87, sum_squares=52377.9767)
    r = sequential_ci(a, GB_B, SequentialConfig(tuning_n=1000))
    assert round(r.lift, 5) == 0.50336
    assert (round(r.ci_low, 5), round(r.ci_high, 5)) == (-0.55844, 1.56516)
    assert round(r.std_error, 5) == 0.33341
    assert r.p_value == 1.0
    # ...::test_sequential_test_runs_prop (default N* = 5000 there)
    p = sequential_ci(
        ProportionStats(n=3000, successes=1396),
        ProportionStats(n=3461, successes=2422),
        SequentialConfig(tuning_n=5000),
    )
    assert (round(p.lift, 5), round(p.ci_low, 5), round(p.ci_high, 5)) == (0.50386, 0.40098, 0.60675)
    assert round(p.p_value, 5) == 0.0


def test_sequential_interval_is_wider_than_fixed_horizon_and_tightest_near_tuning_n():
    a = SampleStats(n=3000, sum=1396.87, sum_squares=52377.9767)
    fixed = compare(a, GB_B)
    widths = {
        n_star: (lambda r: r.ci_high - r.ci_low)(sequential_ci(a, GB_B, SequentialConfig(tuning_n=n_star)))
        for n_star in (10, 6461, 10_000)
    }
    assert widths[6461] < widths[10_000] < widths[10]
    assert widths[6461] > fixed.ci_high - fixed.ci_low


def test_compare_agrees_with_scipy_t_distribution():
    r = compare(GB_A, GB_B, alpha=0.1)
    se_t, se_c = GB_B.variance / GB_B.n, GB_A.variance / GB_A.n
    dof = (se_t + se_c) ** 2 / (se_t**2 / (GB_B.n - 1) + se_c**2 / (GB_A.n - 1))
    assert r.dof == pytest.approx(dof, rel=1e-12)
    assert r.p_value == pytest.approx(2 * sps.t.sf(r.lift / r.std_error, dof), rel=1e-9)
    assert r.ci_high - r.lift == pytest.approx(sps.t.ppf(0.95, dof) * r.std_error, rel=1e-9)
    assert r.chance_to_win == pytest.approx(sps.norm.cdf(r.lift / r.std_error), rel=1e-12)


def test_sample_stats_properties_and_from_values():
    x = np.array([1.0, 2.0, 4.0, 7.0])
    s = SampleStats.from_values(x)
    assert (s.n, s.sum, s.sum_squares) == (4, 14.0, 70.0)
    assert s.mean == 3.5
    assert round(s.variance, 5) == round(float(np.var(x, ddof=1)), 5) == 7.0
    assert SampleStats(1, 3.0, 9.0).variance == 0.0


def test_weighted_stats_pinned_by_hand():
    x = np.array([0.2, 0.5, 0.1, 0.9, 0.4])
    w = np.array([1.0, 0.5, 0.25, 1.0, 0.1])
    ws = WeightedSampleStats.from_values(x, w)
    # by hand: Σw = 2.85, Σwx = 1.415, Σw² = 2.3225, Σw(x − mean)² = 0.29096
    mean = 1.415 / 2.85  # 0.49649
    n_eff = 2.85**2 / 2.3225  # 3.49731
    var = 0.2909649122807 / (2.85 - 2.3225 / 2.85)  # 0.14297
    assert round(ws.mean, 5) == round(mean, 5) == 0.49649
    assert round(ws.effective_n, 5) == round(n_eff, 5) == 3.49731
    assert round(ws.variance, 5) == round(var, 5) == 0.14297
    s = ws.to_sample_stats()
    assert s.n == pytest.approx(n_eff) and s.mean == pytest.approx(mean) and s.variance == pytest.approx(var)
    assert SampleStats.from_weighted(x, w) == s


def test_weighted_stats_invariants():
    rng = np.random.default_rng(7)
    x = rng.gamma(2.0, 0.1, 50)
    unweighted = SampleStats.from_values(x)
    equal = SampleStats.from_weighted(x, np.full(50, 0.3))
    assert equal.n == pytest.approx(50) and equal.mean == pytest.approx(unweighted.mean)
    assert equal.variance == pytest.approx(unweighted.variance)
    w = rng.uniform(0.05, 1, 50)
    a, b = SampleStats.from_weighted(x, w), SampleStats.from_weighted(x, 7 * w)
    assert a.n == pytest.approx(b.n) and a.variance == pytest.approx(b.variance)
    # compare() accepts the weighted record directly and uses n_eff
    y = rng.gamma(2.0, 0.12, 60)
    wy = rng.uniform(0.05, 1, 60)
    direct = compare(WeightedSampleStats.from_values(x, w), WeightedSampleStats.from_values(y, wy))
    via = compare(SampleStats.from_weighted(x, w), SampleStats.from_weighted(y, wy))
    assert direct.lift == pytest.approx(via.lift) and direct.p_value == pytest.approx(via.p_value)


def test_weighted_mean_variance_matches_simulation():
    # Var(weighted mean) = variance / n_eff: check against the spread of many simulated weighted means
    rng = np.random.default_rng(11)
    w = rng.uniform(0.05, 1.0, 80)
    draws = rng.normal(1.0, 2.0, size=(20_000, 80))
    means = (draws * w).sum(axis=1) / w.sum()
    predicted = 4.0 / (w.sum() ** 2 / (w**2).sum())
    assert np.var(means) == pytest.approx(predicted, rel=0.03)
    estimated = np.mean([WeightedSampleStats.from_values(draws[i], w).variance for i in range(500)]) / (
        w.sum() ** 2 / (w**2).sum()
    )
    assert estimated == pytest.approx(predicted, rel=0.03)


def test_ratio_stats_delta_method_pinned_by_hand():
    rng = np.random.default_rng(3)
    impressions = rng.integers(50, 500, 40).astype(float)
    engagements = rng.binomial(impressions.astype(int), 0.04).astype(float)
    r = RatioStats.from_values(engagements, impressions)
    cov = np.cov(engagements, impressions, ddof=1)
    m, d = engagements.mean(), impressions.mean()
    var = cov[0, 0] / d**2 + cov[1, 1] * m**2 / d**4 - 2 * cov[0, 1] * m / d**3
    assert r.mean == pytest.approx(engagements.sum() / impressions.sum(), rel=1e-12)
    assert r.covariance == pytest.approx(cov[0, 1], rel=1e-9)
    assert round(r.variance, 9) == round(float(var), 9)


def test_ratio_compare_against_hand_delta_method():
    rng = np.random.default_rng(5)
    imp_c, imp_t = rng.integers(50, 500, 60).astype(float), rng.integers(50, 500, 70).astype(float)
    eng_c = rng.binomial(imp_c.astype(int), 0.04).astype(float)
    eng_t = rng.binomial(imp_t.astype(int), 0.05).astype(float)
    c, t = RatioStats.from_values(eng_c, imp_c), RatioStats.from_values(eng_t, imp_t)
    r = compare(c, t)
    lift = (t.mean - c.mean) / c.mean
    var = t.variance / (c.mean**2 * 70) + c.variance * t.mean**2 / (c.mean**4 * 60)
    assert r.lift == pytest.approx(lift, rel=1e-12)
    assert r.std_error == pytest.approx(math.sqrt(var), rel=1e-12)


def test_expected_data_conditions_are_statuses_not_exceptions():
    one = compare(SampleStats(1, 2.0, 4.0), SampleStats(5, 10.0, 30.0))
    assert one.status == STATUS_NOT_ENOUGH_DATA and math.isnan(one.lift) and one.message
    zero = compare(SampleStats(5, 0.0, 0.0), SampleStats(5, 10.0, 30.0))
    assert zero.status == STATUS_BASELINE_ZERO and math.isnan(zero.p_value)
    flat = compare(SampleStats(5, 5.0, 5.0), SampleStats(5, 5.0, 5.0))
    assert flat.status == STATUS_ZERO_VARIANCE and not flat.ok


def test_invalid_input_raises_stats_error():
    with pytest.raises(StatsError, match="successes"):
        ProportionStats(n=5, successes=6)
    with pytest.raises(StatsError, match="n must be >= 0"):
        SampleStats(-1, 0.0, 0.0)
    with pytest.raises(StatsError, match="alpha"):
        compare(GB_A, GB_B, alpha=1.5)
    with pytest.raises(StatsError, match="same kind"):
        compare(GB_A, ProportionStats(10, 5))
    with pytest.raises(StatsError, match="missing"):
        SampleStats.from_values([1.0, float("nan")])
    with pytest.raises(StatsError, match="tuning_n"):
        SequentialConfig(tuning_n=0)


def test_array_kernels_equal_scalar_functions():
    # compare/sequential_ci use a plain-float path; the array kernels must give the same numbers and statuses
    pairs = [
        (GB_A, GB_B),
        (SampleStats(10, 100, 1002.25), SampleStats(10, 105, 1111.5)),
        (SampleStats(1, 2.0, 4.0), SampleStats(5, 10.0, 30.0)),
        (SampleStats(5, 0.0, 0.0), SampleStats(5, 10.0, 30.0)),
        (SampleStats(5, 5.0, 5.0), SampleStats(5, 5.0, 5.0)),
    ]
    cols = [
        [getattr(p[i], f) if f != "variance" else p[i].variance for p in pairs]
        for i in (0, 1)
        for f in ("mean", "variance", "n")
    ]
    cfg = SequentialConfig(tuning_n=500)
    arr = compare_arrays(*cols, alpha=0.1)
    seq = sequential_arrays(*cols, cfg)
    for i, (c, t) in enumerate(pairs):
        one, s = compare(c, t, alpha=0.1), sequential_ci(c, t, cfg)
        assert arr.status[i] == one.status == seq.status[i] == s.status
        for field in (
            "lift",
            "ci_low",
            "ci_high",
            "p_value",
            "chance_to_win",
            "expected_loss",
            "risk_control",
            "dof",
        ):
            np.testing.assert_allclose(getattr(arr, field)[i], getattr(one, field), rtol=1e-10)
        for field in ("ci_low", "ci_high", "p_value", "std_error"):
            np.testing.assert_allclose(getattr(seq, field)[i], getattr(s, field), rtol=1e-10)
