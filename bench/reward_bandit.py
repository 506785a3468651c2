"""Benchmark: reward recomputation for 5M outcome rows under new weights (Polars), and one Thompson choice
with its Monte-Carlo propensity (10,000 draws). Prints figures and ratios against in-process baselines.

Run: .venv/bin/python bench/reward_bandit.py [--rows 5000000] [--repeats 3]
Targets (issue 5): recomputation ≤ 1 s, one choice + propensity ≤ 5 ms.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import polars as pl

from xbot_core.domain.bandit import ArmState, BanditConfig, choose
from xbot_core.domain.reward import RewardVersion, reward, with_rewards

NEW_WEIGHTS = RewardVersion(
    version=2, w_fpki=0.4, w_retweet=0.3, w_reply=0.2, w_novelty=0.1, w_dup_penalty=-0.2
)


def outcomes(n: int, seed: int = 0) -> pl.DataFrame:
    """Synthetic outcome rows shaped like the outcomes table (a few NULL follows, some 0 impressions)."""
    rng = np.random.default_rng(seed)
    impressions = rng.lognormal(6.5, 1.0, n).astype(np.int64)
    follows = rng.poisson(impressions * 0.002).astype(np.float64)
    frame = pl.DataFrame(
        {
            "impressions": impressions,
            "follows": follows,
            "retweets": rng.binomial(impressions, 0.006),
            "replies": rng.binomial(impressions, 0.004),
            "novelty": rng.random(n),
            "dup_penalty": rng.random(n) * 0.3,
        }
    )
    unknown = pl.Series(rng.random(n) < 0.02)
    return frame.with_columns(pl.when(unknown).then(None).otherwise(pl.col("follows")).alias("follows"))


def bench_reward(rows: int, repeats: int) -> None:
    df = outcomes(rows)
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        out = with_rewards(df, NEW_WEIGHTS)
        assert isinstance(out, pl.DataFrame)
        times.append(time.perf_counter() - t)
    best = min(times)
    # baseline: the scalar implementation on a sample, per row
    sample = df.head(100_000).to_dicts()
    t = time.perf_counter()
    scalar = [reward(NEW_WEIGHTS, **r) for r in sample]
    per_row = (time.perf_counter() - t) / len(sample)
    polars_sample = out["reward"].head(len(sample)).to_list()
    diff = max(
        abs(a - b) for a, b in zip(scalar, polars_sample, strict=True) if a is not None and b is not None
    )
    print(
        f"reward recompute, {rows:,} rows (Polars): best {best:.3f} s of {repeats} "
        f"(median {statistics.median(times):.3f} s); target ≤ 1 s"
    )
    print(
        f"  scalar baseline: {per_row * 1e6:.2f} µs/row → {per_row * rows:.1f} s for {rows:,} rows "
        f"(Polars {per_row * rows / best:.0f}× faster); max |scalar − Polars| on 100k rows = {diff:.1e}"
    )


def bench_choice(repeats: int = 500) -> None:
    cfg = BanditConfig()
    states = tuple(
        ArmState("hook_pattern", arm, 1 + s, 1 + f, successes=s, failures=f, pulls=int(s + f))
        for arm, s, f in [
            ("a", 12.5, 30.1),
            ("b", 20.2, 25.0),
            ("c", 8.0, 12.0),
            ("d", 30.5, 31.0),
            ("e", 3, 9),
        ]
    )
    rng = np.random.default_rng(7)
    choose(states, cfg, rng)  # warm-up
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        c = choose(states, cfg, rng)
        times.append(time.perf_counter() - t)
    # baseline: a bare Thompson draw without a propensity (one Beta sample per arm)
    alpha = np.array([s.alpha for s in states])
    beta = np.array([s.beta for s in states])
    base = []
    for _ in range(repeats):
        t = time.perf_counter()
        int(np.argmax(rng.beta(alpha, beta)))
        base.append(time.perf_counter() - t)
    best = min(times) * 1e3
    med = statistics.median(times) * 1e3
    p95 = sorted(times)[int(0.95 * repeats)] * 1e3
    print(
        f"Thompson choice + propensity ({cfg.mc_draws:,} draws, 5 arms): best {best:.2f} ms, "
        f"median {med:.2f} ms, p95 {p95:.2f} ms over {repeats}; target ≤ 5 ms "
        f"(last: arm {c.arm}, propensity {c.propensity:.4f})"
    )
    print(
        f"  bare Thompson draw without propensity: median {statistics.median(base) * 1e3:.3f} ms "
        f"({statistics.median(times) / statistics.median(base):.0f}× cheaper)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    bench_reward(args.rows, args.repeats)
    bench_choice()


if __name__ == "__main__":
    main()
