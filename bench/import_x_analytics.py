"""Benchmark: import 1,000,000 synthetic rows of X's current "content" export (target ≤ 15 s).

Writes a seeded synthetic export (quoted day-only dates, texts with commas, replies, a few thousands
separators) once under /tmp/xbot-bench-import/, then times `services.imports.import_exports` end to end
(read + parse + COPY into the stage + upserts + commit) into an empty account, and again on the same file
(the idempotent path: nothing changes). The embedded server's data dir comes from XBOT_BENCH_PGDATA.

    .venv/bin/python bench/import_x_analytics.py [--rows 1000000] [--repeat 2]
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import date, timedelta
from pathlib import Path

import psycopg
from psycopg import sql

from xbot_core.adapters.db import embedded, migrations
from xbot_core.domain.x_analytics import parse_export
from xbot_core.services.operations.imports import import_exports

WORK = Path("/tmp/xbot-bench-import")
PGDATA = Path(os.environ.get("XBOT_BENCH_PGDATA", "/tmp/xbot-bench/pgdata"))
DBNAME = "xbot_bench_import"
HANDLE = "bench_import"
HEADER = (
    "Post id,Date,Post text,Post Link,Impressions,Likes,Engagements,Bookmarks,Shares,New follows,Replies,"
    "Reposts,Profile visits,Detail Expands,URL Clicks,Hashtag Clicks,Permalink Clicks\n"
)


def synthetic_export(rows: int, seed: int = 7) -> Path:
    """The export file (written once per size and seed), named as X names it."""
    end = date(2026, 7, 31)
    path = WORK / f"bench_{rows}_{seed}_account_analytics_content_2023-01-01_{end.isoformat()}.csv"
    if path.exists():
        return path
    WORK.mkdir(parents=True, exist_ok=True)
    rng = random.Random(seed)
    out = [HEADER]
    for i in range(rows):
        day = end - timedelta(days=i * 1300 // rows)
        shown = f"{day:%a}, {day:%b} {day.day}, {day.year}"
        tid = 2_083_233_041_749_619_167 - i * 977
        impressions = int(rng.paretovariate(1.3) * 40)
        imp = f'"{impressions:,}"' if impressions >= 1000 else str(impressions)
        text = (
            f"@someone thanks, that helps ({i})"
            if rng.random() < 0.4
            else f"Post {i}: one idea, stated plainly"
        )
        likes = rng.randint(0, 5)
        out.append(
            f'{tid},"{shown}","{text}",https://x.com/{HANDLE}/status/{tid},{imp},{likes},{likes + 1},'
            f"0,0,{int(rng.random() < 0.01)},0,0,{rng.randint(0, 2)},1,0,0,0\n"
        )
    path.write_text("".join(out), encoding="utf-8")
    return path


def database() -> str:
    server = embedded.start(PGDATA)
    with psycopg.connect(server, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DBNAME,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DBNAME)))
    url = server.replace("/postgres?", f"/{DBNAME}?")
    migrations.migrate(url)
    return url


def reset(url: str) -> None:
    """Empty the imported history (this benchmark's own database)."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("TRUNCATE imported_reads, imported_post_rows, imported_stage")


def _backend_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) of a local server backend, from /proc (the embedded server is local)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run(url: str, path: Path) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process + its server backend, result). On a shared machine the
    CPU figure is what the import costs; the wall figure also counts waiting for the cores."""
    with psycopg.connect(url) as conn:
        backend = conn.info.backend_pid
        cpu0, server0, t = time.process_time(), _backend_cpu_s(backend), time.perf_counter()
        result = import_exports(
            conn,
            [path],
            handle=HANDLE,
            x_base_url="http://127.0.0.1:1",
            default_timezone="UTC",
            as_of=None,
            today=date.today(),
        )
        wall = time.perf_counter() - t
        cpu = time.process_time() - cpu0 + _backend_cpu_s(backend) - server0
    return wall, cpu, result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=2)
    args = ap.parse_args()
    path = synthetic_export(args.rows)
    data = path.read_bytes()
    print(f"export: {path} ({len(data) / 1e6:.0f} MB, {args.rows:,} rows)")
    t = time.perf_counter()
    parsed = parse_export(data, path.name)
    print(f"parse only: {time.perf_counter() - t:.2f} s ({parsed.frame.height:,} posts)")
    url = database()
    fresh, again = [], []
    print(f"load average before: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    for _ in range(args.repeat):
        reset(url)
        s, cpu, result = run(url, path)
        fresh.append((s, cpu))
        print(f"import into an empty account: {s:.2f} s wall, {cpu:.2f} s CPU  ({result.message})")  # type: ignore[attr-defined]
        s, cpu, result = run(url, path)
        again.append((s, cpu))
        print(f"same file again (idempotent): {s:.2f} s wall, {cpu:.2f} s CPU  ({result.message})")  # type: ignore[attr-defined]
    print(f"load average after: {os.getloadavg()[0]:.1f}")
    print(
        f"median of {args.repeat}: fresh import {statistics.median(w for w, _ in fresh):.2f} s wall "
        f"({statistics.median(c for _, c in fresh):.2f} s CPU), re-import "
        f"{statistics.median(w for w, _ in again):.2f} s wall "
        f"({statistics.median(c for _, c in again):.2f} s CPU)"
        " — target ≤ 15 s for the fresh import"
    )


if __name__ == "__main__":
    main()
