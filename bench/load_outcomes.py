"""Benchmark 1: load ~3M outcome rows (outcomes.sql over the whole history) from Postgres into a dataframe.

Paths, each run `--repeat` times, round-robin (so a change in the machine's load hits every path alike), each
run in a child process of this one (same server, same query, its own peak RSS):
  pg_scanner (chosen)  xbot_core.services.read.analytics.load(source, "outcomes"): the planner's estimate,
                       then DuckDB's postgres_scanner over sql/analytics/scanner/outcomes.sql into Polars
                       (extension LOAD and ATTACH included in the time)
  pandas.read_sql      SQLAlchemy + psycopg, the typical user's code
  scanner_scan         DuckDB's postgres_scanner reading both tables (parallel page ranges) and joining them,
                       to Arrow; its time excludes loading the extension and ATTACH
  scanner_query        the same extension running outcomes.sql itself in Postgres (postgres_query)
With --window-days N the window is the history's last N days (the daily report's narrow window) and the
paths are the chosen one against each strategy forced (outcome_loader.load_outcomes(force=...)):
  scan (forced)        the postgres_scanner path
  key lookup (forced)  one outcomes.sql query looking each post's outcomes up by key
All paths run in this interpreter's venv: the project pins duckdb==1.5.5 and
duckdb-extension-postgres-scanner==1.5.5 (the extension is LOADed from that package's file, offline).

    .venv/bin/python bench/load_outcomes.py [--repeat 3] [--window-days 14]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

HANDLE = "bench_load"
SINCE, UNTIL = "2000-01-01", "2100-01-01"
HISTORY_END = date(2026, 1, 8)  # the day after _setup.ensure_history's last day
CHOSEN = "pg_scanner (chosen)"
FORCED = {"scan (forced)": "scan", "key lookup (forced)": "lookup"}
SCANNER = ("scanner_scan", "scanner_query")


def table_sql(account_id: int, since: str, until: str) -> str:
    """outcomes.sql written for the scanner: both tables scanned by DuckDB and joined there."""
    return (
        "SELECT o.decision_id, o.collected_pass, p.posted_at, o.collected_at, "
        "o.status, o.impressions, o.likes, o.retweets, o.replies, o.quotes, o.bookmarks, o.profile_visits, "
        "o.link_clicks, o.follows, o.follows_source, o.follows_confidence, o.er, o.fpki, o.retweet_rate, "
        "o.reply_rate, o.reward_composite, o.reward_version FROM pg.public.outcomes o "
        "JOIN pg.public.posted_decisions p ON p.decision_id = o.decision_id "
        f"WHERE p.account_id = {account_id} AND o.simulated "
        f"AND p.posted_at >= '{since}'::timestamptz AND p.posted_at < '{until}'::timestamptz"
    )


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries the parent's RSS at the
    fork into it across exec, so every child reported at least this script's ~1.2 GB (measured: all three
    side-venv paths printed the same 1180.2 MB)."""
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM:"))
    return int(hwm.split()[1]) / 1024


def child(path: str, url: str, handle: str, since: str, until: str) -> None:
    """One load of one path; prints rows, seconds and peak RSS as JSON."""
    from xbot_core.services.read import analytics

    source = analytics.open_source(handle, simulated=True, url=url)
    params = {**source.params, "since": since, "until": until}
    sql_text = analytics.render(analytics.analytics_sql("outcomes"), params)
    if path == CHOSEN:
        t = time.perf_counter()
        rows = analytics.load(source, "outcomes", since=since, until=until).height
    elif path in FORCED:
        from xbot_core.services.read import outcome_loader

        t = time.perf_counter()
        rows = outcome_loader.load_outcomes(url, params, force=FORCED[path]).height  # type: ignore[arg-type]
    elif path in SCANNER:
        import duckdb

        from xbot_core.adapters.db import pg_scanner

        con = duckdb.connect()
        con.execute(f"LOAD '{pg_scanner.extension_file()}'")
        con.execute(f"ATTACH '{url}' AS pg (TYPE postgres, READ_ONLY)")
        query = (
            table_sql(source.account_id, since, until)
            if path == "scanner_scan"
            else f"SELECT * FROM postgres_query('pg', $q${sql_text}$q$)"
        )
        t = time.perf_counter()
        rows = con.sql(query).to_arrow_table().num_rows
    else:
        import pandas as pd
        import sqlalchemy

        engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        t = time.perf_counter()
        with engine.connect() as conn:
            rows = len(pd.read_sql(sqlalchemy.text(sql_text), conn))
    seconds = time.perf_counter() - t
    print(json.dumps({"rows": rows, "seconds": seconds, "rss_mb": peak_rss_mb()}))


def run(argv: list[str]) -> dict:
    proc = subprocess.run(argv, capture_output=True, text=True)
    if proc.returncode != 0:
        return {"error": (proc.stderr.strip().splitlines() or ["exit " + str(proc.returncode)])[-1][:300]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--posts-per-day", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=151)
    ap.add_argument("--window-days", type=int, help="the history's last N days instead of all of it")
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    ap.add_argument("--since", default=SINCE, help=argparse.SUPPRESS)
    ap.add_argument("--until", default=UNTIL, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.url, HANDLE, args.since, args.until)
        return

    from _setup import database, ensure_history

    url = database()
    ensure_history(url, HANDLE, days=args.days, posts_per_day=args.posts_per_day)
    since, until = SINCE, UNTIL
    names: tuple[str, ...] = (CHOSEN, "pandas.read_sql", *SCANNER)
    if args.window_days:
        since, until = str(HISTORY_END - timedelta(days=args.window_days)), str(HISTORY_END)
        names = (CHOSEN, *FORCED)
    print(f"window [{since}, {until})")
    me = [sys.executable, str(Path(__file__).resolve()), "--url", url, "--since", since, "--until", until]
    paths = {name: [*me, "--child", name] for name in names}
    results: dict[str, list[dict]] = {name: [] for name in paths}
    loads = [os.getloadavg()]
    for i in range(args.repeat):
        for name, argv in paths.items():
            results[name].append(run(argv))
            print(f"  run {i + 1}/{args.repeat} {name}: {results[name][-1]}", flush=True)
        loads.append(os.getloadavg())

    def seconds(name: str) -> list[float]:
        return [r["seconds"] for r in results[name] if "seconds" in r]

    chosen = statistics.median(seconds(CHOSEN))
    print(f"\nrows per load: {results[CHOSEN][0]['rows']:,}; cores: {os.cpu_count()}")
    print("load average (1 min) before and after each round: " + ", ".join(f"{la[0]:.2f}" for la in loads))
    print(f"{'path':22} {'median s':>9} {'best s':>8} {'chosen speed-up':>16} {'peak RSS MB':>12}  rows")
    for name, runs in results.items():
        ok = seconds(name)
        if not ok:
            print(f"{name:22} error: {runs[0].get('error')}")
            continue
        med = statistics.median(ok)
        rss = max(r["rss_mb"] for r in runs if "rss_mb" in r)
        rows = {r["rows"] for r in runs if "rows" in r}
        print(f"{name:22} {med:9.3f} {min(ok):8.3f} {med / chosen:15.2f}x {rss:12.0f}  {sorted(rows)}")
    for name, target in (("pandas.read_sql", 12.0), ("scanner_scan", 1.0)):
        if name in results and seconds(name):
            got = statistics.median(seconds(name)) / chosen
            print(f"target chosen ≥ {target:g}× {name}: {got:.2f}× {'met' if got >= target else 'NOT met'}")


if __name__ == "__main__":
    main()
