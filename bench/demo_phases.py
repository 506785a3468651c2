"""Benchmark: `xbot demo --days 7 --fresh` wall time, phase split and CPU seconds per component, on a fresh
data dir and a free port.

Runs the demo as a user does (a child process, embedded Postgres in a temporary data dir, its own sandbox),
then prints the demo's own summary and phase line, the elapsed time of the whole command, the load average
before and after (wall figures are only comparable at similar load) and the CPU seconds each part of the run
used (sampled every 0.25 s over the process tree and the data dir's Postgres; on the shared 2 cores these move
far less with the load than wall time does).

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
from collections import defaultdict

import psutil

# (component, what its command line contains), first match wins
COMPONENTS = (
    ("chromium", "chromium"),
    ("report kernels", "ipykernel_launcher"),
    ("sandbox", "xbot_core.cli sandbox"),
    ("playwright driver", "playwright"),
    ("demo (python)", "xbot_core.cli demo"),
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def component(proc: psutil.Process, data_dir: str) -> str | None:
    try:
        cmd = " ".join(proc.cmdline())
        name = proc.name()
    except (psutil.NoSuchProcess, psutil.AccessDenied):
        return None
    if name.startswith("postgres"):
        return "postgres" if data_dir in cmd or proc.username() == "pgserver" else None
    return next((label for label, mark in COMPONENTS if mark in cmd), "other")


class CpuSampler:
    """CPU seconds (user + system) per component of a process tree, plus the Postgres serving `data_dir`."""

    def __init__(self, root: psutil.Process, data_dir: str) -> None:
        self.root, self.data_dir = root, data_dir
        self.last: dict[int, tuple[str, float]] = {}
        self.other: dict[int, str] = {}

    def _postgres(self) -> list[psutil.Process]:
        out = []
        for proc in psutil.process_iter(["name", "cmdline"]):
            if (proc.info["name"] or "").startswith("postgres") and self.data_dir in " ".join(
                proc.info["cmdline"] or []
            ):
                out.append(proc)
                out += proc.children(recursive=True)
        return out

    def sample(self) -> None:
        try:
            procs = [self.root, *self.root.children(recursive=True)]
        except psutil.NoSuchProcess:
            procs = []
        for proc in procs + self._postgres():
            try:
                t = proc.cpu_times()
                # a process keeps its first label (an exited one's command line reads empty)
                label = self.last[proc.pid][0] if proc.pid in self.last else component(proc, self.data_dir)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                continue
            if label is not None:
                self.last[proc.pid] = (label, t.user + t.system)
                if label == "other" and os.environ.get("BENCH_DEBUG"):
                    self.other[proc.pid] = " ".join(proc.cmdline())[:150]

    def totals(self) -> dict[str, float]:
        out: dict[str, float] = defaultdict(float)
        for label, seconds in self.last.values():
            out[label] += seconds
        return dict(out)


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
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=err, text=True)
        sampler = CpuSampler(psutil.Process(proc.pid), data)
        while proc.poll() is None:
            sampler.sample()
            time.sleep(0.25)
        elapsed = time.perf_counter() - t0
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    sampler.sample()  # the data dir's Postgres is still up
    # the demo leaves its embedded Postgres running (as `xbot db start` does): stop this throwaway one
    subprocess.run([sys.executable, "-m", "xbot_core.cli", "db", "stop"], env=env, capture_output=True)
    print(f"load average after:  {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for line in stdout.splitlines():
        if line.startswith(("plan ", "decisions ", "results fingerprint ", "wall time ")):
            print(line)
    print(f"elapsed (whole command, imports and shutdown included): {elapsed:.1f} s; exit {proc.returncode}")
    cpu = sampler.totals()
    split = ", ".join(f"{k} {v:.1f}" for k, v in sorted(cpu.items(), key=lambda kv: -kv[1]))
    print(f"CPU seconds {sum(cpu.values()):.1f} (sampled; a process's last 0.25 s may be missed): {split}")
    for pid, cmdline in sampler.other.items():
        print(f"  other {pid} {sampler.last[pid][1]:.1f} s: {cmdline}")
    if proc.returncode != 0:
        print(stderr[-3000:], file=sys.stderr)
        sys.exit(proc.returncode)


if __name__ == "__main__":
    main()
