"""Fault test with real processes: the database stops in the middle of a collection run and comes back.

Uses an embedded Postgres of its own (separate data dir): stopping it leaves the session server alone.
"""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
from psycopg import sql

from tests.faults.test_exactly_once import finish, start_worker, worker_env
from tests.plugins.posting import SANDBOX_HANDLE
from tests.plugins.sandbox import SandboxAdmin
from xbot_core.adapters.db import embedded, migrations
from xbot_core.adapters.db import repositories as repo
from xbot_core.domain.text import content_hash

pytestmark = [pytest.mark.db, pytest.mark.browser, pytest.mark.slow]

PGDATA = Path(f"/tmp/xbot-fault-{os.getuid()}/pgdata")
DBNAME = "xbot_fault"


def _url(server_url: str) -> str:
    info = psycopg.conninfo.conninfo_to_dict(server_url)
    info["dbname"] = DBNAME
    return psycopg.conninfo.make_conninfo(**info)  # type: ignore[arg-type]


@pytest.fixture
def own_server() -> Iterator[str]:
    """A migrated database on an embedded server that this test may stop and start."""
    server = embedded.start(PGDATA)
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DBNAME)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DBNAME)))
    url = _url(server)
    migrations.migrate(url)
    yield url
    embedded.stop(PGDATA)


def count(url: str) -> int:
    with psycopg.connect(url, connect_timeout=5) as conn:
        row = conn.execute("SELECT count(*) FROM outcomes").fetchone()
        return int(row[0]) if row else 0


def test_database_restart_mid_collection_loses_nothing(
    own_server: str, x_client: Any, sandbox_admin: SandboxAdmin
) -> None:
    n = 12
    with psycopg.connect(own_server) as conn:
        account = repo.ensure_account(conn, SANDBOX_HANDLE, sandbox_admin.url, None)
        now = sandbox_admin.now()
        for i in range(n):
            text = f"Database restart test post {i}: nothing may be lost."
            repo.insert_decision(
                conn,
                repo.DecisionRow(
                    decision_id=uuid.uuid4(),
                    account_id=account,
                    content=text,
                    content_hash=content_hash(text),
                    status="queued",
                    skip_reason=None,
                    generation_source="real",
                    simulated=True,
                    scheduled_at=now,
                    content_type="tip",
                    hook_pattern="how_to",
                    timing_slot="morning",
                    policy="uniform",
                ),
            )
    wenv = worker_env(own_server, sandbox_admin.url, str(x_client.session_file))
    code, out, err = finish(start_worker(wenv, "drain"))
    assert code == 0 and len(out["posted"]) == n, err
    sandbox_admin.advance(timedelta(hours=1, minutes=5).total_seconds())

    sandbox_admin.faults(latency_ms=150)  # a collection of n posts takes seconds: time to pull the plug
    proc = start_worker(wenv, "collect", "2")  # commit every 2 passes
    deadline = time.monotonic() + 90
    stored_before = 0
    while time.monotonic() < deadline and proc.poll() is None:
        stored_before = count(own_server)
        if stored_before >= 2:
            break
        time.sleep(0.05)
    assert 2 <= stored_before < n, f"collection did not progress as expected ({stored_before})"
    assert embedded.stop(PGDATA)  # the database goes away mid-run
    code, out, err = finish(proc, timeout=120)
    sandbox_admin.faults(latency_ms=0)
    assert code != 0, "the worker should fail when the database disappears"

    url = _url(embedded.start(PGDATA))
    assert url == own_server
    kept = count(url)
    assert stored_before <= kept < n  # every committed batch survived the restart; the rest is still pending
    with psycopg.connect(url) as conn:
        first_reads = dict(conn.execute("SELECT decision_id, collected_at FROM outcomes").fetchall())

    code, out, err = finish(start_worker(wenv, "collect", "4"))
    assert code == 0, err
    assert out == {"stored": n - kept, "due": n - kept}
    with psycopg.connect(url) as conn:
        rows = conn.execute(
            "SELECT decision_id, collected_pass, status, impressions, collected_at FROM outcomes"
        ).fetchall()
        posted = {r[0] for r in conn.execute("SELECT decision_id FROM posted_decisions").fetchall()}
    assert len(rows) == n and {r[0] for r in rows} == posted and {r[1] for r in rows} == {1}
    assert all(r[2] == "ok" and r[3] is not None for r in rows)
    # passes stored before the restart were not read again
    assert all(dict((r[0], r[4]) for r in rows)[d] == t for d, t in first_reads.items())
