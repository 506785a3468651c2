"""The embedded server from the pip wheel: start, reuse, stop, restart keeping data, recover from kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg
import pytest

from xbot_core.adapters.db import embedded

pytestmark = [pytest.mark.db, pytest.mark.slow]


@pytest.fixture()
def pgdata(tmp_path_factory: pytest.TempPathFactory):
    # under /tmp (the wheel opens every parent folder to its system user when run as root)
    path = Path(f"/tmp/xbot-embedded-test-{os.getpid()}") / "pgdata"
    path.parent.mkdir(parents=True, exist_ok=True)
    yield path
    embedded.stop(path)
    subprocess.run(["rm", "-rf", str(path.parent)], check=False)


def test_start_reuse_stop_restart_keeps_data(pgdata: Path) -> None:
    url = embedded.start(pgdata)
    assert "host=" in url and str(pgdata) in url  # unix socket only
    first = embedded.status(pgdata)
    assert first.running and first.pid
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (v int)")
        conn.execute("INSERT INTO kept VALUES (42)")
        listen = conn.execute("SHOW listen_addresses").fetchone()
    assert listen == ("",)  # no TCP at all
    # a second start (another process, as the CLI does) reuses the running server
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            f"from pathlib import Path; from xbot_core.adapters.db import embedded; "
            f"print(embedded.start(Path({str(pgdata)!r})))",
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == url
    assert embedded.status(pgdata).pid == first.pid
    assert embedded.stop(pgdata) is True
    assert not embedded.status(pgdata).running
    assert embedded.stop(pgdata) is False
    url2 = embedded.start(pgdata)
    with psycopg.connect(url2) as conn:
        assert conn.execute("SELECT v FROM kept").fetchone() == (42,)


def test_recovers_after_kill_9(pgdata: Path) -> None:
    url = embedded.start(pgdata)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE kept (v int)")
        conn.execute("INSERT INTO kept VALUES (7)")
    pid = embedded.status(pgdata).pid
    assert pid
    os.kill(pid, signal.SIGKILL)
    deadline = time.time() + 10
    while embedded.status(pgdata).running and time.time() < deadline:
        time.sleep(0.1)
    assert not embedded.status(pgdata).running
    url2 = embedded.start(pgdata)
    with psycopg.connect(url2) as conn:
        assert conn.execute("SELECT v FROM kept").fetchone() == (7,)
