"""Resolve the database URL from settings and open the one connection pool."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg_pool import ConnectionPool

from xbot_core import config_checks
from xbot_core.adapters.db import embedded
from xbot_core.errors import ConfigError, DatabaseError
from xbot_core.settings import Settings


def database_url(settings: Settings, *, start_embedded: bool = True) -> str:
    """XBOT_DATABASE_URL when set; otherwise the embedded server's URL (started on demand)."""
    if settings.database_url is not None:
        return checked(settings.database_url.get_secret_value())
    if start_embedded:
        return embedded.start(settings.pgdata)
    st = embedded.status(settings.pgdata)
    if st.url is None:
        raise DatabaseError(f"the embedded database in {settings.pgdata} is not running (xbot db start)")
    return st.url


def redact(url: str) -> str:
    """The URL with any password replaced, safe for logs. Never raises: an unparseable URL is hidden whole."""
    try:
        info = psycopg.conninfo.conninfo_to_dict(url)
        if info.get("password"):
            info["password"] = "***"
        return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]
    except Exception:
        return "<unparseable database URL, hidden>"


def checked(url: str) -> str:
    """`url` when it parses; otherwise a ConfigError raised before any connection attempt (so no driver or
    pool message can quote the password)."""
    try:
        config_checks.database_url(url)
    except ValueError as exc:
        raise ConfigError(f"database URL {exc}") from None
    return url


@contextmanager
def open_pool(url: str, *, max_size: int = 8, timeout: float = 10.0) -> Iterator[ConnectionPool]:
    """One pool per process, opened as a context manager and waited for at start-up."""
    pool = ConnectionPool(
        checked(url), min_size=1, max_size=max_size, open=False, timeout=timeout, kwargs={"autocommit": False}
    )
    try:
        pool.open(wait=True, timeout=timeout)
    except Exception as exc:
        raise DatabaseError(f"cannot reach the database at {redact(url)}: {exc}") from exc
    try:
        yield pool
    finally:
        pool.close()


def connect(url: str) -> psycopg.Connection:
    """A single connection (CLI one-offs and the migration runner)."""
    try:
        return psycopg.connect(checked(url))
    except psycopg.OperationalError as exc:
        raise DatabaseError(f"cannot reach the database at {redact(url)}: {exc}") from exc
