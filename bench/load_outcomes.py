"""Benchmark 1: load ~3M outcome rows (outcomes.sql over the whole history) from Postgres into a dataframe.

Paths, each run `--repeat` times, round-robin (so a change in the machine's load hits every path alike), each
run in a child process of this one (same server, same query, its own peak RSS):
  adbc_pages (chosen)  xbot_core.services.read.analytics.load(source, "outcomes"): page ranges on parallel
                       ADBC connections sharing one snapshot + the posts' times, joined in Polars on the
                       uuid as one UInt128
  adbc_pages 4 conn    the same on 4 connections, 2 ranges each (the default is one per core, at least 2)
  pandas.read_sql      SQLAlchemy + psycopg, the typical user's code
  scanner_scan         DuckDB's postgres_scanner reading both tables (parallel page ranges) and joining them
  scanner_query        the same extension running outcomes.sql itself in Postgres (postgres_query)
  connectorx           connectorx.read_sql(..., return_type="arrow")
The scanner exists only for duckdb 1.5.5 (the project runs duckdb 2.x), so the scanner and connectorx run in
a side venv that this script creates with uv on first use (--side-venv, default
~/.cache/xbot-bench/scanner-venv). The scanner's time excludes loading the extension and ATTACH.

    .venv/bin/python bench/load_outcomes.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

HANDLE = "bench_load"
SINCE, UNTIL = "2000-01-01", "2100-01-01"
CHOSEN = "adbc_pages (chosen)"
WIDER = "adbc_pages 4 conn"  # the chosen path on 4 connections (8 ranges): more readers than cores
SIDE_REQUIREMENTS = (
    "duckdb==1.5.5",
    "duckdb-extension-postgres-scanner==1.5.5",
    "pyarrow>=17",
    "connectorx>=0.4",
)
SIDE_VENV = Path.home() / ".cache" / "xbot-bench" / "scanner-venv"

# run by the side venv's python: one path, one load; prints a JSON line
SIDE = r"""
import glob, json, sys, time
import duckdb
path, url, sql_text, table_sql = sys.argv[1:5]
host = url.split("host=")[1]
if path == "connectorx":
    import connectorx as cx
    cx_url = f"postgresql://postgres@localhost/xbot_bench?host={host}"
    t = time.perf_counter()
    tbl = cx.read_sql(cx_url, sql_text, return_type="arrow")
else:
    pattern = "/lib/python*/site-packages/duckdb_extension_postgres_scanner/extensions/*/*.duckdb_extension"
    con = duckdb.connect()
    con.execute(f"LOAD '{glob.glob(sys.prefix + pattern)[0]}'")
    con.execute(f"ATTACH 'dbname=xbot_bench user=postgres host={host}' AS pg (TYPE postgres, READ_ONLY)")
    q = table_sql if path == "scanner_scan" else f"SELECT * FROM postgres_query('pg', $q${sql_text}$q$)"
    t = time.perf_counter()
    tbl = con.sql(q).to_arrow_table()
seconds = time.perf_counter() - t
hwm = next(line for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"rows": tbl.num_rows, "seconds": seconds, "rss_mb": int(hwm.split()[1]) / 1024}))
"""


def table_sql(account_id: int) -> str:
    """outcomes.sql written for the scanner: both tables scanned by DuckDB and joined there."""
    return (
        "SELECT o.decision_id, o.collected_pass, p.posted_at, o.collected_at, "
        "o.status, o.impressions, o.likes, o.retweets, o.replies, o.quotes, o.bookmarks, o.profile_visits, "
        "o.link_clicks, o.follows, o.follows_source, o.follows_confidence, o.er, o.fpki, o.retweet_rate, "
        "o.reply_rate, o.reward_composite, o.reward_version FROM pg.public.outcomes o "
        "JOIN pg.public.posted_decisions p ON p.decision_id = o.decision_id "
        f"WHERE p.account_id = {account_id} AND o.simulated "
        f"AND p.posted_at >= '{SINCE}'::timestamptz AND p.posted_at < '{UNTIL}'::timestamptz"
    )


def side_python(venv: Path) -> Path:
    """The side venv's python, created with uv (from this venv or PATH) when missing or out of date."""
    python = venv / "bin" / "python"
    stamp = venv / "xbot-bench-requirements.txt"
    wanted = "\n".join(SIDE_REQUIREMENTS)
    if python.exists() and stamp.exists() and stamp.read_text() == wanted:
        return python
    uv = Path(sys.executable).with_name("uv")
    uv_cmd = str(uv) if uv.exists() else shutil.which("uv")
    if uv_cmd is None:
        sys.exit("bench: uv is needed to create the side venv: pip install uv")
    print(f"creating the side venv {venv} ({', '.join(SIDE_REQUIREMENTS)}) with {uv_cmd}", flush=True)
    subprocess.run([uv_cmd, "venv", "--quiet", "--clear", "--python", sys.executable, str(venv)], check=True)
    subprocess.run(
        [uv_cmd, "pip", "install", "--quiet", "--python", str(python), *SIDE_REQUIREMENTS], check=True
    )
    stamp.write_text(wanted)
    return python


def peak_rss_mb() -> float:
    """This process's own peak RSS (VmHWM). Not getrusage's ru_maxrss: Linux carries the parent's RSS at the
    fork into it across exec, so every child reported at least this script's ~1.2 GB (measured: all three
    side-venv paths printed the same 1180.2 MB)."""
    with open("/proc/self/status") as status:
        hwm = next(line for line in status if line.startswith("VmHWM:"))
    return int(hwm.split()[1]) / 1024


def child(path: str, url: str, handle: str) -> None:
    """One load of one main-venv path; prints rows, seconds and peak RSS as JSON."""
    from xbot_core.services.read import analytics

    source = analytics.open_source(handle, simulated=True, url=url)
    if path == CHOSEN:
        t = time.perf_counter()
        rows = analytics.load(source, "outcomes", since=SINCE, until=UNTIL).height
    elif path == WIDER:
        from xbot_core.services.read import outcome_loader

        params = {**source.params, "since": SINCE, "until": UNTIL}
        config = outcome_loader.LoadConfig(connections=4, ranges_per_connection=2)
        t = time.perf_counter()
        rows = outcome_loader.load_outcomes(url, params, config).height
    else:
        import pandas as pd
        import sqlalchemy

        params = {**source.params, "since": SINCE, "until": UNTIL}
        sql_text = analytics.render(analytics.analytics_sql("outcomes"), params)
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
    ap.add_argument("--side-venv", type=Path, default=SIDE_VENV)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--url", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.url, HANDLE)
        return

    from _setup import database, ensure_history

    from xbot_core.services.read import analytics

    url = database()
    ensure_history(url, HANDLE, days=args.days, posts_per_day=args.posts_per_day)
    side = side_python(args.side_venv.expanduser())
    source = analytics.open_source(HANDLE, simulated=True, url=url)
    sql_text = analytics.render(
        analytics.analytics_sql("outcomes"), {**source.params, "since": SINCE, "until": UNTIL}
    )
    me = [sys.executable, str(Path(__file__).resolve()), "--url", url, "--child"]
    paths = {
        CHOSEN: [*me, CHOSEN],
        WIDER: [*me, WIDER],
        "pandas.read_sql": [*me, "pandas.read_sql"],
        "scanner_scan": [str(side), "-c", SIDE, "scanner_scan", url, sql_text, table_sql(source.account_id)],
        "scanner_query": [str(side), "-c", SIDE, "scanner_query", url, sql_text, ""],
        "connectorx": [str(side), "-c", SIDE, "connectorx", url, sql_text, ""],
    }
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
        if seconds(name):
            got = statistics.median(seconds(name)) / chosen
            print(f"target chosen ≥ {target:g}× {name}: {got:.2f}× {'met' if got >= target else 'NOT met'}")


if __name__ == "__main__":
    main()
