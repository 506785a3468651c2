"""Every command with hostile arguments (issue 17): one clear error line, non-zero exit, database unchanged.

Real subprocesses of `python -m xbot_core.cli` against the test database; X points at a closed port so
nothing outside this machine is touched.
"""

from __future__ import annotations

import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from tests.plugins.db import _TABLES
from tests.plugins.sandbox import free_port
from xbot_core.settings import PROJECT_DIR

pytestmark = pytest.mark.db

HOSTILE: list[tuple[str, ...]] = [
    ("stop", "--reason", ""),
    ("stop", "--reason", "   "),
    ("stop",),
    ("generate", "--seed", "-1"),
    ("generate", "--count", "0"),
    ("generate", "--count", "1e9"),
    ("learn", "--seed", "-5"),
    ("sandbox", "--port", "-1"),
    ("sandbox", "--port", "99999999"),
    ("sandbox", "--seed", "-1"),
    ("sandbox", "--host", "0.0.0.0"),
    ("api", "--port", "0"),
    ("lab", "--port", "70000"),
    ("post", "--max", "0"),
    ("collect", "--limit", "-1"),
    ("demo", "--seed", "-1"),
    ("demo", "--days", "0"),
    ("reward", "new", "--fpki", "1e308"),
    ("reward", "new", "--fpki", "nan"),
    ("reward", "new", "--scale-fpki", "1e-300"),
    ("reward", "new", "--dup-penalty", "5"),
    ("reward", "activate", "99"),
    ("reward", "activate", "-1"),
    ("db", "rollback", "--to", "99"),
    ("db", "rollback", "--to", "-1"),
    ("db", "migrate", "--to", "99"),
    ("db", "migrate", "--to", "-3"),
    ("no-such-command",),
]


def snapshot(url: str) -> dict[str, str]:
    """A digest of every row of every table the commands could write."""
    tables = [*_TABLES, "reward_versions", "schema_migrations"]
    with psycopg.connect(url) as conn:
        return {
            t: conn.execute(
                sql.SQL(
                    "SELECT count(*) || ':' || md5(coalesce(string_agg(x::text, ',' ORDER BY x::text), ''))"
                    " FROM {} x"
                ).format(sql.Identifier(t))
            ).fetchone()[0]  # type: ignore[index]
            for t in tables
        }


def run(env: dict[str, str], args: tuple[str, ...]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "xbot_core.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
        cwd=PROJECT_DIR,
    )


def test_hostile_arguments_fail_cleanly_and_write_nothing(clean_db: str, tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBOT_")}
    env.update(
        PYTHONPATH=str(PROJECT_DIR),
        XBOT_DATABASE_URL=clean_db,
        XBOT_DATA_DIR=str(tmp_path / "data"),
        XBOT_REPORTS_DIR=str(tmp_path / "reports"),
        XBOT_X_BASE_URL=f"http://127.0.0.1:{free_port()}",  # nothing listens
        XBOT_OPENAI_BASE_URL=f"http://127.0.0.1:{free_port()}/v1",
    )
    before = snapshot(clean_db)
    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda a: (a, run(env, a)), HOSTILE))
    failures = []
    for args, r in results:
        err_lines = [line for line in r.stderr.splitlines() if line.strip()]
        if (
            r.returncode == 0
            or "Traceback" in r.stderr + r.stdout
            or len(err_lines) != 1
            or not err_lines[0].startswith("error: ")
        ):
            failures.append(f"{' '.join(args)!r}: rc={r.returncode} stderr={r.stderr[-600:]!r}")
    assert not failures, "\n".join(failures)
    assert snapshot(clean_db) == before


BAD_SETTINGS = [
    ("XBOT_DATABASE_URL", "postgresql://u:S3cret%zzPW@127.0.0.1/db", ("db", "status")),
    ("XBOT_DATABASE_URL", "postgresql://u:S3cret%zzPW@127.0.0.1/db", ("budget",)),
    ("XBOT_DATABASE_URL", "postgresql://u:S3cret%zzPW@127.0.0.1/db", ("api",)),
    ("XBOT_LLM_PRICING", "{bad json", ("budget",)),
    ("XBOT_LLM_PRICING", '{"gpt-4o-mini": [NaN, Infinity]}', ("generate",)),
    ("XBOT_LLM_DAILY_BUDGET_USD", "inf", ("budget",)),
    ("XBOT_X_BASE_URL", "https://x.com:99999999", ("stop", "--reason", "r")),
    ("XBOT_EXPERIMENT_PLAN", "/nonexistent/plan.toml", ("generate",)),
    ("XBOT_DATA_DIR", f"{Path(__file__).resolve()}/xbot", ("db", "url")),  # under a regular file
    ("XBOT_API_TOKEN", "", ("api",)),
]


@pytest.mark.parametrize(("name", "value", "args"), BAD_SETTINGS)
def test_bad_setting_through_the_cli_is_one_line_and_never_shows_the_password(
    tmp_path: Path, name: str, value: str, args: tuple[str, ...]
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBOT_")}
    env.update({"PYTHONPATH": str(PROJECT_DIR), "XBOT_DATA_DIR": str(tmp_path / "data"), name: value})
    r = run(env, args)
    out = r.stdout + r.stderr
    assert r.returncode == 2, out
    assert "Traceback" not in out and "S3cret" not in out and "Logging error" not in out
    lines = [line for line in r.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and name in lines[0], out
