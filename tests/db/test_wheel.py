"""A built wheel works on its own: SQL, notebooks and templates come from the installed package.

The project is copied (symlinks kept) and built with `uv build` (sdist, then the wheel from the sdist, as a
release would), the wheel is installed with --no-deps into a fresh venv under /tmp whose third-party packages
come from the test venv's site-packages through a .pth line and nbconvert's templates through a link (offline,
seconds; .pth files inside that folder, such as the editable install's finder, are not processed, so xbot_core
can only come from the wheel). Then
`xbot db migrate`, `xbot report simulate` and `xbot report daily` run from that venv against a fresh database,
outside the checkout and without PYTHONPATH. An editable install of a copy reads the top-level folders.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.plugins.db import _with_dbname
from xbot_core.settings import PROJECT_DIR

pytestmark = [pytest.mark.db, pytest.mark.slow]
UV = Path(sys.executable).with_name("uv")
_SKIP = {
    ".git",
    ".venv",
    ".xbot",
    "build",
    "dist",
    "__pycache__",
    ".mypy_cache",
    ".ruff_cache",
    ".pytest_cache",
}


def _run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None, timeout: int = 120) -> str:
    done = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{cmd[:3]} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}"
    return done.stdout


@pytest.fixture()
def wheel_db(server_url: str) -> Iterator[str]:
    name = f"xbot_wheel_{os.getpid()}"
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield _with_dbname(server_url, name)
    with psycopg.connect(server_url, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _copy_project(src: Path) -> None:
    shutil.copytree(
        PROJECT_DIR,
        src,
        symlinks=True,
        ignore=lambda _d, names: [n for n in names if n in _SKIP or n.endswith(".egg-info")],
    )


def test_editable_install_reads_the_top_level_folders(tmp_path: Path) -> None:
    src, venv = tmp_path / "src", tmp_path / "venv"
    _copy_project(src)
    _run([str(UV), "venv", "--python", sys.executable, str(venv)], cwd=tmp_path)
    py = venv / "bin" / "python"
    _run([str(UV), "pip", "install", "--python", str(py), "--no-deps", "-e", str(src)], cwd=tmp_path)
    site = Path(
        _run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp_path).strip()
    )
    (site / "zz_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XBOT_", "PYTHON", "VIRTUAL_ENV"))}
    code = (
        "import xbot_core.package_data as p; print(p.ROOT); print(p.NOTEBOOKS_DIR.resolve()); "
        "print(len(list(p.MIGRATIONS_DIR.glob('*.up.sql'))))"
    )
    root, notebooks, n_up = _run([str(py), "-c", code], cwd=tmp_path, env=env).split()
    assert (root, notebooks) == (str(src / "xbot_core"), str(src / "notebooks"))
    assert int(n_up) == len(list((src / "sql" / "migrations").glob("*.up.sql"))) >= 1


def test_wheel_migrates_and_renders_the_daily_report(wheel_db: str, tmp_path: Path) -> None:
    src = tmp_path / "src"
    _copy_project(src)
    (src / "reports" / "stray.html").write_text("rendered output is not package data")
    _run([str(UV), "build", "--out-dir", str(tmp_path / "dist")], cwd=src)
    (wheel,) = (tmp_path / "dist").glob("*.whl")

    venv = tmp_path / "venv"
    _run([str(UV), "venv", "--python", sys.executable, str(venv)], cwd=tmp_path)
    py = venv / "bin" / "python"
    _run([str(UV), "pip", "install", "--python", str(py), "--no-deps", str(wheel)], cwd=tmp_path)
    site = Path(
        _run([str(py), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"], cwd=tmp_path).strip()
    )
    (site / "zz_test_deps.pth").write_text(sysconfig.get_path("purelib") + "\n")
    # and nbconvert's data files (its lab template), which an install of nbconvert puts under the venv
    (venv / "share" / "jupyter").mkdir(parents=True)
    (venv / "share" / "jupyter" / "nbconvert").symlink_to(
        Path(sys.prefix) / "share" / "jupyter" / "nbconvert"
    )

    work = tmp_path / "work"  # outside the checkout: nothing may be found relative to the cwd
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("XBOT_", "PYTHON", "VIRTUAL_ENV"))}
    env.update(
        XBOT_DATABASE_URL=wheel_db,
        XBOT_ACCOUNT_HANDLE="wheel_sim",
        XBOT_DATA_DIR=str(tmp_path / "data"),
        XBOT_REPORTS_DIR=str(tmp_path / "reports"),
        PATH=f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}",
    )
    where = _run(
        [
            str(py),
            "-c",
            "import xbot_core.package_data as p; print(p.ROOT); print(p.MIGRATIONS_DIR.is_symlink())",
        ],
        cwd=work,
        env=env,
    ).split()
    assert where == [str(site / "xbot_core"), "False"]
    # papermill's "python3" kernel falls back to the running interpreter: the notebooks run in the venv too
    kernel = (
        "from jupyter_client.kernelspec import KernelSpecManager as K; print(K().get_kernel_spec('python3')"
    )
    assert _run([str(py), "-c", kernel + ".argv[0])"], cwd=work, env=env).strip() == str(py)
    shipped = {
        p.relative_to(site / "xbot_core" / "_data").as_posix()
        for p in (site / "xbot_core" / "_data").rglob("*")
    }
    assert {
        "sql/migrations/0001_core.up.sql",
        "notebooks/daily_report.ipynb",
        "index.template.html",
    } <= shipped
    assert not any(name.startswith("reports") or name.endswith("stray.html") for name in shipped)

    xbot = str(venv / "bin" / "xbot")
    _run([xbot, "db", "migrate"], cwd=work, env=env)
    with psycopg.connect(wheel_db) as conn:
        applied = [r[0] for r in conn.execute("SELECT version FROM schema_migrations ORDER BY 1")]
    assert applied and applied[0] == 1
    shipped_up = sorted(
        p.name for p in (site / "xbot_core" / "_data" / "sql" / "migrations").glob("*.up.sql")
    )
    assert len(applied) == len(shipped_up)

    _run(
        [xbot, "report", "simulate", "--handle", "wheel_sim", "--end", "2026-01-07", "--days", "8",
         "--posts-per-day", "6"],
        cwd=work,
        env=env,
    )  # fmt: skip
    out = _run([xbot, "report", "daily", "--date", "2026-01-07", "--data", "simulated"], cwd=work, env=env)
    html = tmp_path / "reports" / "daily_report_2026-01-07_wheel_sim.html"
    assert str(html) in out and html.stat().st_size > 10_000
    lineage = json.loads(html.with_suffix(".json").read_text())
    assert lineage["parameters"]["report_date"] == "2026-01-07" and lineage["git_commit"] == "unknown"
    index = (tmp_path / "reports" / "index.html").read_text()
    assert 'href="daily_report_2026-01-07_wheel_sim.html"' in index
