"""The sandbox's admin guard (issue 17): every /admin request needs the per-process token, foreign Origin/Host
are refused, the token file is deleted at a clean exit, and `xbot sandbox` will not bind beyond loopback
without --allow-remote. Real HTTP, real processes."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from tests.plugins.sandbox import RunningServer, SandboxAdmin, free_port
from xbot_core.adapters.clock import SandboxClock
from xbot_core.errors import XbotError
from xbot_core.sandbox.process import SandboxProcess, sandbox_health
from xbot_core.sandbox.token import admin_headers, admin_token_file, bearer, read_admin_token
from xbot_core.settings import PROJECT_DIR

WRITES = [
    ("POST", "/admin/reset", None),
    ("POST", "/admin/clock", {"advance_seconds": 60}),
    ("POST", "/admin/faults", {"latency_ms": 5}),
    ("POST", "/admin/llm/faults", {"rate_limit": 1}),
    ("DELETE", "/admin/llm/faults", None),
]


BAD_AUTH = ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer"}, {"Authorization": "x"})


def admin_routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path) the sandbox serves under /admin, read from the app's schema (a new route is
    included), and the schema and docs pages themselves."""
    out = [
        (method.upper(), path)
        for path, ops in app.openapi()["paths"].items()
        if path.startswith("/admin")
        for method in ops
    ]
    assert ("GET", "/admin/ground_truth") in out and ("DELETE", "/admin/llm/faults") in out, out
    return [*out, ("GET", app.openapi_url or ""), ("GET", app.docs_url or "")]


def test_every_admin_route_needs_the_token(
    sandbox_server: RunningServer, sandbox_admin: SandboxAdmin
) -> None:
    """Reads too (issue 17): the clock, the faults and the ground truth (the experiment's answers) are served
    only to this process's token, not to any local user or page."""
    before = sandbox_admin.now()
    bodies = dict(((m, p), b) for m, p, b in WRITES)
    with httpx.Client(base_url=sandbox_server.url, timeout=10) as http:
        for method, path in admin_routes(sandbox_server.app):
            body = bodies.get((method, path))
            for auth in (
                {},
                {"Authorization": "Bearer wrong"},
                {"Authorization": "Bearer"},
                {"Authorization": "x"},
            ):
                r = http.request(method, path, json=body, headers=auth)
                assert r.status_code == 401, (method, path, auth, r.text)
                assert before not in r.text and "seed" not in r.text  # nothing of the state leaks
        ok = http.get("/admin/health", headers={"Authorization": f"Bearer {sandbox_server.token}"})
        assert ok.status_code == 200 and ok.json()["sandbox"] is True
    assert sandbox_admin.now() == before  # nothing moved
    assert sandbox_admin.advance(60) != before  # with the token it works


def test_a_sandbox_whose_token_we_lack_is_named_not_reused(
    sandbox_server: RunningServer, tmp_path: Path
) -> None:
    port = int(sandbox_server.url.rsplit(":", 1)[1])
    other = SandboxProcess(
        host="127.0.0.1", port=port, seed=3, state_dir=tmp_path / "sandbox", log_file=tmp_path / "log"
    )
    with pytest.raises(XbotError, match="its admin token is not in"):
        other.start()
    clock = SandboxClock(sandbox_server.url, token_file=tmp_path / "sandbox" / f"admin-token-{port}")
    with pytest.raises(XbotError, match="refused its clock: its admin token is not in"):
        clock.now()


def test_foreign_origin_or_host_is_refused_even_with_the_token(
    sandbox_server: RunningServer, sandbox_admin: SandboxAdmin
) -> None:
    auth = {"Authorization": f"Bearer {sandbox_server.token}"}
    before = sandbox_admin.now()
    with httpx.Client(base_url=sandbox_server.url, timeout=10) as http:
        # the probe's CSRF: a simple (text/plain) cross-site POST
        csrf = http.post(
            "/admin/reset",
            content=b"x",
            headers={"Origin": "http://evil.example", "Content-Type": "text/plain"},
        )
        assert csrf.status_code == 403
        assert http.post("/admin/reset", headers={**auth, "Origin": "http://evil.example"}).status_code == 403
        assert http.post("/admin/reset", headers={**auth, "Origin": "null"}).status_code == 403
        assert http.post("/admin/reset", headers={**auth, "Sec-Fetch-Site": "cross-site"}).status_code == 403
        # DNS rebinding: a foreign name resolving to 127.0.0.1 arrives with its own Host
        assert http.get("/admin/ground_truth", headers={"Host": "evil.example"}).status_code == 403
        assert http.get("/admin/health", headers={"Host": "[::1"}).status_code == 403  # malformed: no 500
        assert http.post("/admin/reset", headers={**auth, "Origin": "http://[::1"}).status_code == 403
        assert (
            http.post(
                "/admin/clock", json={"advance_seconds": 1}, headers={**auth, "Host": "evil.example:80"}
            ).status_code
            == 403
        )
        same = http.post(
            "/admin/clock", json={"advance_seconds": 0}, headers={**auth, "Origin": sandbox_server.url}
        )
        assert same.status_code == 200
        assert http.get("/home", headers={"Host": "evil.example"}).status_code in (200, 302)  # site untouched
    assert sandbox_admin.now() == before


def _cli(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xbot_core.cli", "sandbox", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=PROJECT_DIR,
    )


def test_non_loopback_bind_needs_allow_remote(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), "XBOT_DATA_DIR": str(tmp_path)}
    for host in ("0.0.0.0", "::", "192.0.2.1"):
        r = _cli("--host", host, "--port", str(free_port()), env=env)
        assert r.returncode == 2, r.stderr
        assert "--allow-remote" in r.stderr and "Traceback" not in r.stderr
        assert len(r.stderr.strip().splitlines()) == 1
    env["XBOT_SANDBOX_HOST"] = "0.0.0.0"  # the setting is guarded the same way
    assert _cli("--port", str(free_port()), env=env).returncode == 2


def test_process_wrapper_writes_a_private_token_and_uses_it(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    sandbox = SandboxProcess(
        host="127.0.0.1", port=port, seed=3, state_dir=data / "sandbox", log_file=tmp_path / "sandbox.log"
    )
    sandbox.start(timeout_s=180)  # the default 30 s is short for a loaded 2-core CI machine
    try:
        token_file = admin_token_file(data, port)
        assert sandbox.token_file == token_file and token_file.is_file()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert sandbox.admin_headers == admin_headers(sandbox.url, data) != {}
        with httpx.Client(base_url=sandbox.url, timeout=10) as http:
            assert http.post("/admin/reset").status_code == 401
            assert http.get("/admin/clock").status_code == 401
            assert http.post("/admin/reset", headers=sandbox.admin_headers).status_code == 200
            assert SandboxClock(sandbox.url, token_file=token_file).now().tzinfo is not None
    finally:
        sandbox.stop()
    # the wrapper stops it with SIGTERM: a clean exit deletes the token file
    assert not token_file.exists(), "the sandbox left its admin token file behind after SIGTERM"


SERVE_SANDBOX = """
import sys
from xbot_core.cli import app
app(["sandbox", "--port", sys.argv[1], "--token-file", sys.argv[2]])
"""


def test_ctrl_c_deletes_the_token_file_and_exits_cleanly(tmp_path: Path) -> None:
    """SIGINT (Ctrl+C) as SIGTERM above: graceful stop, token file gone, no traceback."""
    port, token_file = free_port(), tmp_path / "token"
    env = {**os.environ, "PYTHONPATH": str(PROJECT_DIR), "XBOT_DATA_DIR": str(tmp_path / "data")}
    proc = subprocess.Popen(
        [sys.executable, "-c", SERVE_SANDBOX, str(port), str(token_file)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 180  # a loaded 2-core CI machine takes a while to import the app
        while sandbox_health(f"http://127.0.0.1:{port}", bearer(read_admin_token(token_file))) is None:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail(f"the sandbox did not start: {proc.communicate()}")
            time.sleep(0.1)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=30)
    finally:
        proc.kill()
    assert proc.returncode == 128 + signal.SIGINT and "Traceback" not in err, (proc.returncode, err)
    assert not token_file.exists()
