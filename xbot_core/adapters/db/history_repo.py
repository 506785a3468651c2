"""Imported X history: the import's account, lock, stage and COPY paths, the LLM label cache and the rows the
history prior learns from. One named query each (sql/queries), callers own the transaction."""

from __future__ import annotations

from typing import Any

import polars as pl
import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from xbot_core.adapters.db.queries import query


def account_timezone(conn: psycopg.Connection, handle: str) -> str | None:
    """The time zone of the account `handle`; None when there is no such account yet."""
    found = conn.execute(query("import_account_timezone"), {"handle": handle}).fetchone()
    return str(found[1]) if found else None


def ensure_account(conn: psycopg.Connection, handle: str, *, x_base_url: str, timezone: str) -> int:
    """The account row of an import (created as a real account when missing); returns its id."""
    row = conn.execute(
        query("import_ensure_account"), {"handle": handle, "x_base_url": x_base_url, "timezone": timezone}
    ).fetchone()
    assert row is not None
    return int(row[0])


def lock_account(conn: psycopg.Connection, params: dict[str, object]) -> None:
    """Serialise imports of one account (transaction-scoped)."""
    conn.execute(query("import_lock_account"), params)


def plan_bulk_reference_checks(conn: psycopg.Connection) -> None:
    """For the rest of the transaction: the reference triggers check a large batch with a merge anti-join
    (sql/queries/imports.sql § import_bulk_reference_plan says why and what it measured)."""
    conn.execute(query("import_bulk_reference_plan"))


def fetch_frame(
    conn: psycopg.Connection, name: str, params: dict[str, object], schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    """A named query's rows through COPY … TO STDOUT (CSV) into a typed frame."""
    stmt = sql.SQL("COPY ({}) TO STDOUT WITH (FORMAT csv, HEADER)").format(sql.SQL(query(name)))  # type: ignore[arg-type]
    buf = bytearray()
    with conn.cursor() as cur, cur.copy(stmt, params) as copy:
        for chunk in copy:
            buf += chunk
    frame = pl.read_csv(bytes(buf), infer_schema=False)
    casts = []
    for c, t in schema.items():
        if t == pl.Boolean():
            casts.append(pl.col(c) == "t")
        elif t == pl.Date():
            casts.append(pl.col(c).str.to_date("%Y-%m-%d"))
        else:
            casts.append(pl.col(c).cast(t))
    return frame.select([e.alias(c) for e, c in zip(casts, schema, strict=True)])


def copy_frame(conn: psycopg.Connection, table: str, frame: pl.DataFrame) -> None:
    """COPY a frame whose column names are the table's, as CSV (Polars writes it in one pass; an empty
    cell is NULL, a quoted empty string is '')."""
    if frame.height == 0:
        return
    stmt = sql.SQL("COPY {} ({}) FROM STDIN WITH (FORMAT csv)").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in frame.columns)
    )
    with conn.cursor() as cur, cur.copy(stmt) as copy:
        chunk = 100_000
        for start in range(0, frame.height, chunk):
            copy.write(frame.slice(start, chunk).write_csv(include_header=False, null_value=""))


def apply_stage(conn: psycopg.Connection, stage: pl.DataFrame, params: dict[str, object]) -> None:
    """Times of day that arrived and changed reads, through the stage table and two UPDATEs."""
    conn.execute(query("import_clear_stage"))
    copy_frame(conn, "imported_stage", stage)
    conn.execute(query("import_time_from_stage"), params)
    conn.execute(query("import_reads_from_stage"), params)
    conn.execute(query("import_clear_stage"))


def unlabelled_texts(conn: psycopg.Connection, account_id: int) -> list[tuple[Any, str]]:
    """(tweet_id, text) of the account's imported original posts (the LLM labeller's input)."""
    return conn.execute(query("classify_unlabelled_texts"), {"account_id": account_id}).fetchall()


def labels_for(conn: psycopg.Connection, hashes: list[str]) -> list[tuple[str, str]]:
    """(text_hash, content_type) of the cached LLM labels among `hashes`."""
    return conn.execute(query("content_type_labels_for"), {"hashes": hashes}).fetchall()


def insert_label(conn: psycopg.Connection, **row: object) -> None:
    """Cache one LLM label (idempotent per text hash)."""
    conn.execute(query("content_type_label_insert"), row)


def prior_posts(conn: psycopg.Connection, account_id: int) -> list[dict[str, Any]]:
    """The imported posts the history prior learns from, as dict rows."""
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(query("history_prior_posts"), {"account_id": account_id}).fetchall()
