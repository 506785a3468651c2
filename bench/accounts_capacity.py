"""How many accounts one Prefect worker holds before post_due falls behind its 10-minute schedule.

Real parts, compressed time: Prefect's own server on Postgres, `xbot deploy` onto a process pool, ONE
`prefect worker` process (`--limit`, default 2 = this machine's cores), and N accounts, each on its own
sandbox X (browser backend, Chromium) on virtual time. Per N, three "ticks" of the schedule are fired back
to back, one run per account each, and timed from creating the runs until the last one is COMPLETED:

  post, 1 due      post_due with one decision due per account (planned in this process beforehand)
  post, idle       post_due with nothing due (most of a day's 144 post_due runs)
  collect, 1 due   collect_metrics with one pass due per account

A tick must drain within the schedule's 10 minutes (600 s), and post_due and collect_metrics fire on the same
ticks, so one worker holds about 600 s / (post s/account + collect s/account) accounts. Posts per day do not
enter beyond that: every post_due run costs a process start whether or not it posts, and the posting caps
(XBOT_MAX_POSTS_PER_HOUR, default 4) bound an account at 96 posts/day long before the worker does.

Run: PYTHONPATH=. .venv/bin/python bench/accounts_capacity.py [--accounts 1 2 4] [--limit 2]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil
import psycopg
from psycopg import sql

from tests.plugins.prefect import (
    AccountSandboxes,
    create_run,
    deployment_ids,
    fresh_prefect_database,
    start_account_sandboxes,
    start_worker,
    stop_worker,
    wait_runs,
    xbot_deploy,
)
from tests.plugins.sandbox import free_port
from xbot_core.adapters import prefect_server
from xbot_core.adapters.db import embedded, migrations

PGDATA = Path(os.environ.get("XBOT_BENCH_PGDATA", "/tmp/xbot-bench/pgdata"))
PREFECT_PGDATA = PGDATA.parent / "prefect-pgdata"
DBNAME = "xbot_capacity"
POOL = "capacity"
QUEUE = "bench"  # the worker polls only this queue: the deployments' own cron runs (real time) stay out
SCHEDULE_S = 600  # post_due and collect_metrics fire every 10 minutes
Row = tuple[
    int, str, int, float, float, tuple[float, float, float]
]  # accounts, tick, runs, wall s, CPU s, load


def fresh_database() -> str:
    server = embedded.start(PGDATA)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DBNAME)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DBNAME)))
    url = server.replace("/postgres?", f"/{DBNAME}?")
    migrations.migrate(url)
    return url


async def login_all(accounts: AccountSandboxes) -> None:
    from playwright.async_api import async_playwright

    from xbot_core.adapters.x_browser.browser import launch_chromium

    async with async_playwright() as pw:
        browser = await launch_chromium(pw, None)
        await accounts.login(browser)
        await browser.close()


def main(counts: list[int], limit: int) -> None:
    work = Path(tempfile.mkdtemp(prefix="xbot-capacity-"))
    db = fresh_database()
    prefect_url, prefect_libpq = fresh_prefect_database(PREFECT_PGDATA, "prefect_capacity")
    handles = [f"cap_{i:02d}" for i in range(max(counts))]
    accounts = start_account_sandboxes({h: 100 + i for i, h in enumerate(handles)}, work / "session")
    asyncio.run(login_all(accounts))
    accounts.register(db, work / "data")
    state = prefect_server.start(work / "prefect", prefect_url, port=free_port())
    env = accounts.client_env(state.api_url, db, work / "data")
    os.environ.update(env)  # the planning below runs in this process with the workers' settings
    worker = None
    rows: list[Row] = []
    try:
        xbot_deploy(POOL, env)
        deployment = deployment_ids(state.api_url)
        httpx.post(
            f"{state.api_url}/work_pools/{POOL}/queues", json={"name": QUEUE}, timeout=10
        ).raise_for_status()
        worker = start_worker(POOL, "one", env, work / "worker.log", queues=(QUEUE,), limit=limit)
        clock = datetime(2026, 1, 6, tzinfo=UTC)
        for n in counts:
            due = plan_one_each(handles[:n], accounts.default, clock, seed=100 * n)
            clock = max(due, clock) + timedelta(minutes=1)
            for label, flow, params, after in (
                ("post, 1 due", "post_due", {"max_posts": 1}, timedelta(0)),
                ("post, idle", "post_due", {"max_posts": 1}, timedelta(minutes=10)),
                ("collect, 1 due", "collect_metrics", {}, timedelta(hours=1)),
            ):
                clock += after
                accounts.set_clocks(clock)
                t0 = time.perf_counter()
                with TreeCPU(worker.pid) as sampled:
                    runs = [
                        create_run(state.api_url, deployment[accounts.deployment(flow, h)], params, QUEUE)
                        for h in handles[:n]
                    ]
                    states = wait_runs(state.api_url, runs, timeout=3600)
                    elapsed = time.perf_counter() - t0
                    time.sleep(5)  # the runs' processes exit after reporting COMPLETED
                cpu = sampled.seconds
                if set(states.values()) != {"COMPLETED"}:
                    raise SystemExit(f"{label} with {n} accounts: {states}; see {work / 'worker.log'}")
                rows.append((n, label, len(runs), elapsed, cpu, os.getloadavg()))
                print(
                    f"{n} accounts, {label}: {elapsed:.1f} s, {cpu:.1f} CPU s, load {os.getloadavg()}",
                    flush=True,
                )
        check_posted(db, handles[: max(counts)], counts)
    finally:
        if worker is not None:
            stop_worker(worker)
        prefect_server.stop(work / "prefect")
        accounts.stop()
        with psycopg.connect(prefect_libpq, autocommit=True) as conn:
            conn.execute("DROP DATABASE IF EXISTS prefect_capacity WITH (FORCE)")
    report(rows, limit)


class TreeCPU:
    """CPU seconds (user + system) of a process and all its descendants while the block runs: the worker,
    each flow run's supervisor and process, the Playwright driver and Chromium. Sampled every 0.25 s per
    process (each process's own time, so nothing is counted twice); a process's last < 0.25 s is missed.
    Unlike wall time, this hardly grows with other users' load on the machine."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.seen: dict[tuple[int, float], float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.is_set():
            try:
                procs = [self.root, *self.root.children(recursive=True)]
            except psutil.NoSuchProcess:
                return
            for p in procs:
                try:
                    t = p.cpu_times()
                    self.seen[(p.pid, p.create_time())] = t.user + t.system
                except psutil.Error:
                    pass
            self._stop.wait(0.25)

    def __enter__(self) -> TreeCPU:
        t = self.root.cpu_times()
        self._base = t.user + t.system
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    @property
    def seconds(self) -> float:
        return sum(self.seen.values()) - self._base  # the worker's own time counts from the start only


def plan_one_each(accounts: list[str], default: str, clock: datetime, *, seed: int) -> datetime:
    """One decision queued per account (the plan step, in this process); returns when the last is due."""
    from xbot_core.services import steps, wiring
    from xbot_core.settings import Settings

    settings = Settings()
    due = clock
    for i, h in enumerate(accounts):
        with wiring.open_deps(settings, None if h == default else h) as deps:
            report = steps.plan_step(deps, count=1, seed=seed + i, now=clock)
            if report.queued != 1:
                raise SystemExit(f"@{h}: planning queued {report.queued} decisions: {report.as_dict()}")
            due = max(due, *(d.scheduled_at for d in report.planned))
    return due


def check_posted(db: str, handles: list[str], counts: list[int]) -> None:
    """Each account posted once per round it took part in: the measured runs did the work."""
    with psycopg.connect(db) as conn:
        got: dict[str, int] = dict(
            conn.execute(
                "SELECT a.handle, count(p.*) FROM accounts a LEFT JOIN posted_decisions p USING (account_id)"
                " GROUP BY 1"
            ).fetchall()
        )
    want = {h: sum(i < n for n in counts) for i, h in enumerate(handles)}
    if {h: got.get(h, 0) for h in handles} != want:
        raise SystemExit(f"posts per account {got}, expected {want}")


def report(rows: list[Row], limit: int) -> None:
    cores = os.cpu_count() or 1
    print(f"\none worker (--limit {limit}), {cores} cores; each tick: one run per account")
    print(
        f"{'accounts':>8} | {'tick':<15} | {'runs':>4} | {'wall s':>7} | {'CPU s':>6} | {'CPU s/run':>9} | "
        "load (1/5/15 min)"
    )
    print(f"{'-' * 8}-+-{'-' * 15}-+-{'-' * 4}-+-{'-' * 7}-+-{'-' * 6}-+-{'-' * 9}-+-{'-' * 18}")
    for n, label, runs, wall, cpu, load in rows:
        print(
            f"{n:>8} | {label:<15} | {runs:>4} | {wall:>7.1f} | {cpu:>6.1f} | {cpu / runs:>9.1f} | "
            + "/".join(f"{x:.1f}" for x in load)
        )
    per: dict[int, dict[str, tuple[float, float]]] = {}
    for n, label, _, wall, cpu, _ in rows:
        per.setdefault(n, {})[label] = (wall / n, cpu / n)
    print(
        f"\naccounts one worker holds: post_due + collect_metrics of every account "
        f"each {SCHEDULE_S // 60} min"
    )
    print(
        f"{'measured at':>11} | {'wall s/account':>14} | {'holds (wall)':>12} | {'CPU s/account':>13} | "
        f"{f'holds (all {cores} cores)':>19}"
    )
    for n, p in per.items():
        wall = max(p["post, 1 due"][0], p["post, idle"][0]) + p["collect, 1 due"][0]
        cpu = max(p["post, 1 due"][1], p["post, idle"][1]) + p["collect, 1 due"][1]
        print(
            f"{n:>11} | {wall:>14.1f} | {int(SCHEDULE_S // wall):>12} | {cpu:>13.1f} | "
            f"{int(SCHEDULE_S * cores // cpu):>19}"
        )
    print(
        "holds (wall): at this machine's load; holds (all cores): if the worker had every core to itself "
        "(an upper bound: the Prefect server and Postgres need CPU too)"
    )


if __name__ == "__main__":
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--accounts", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--limit", type=int, default=2, help="the worker's --limit (flow runs at once)")
    args = parser.parse_args()
    if sorted(args.accounts) != args.accounts or args.accounts[0] < 1:
        raise SystemExit("--accounts: ascending counts >= 1")
    main(args.accounts, args.limit)
