"""Benchmark: experiment stats for 1,000 arm pairs and DR with 200 bootstrap resamples on 100,000 decisions.

Targets (issue 6): compare + sequential_ci + srm_pvalue for 1,000 pairs ≤ 50 ms; DR with 200 resamples on
100,000 logged decisions ≤ 2 s. Baselines in the same process: scipy's ttest_ind_from_stats for the
pairs, the bootstrap-free point estimate for OPE. Run: .venv/bin/python bench/stats_ope.py
"""

from __future__ import annotations

import time

import numpy as np
from scipy import stats as sps

from xbot_core.domain.ope import OpeConfig, evaluate_policy
from xbot_core.domain.stats import (
    SampleStats,
    SequentialConfig,
    compare,
    compare_arrays,
    sequential_arrays,
    sequential_ci,
    srm_pvalue,
)

PAIRS = 1000
DECISIONS = 100_000
REPEATS = 5


def best_of(fn, repeats: int = REPEATS) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    rng = np.random.default_rng(2026)
    n_c, n_t = rng.integers(50, 500, PAIRS), rng.integers(50, 500, PAIRS)
    m_c, m_t = rng.uniform(0.05, 0.2, PAIRS), rng.uniform(0.05, 0.2, PAIRS)
    v_c, v_t = rng.uniform(0.001, 0.02, PAIRS), rng.uniform(0.001, 0.02, PAIRS)
    controls = [SampleStats(n, n * m, (n - 1) * v + n * m * m) for n, m, v in zip(n_c, m_c, v_c, strict=True)]
    treats = [SampleStats(n, n * m, (n - 1) * v + n * m * m) for n, m, v in zip(n_t, m_t, v_t, strict=True)]
    seq_cfg = SequentialConfig(tuning_n=600)

    def scalar_api() -> None:
        for c, t in zip(controls, treats, strict=True):
            compare(c, t)
            sequential_ci(c, t, seq_cfg)
            srm_pvalue([c.n, t.n], [0.5, 0.5])

    def array_api() -> None:
        compare_arrays(m_c, v_c, n_c, m_t, v_t, n_t)
        sequential_arrays(m_c, v_c, n_c, m_t, v_t, n_t, seq_cfg)
        for a, b in zip(n_c, n_t, strict=True):
            srm_pvalue([a, b], [0.5, 0.5])

    def scipy_baseline() -> None:
        for i in range(PAIRS):
            sps.ttest_ind_from_stats(
                m_c[i], np.sqrt(v_c[i]), n_c[i], m_t[i], np.sqrt(v_t[i]), n_t[i], equal_var=False
            )

    t_scalar, t_array, t_scipy = best_of(scalar_api), best_of(array_api), best_of(scipy_baseline)
    print(f"stats, {PAIRS} arm pairs (best of {REPEATS}):")
    print(f"  compare + sequential_ci + srm_pvalue, one call each per pair: {t_scalar * 1e3:8.1f} ms")
    print(f"  compare_arrays + sequential_arrays + srm_pvalue per pair:    {t_array * 1e3:8.1f} ms")
    print(f"  baseline scipy ttest_ind_from_stats (Welch only) per pair:    {t_scipy * 1e3:8.1f} ms")
    print(f"  ratio scalar API / scipy Welch-only baseline: {t_scalar / t_scipy:.2f}x  (target <= 50 ms)")

    k = 5
    logging = np.array([0.35, 0.25, 0.2, 0.12, 0.08])
    actions = rng.choice(k, DECISIONS, p=logging)
    rewards = rng.gamma(2.0, 0.05 * (1 + 0.2 * actions))
    propensity = logging[actions]
    static_target = np.array([0.1, 0.1, 0.2, 0.3, 0.3])
    per_decision = rng.dirichlet(np.ones(k), size=DECISIONS)
    boot = OpeConfig(n_bootstrap=200)
    point = OpeConfig(n_bootstrap=0)

    def run(target, cfg):
        return lambda: evaluate_policy(rewards, actions, propensity, target, np.random.default_rng(1), cfg)

    t_point = best_of(run(static_target, point), 3)
    t_static = best_of(run(static_target, boot), 3)
    t_rows = best_of(run(per_decision, boot), 3)
    print(f"\nOPE (IPS, SNIPS, DM, DR together), {DECISIONS:,} logged decisions, {k} arms (best of 3):")
    print(f"  point estimates only:                          {t_point * 1e3:8.1f} ms")
    print(f"  200 bootstrap resamples, fixed target policy:  {t_static * 1e3:8.1f} ms")
    print(f"  200 bootstrap resamples, per-decision policy:  {t_rows * 1e3:8.1f} ms  (target <= 2000 ms)")
    print(f"  ratio bootstrap / point (fixed policy): {t_static / t_point:.0f}x")


if __name__ == "__main__":
    main()
