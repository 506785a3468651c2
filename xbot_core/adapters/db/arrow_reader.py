"""Read Postgres into Arrow on several ADBC connections that share one snapshot.

This is how DuckDB's postgres_scanner reads a table fast (binary COPY of page ranges on parallel
connections, one exported snapshot so the parts add up to one consistent read), done with ADBC so that the
project's own DuckDB/Polars need no extension. Each connection runs one query at a time; ADBC releases the
GIL while it fetches, so the Postgres backends and the Arrow decoding run on every core.
"""

from __future__ import annotations

import itertools
import queue
import re
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from typing import Any, TypeVar

import pyarrow as pa
from adbc_driver_postgresql import dbapi as adbc

from xbot_core.adapters.db.connection import redact
from xbot_core.errors import DatabaseError

T = TypeVar("T")

# Postgres' largest block number + 1 (BlockNumber is uint32; 0xFFFFFFFF is InvalidBlockNumber)
END_OF_TABLE = 0xFFFFFFFF


def page_ranges(pages: int, parts: int) -> list[tuple[int, int]]:
    """`parts` contiguous [first, end) page ranges covering pages 0..`pages`; the last one runs to the end of
    the table (rows a concurrent writer appends stay invisible to the snapshot, but never fall between)."""
    if parts < 1:
        raise ValueError(f"parts must be at least 1, got {parts}")
    parts = max(1, min(parts, pages))
    bounds = [pages * i // parts for i in range(parts)] + [END_OF_TABLE]
    return list(itertools.pairwise(bounds))


def _same(table: pa.Table) -> Any:
    return table


def tid(page: int) -> str:
    """The first tuple id of a page, as a `tid` literal's text."""
    return f"({page},0)"


class SnapshotReader:
    """Connections in one REPEATABLE READ, READ ONLY snapshot; `read` spreads queries over them."""

    def __init__(self, connections: list[adbc.Connection], url: str) -> None:
        self._connections = connections
        self._url = url

    @property
    def size(self) -> int:
        return len(self._connections)

    def scalar(self, sql_text: str) -> object:
        """The first column of the first row of a query (on the first connection)."""
        with self._connections[0].cursor() as cur:
            cur.execute(sql_text)
            row = cur.fetchone()
        return None if row is None else row[0]

    def read(
        self, queries: Sequence[str], settings: Sequence[str] = (), convert: Callable[[pa.Table], T] = _same
    ) -> list[T]:
        """Every query's rows, in the order given, as Arrow passed through `convert` (on the reading thread,
        so each result is converted while other queries run); `settings` (SET LOCAL ...) run before each."""
        free: queue.SimpleQueue[adbc.Connection] = queue.SimpleQueue()
        for conn in self._connections:
            free.put(conn)

        def run(sql_text: str) -> T:
            conn = free.get()
            try:
                with conn.cursor() as cur:
                    for statement in settings:
                        cur.execute(statement)
                    cur.execute(sql_text)
                    table = cur.fetch_arrow_table()
            except adbc.Error as exc:
                raise DatabaseError(f"analytics read failed on {redact(self._url)}: {exc}") from exc
            finally:
                free.put(conn)
            return convert(table)

        if len(queries) == 1 or self.size == 1:
            return [run(q) for q in queries]
        with ThreadPoolExecutor(min(self.size, len(queries)), thread_name_prefix="xbot-read") as pool:
            return list(pool.map(run, queries))


@contextmanager
def snapshot_reader(url: str, connections: int) -> Iterator[SnapshotReader]:
    """Open `connections` ADBC connections whose transactions all see the first one's snapshot."""
    opened: list[adbc.Connection] = []
    try:
        try:
            for _ in range(max(1, connections)):
                opened.append(adbc.connect(url, autocommit=False))
            snapshot = _export_snapshot(opened[0])
            for conn in opened[1:]:
                with conn.cursor() as cur:
                    cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
                    cur.execute(f"SET TRANSACTION SNAPSHOT '{snapshot}'")
        except adbc.Error as exc:
            raise DatabaseError(f"cannot open parallel readers on {redact(url)}: {exc}") from exc
        yield SnapshotReader(opened, url)
    finally:
        for conn in opened:
            try:
                conn.rollback()
            except adbc.Error:
                pass  # a broken connection has nothing to roll back
            conn.close()


def _export_snapshot(conn: adbc.Connection) -> str:
    with conn.cursor() as cur:
        cur.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        cur.execute("SELECT pg_export_snapshot()")
        row = cur.fetchone()
    snapshot = "" if row is None else str(row[0])
    if not re.fullmatch(r"[0-9A-F]+(-[0-9A-F]+)+", snapshot):  # it is quoted into SET TRANSACTION SNAPSHOT
        raise DatabaseError(f"unexpected snapshot id from pg_export_snapshot(): {snapshot!r}")
    return snapshot
