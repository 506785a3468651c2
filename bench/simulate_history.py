"""Time the simulated history generator alone (no database): `simulate` for a days × posts-per-day history.

PYTHONPATH=. python bench/simulate_history.py --days 30 --posts-per-day 10000 --repeat 2
"""

from __future__ import annotations

import argparse
import time
from datetime import date

from xbot_core.services.simulation import history_sim


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--posts-per-day", type=int, default=10_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    cfg = history_sim.HistoryConfig(
        seed=7, handle="bench_sim", end_day=date(2026, 1, 7), days=args.days, posts_per_day=args.posts_per_day
    )
    for i in range(args.repeat):
        t = time.perf_counter()
        posts, _, _, _ = history_sim.simulate(cfg)
        print(f"run {i + 1}: {posts.height:,} posts simulated in {time.perf_counter() - t:.2f} s")


if __name__ == "__main__":
    main()
