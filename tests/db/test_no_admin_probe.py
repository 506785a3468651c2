"""No sandbox-only URL on the production path (issue 17, item 4): with X configured as http://x.com and every
HTTP request — Python's and Chromium's — sent through a recording stand-in proxy on 127.0.0.1, no CLI command
and no flow in shadow mode asks X for /admin/*.

X must be a non-loopback name here: a loopback URL *is* the sandbox by the data-kind rule
(settings.is_sandbox_target), where /admin/* is allowed. Nothing leaves 127.0.0.1: the proxy answers 404
itself (and stands in for the LLM endpoint too). Chromium takes the proxy from the standard `http_proxy`
variables, as httpx and openai do; the tests check that its page loads really were recorded.

The command list is read from cli.py's Typer app: a new command fails `test_every_command_is_run_or_excluded`
until it is run below or excluded with a reason. The commands run in one Python process (`xbot_core.cli.main`
per command, as `xbot ...` would): one import instead of one per command keeps the test cheap.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import psycopg
import pytest

from tests.plugins.sandbox import free_port
from xbot_core.adapters.db.repositories import ensure_account
from xbot_core.adapters.x_browser.session import cookie_storage_state, write_session_file
from xbot_core.settings import PROJECT_DIR

HANDLE = "xbot_demo"
TWEET_ID = "1790000000000000001"

# every `xbot` invocation run against x.com in shadow mode, in this order (the session file first)
RUN: list[tuple[str, ...]] = [
    ("stop", "--reason", "probe test"),
    ("resume",),
    ("x", "login", "--cookies", "auth_token=probe,ct0=probe"),
    ("x", "login"),  # no display: refused before any browser starts
    ("x", "login", "--api"),
    ("x", "check", "--deep"),  # Chromium opens x.com/home through the proxy
    ("post", "--status"),
    ("post",),
    ("budget",),
    ("generate", "--count", "1"),  # the LLM stand-in answers 404
    ("collect",),  # the seeded post's T+1h pass: Chromium reads its page and the profile through the proxy
    ("learn",),
    ("serve", "--list"),  # serving itself runs the flows: test_no_flow_requests_admin_paths_of_x
    ("api",),  # served in a thread of the driver; every GET route is requested
]
# rendering notebooks costs minutes on a loaded CI machine; their one sandbox URL is pinned below
NOTEBOOKS = (
    "report_step, run here by the render_reports flow (test_no_flow_requests_admin_paths_of_x); the "
    "notebooks' one sandbox URL (the bandit report's ground truth) needs settings.sandbox_x_url, None "
    "for x.com (test_report_notebooks_ask_no_ground_truth_of_x)"
)
# commands that cannot reach X or the sandbox, each with the reason
EXCLUDED: dict[str, str] = {
    "db start": "the embedded Postgres: a local process on a unix socket",
    "db stop": "the embedded Postgres: a local process on a unix socket",
    "db status": "reads schema_migrations only",
    "db url": "prints the database URL (redacted)",
    "db migrate": "runs SQL files against the database",
    "db rollback": "runs SQL files against the database",
    "reward show": "reads reward_versions",
    "reward new": "writes reward_versions",
    "reward activate": "writes reward_versions",
    "account add": "writes an accounts row (its X URL is stored, never requested)",
    "account list": "reads accounts",
    "account disable": "writes accounts",
    "account enable": "writes accounts",
    "import x-analytics": "reads local CSV files into the database",
    "plan check": "arithmetic over a local TOML plan and the database",
    "report daily": NOTEBOOKS,
    "report experiment": NOTEBOOKS,
    "report all": NOTEBOOKS,
    "report history": "one notebook over imported rows; no X or sandbox URL on its code path",
    "report simulate": "writes a seeded simulated history and a local ground-truth file",
    "sandbox": "is the sandbox: it serves, it never requests",
    "sandbox calibrate": "fits an audience file to imported rows in the database and writes it locally",
    "demo": "always runs against its own sandbox process (demo_settings), never the configured X",
    "lab": "JupyterLab on 127.0.0.1; the notebooks' code runs through `report all`",
    "server start": "Prefect's own server and Postgres on 127.0.0.1",
    "server stop": "Prefect's own server and Postgres on 127.0.0.1",
    "server status": "Prefect's own server and Postgres on 127.0.0.1",
    "deploy": "registers deployments on the Prefect server (PREFECT_API_URL); the flows are tested below",
}


def leaf_commands() -> set[str]:
    """Every runnable `xbot` command path ('x check', 'budget'), read from cli.py's Typer app."""
    import typer.main

    from xbot_core.cli import app

    out: set[str] = set()

    def walk(cmd: object, path: tuple[str, ...]) -> None:
        subs = getattr(cmd, "commands", None)
        if subs is None or (path and getattr(cmd, "invoke_without_command", False)):
            out.add(" ".join(path))  # a command, or a group that runs without a subcommand (`xbot sandbox`)
        if subs is None:
            return
        for name, sub in subs.items():
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return out


def command_of(args: tuple[str, ...], leaves: set[str]) -> str:
    """The command path an argument list runs: its longest prefix that is a command."""
    for n in range(len(args), 0, -1):
        if " ".join(args[:n]) in leaves:
            return " ".join(args[:n])
    raise AssertionError(f"{args} names no xbot command")


def test_every_command_is_run_or_excluded_with_a_reason() -> None:
    leaves = leaf_commands()
    ran = {command_of(args, leaves) for args in RUN}
    assert not ran & set(EXCLUDED), ran & set(EXCLUDED)
    assert ran | set(EXCLUDED) == leaves, {
        "neither run nor excluded": sorted(leaves - ran - set(EXCLUDED)),
        "not commands": sorted(set(EXCLUDED) - leaves),
    }
    assert all(len(reason) > 10 for reason in EXCLUDED.values())


def test_report_notebooks_ask_no_ground_truth_of_x() -> None:
    """The bandit notebook asks GET {sandbox_x_url}/admin/ground_truth only when X is the sandbox."""
    from xbot_core.services.reporting.report_bandit import ground_truth
    from xbot_core.settings import load_settings

    real = load_settings(x_base_url="http://x.com", _env_file=None)
    assert real.sandbox_x_url is None
    assert ground_truth("", simulated=True, sandbox_url=real.sandbox_x_url, data_dir=real.data_dir) is None
    sandbox = load_settings(x_base_url="http://127.0.0.1:8765", _env_file=None)
    assert sandbox.sandbox_x_url == "http://127.0.0.1:8765"


@dataclass
class Recorder:
    """A stand-in x.com (as the HTTP proxy) and LLM endpoint on 127.0.0.1: records, answers 404 (but for
    the home page's timeline column)."""

    url: str
    seen: list[tuple[str, str]] = field(default_factory=list)  # (request target, User-Agent)

    def admin(self) -> list[str]:
        return [p for p, _ in self.seen if "/admin" in p]

    def chromium(self) -> list[str]:
        return [p for p, ua in self.seen if "Chrome" in ua]


@pytest.fixture()
def fake_x() -> Iterator[Recorder]:
    rec = Recorder("")

    class Handler(BaseHTTPRequestHandler):
        def _record(self) -> None:
            rec.seen.append((self.path, self.headers.get("User-Agent", "")))
            home = urlsplit(self.path).path == "/home"  # X's home column: `x check` goes on to --deep
            body = b'<div data-testid="primaryColumn"></div>' if home else b"not found"
            self.send_response(200 if home else 404)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_POST = do_HEAD = do_PUT = do_DELETE = do_CONNECT = _record

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    rec.url = f"http://127.0.0.1:{server.server_address[1]}"
    yield rec
    server.shutdown()
    server.server_close()


def _env(clean_db: str, tmp_path: Path, rec: Recorder) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBOT_") and "proxy" not in k.lower()}
    for k in ("POSTING_DISABLED", "LIVE_POSTS", "DISPLAY", "WAYLAND_DISPLAY", "PREFECT_API_URL"):
        env.pop(k, None)
    env.update(
        PYTHONPATH=str(PROJECT_DIR),
        XBOT_DATABASE_URL=clean_db,
        XBOT_DATA_DIR=str(tmp_path / "data"),
        XBOT_REPORTS_DIR=str(tmp_path / "reports"),
        XBOT_X_BASE_URL="http://x.com",
        XBOT_ACCOUNT_HANDLE=HANDLE,
        XBOT_MODE="shadow",
        XBOT_REAL_METRICS_ENABLED="true",
        XBOT_COLLECT_CONCURRENCY="1",
        XBOT_OPENAI_BASE_URL=f"{rec.url}/v1",
        XBOT_API_PORT=str(free_port()),
        HTTP_PROXY=rec.url,
        HTTPS_PROXY=rec.url,
        http_proxy=rec.url,
        https_proxy=rec.url,
        NO_PROXY="127.0.0.1,localhost",
        no_proxy="127.0.0.1,localhost",
        DO_NOT_TRACK="1",
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
    )
    env.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    return env


def seed_due_pass(db_url: str, data_dir: Path) -> None:
    """A post of the x.com account published two hours ago: its T+1h pass is due, so collection opens its
    page; and a session file (cookies only), as `xbot x login --cookies` writes it."""
    session = data_dir / "session" / "storage_state.json"
    write_session_file(session, cookie_storage_state("http://x.com", {"auth_token": "probe", "ct0": "probe"}))
    posted_at = datetime.now(UTC) - timedelta(hours=2)
    decision = uuid.uuid4()
    with psycopg.connect(db_url) as conn:
        account = ensure_account(conn, HANDLE, "http://x.com", str(session), "UTC")
        conn.execute(
            "INSERT INTO content_metadata (decision_id, account_id, content, content_hash, status,"
            " generation_source, scheduled_at, content_type, hook_pattern, timing_slot, policy)"
            " VALUES (%s, %s, 'probe post', %s, 'posted', 'real', %s,"
            " 'tip', 'how_to', 'morning', 'thompson')",
            (decision, account, "b" * 64, posted_at),
        )
        conn.execute(
            "INSERT INTO posted_decisions (decision_id, account_id, tweet_id, posted_at)"
            " VALUES (%s, %s, %s, %s)",
            (decision, account, TWEET_ID, posted_at),
        )


DRIVER = r"""
import json, sys, threading, time
import httpx
from xbot_core import cli

def run(args):
    sys.argv = ["xbot", *args]
    try:
        cli.main()
        return 0
    except SystemExit as exc:
        return exc.code
    except BaseException as exc:  # a command's own failure must not stop the others
        return f"raised {type(exc).__name__}"

commands, port = json.loads(sys.argv[1]), sys.argv[2]
for args in commands:
    t0 = time.monotonic()
    if args[0] == "api":  # a server: run it in a thread, request every GET route, move on
        threading.Thread(target=run, args=(args,), daemon=True).start()
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 120
        while True:
            try:
                paths = httpx.get(base + "/openapi.json", timeout=5).json()["paths"]
                break
            except (httpx.HTTPError, ValueError):
                assert time.monotonic() < deadline, "the API did not start"
                time.sleep(0.2)
        codes = {p: httpx.get(base + p, timeout=30).status_code for p, ops in paths.items()
                 if "get" in ops and "{" not in p}
        print("\nran", " ".join(args), "routes", json.dumps(codes), flush=True)
        continue
    rc = run(args)
    print("\nran", " ".join(args), "rc", rc, f"{time.monotonic() - t0:.1f}s", flush=True)
"""


# needs Postgres but not `db`: CI's second pass (PostgreSQL 15) re-checks SQL, which this end-to-end probe
# does not add to; it runs once
@pytest.mark.browser
@pytest.mark.slow
def test_no_cli_command_requests_admin_paths_of_x(clean_db: str, tmp_path: Path, fake_x: Recorder) -> None:
    env = _env(clean_db, tmp_path, fake_x)
    seed_due_pass(clean_db, tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", DRIVER, json.dumps(RUN), env["XBOT_API_PORT"]],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=PROJECT_DIR,
    )
    print(done.stdout)  # one line per command with its exit code and seconds (shown with -s)
    ran = [line for line in done.stdout.splitlines() if line.startswith("ran ")]
    assert len(ran) == len(RUN), (done.stdout[-3000:], done.stderr[-3000:])
    # the stand-in home page lets `x check` go on to the deep read, whose failure (no post page) is one
    # line and exit 1, never a raw Playwright error
    assert any(line.startswith("ran x check --deep rc 1 ") for line in ran), ran
    assert fake_x.admin() == [], f"requests to /admin on a non-sandbox X: {fake_x.admin()}"
    # the proxy is really in the path of both clients: Chromium's page loads and Python's requests
    pages = fake_x.chromium()
    assert any(f"/status/{TWEET_ID}" in p for p in pages), pages  # collection's browser read
    assert any(p.startswith("/v1/") for p, _ in fake_x.seen), fake_x.seen  # the LLM stand-in
    api = json.loads(next(line for line in ran if line.startswith("ran api ")).split(" routes ", 1)[1])
    assert {"/health", "/metrics"} <= set(api), api


FLOWS_SCRIPT = """
import asyncio
from flows.collect_metrics import collect_metrics
from flows.learn import learn
from flows.plan_and_generate import plan_and_generate
from flows.post_due import post_due
from flows.render_reports import render_reports

for name, run in (
    ("plan_and_generate", lambda: plan_and_generate(count=1)),
    ("post_due", lambda: asyncio.run(post_due())),
    ("collect_metrics", lambda: asyncio.run(collect_metrics())),
    ("learn", lambda: learn()),
    ("render_reports", lambda: render_reports()),
):
    try:
        print(name, run(), flush=True)
    except Exception as exc:  # the LLM stand-in answers 404: plan fails, the others still run
        print(name, "failed:", type(exc).__name__, exc, flush=True)
"""


@pytest.mark.flows  # not `db` either: see above
@pytest.mark.slow
def test_no_flow_requests_admin_paths_of_x(clean_db: str, tmp_path: Path, fake_x: Recorder) -> None:
    env = _env(clean_db, tmp_path, fake_x)
    seed_due_pass(clean_db, tmp_path / "data")
    done = subprocess.run(
        [sys.executable, "-c", FLOWS_SCRIPT],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
        cwd=PROJECT_DIR,
    )
    for name in ("plan_and_generate", "post_due", "collect_metrics", "learn", "render_reports"):
        assert f"\n{name} " in f"\n{done.stdout}", (name, done.stdout[-2000:], done.stderr[-2000:])
    for name in ("post_due", "collect_metrics", "learn", "render_reports"):
        assert f"{name} failed" not in done.stdout, done.stdout
    assert fake_x.admin() == [], f"requests to /admin on a non-sandbox X: {fake_x.admin()}"
    assert any(f"/status/{TWEET_ID}" in p for p in fake_x.chromium()), fake_x.seen  # collection's browser
