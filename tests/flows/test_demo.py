"""The main job, shortened: `xbot demo` as a user runs it, on a fresh database, then continued.

Real parts only: a child sandbox process, Chromium, the openai client, Prefect flows and Postgres.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

# needs Postgres but not `db`: the end-to-end demo runs once in CI (the PostgreSQL 15 pass re-checks SQL)
pytestmark = [pytest.mark.flows, pytest.mark.browser, pytest.mark.slow]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run_demo(env: dict[str, str], *args: str) -> str:
    proc = subprocess.run(
        [sys.executable, "-m", "xbot_core.cli", "demo", "--no-reports", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc.stdout


@pytest.fixture()
def demo_env(clean_db: str, tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBOT_")}
    env.update(
        XBOT_DATABASE_URL=clean_db,
        XBOT_DATA_DIR=str(tmp_path / "xbot"),
        XBOT_SANDBOX_PORT=str(free_port()),
        XBOT_REPORTS_DIR=str(tmp_path / "reports"),
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="120",
    )
    return env


def fingerprint(out: str) -> str:
    match = re.search(r"^results fingerprint ([0-9a-f]{16}) ", out, re.M)
    assert match, out[-2000:]
    return match.group(1)


def test_two_day_demo_ends_consistent_and_continues(demo_env: dict[str, str], clean_db: str) -> None:
    out1 = run_demo(demo_env, "--days", "1", "--fresh", "--seed", "3", "--posts-per-day", "5")
    assert "plan 2026-01-05 → 2026-01-06 (1 days)" in out1
    # the same seed, from scratch again: the same decisions, posts, outcomes, snapshots and learning
    again = run_demo(demo_env, "--days", "1", "--fresh", "--seed", "3", "--posts-per-day", "5")
    assert fingerprint(again) == fingerprint(out1)
    with psycopg.connect(clean_db) as conn:
        day1 = conn.execute("SELECT tweet_id FROM posted_decisions ORDER BY tweet_id").fetchall()
    assert len(day1) >= 3

    out2 = run_demo(demo_env, "--days", "2", "--seed", "3", "--posts-per-day", "5")  # continues, no --fresh
    assert "plan 2026-01-05 → 2026-01-07 (2 days)" in out2
    assert "wall time" in out2 and "browser" in out2
    assert fingerprint(out2) != fingerprint(out1)  # a second day changes what the digest covers

    with psycopg.connect(clean_db) as conn:
        one = lambda q: conn.execute(q).fetchone()[0]  # noqa: E731
        posted = one("SELECT count(*) FROM posted_decisions")
        assert posted > len(day1)  # day 2 was added to day 1, not started again
        assert {r[0] for r in day1} <= {r[0] for r in conn.execute("SELECT tweet_id FROM posted_decisions")}
        assert (
            one("SELECT count(DISTINCT tweet_id) FROM posted_decisions") == posted
        )  # no duplicate tweet ids
        # the plan ended at 2026-01-07 00:00 virtual time: every pass due by then is stored, none early
        end = "'2026-01-07T00:00:00+00:00'::timestamptz"
        due1 = one(f"SELECT count(*) FROM posted_decisions WHERE posted_at + interval '1 hour' <= {end}")
        due2 = one(f"SELECT count(*) FROM posted_decisions WHERE posted_at + interval '24 hours' <= {end}")
        assert due2 >= len(day1) and due1 >= posted - 2
        assert one("SELECT count(*) FROM outcomes WHERE collected_pass = 1") == due1
        assert one("SELECT count(*) FROM outcomes WHERE collected_pass = 2") == due2
        assert one("SELECT count(*) FROM outcomes WHERE collected_at < due_at") == 0
        # through the browser backend every pass is complete, its follows read from TweetActivityQuery
        assert one("SELECT count(*) FROM outcomes WHERE status = 'ok' AND complete IS NOT TRUE") == 0
        assert one("SELECT count(*) FROM outcomes WHERE follows_source IS DISTINCT FROM 'analytics'") == 0
        # every decision reached a final state, or is still legitimately queued: held back by the hourly cap
        # or the minimum interval in the last hours of the plan
        assert one("SELECT count(*) FROM content_metadata WHERE status = 'posting'") == 0
        assert (
            one(
                f"SELECT count(*) FROM content_metadata WHERE status = 'queued'"
                f" AND scheduled_at < {end} - interval '4 hours'"
            )
            == 0
        )
        assert (
            one("SELECT count(*) FROM content_metadata WHERE status = 'skipped' AND skip_reason IS NULL") == 0
        )
        # every row the demo wrote is simulated and it learned from them
        assert one("SELECT bool_and(simulated) FROM outcomes") is True
        assert one("SELECT bool_and(simulated) FROM content_metadata") is True
        assert one("SELECT count(*) FROM training_runs WHERE status = 'trained' AND simulated") >= 1
        assert one("SELECT count(*) FROM experiments") >= 1
        assert one("SELECT count(*) FROM follower_snapshots") >= posted
