"""Coverage simulations: the 95 % intervals cover the true relative lift as often as they claim.

Vectorised: every simulation's sufficient statistics are computed at once and fed to the array kernels
that `compare` and `sequential_ci` wrap (their equality is tested in test_stats.py).
"""

from __future__ import annotations

import numpy as np
import pytest

from xbot_core.domain.stats import SequentialConfig, compare_arrays, sequential_arrays

N_SIMS = 2000
SHAPE = 2.0  # gamma-shaped rewards: skewed and positive like the composite reward


def _arm(rng: np.random.Generator, mean: float, size: tuple[int, ...]) -> np.ndarray:
    return rng.gamma(SHAPE, mean / SHAPE, size=size)


def _moments(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-row (mean, per-unit variance, n) of a simulations × observations matrix."""
    return x.mean(axis=1), x.var(axis=1, ddof=1), np.full(x.shape[0], x.shape[1])


@pytest.mark.parametrize(("true_lift", "seed"), [(0.0, 101), (0.2, 202)], ids=["A/A", "A/B"])
def test_fixed_horizon_ci_covers_true_lift(true_lift: float, seed: int):
    rng = np.random.default_rng(seed)
    control = _arm(rng, 0.1, (N_SIMS, 300))
    treatment = _arm(rng, 0.1 * (1 + true_lift), (N_SIMS, 300))
    r = compare_arrays(*_moments(control), *_moments(treatment), alpha=0.05)
    covered = np.mean((r.ci_low <= true_lift) & (true_lift <= r.ci_high))
    assert 0.93 <= covered <= 0.97, covered
    if true_lift == 0.0:
        # A/A: the p-value rejects at 5 % about 5 % of the time, and chance to win is centred on 0.5
        assert 0.03 <= np.mean(r.p_value < 0.05) <= 0.07
        assert 0.47 <= np.mean(r.chance_to_win) <= 0.53


def test_weighted_ci_covers_true_lift():
    rng = np.random.default_rng(303)
    n = 300
    wc, wt = rng.uniform(0.05, 1, (N_SIMS, n)), rng.uniform(0.05, 1, (N_SIMS, n))
    xc, xt = _arm(rng, 0.1, (N_SIMS, n)), _arm(rng, 0.115, (N_SIMS, n))

    def weighted(x, w):
        sw, sww = w.sum(1), (w**2).sum(1)
        mean = (w * x).sum(1) / sw
        var = (w * (x - mean[:, None]) ** 2).sum(1) / (sw - sww / sw)
        return mean, var, sw**2 / sww

    r = compare_arrays(*weighted(xc, wc), *weighted(xt, wt))
    covered = np.mean((r.ci_low <= 0.15) & (0.15 <= r.ci_high))
    assert 0.93 <= covered <= 0.97, covered


@pytest.mark.parametrize("per_day", [10, 100], ids=["10-per-day", "100-per-day"])
@pytest.mark.parametrize(("true_lift", "seed"), [(0.0, 404), (0.15, 505)], ids=["A/A", "A/B"])
def test_sequential_sequence_keeps_coverage_with_daily_peeks(true_lift: float, seed: int, per_day: int):
    # 10 posts per arm per day is this account's scale; 100 checks the large-sample regime
    rng = np.random.default_rng(seed)
    days = 7
    control = _arm(rng, 0.1, (N_SIMS, days * per_day))
    treatment = _arm(rng, 0.1 * (1 + true_lift), (N_SIMS, days * per_day))
    cfg = SequentialConfig(tuning_n=2 * days * per_day, alpha=0.05)
    always_seq = np.ones(N_SIMS, dtype=bool)
    always_fixed = np.ones(N_SIMS, dtype=bool)
    for day in range(1, days + 1):
        upto = day * per_day
        mc, mt = _moments(control[:, :upto]), _moments(treatment[:, :upto])
        seq = sequential_arrays(*mc, *mt, cfg)
        fixed = compare_arrays(*mc, *mt, alpha=0.05)
        always_seq &= (seq.ci_low <= true_lift) & (true_lift <= seq.ci_high)
        always_fixed &= (fixed.ci_low <= true_lift) & (true_lift <= fixed.ci_high)
    # anytime-valid: the true lift stays inside the sequence at every one of the 7 looks ≥ 95 % of the time
    assert always_seq.mean() >= 0.95, always_seq.mean()
    # whereas the fixed-horizon interval, peeked at daily, misses at some look more often than 5 %
    assert always_fixed.mean() < 0.93, always_fixed.mean()
