"""`xbot server` and `xbot deploy`: Prefect's own server on Postgres answers, runs a project flow, takes every
account's deployments on a process work pool whose worker runs them, and stops."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest

from tests.plugins.notebooks import CHROMIUM_ARGS
from tests.plugins.prefect import client_env, create_run, deployment_ids, run_state, xbot_deploy
from tests.plugins.sandbox import free_port
from xbot_core.adapters import prefect_server
from xbot_core.settings import PROJECT_DIR

pytestmark = [pytest.mark.flows, pytest.mark.db, pytest.mark.slow, pytest.mark.browser]


@pytest.fixture()
def ui_browser() -> Iterator[Any]:
    """Chromium for this test only: the session-wide one (tests/plugins/notebooks.py) keeps Playwright's sync
    loop running in the main thread, which would break later tests that call asyncio.run (test_serve)."""
    from playwright.sync_api import sync_playwright

    path = os.environ.get("XBOT_CHROMIUM_PATH", "/usr/bin/chromium")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=path, args=CHROMIUM_ARGS, headless=True)
        yield browser
        browser.close()


def test_server_on_postgres_runs_a_flow_and_stops(
    prefect_db: str, clean_db: str, tmp_path: Path, ui_browser: Any
) -> None:
    port = free_port()
    state = prefect_server.start(tmp_path, prefect_db, port=port)
    try:
        assert state.api_url == f"http://127.0.0.1:{port}/api"
        assert httpx.get(f"{state.api_url}/health", timeout=5).json() is True
        assert "prefect_test_" in state.database and state.database.startswith("postgresql+asyncpg://")
        again = prefect_server.read_state(tmp_path)
        assert again is not None and again.running and again.healthy and again.pid == state.pid

        env = client_env(state.api_url, clean_db)
        done = subprocess.run(
            [sys.executable, "-c", "from flows.learn import learn; print(learn(seed=1))"],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
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

        run_id = _deploy_and_run_on_a_worker(state.api_url, clean_db, env)
        _check_the_ui(ui_browser, state.ui_url, run_id)
    finally:
        assert prefect_server.stop(tmp_path) is True
    assert prefect_server.read_state(tmp_path) is None
    assert not prefect_server.healthy(state.api_url)
    assert prefect_server.stop(tmp_path) is False


def _deploy_and_run_on_a_worker(api: str, db: str, env: dict[str, str]) -> str:
    """`xbot deploy --pool` puts each account's flows on a process pool; a worker process runs one."""
    with psycopg.connect(db) as conn:
        conn.execute(
            "INSERT INTO accounts (handle, x_base_url, timezone)"
            " VALUES ('alice_1', 'http://127.0.0.1:1', 'Europe/Berlin')"
        )
    assert "10 deployments on pool xbot-test for 2 account(s)" in xbot_deploy("xbot-test", env)

    deployments = httpx.post(f"{api}/deployments/filter", json={"limit": 50}, timeout=10).json()
    assert len(deployments) == 10 and {d["work_pool_name"] for d in deployments} == {"xbot-test"}
    alice = {d["entrypoint"].split(":")[1]: d for d in deployments if d["name"] == "alice_1"}
    assert set(alice) == {"plan_and_generate", "post_due", "collect_metrics", "learn", "render_reports"}
    assert all(d["parameters"] == {"account": "alice_1"} for d in alice.values())
    assert {d["schedules"][0]["schedule"]["timezone"] for d in alice.values()} == {"Europe/Berlin"}

    assert deployment_ids(api)[("learn", "alice_1")] == alice["learn"]["id"]
    run_id = create_run(api, alice["learn"]["id"], {"seed": 3})
    worker = subprocess.run(
        [sys.executable, "-m", "prefect", "worker", "start", "--pool", "xbot-test", "--run-once"],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert worker.returncode == 0, worker.stderr[-2000:]
    assert run_state(api, run_id) == "COMPLETED", (worker.stdout[-2000:], worker.stderr[-2000:])
    with psycopg.connect(db) as conn:
        trained = conn.execute(
            "SELECT a.handle, r.status FROM training_runs r JOIN accounts a USING (account_id)"
            " WHERE a.handle = 'alice_1'"
        ).fetchall()
    assert trained == [("alice_1", "insufficient_data")]
    return run_id


def _check_the_ui(chromium: Any, ui: str, run_id: str) -> None:
    """In a real browser: the deployments page lists every account's deployments; the run shows its logs."""
    page = chromium.new_context().new_page()
    try:
        page.goto(f"{ui}/deployments")
        page.get_by_text("alice_1").first.wait_for(timeout=60_000)
        assert page.get_by_text("alice_1").count() == 5
        page.goto(f"{ui}/runs/flow-run/{run_id}")
        page.get_by_text("Finished in state Completed").first.wait_for(timeout=60_000)
    finally:
        page.context.close()
