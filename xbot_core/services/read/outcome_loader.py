"""outcomes.sql's frame, read the fastest way the window allows (analytics.load(source, "outcomes") calls it).

A wide window (most of the table) is read by DuckDB's postgres_scanner (adapters/db/pg_scanner.py,
sql/analytics/scanner/outcomes.sql): both tables as page ranges on parallel connections sharing one snapshot,
joined in DuckDB; Postgres then runs no join and every core decodes. A narrow window (the daily report's two
weeks of a long history) is one query that looks each post's outcomes up by key, so it reads only the
window's rows. Which one: the planner's estimate of the window's posts against the table's size
(bench/load_outcomes.py, bench/render_daily.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from typing import Literal

import polars as pl
import psycopg

from xbot_core.adapters.db import pg_scanner
from xbot_core.adapters.db.connection import redact
from xbot_core.errors import DatabaseError
from xbot_core.services.read.analytics import (
    ANALYTICS_DIR,
    WORK_MEM,
    ParamValue,
    analytics_sql,
    load_sql,
    render,
)

Strategy = Literal["scan", "lookup"]

# A lookup by key costs several page reads per row where a page scan reads ~34 rows per page: below this
# share of the table's rows, the window's outcomes are looked up (a judgement from those costs; the
# crossover itself was not measured).
LOOKUP_SHARE = 0.2
# the key lookups must not turn into a hash join over the whole table (the planner's choice on a two-week
# window of a 1M-post history, 3× slower measured): nested loops over the primary key only
LOOKUP_SETTINGS = ("SET enable_hashjoin = off", "SET enable_mergejoin = off")


def choose(window_posts: float, outcome_rows: float, lookup_share: float = LOOKUP_SHARE) -> Strategy:
    """Look up the window's outcomes (2 passes per post) when they are under `lookup_share` of the table's
    rows; otherwise scan the tables. An unanalysed table (no estimate) is scanned."""
    if outcome_rows <= 0:
        return "scan"
    return "lookup" if 2 * window_posts < lookup_share * outcome_rows else "scan"


def estimate(url: str, posted_sql: str) -> tuple[float, float]:
    """(window posts, outcome rows) as the planner and the catalogue know them."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(f"EXPLAIN (FORMAT JSON) {posted_sql}").fetchone()
            stats = conn.execute("SELECT reltuples FROM pg_class WHERE oid = 'outcomes'::regclass").fetchone()
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot plan the outcomes read on {redact(url)}: {exc}") from exc
    assert row is not None and stats is not None
    plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
    return float(plan[0]["Plan"]["Plan Rows"]), float(stats[0])


@cache
def scanner_sql(name: str) -> str:
    """The text of sql/analytics/scanner/<name>.sql (DuckDB over the attached database)."""
    return (ANALYTICS_DIR / "scanner" / f"{name}.sql").read_text(encoding="utf-8").strip().rstrip(";")


def _narrow(url: str, params: Mapping[str, ParamValue], lookup_share: float) -> bool:
    window_posts, outcome_rows = estimate(url, render(analytics_sql("posted_times"), params))
    return choose(window_posts, outcome_rows, lookup_share) == "lookup"


def load_outcomes(
    url: str,
    params: Mapping[str, ParamValue],
    *,
    lookup_share: float = LOOKUP_SHARE,
    force: Strategy | None = None,
) -> pl.DataFrame:
    """outcomes.sql's frame for `params` (account, real/simulated side, window), by the chosen strategy."""
    strategy = force or ("lookup" if _narrow(url, params, lookup_share) else "scan")
    if strategy == "lookup":
        return load_sql(url, analytics_sql("outcomes"), params, LOOKUP_SETTINGS)
    return pg_scanner.scan(url, render(scanner_sql("outcomes"), params))


def load_decisions(
    url: str,
    params: Mapping[str, ParamValue],
    *,
    lookup_share: float = LOOKUP_SHARE,
    narrow: bool | None = None,
) -> pl.DataFrame:
    """decisions.sql's frame for `params`. A narrow window (where outcomes are looked up) joins
    content_metadata by key for the window's posts only instead of hashing the whole table (measured on a
    14-day window of a 1.5M-post history at load 10.7: 1.59–2.08 s → 0.92–1.36 s of Postgres execution);
    `narrow` forces either way."""
    if narrow is None:
        narrow = _narrow(url, params, lookup_share)
    settings = LOOKUP_SETTINGS if narrow else (f"SET work_mem = '{WORK_MEM}'",)
    return load_sql(url, analytics_sql("decisions"), params, settings)
