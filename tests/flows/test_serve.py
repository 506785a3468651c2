"""`xbot serve` in a real process against a Prefect server: deployments register, a run executes."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from typing import Any

import psycopg
import pytest

from tests.plugins.posting import SANDBOX_HANDLE
from xbot_core.settings import PROJECT_DIR

pytestmark = [pytest.mark.flows, pytest.mark.db, pytest.mark.slow]

FLOWS = ("plan_and_generate", "post_due", "collect_metrics", "learn", "render_reports")


def test_serve_registers_every_deployment_and_runs_one(
    prefect_harness: None, clean_db: str, sandbox_url: str
) -> None:
    from prefect.client.orchestration import get_client
    from prefect.deployments import run_deployment
    from prefect.settings import PREFECT_API_URL

    api = PREFECT_API_URL.value()
    assert api and api.startswith("http://127.0.0.1")
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBOT_")}
    env.update(
        {
            "PREFECT_API_URL": api,
            "PREFECT_RUNNER_POLL_FREQUENCY": "2",
            "XBOT_DATABASE_URL": clean_db,
            "XBOT_X_BASE_URL": sandbox_url,
            "XBOT_ACCOUNT_HANDLE": SANDBOX_HANDLE,
            "XBOT_CLOCK": "sandbox",
        }
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", "from xbot_core.commands.serve import serve; serve(list_only=False, limit=2)"],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        names: set[str] = set()
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and not set(FLOWS) <= names:
            assert proc.poll() is None, proc.stdout.read() if proc.stdout else ""
            time.sleep(1)

            async def deployment_names() -> set[str]:
                async with get_client() as client:
                    return {d.name for d in await client.read_deployments()}

            names = asyncio.run(deployment_names())
        assert set(FLOWS) <= names

        run: Any = run_deployment("learn/learn", timeout=120, parameters={"seed": 1})
        assert run.state is not None and run.state.is_completed(), run.state
    finally:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)
    with psycopg.connect(clean_db) as conn:
        row = conn.execute("SELECT status, message FROM training_runs").fetchall()
    assert row == [("insufficient_data", "insufficient simulated outcomes: 0 usable of 5 needed")]
