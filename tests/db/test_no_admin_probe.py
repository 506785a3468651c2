"""No sandbox-only URL on the production path (issue 17, item 4): with X pointed at a stand-in x.com that
records every request, no CLI command in shadow mode asks it for /admin/*.

The data kind comes from configuration alone (settings.is_sandbox_target), never from a probe of
GET {x_base_url}/admin/health; this test keeps it that way.
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
    """A stand-in x.com on 127.0.0.1: answers 404 to everything and records each request's path."""
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


def test_no_cli_command_requests_admin_paths_of_x(
    clean_db: str, tmp_path: Path, fake_x: tuple[str, list[str]]
) -> None:
    url, seen = fake_x
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBOT_")}
    env.update(
        PYTHONPATH=str(PROJECT_DIR),
        XBOT_DATABASE_URL=clean_db,
        XBOT_DATA_DIR=str(tmp_path / "data"),
        XBOT_X_BASE_URL=url,
        XBOT_MODE="shadow",
        XBOT_OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1",  # nothing listens
    )
    for args in COMMANDS:
        subprocess.run(
            [sys.executable, "-m", "xbot_core.cli", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=180,
            cwd=PROJECT_DIR,
        )
    admin = [p for p in seen if p.startswith("/admin")]
    assert admin == [], f"requests to /admin on a non-sandbox X: {admin}"
