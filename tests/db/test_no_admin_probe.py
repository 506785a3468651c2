"""No sandbox-only URL on the production path (issue 17, item 4): with X configured as http://x.com and
every HTTP request sent through a recording stand-in proxy on 127.0.0.1, no CLI command and no flow in shadow
mode asks X for /admin/*.

X must be a non-loopback name here: a loopback URL *is* the sandbox by the data-kind rule
(settings.is_sandbox_target), where /admin/* is allowed. Nothing leaves 127.0.0.1: the proxy answers 404
itself. The data kind comes from configuration alone, never from a probe of GET {x_base_url}/admin/health.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.plugins.sandbox import free_port
from xbot_core.settings import PROJECT_DIR

pytestmark = pytest.mark.db

COMMANDS: list[tuple[str, ...]] = [
    ("stop", "--reason", "probe test"),
    ("resume",),
    ("post", "--status"),
    ("post",),
    ("budget",),
    ("learn",),
    ("generate", "--count", "1"),
]


@pytest.fixture()
def fake_x() -> Iterator[tuple[str, list[str]]]:
    """A stand-in for x.com on 127.0.0.1, used as the HTTP proxy: records each request's URL, answers 404."""
    seen: list[str] = []

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            seen.append(self.path)
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()

        do_GET = do_POST = do_HEAD = _record

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", seen
    server.shutdown()
    server.server_close()


def _env(clean_db: str, tmp_path: Path, proxy: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBOT_") and "proxy" not in k.lower()}
    env.update(
        PYTHONPATH=str(PROJECT_DIR),
        XBOT_DATABASE_URL=clean_db,
        XBOT_DATA_DIR=str(tmp_path / "data"),
        XBOT_X_BASE_URL="http://x.com",
        XBOT_MODE="shadow",
        XBOT_REAL_METRICS_ENABLED="false",  # no browser: Chromium would not use the proxy
        XBOT_OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1",  # nothing listens
        HTTP_PROXY=proxy,
        HTTPS_PROXY=proxy,
        http_proxy=proxy,
        https_proxy=proxy,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
    )
    return env


def _admin(seen: list[str]) -> list[str]:
    return [p for p in seen if "/admin" in p]


def test_no_cli_command_requests_admin_paths_of_x(
    clean_db: str, tmp_path: Path, fake_x: tuple[str, list[str]]
) -> None:
    proxy, seen = fake_x
    env = _env(clean_db, tmp_path, proxy)
    for args in COMMANDS:
        subprocess.run(
            [sys.executable, "-m", "xbot_core.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            cwd=PROJECT_DIR,
        )
    assert _admin(seen) == [], f"requests to /admin on a non-sandbox X: {_admin(seen)}"
    # the proxy is really in the path: a plain request to X through the same environment is recorded
    subprocess.run(
        [sys.executable, "-c", "import httpx; httpx.get('http://x.com/probe-check', timeout=10)"],
        env=env,
        capture_output=True,
        timeout=60,
    )
    assert any(p.endswith("/probe-check") for p in seen), seen


FLOWS_SCRIPT = """
import asyncio
from flows.collect_metrics import collect_metrics
from flows.learn import learn
from flows.plan_and_generate import plan_and_generate
from flows.post_due import post_due

for name, run in (
    ("plan_and_generate", lambda: plan_and_generate(count=1)),
    ("post_due", lambda: asyncio.run(post_due())),
    ("collect_metrics", lambda: asyncio.run(collect_metrics())),
    ("learn", lambda: learn()),
):
    try:
        print(name, run(), flush=True)
    except Exception as exc:  # the LLM is unreachable: plan fails, the others still run
        print(name, "failed:", type(exc).__name__, flush=True)
"""


@pytest.mark.flows
@pytest.mark.slow
def test_no_flow_requests_admin_paths_of_x(
    clean_db: str, tmp_path: Path, fake_x: tuple[str, list[str]]
) -> None:
    proxy, seen = fake_x
    env = _env(clean_db, tmp_path, proxy)
    env.update(DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    done = subprocess.run(
        [sys.executable, "-c", FLOWS_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=420,
        cwd=PROJECT_DIR,
    )
    for name in ("plan_and_generate", "post_due", "collect_metrics", "learn"):
        assert f"\n{name} " in f"\n{done.stdout}", (name, done.stdout[-2000:], done.stderr[-2000:])
    assert "post_due failed" not in done.stdout and "learn failed" not in done.stdout, done.stdout
    assert _admin(seen) == [], f"requests to /admin on a non-sandbox X: {_admin(seen)}"
