"""Read Postgres through DuckDB's postgres_scanner into Polars (Arrow).

The scanner reads each table of a query as binary COPY of ctid page ranges on parallel connections (one
per DuckDB thread) and runs the rest of the query (joins, projections) in DuckDB, so Postgres only scans
and every core decodes. The extension is LOADed from the file that the `duckdb-extension-postgres-scanner`
package installs (pinned to the project's duckdb version): nothing is downloaded.

Consistency: DuckDB opens one REPEATABLE READ, READ ONLY transaction on the attached database for the
query; for a parallel scan the scanner exports that transaction's snapshot (pg_export_snapshot) and its
other connections import it, so every page range of every table is read as of one snapshot — when it can:
a server that cannot export a snapshot (a hot standby) gets parallel readers with their own snapshots.
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import duckdb
import polars as pl

from xbot_core.adapters.db.connection import redact
from xbot_core.errors import ConfigError, DatabaseError

PACKAGE = "duckdb-extension-postgres-scanner"
ALIAS = "pg"  # queries name the attached database's tables pg.public.<table>


def extension_file() -> Path:
    """The postgres_scanner extension built for the installed duckdb, from the PACKAGE's files."""
    spec = importlib.util.find_spec(PACKAGE.replace("-", "_"))
    roots = [] if spec is None else list(spec.submodule_search_locations or [])
    if not roots:
        raise ConfigError(f"the Python package {PACKAGE}=={duckdb.__version__} is not installed")
    for root in roots:
        path = Path(root) / "extensions" / f"v{duckdb.__version__}" / "postgres_scanner.duckdb_extension"
        if path.is_file():
            return path
    raise ConfigError(
        f"the installed {PACKAGE} holds no extension for duckdb {duckdb.__version__}"
        f" (install {PACKAGE}=={duckdb.__version__})"
    )


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _hidden(message: str, url: str) -> str:
    """A DuckDB error message with the URL (it may hold a password) replaced by its redacted form."""
    return message.replace(url, redact(url))


def scan(url: str, sql_text: str) -> pl.DataFrame:
    """Run DuckDB `sql_text` over the Postgres database at `url` (attached read-only as `pg`); the result as
    Polars. uuid columns arrive as 16-byte binary, timestamptz in UTC (as the ADBC reads give them)."""
    extension = extension_file()
    con = duckdb.connect(config={"autoinstall_known_extensions": False, "autoload_known_extensions": False})
    try:
        con.execute("SET TimeZone = 'UTC'")
        con.execute("SET arrow_lossless_conversion = true")  # uuid as 16 bytes, not text
        con.execute(f"LOAD {_quoted(str(extension))}")
        try:
            con.execute(f"ATTACH {_quoted(url)} AS {ALIAS} (TYPE postgres, READ_ONLY)")
        except duckdb.Error as exc:
            raise DatabaseError(f"cannot attach {redact(url)}: {_hidden(str(exc), url)}") from None
        try:
            table = con.sql(sql_text).to_arrow_table()
        except duckdb.Error as exc:
            raise DatabaseError(f"scan of {redact(url)} failed: {_hidden(str(exc), url)}") from None
    finally:
        con.close()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame
