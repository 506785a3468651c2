"""Figures behind the bandit's reward scale (domain/bandit.py REWARD_SCALE): how rewards under the active
version spread on the sandbox audience model, and what clipping to [0, 1] versus dividing by the scale does
to each content_type arm's mean. 20,000 posts, arms uniform, other arms neutral (tests/unit/ope_sim.py).

    PYTHONPATH=. python bench/reward_scale.py
"""

from __future__ import annotations

import numpy as np

from tests.unit.ope_sim import ARMS, Logs, _draw
from xbot_core.domain.bandit import REWARD_SCALE
from xbot_core.domain.reward import DEFAULT_VERSION


def main() -> None:
    rng = np.random.default_rng(0)
    n = 20_000
    a = rng.integers(0, len(ARMS), n)
    imp, counts = _draw(rng, a)
    logs = Logs(a, np.ones(n), np.zeros(n), (), imp, counts["follows"], counts["retweets"], counts["replies"],
                rng.beta(4, 3, n))  # fmt: skip
    r = logs.rewards(DEFAULT_VERSION)
    q = np.quantile(r, [0.5, 0.9, 0.99, 0.999])
    above = np.mean(r > REWARD_SCALE)
    print(f"{n:,} posts: share above 1 {np.mean(r > 1):.4f}, above {REWARD_SCALE:g} {above:.4f}")
    print("quantiles 50/90/99/99.9 %: " + ", ".join(f"{x:.3f}" for x in q))
    print(f"{'arm':<10} {'mean':>7} {'clipped':>8} {'scaled':>8}")
    for i, arm in enumerate(ARMS):
        x = r[a == i]
        scaled = REWARD_SCALE * np.clip(x / REWARD_SCALE, 0, 1).mean()
        print(f"{arm:<10} {x.mean():7.3f} {np.clip(x, 0, 1).mean():8.3f} {scaled:8.3f}")


if __name__ == "__main__":
    main()
