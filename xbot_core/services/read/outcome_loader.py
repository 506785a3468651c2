"""outcomes.sql's frame, read the fastest way the window allows (analytics.load(source, "outcomes") calls it).

A wide window (most of the table) is read like DuckDB's postgres_scanner reads a table: page ranges of
`outcomes` on parallel connections sharing one snapshot, plus the posts' times, joined in Polars; Postgres
then runs no join and every core decodes. A narrow window (the daily report's two weeks of a long history) is
one query that looks each post's outcomes up by key, so it reads only the window's rows. Which one: the
planner's estimate of the window's posts against the table's size (bench/load_outcomes.py,
bench/render_daily.py).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal

import polars as pl
import psycopg
import pyarrow as pa

from xbot_core.adapters.db.arrow_reader import page_ranges, snapshot_reader, tid
from xbot_core.adapters.db.connection import redact
from xbot_core.errors import DatabaseError
from xbot_core.services.read.analytics import (
    OUTCOME_COLUMNS,
    WORK_MEM,
    ParamValue,
    analytics_sql,
    render,
)

Strategy = Literal["pages", "lookup"]

# A lookup by key costs several page reads per row where a page scan reads ~34 rows per page: below this
# share of the table's rows, the window's outcomes are looked up (a judgement from those costs; the
# crossover itself was not measured).
LOOKUP_SHARE = 0.2
# the key lookups must not turn into a hash join over the whole table (the planner's choice on a two-week
# window of a 1M-post history, 3× slower measured): nested loops over the primary key only
LOOKUP_SETTINGS = ("SET LOCAL enable_hashjoin = off", "SET LOCAL enable_mergejoin = off")


@dataclass(frozen=True)
class LoadConfig:
    """How many connections read at once and how many page ranges each one reads in turn."""

    connections: int = max(2, min(8, os.cpu_count() or 2))
    ranges_per_connection: int = 4
    lookup_share: float = LOOKUP_SHARE


def choose(window_posts: float, outcome_rows: float, lookup_share: float = LOOKUP_SHARE) -> Strategy:
    """Look up the window's outcomes (2 passes per post) when they are under `lookup_share` of the table's
    rows; otherwise scan its pages. An unanalysed table (no estimate) is scanned."""
    if outcome_rows <= 0:
        return "pages"
    return "lookup" if 2 * window_posts < lookup_share * outcome_rows else "pages"


def estimate(url: str, posted_sql: str) -> tuple[float, float, int]:
    """(window posts, outcome rows, outcome pages) as the planner and the catalogue know them."""
    try:
        with psycopg.connect(url, autocommit=True) as conn:
            row = conn.execute(f"EXPLAIN (FORMAT JSON) {posted_sql}").fetchone()
            stats = conn.execute(
                "SELECT c.reltuples, pg_relation_size(c.oid) / current_setting('block_size')::bigint"
                "  FROM pg_class c WHERE c.oid = 'outcomes'::regclass"
            ).fetchone()
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot plan the outcomes read on {redact(url)}: {exc}") from exc
    assert row is not None and stats is not None
    plan = row[0] if isinstance(row[0], list) else json.loads(row[0])
    return float(plan[0]["Plan"]["Plan Rows"]), float(stats[0]), int(stats[1])


def uuid_key(column: str = "decision_id") -> pl.Expr:
    """A uuid's 16 bytes as one UInt128: a join on it hashes a fixed-width integer instead of a binary value
    (any byte order will do, both sides read it alike)."""
    return pl.col(column).bin.reinterpret(dtype=pl.UInt128).alias("_key")


def keyed_times(posted: pl.DataFrame) -> pl.DataFrame:
    """posted_times.sql's frame keyed for join_times."""
    return posted.select(uuid_key(), "posted_at")


def join_times(rows: pl.DataFrame, times: pl.DataFrame) -> pl.DataFrame:
    """`rows` with their post's `posted_at` from `times` (keyed_times), keeping only rows whose post is in it
    (an inner join that looks up the one key column instead of gathering every column)."""
    found = rows.select(uuid_key()).join(times, on="_key", how="left", maintain_order="left")
    # cut into `rows`' chunks: columns chunked alike are selected without copying the whole frame (measured:
    # a single-chunk column among the page ranges' chunks made the select below copy 3M rows, +360 MB)
    lengths = rows.get_column("decision_id").chunk_lengths()
    starts = [sum(lengths[:i]) for i in range(len(lengths))]
    pieces = [found["posted_at"].slice(s, n) for s, n in zip(starts, lengths, strict=True)]
    out = rows.with_columns(pl.concat(pieces, rechunk=False))
    if out["posted_at"].null_count():  # posted_at is NOT NULL: null means the post is outside the window
        out = out.filter(pl.col("posted_at").is_not_null())
    return out.select(OUTCOME_COLUMNS)


def _frame(table: pa.Table) -> pl.DataFrame:
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame


def load_outcomes(
    url: str,
    params: Mapping[str, ParamValue],
    config: LoadConfig | None = None,
    *,
    force: Strategy | None = None,
) -> pl.DataFrame:
    """outcomes.sql's frame for `params` (account, real/simulated side, window), by the chosen strategy."""
    config = config or LoadConfig()
    posted_query = render(analytics_sql("posted_times"), params)
    window_posts, outcome_rows, pages = estimate(url, posted_query)
    strategy = force or choose(window_posts, outcome_rows, config.lookup_share)
    if strategy == "lookup":
        with snapshot_reader(url, 1) as reader:
            (frame,) = reader.read([render(analytics_sql("outcomes"), params)], LOOKUP_SETTINGS, _frame)
        return frame
    pages_sql = analytics_sql("outcome_pages")
    ranges = page_ranges(pages, config.connections * config.ranges_per_connection)
    queries = [posted_query] + [
        render(pages_sql, {**params, "from_tid": tid(first), "to_tid": tid(end)}) for first, end in ranges
    ]
    with snapshot_reader(url, config.connections) as reader:
        posted, *parts = reader.read(queries, convert=_frame)
    return join_times(pl.concat(parts, rechunk=False), keyed_times(posted))


def load_decisions(
    url: str,
    params: Mapping[str, ParamValue],
    config: LoadConfig | None = None,
    *,
    narrow: bool | None = None,
) -> pl.DataFrame:
    """decisions.sql's frame for `params`. A narrow window (where outcomes are looked up) joins
    content_metadata by key for the window's posts only instead of hashing the whole table (measured on a
    14-day window of a 1.5M-post history at load 10.7: 1.59–2.08 s → 0.92–1.36 s of Postgres execution);
    `narrow` forces either way."""
    config = config or LoadConfig()
    if narrow is None:
        window_posts, outcome_rows, _ = estimate(url, render(analytics_sql("posted_times"), params))
        narrow = choose(window_posts, outcome_rows, config.lookup_share) == "lookup"
    settings = LOOKUP_SETTINGS if narrow else (f"SET LOCAL work_mem = '{WORK_MEM}'",)
    with snapshot_reader(url, 1) as reader:
        (frame,) = reader.read([render(analytics_sql("decisions"), params)], settings, _frame)
    return frame
