"""Benchmark 1: load ~3M outcome rows from Postgres into a dataframe, in one run.

Chosen path (ADBC → Arrow → Polars, xbot_core.services.analytics.load) vs pandas.read_sql (SQLAlchemy +
psycopg, the typical user's code) vs DuckDB's postgres_scanner and connectorx. The scanner only exists for
duckdb 1.5.5 (we run duckdb 2.0.1), so it runs in a side venv (/tmp/xbot-bench/scanner-venv: duckdb==1.5.5,
duckdb-extension-postgres-scanner==1.5.5, connectorx) as a subprocess on the same server and query.

    .venv/bin/python bench/load_outcomes.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _setup import database, ensure_history

from xbot_core.services import analytics

HANDLE = "bench_load"
SIDE_PY = Path("/tmp/xbot-bench/scanner-venv/bin/python")
SIDE = r"""
import json, sys, time, glob, duckdb
url, sql_text, table_sql, repeat = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
out = {}
pattern = "/lib/python*/site-packages/duckdb_extension_postgres_scanner/extensions/*/*.duckdb_extension"
ext = glob.glob(sys.prefix + pattern)[0]
con = duckdb.connect()
con.execute(f"LOAD '{ext}'")
host = url.split("host=")[1]
con.execute(f"ATTACH 'dbname=xbot_bench user=postgres host={host}' AS pg (TYPE postgres, READ_ONLY)")
queries = (("scanner_query", f"SELECT * FROM postgres_query('pg', $q${sql_text}$q$)"),
           ("scanner_scan", table_sql))
for name, q in queries:
    times = []
    for _ in range(repeat):
        t = time.perf_counter(); tbl = con.sql(q).to_arrow_table(); times.append(time.perf_counter() - t)
    out[name] = {"rows": tbl.num_rows, "times": times}
try:
    import connectorx as cx
    cx_url = f"postgresql://postgres@localhost/xbot_bench?host={host}"
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        tbl = cx.read_sql(cx_url, sql_text, return_type="arrow")
        times.append(time.perf_counter() - t)
    out["connectorx"] = {"rows": tbl.num_rows, "times": times}
except Exception as exc:
    out["connectorx"] = {"error": str(exc)[:300]}
print(json.dumps(out))
"""


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--posts-per-day", type=int, default=10_000)
    ap.add_argument("--days", type=int, default=151)
    args = ap.parse_args()
    url = database()
    ensure_history(url, HANDLE, days=args.days, posts_per_day=args.posts_per_day)
    source = analytics.open_source(HANDLE, simulated=True, url=url)
    params = {**source.params, "since": "2000-01-01", "until": "2100-01-01"}
    sql_text = analytics.render(analytics.analytics_sql("outcomes"), params)

    results: dict[str, dict] = {}
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        frame = analytics.load(source, "outcomes", since="2000-01-01", until="2100-01-01")
        times.append(time.perf_counter() - t)
    results["adbc_polars (chosen)"] = {"rows": frame.height, "times": times}
    del frame

    import pandas as pd
    import sqlalchemy

    engine = sqlalchemy.create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    t = time.perf_counter()
    with engine.connect() as conn:
        pdf = pd.read_sql(sqlalchemy.text(sql_text), conn)
    results["pandas.read_sql"] = {"rows": len(pdf), "times": [time.perf_counter() - t]}
    del pdf

    table_sql = (
        "SELECT o.decision_id, o.collected_pass, p.posted_at, o.collected_at, "
        "o.status, o.impressions, o.likes, o.retweets, o.replies, o.quotes, o.bookmarks, o.profile_visits, "
        "o.link_clicks, "
        "o.follows, o.follows_source, o.follows_confidence, o.er, o.fpki, o.retweet_rate, o.reply_rate, "
        "o.reward_composite, o.reward_version FROM pg.public.outcomes o "
        "JOIN pg.public.posted_decisions p ON p.decision_id = o.decision_id "
        f"WHERE p.account_id = {source.account_id} AND o.simulated"
    )
    if SIDE_PY.exists():
        proc = subprocess.run(
            [str(SIDE_PY), "-c", SIDE, url, sql_text, table_sql, str(args.repeat)],
            capture_output=True,
            text=True,
        )
        if proc.returncode == 0:
            results.update(json.loads(proc.stdout.strip().splitlines()[-1]))
        else:
            results["scanner"] = {"error": proc.stderr[-500:]}
    else:
        results["scanner"] = {"error": f"side venv {SIDE_PY} missing (see module docstring)"}

    chosen = statistics.median(results["adbc_polars (chosen)"]["times"])
    print(f"\nrows per load: {results['adbc_polars (chosen)']['rows']:,}")
    print(f"{'path':28} {'median s':>9} {'best s':>8} {'chosen speed-up':>16}")
    for name, r in results.items():
        if "error" in r:
            print(f"{name:28} error: {r['error']}")
            continue
        med = statistics.median(r["times"])
        print(f"{name:28} {med:9.3f} {min(r['times']):8.3f} {med / chosen:15.2f}x   rows={r['rows']:,}")


if __name__ == "__main__":
    main()
