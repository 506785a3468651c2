"""The sandbox's admin guard (issue 17): writes need the per-process token, foreign Origin/Host are refused,
and `xbot sandbox` will not bind beyond loopback without --allow-remote. Real HTTP, real processes."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from tests.plugins.sandbox import RunningServer, SandboxAdmin, free_port
from xbot_core.sandbox.admin import admin_headers, admin_token_file
from xbot_core.sandbox.process import SandboxProcess
from xbot_core.settings import PROJECT_DIR

WRITES = [
    ("POST", "/admin/reset", None),
    ("POST", "/admin/clock", {"advance_seconds": 60}),
    ("POST", "/admin/faults", {"latency_ms": 5}),
    ("POST", "/admin/llm/faults", {"rate_limit": 1}),
    ("DELETE", "/admin/llm/faults", None),
]


def test_admin_writes_need_the_token(sandbox_server: RunningServer, sandbox_admin: SandboxAdmin) -> None:
    before = sandbox_admin.now()
    with httpx.Client(base_url=sandbox_server.url, timeout=10) as http:
        for method, path, body in WRITES:
            for auth in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": "Bearer "[:-1]}):
                r = http.request(method, path, json=body, headers=auth)
                assert r.status_code == 401, (method, path, auth, r.text)
        assert http.get("/admin/health").status_code == 200  # reads stay open: detection and the clock
        assert http.get("/admin/clock").json()["now"] == before
    assert sandbox_admin.now() == before  # nothing moved
    assert sandbox_admin.advance(60) != before  # with the token it works


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
    with sandbox:
        token_file = admin_token_file(data, port)
        assert sandbox.token_file == token_file and token_file.is_file()
        assert stat.S_IMODE(token_file.stat().st_mode) == 0o600
        assert sandbox.admin_headers == admin_headers(sandbox.url, data) != {}
        with httpx.Client(base_url=sandbox.url, timeout=10) as http:
            assert http.post("/admin/reset").status_code == 401
            assert http.post("/admin/reset", headers=sandbox.admin_headers).status_code == 200
