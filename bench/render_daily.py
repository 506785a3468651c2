"""Benchmark 2: render the daily report on a simulated history of 1M posts, excluding kernel start-up.

Prints the notebook's cell time (papermill's per-cell durations: everything after the kernel is up), the HTML
conversion time, their sum (the target, ≤ 10 s) and the wall time including kernel start for reference.

    .venv/bin/python bench/render_daily.py [--posts-per-day 10000 --days 100]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import database, ensure_history

HANDLE = "bench_render"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--posts-per-day", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=100)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument(
        "--handle",
        default=HANDLE,
        help="account (bench_load --days 151: load_outcomes.py's history)",
    )
    args = ap.parse_args()
    url = database()
    posts = ensure_history(url, args.handle, days=args.days, posts_per_day=args.posts_per_day)
    out = Path(tempfile.mkdtemp(prefix="xbot-bench-reports-"))
    os.environ.update(XBOT_DATABASE_URL=url, XBOT_ACCOUNT_HANDLE=args.handle, XBOT_REPORTS_DIR=str(out))

    from xbot_core.services.reporting import reports
    from xbot_core.settings import get_settings

    get_settings.cache_clear()
    spec = reports.daily_spec(date(2026, 1, 7), simulated=True, seed=7, account_handle=args.handle)
    print(f"history: {posts:,} posts (@{args.handle}); report window 7 days; output {out}")
    for i in range(args.repeat):
        t = time.perf_counter()
        r = reports.render(spec, settings=get_settings())
        wall = time.perf_counter() - t
        print(
            f"run {i + 1}: cells {r.cells_s:.2f} s + HTML {r.convert_s:.2f} s = "
            f"{r.cells_s + r.convert_s:.2f} s excluding kernel start "
            f"(wall incl. kernel start and lineage: {wall:.2f} s); load {os.getloadavg()[0]:.2f}"
        )


if __name__ == "__main__":
    main()
