"""Benchmark: `xbot demo --days 7 --fresh` wall time and phase split, on a fresh data dir and a free port.

Runs the demo as a user does (a child process, embedded Postgres in a temporary data dir, its own sandbox),
then prints the demo's own summary and phase line, the elapsed time of the whole command and the load
average before and after (the figures are only comparable at similar load).

    .venv/bin/python bench/demo_phases.py [--days 7] [--seed 7] [--no-reports]
"""

from __future__ import annotations

import argparse
import os
import socket
import subprocess
import sys
import tempfile
import time


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--days", type=int, default=7)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--no-reports", action="store_true")
    args = ap.parse_args()
    data = tempfile.mkdtemp(prefix="xbot-bench-demo-")
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBOT_")}
    env.update(
        XBOT_DATA_DIR=data,
        XBOT_REPORTS_DIR=os.path.join(data, "reports"),
        XBOT_SANDBOX_PORT=str(free_port()),
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    cmd = [sys.executable, "-m", "xbot_core.cli", "demo", "--days", str(args.days), "--fresh"]
    cmd += ["--seed", str(args.seed)] + (["--no-reports"] if args.no_reports else [])
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}; data dir {data}")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True)
    elapsed = time.perf_counter() - t0
    # the demo leaves its embedded Postgres running (as `xbot db start` does): stop this throwaway one
    subprocess.run([sys.executable, "-m", "xbot_core.cli", "db", "stop"], env=env, capture_output=True)
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for line in proc.stdout.splitlines():
        if line.startswith(("plan ", "decisions ", "results fingerprint ", "wall time ")):
            print(line)
    print(f"elapsed (whole command, imports and shutdown included): {elapsed:.1f} s; exit {proc.returncode}")
    if proc.returncode != 0:
        print(proc.stderr[-3000:], file=sys.stderr)
        sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
