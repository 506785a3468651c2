"""Why the per-arm intervals of domain/arm_ope.py are t intervals: coverage of the true "always arm" follows
per post on the sandbox audience model (tests/unit/ope_sim.py), percentile block bootstrap vs estimate
± t(m−1)·se with the bootstrap se inflated by m/(m−1), over seeded runs of 14 days × 20 posts.

    PYTHONPATH=. python bench/ope_interval_coverage.py [runs]
"""

from __future__ import annotations

import math
import sys

import numpy as np
from scipy import stats as sps

from tests.unit.ope_sim import ARMS, TRUE_FOLLOWS, simulate
from xbot_core.domain import arm_ope


def main(runs: int) -> None:
    k = len(ARMS)
    hits = {"percentile": np.zeros((runs, 2, k)), "t": np.zeros((runs, 2, k))}
    for s in range(runs):
        logs = simulate(20_000 + s)
        design = arm_ope._design(logs.follows.astype(float), logs.actions, logs.propensity, k)
        _, block = np.unique(logs.days, return_inverse=True)
        m = int(block.max()) + 1
        sums = np.zeros((m, design.shape[1]))
        np.add.at(sums, block, design)
        point = arm_ope._estimators(sums.sum(axis=0, keepdims=True), k)[0]
        boot = arm_ope._block_bootstrap(sums, k, np.random.default_rng(s), arm_ope.ArmOpeConfig())
        assert boot is not None
        t = float(sps.t.ppf(0.975, m - 1))
        for row, j in enumerate((0, 2)):  # IPS, AIPW
            lo, hi = np.nanquantile(boot[:, j, :], [0.025, 0.975], axis=0)
            hits["percentile"][s, row] = (lo <= TRUE_FOLLOWS) & (TRUE_FOLLOWS <= hi)
            se = np.nanstd(boot[:, j, :], axis=0, ddof=1) * math.sqrt(m / (m - 1))
            hits["t"][s, row] = np.abs(point[j] - TRUE_FOLLOWS) <= t * se
    print(f"coverage of 95 % intervals, {runs} runs × {k} arms")
    for name, h in hits.items():
        print(f"  {name:<10} IPS {h[:, 0].mean():.3f}  AIPW {h[:, 1].mean():.3f}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100)
