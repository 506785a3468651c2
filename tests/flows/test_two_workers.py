"""Two Prefect workers (separate processes) on one process pool share the runs of three accounts.

Part of issue 18's scale-out test: every run completes exactly once, each account's runs land on its own
rows, and both workers take work. (The simulated posting day and the killed worker are not covered here.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from pathlib import Path
from typing import IO

import httpx
import psycopg
import pytest

from tests.flows.test_prefect_server import _free_port, prefect_db  # noqa: F401  (fixture)
from xbot_core.adapters import prefect_server
from xbot_core.settings import PROJECT_DIR

pytestmark = [pytest.mark.flows, pytest.mark.db, pytest.mark.slow]
ACCOUNTS = ("xbot_demo", "acct_b", "acct_c")


def test_two_workers_share_three_accounts_runs(prefect_db: str, clean_db: str, tmp_path: Path) -> None:  # noqa: F811
    with psycopg.connect(clean_db) as conn:
        for handle in ACCOUNTS[1:]:
            conn.execute(
                "INSERT INTO accounts (handle, x_base_url, timezone)"
                " VALUES (%s, 'http://127.0.0.1:1', 'UTC')",
                (handle,),
            )
    state = prefect_server.start(tmp_path, prefect_db, port=_free_port())
    workers: list[subprocess.Popen[str]] = []
    logs: list[IO[str]] = []
    try:
        api = state.api_url
        env = {k: v for k, v in os.environ.items() if not k.startswith(("XBOT_", "PREFECT_"))}
        env.update(
            {
                "PREFECT_API_URL": api,
                "XBOT_DATABASE_URL": clean_db,
                "XBOT_ACCOUNT_HANDLE": ACCOUNTS[0],
                "DO_NOT_TRACK": "1",
                "PREFECT_WORKER_QUERY_SECONDS": "2",
            }
        )
        xbot = [sys.executable, "-c", "from xbot_core.cli import main; main()"]
        done = subprocess.run(
            [*xbot, "deploy", "--pool", "two"],
            cwd=PROJECT_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
        )
        assert done.returncode == 0, done.stderr[-2000:]

        learn = {
            d["name"]: d["id"]
            for d in httpx.post(f"{api}/deployments/filter", json={}, timeout=10).json()
            if d["entrypoint"].endswith(":learn")
        }
        assert set(learn) == {"learn", "acct_b", "acct_c"}
        runs = [
            httpx.post(
                f"{api}/deployments/{learn[name]}/create_flow_run",
                json={"parameters": {"seed": i}},
                timeout=10,
            ).json()["id"]
            for name in learn
            for i in range(2)
        ]
        for name in ("w1", "w2"):
            log = (tmp_path / f"{name}.log").open("w")
            logs.append(log)
            workers.append(
                subprocess.Popen(
                    [
                        sys.executable,
                        "-m",
                        "prefect",
                        "worker",
                        "start",
                        "--pool",
                        "two",
                        "--name",
                        name,
                        "--limit",
                        "1",
                    ],
                    cwd=PROJECT_DIR,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    text=True,
                    start_new_session=True,
                )
            )
        deadline = time.monotonic() + 300
        states: dict[str, str] = {}
        while time.monotonic() < deadline:
            states = {r: httpx.get(f"{api}/flow_runs/{r}", timeout=10).json()["state_type"] for r in runs}
            if all(s in ("COMPLETED", "FAILED", "CRASHED") for s in states.values()):
                break
            time.sleep(2)
        assert sorted(states.values()) == ["COMPLETED"] * 6, states
    finally:
        for w in workers:
            os.killpg(w.pid, 15)
            w.wait(timeout=30)
        for log in logs:
            log.close()
        prefect_server.stop(tmp_path)

    with psycopg.connect(clean_db) as conn:
        per_account = dict(
            conn.execute(
                "SELECT a.handle, count(*) FROM training_runs r JOIN accounts a USING (account_id) GROUP BY 1"
            ).fetchall()
        )
    assert per_account == dict.fromkeys(ACCOUNTS, 2)
    # a run both workers reach for is aborted on one of them by the server (PENDING cannot go PENDING again)
    taken = {name: _executed((tmp_path / f"{name}.log").read_text()) for name in ("w1", "w2")}
    assert taken["w1"] | taken["w2"] == set(runs) and not taken["w1"] & taken["w2"], taken
    assert taken["w1"] and taken["w2"], taken


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def _executed(log: str) -> set[str]:
    """Runs a worker's log shows it submitting and not aborted."""
    submitted = set(re.findall(rf"submitting flow run '({_UUID})'", log))
    aborted = set(re.findall(rf"Aborted submission of flow run '({_UUID})'", log))
    return submitted - aborted
