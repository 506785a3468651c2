"""SRM (χ² and exact multinomial) and Holm / Benjamini–Hochberg, against scipy and hand computations."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats as sps

from xbot_core.domain.stats import (
    METHOD_CHI2,
    METHOD_EXACT,
    METHOD_NO_DATA,
    SrmConfig,
    benjamini_hochberg,
    holm,
    srm_pvalue,
    srm_test,
)
from xbot_core.errors import StatsError


def test_chi2_matches_scipy_chisquare():
    counts, weights = [520, 480], [0.5, 0.5]
    expected = sps.chisquare(counts, [500, 500]).pvalue
    # by hand: χ² = 20²/500 + 20²/500 = 1.6 on 1 df
    assert round(srm_pvalue(counts, weights), 5) == round(expected, 5) == 0.20590
    r = srm_test([180, 310, 110], [0.3, 0.5, 0.2])
    ref = sps.chisquare([180, 310, 110], [180, 300, 120])
    assert r.method == METHOD_CHI2
    assert round(r.statistic, 5) == round(ref.statistic, 5) == 1.16667
    # χ² = 0 + 100/300 + 100/120 = 7/6 on 2 df: p = exp(−χ²/2) = exp(−7/12)
    assert round(r.p_value, 5) == round(ref.pvalue, 5) == round(float(np.exp(-7 / 12)), 5) == 0.55804


def test_gbstats_check_srm_example():
    # gbstats check_srm is χ² GOF with weights normalised to shares; weights need not sum to 1
    assert srm_pvalue([1000, 1200], [1, 1]) == pytest.approx(sps.chisquare([1000, 1200]).pvalue, rel=1e-12)


def test_exact_binomial_case_matches_scipy_binomtest():
    # expected count 2.4 < 5: exact; for two arms the exact multinomial test is scipy's two-sided binomtest
    r = srm_test([6, 6], [0.2, 0.8])
    ref = sps.binomtest(6, 12, 0.2, alternative="two-sided").pvalue
    assert r.method == METHOD_EXACT
    assert round(r.p_value, 5) == round(ref, 5) == 0.01941


def test_exact_three_arms_matches_brute_force():
    counts, probs = [1, 7, 4], [0.1, 0.6, 0.3]
    total = sum(counts)
    observed = sps.multinomial.pmf(counts, total, probs)
    p = 0.0
    for a, b in itertools.product(range(total + 1), repeat=2):
        if a + b <= total:
            pmf = sps.multinomial.pmf([a, b, total - a - b], total, probs)
            if pmf <= observed * (1 + 1e-7):
                p += pmf
    r = srm_test(counts, probs)
    assert r.method == METHOD_EXACT
    assert round(r.p_value, 5) == round(p, 5)
    assert 0 < r.p_value <= 1


def test_srm_edge_cases():
    assert srm_test([0, 0], [0.5, 0.5]).method == METHOD_NO_DATA
    assert srm_pvalue([0, 0], [0.5, 0.5]) == 1.0
    # an arm configured at 0 % that received traffic is a certain mismatch; with no traffic it is ignored
    assert srm_test([10, 3], [1.0, 0.0]).flagged
    assert srm_pvalue([10, 0, 12], [0.5, 0.0, 0.5]) == pytest.approx(srm_pvalue([10, 12], [0.5, 0.5]))
    assert srm_test([5000, 5600], [0.5, 0.5]).flagged
    assert not srm_test([5000, 5050], [0.5, 0.5]).flagged


def test_srm_bad_input():
    with pytest.raises(StatsError, match="differ in length"):
        srm_pvalue([1, 2], [1])
    with pytest.raises(StatsError, match="whole numbers"):
        srm_pvalue([1.5, 2], [1, 1])
    with pytest.raises(StatsError, match="positive sum"):
        srm_pvalue([1, 2], [0, 0])


def test_srm_false_flag_rate_under_correct_split():
    rng = np.random.default_rng(20260106)
    cfg = SrmConfig()
    # large samples (χ² path) and small ones (exact path), all drawn with the configured shares
    big = rng.multinomial(300, [0.7, 0.3], size=20_000)
    small = rng.multinomial(12, [0.8, 0.2], size=5_000)
    flags_big = np.mean([srm_test(c, [0.7, 0.3], cfg).flagged for c in big])
    flags_small = np.mean([srm_test(c, [0.8, 0.2], cfg).flagged for c in small])
    # nominal 0.001: 20 expected flags of 20,000 (sd ≈ 4.5); the exact test is conservative
    assert flags_big <= 0.002
    assert flags_small <= 0.001
    # p-values are close to uniform on the χ² path: about 5 % fall below 0.05
    p = np.array([srm_pvalue(c, [0.7, 0.3]) for c in big[:4000]])
    assert 0.035 <= np.mean(p < 0.05) <= 0.065


def test_holm_and_bh_by_hand():
    p = [0.01, 0.04, 0.03, 0.005]
    # Holm: sorted 0.005, 0.01, 0.03, 0.04 times 4, 3, 2, 1 = 0.02, 0.03, 0.06, 0.04; running max
    assert np.round(holm(p), 5).tolist() == [0.03, 0.06, 0.06, 0.02]
    # BH: sorted times 4/1, 4/2, 4/3, 4/4 = 0.02, 0.02, 0.04, 0.04; running min from the top
    assert np.round(benjamini_hochberg(p), 5).tolist() == [0.02, 0.04, 0.04, 0.02]


def test_bh_matches_scipy_and_holm_is_monotone():
    rng = np.random.default_rng(1)
    p = rng.uniform(0, 0.2, 25)
    assert np.allclose(benjamini_hochberg(p), sps.false_discovery_control(p, method="bh"))
    adjusted = holm(p)
    order = np.argsort(p)
    assert (np.diff(adjusted[order]) >= 0).all() and (adjusted >= p).all() and (adjusted <= 1).all()


def test_adjustments_keep_nan_and_clip_at_one():
    out = holm([0.5, float("nan"), 0.6])
    assert np.isnan(out[1]) and out[0] == 1.0 and out[2] == 1.0
    assert np.round(benjamini_hochberg([0.02, float("nan"), 0.04]), 5)[[0, 2]].tolist() == [0.04, 0.04]
    with pytest.raises(StatsError, match=r"\[0, 1\]"):
        holm([1.2])
