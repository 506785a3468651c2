"""Shared set-up of the analytics benchmarks: the embedded server under /tmp/xbot-bench and a migrated
database holding seeded simulated histories written by xbot_core.services.simulation.history (through the
repositories)."""

from __future__ import annotations

import os
import time
from datetime import date
from pathlib import Path

import psycopg
from psycopg import sql

from xbot_core.adapters.db import embedded, migrations
from xbot_core.services.simulation import history

PGDATA = Path(os.environ.get("XBOT_BENCH_PGDATA", "/tmp/xbot-bench/pgdata"))
DBNAME = "xbot_bench"


def database() -> str:
    """URL of the migrated benchmark database (created on first use)."""
    server = embedded.start(PGDATA)
    with psycopg.connect(server, autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (DBNAME,)).fetchone() is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DBNAME)))
    url = server.replace("/postgres?", f"/{DBNAME}?")
    migrations.migrate(url)
    return url


def ensure_history(url: str, handle: str, *, days: int, posts_per_day: int) -> int:
    """The account's simulated history (generated once; reused while its size matches); returns its posts."""
    with psycopg.connect(url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM content_metadata c JOIN accounts a USING (account_id) WHERE a.handle = %s",
            (handle,),
        ).fetchone()
        have = int(row[0]) if row else 0
        if have == days * posts_per_day:
            return have
        cfg = history.HistoryConfig(
            seed=7, handle=handle, end_day=date(2026, 1, 7), days=days, posts_per_day=posts_per_day
        )
        t = time.perf_counter()
        result = history.generate(conn, cfg, replace=have > 0)
        print(
            f"generated @{handle}: {result.posts:,} posts, {result.outcomes:,} outcomes "
            f"in {time.perf_counter() - t:.1f} s"
        )
    # what autovacuum does after a bulk load: hint bits set and statistics current, so every path reads the
    # same settled tables (the first reader would otherwise pay for writing hint bits)
    with psycopg.connect(url, autocommit=True) as conn:
        for table in ("outcomes", "posted_decisions", "content_metadata"):
            conn.execute(sql.SQL("VACUUM (ANALYZE) {}").format(sql.Identifier(table)))
    return result.posts
