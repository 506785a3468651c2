"""Fault tests, real processes: a worker SIGKILLed between publish and record; two workers, one queue."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from tests.plugins.posting import SANDBOX_HANDLE, PostingEnv
from tests.plugins.sandbox import SandboxAdmin
from xbot_core.settings import PROJECT_DIR

pytestmark = [pytest.mark.db, pytest.mark.browser, pytest.mark.slow]

LEASE_S = 30


def worker_env(db_url: str, sandbox_url: str, session_file: str, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("XBOT_")}
    env.pop("POSTING_DISABLED", None)
    env.pop("LIVE_POSTS", None)
    env.update(
        {
            "XBOT_DATABASE_URL": db_url,
            "XBOT_X_BASE_URL": sandbox_url,
            "XBOT_OPENAI_BASE_URL": sandbox_url + "/v1",
            "XBOT_ACCOUNT_HANDLE": SANDBOX_HANDLE,
            "XBOT_X_SESSION_FILE": session_file,
            "XBOT_CLOCK": "sandbox",
            "XBOT_MODE": "live",
            "XBOT_MAX_POSTS_PER_HOUR": "1000",
            "XBOT_MIN_POST_INTERVAL_S": "0",
            "XBOT_LEASE_SECONDS": str(LEASE_S),
            "XBOT_COLLECT_CONCURRENCY": "1",
        }
    )
    env.update(extra)
    return env


def start_worker(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "tests.faults.worker", *args],
        cwd=PROJECT_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finish(proc: subprocess.Popen[str], timeout: float = 120) -> tuple[int, dict[str, Any], str]:
    out, err = proc.communicate(timeout=timeout)
    lines = [ln for ln in out.splitlines() if ln.startswith("{")]
    return proc.returncode, (json.loads(lines[-1]) if lines else {}), err


def test_killed_between_publish_and_record_is_reconciled_to_exactly_one_post(
    make_posting_env: Callable[..., PostingEnv], x_client: Any, sandbox_admin: SandboxAdmin
) -> None:
    env = make_posting_env()
    d = env.queue("Killed right after X confirmed this post; recovered from the timeline.")
    wenv = worker_env(env.db_url, sandbox_admin.url, str(x_client.session_file))

    code, out, err = finish(start_worker(wenv, "post-and-die"))
    assert code == -9, err
    published = out["published"]
    assert [p["tweet_id"] for p in sandbox_admin.ground_truth()["posts"]] == [published]
    assert env.status(d) == "posting"
    assert env.rows("SELECT count(*) FROM posted_decisions") == [(0,)]

    # a worker starting while the lease is still valid neither records nor republishes it
    code, out, err = finish(start_worker(wenv, "drain"))
    assert code == 0, err
    assert out == {"reconciled": [], "requeued": 0, "posted": [], "last": "idle"}
    assert len(sandbox_admin.ground_truth()["posts"]) == 1

    sandbox_admin.advance(LEASE_S + 1)
    code, out, err = finish(start_worker(wenv, "drain"))
    assert code == 0, err
    assert out["reconciled"] == [str(d)] and out["posted"] == []
    assert [p["tweet_id"] for p in sandbox_admin.ground_truth()["posts"]] == [published]
    assert env.rows("SELECT decision_id, tweet_id, reconciled FROM posted_decisions") == [
        (d, published, True)
    ]
    assert env.status(d) == "posted"


def test_two_workers_drain_one_queue_without_a_duplicate(
    make_posting_env: Callable[..., PostingEnv], x_client: Any, sandbox_admin: SandboxAdmin
) -> None:
    env = make_posting_env()
    n = 10
    ids = {env.queue(f"Concurrent drain, post number {i}: one worker each, never both.") for i in range(n)}
    sandbox_admin.faults(latency_ms=30)  # widen the windows in which the workers could collide
    wenv = worker_env(env.db_url, sandbox_admin.url, str(x_client.session_file))
    procs = [start_worker(wenv, "drain") for _ in range(2)]
    results = [finish(p, timeout=180) for p in procs]
    sandbox_admin.faults(latency_ms=0)
    for code, out, err in results:
        assert code == 0 and out["last"] == "idle", err
    by_worker = [set(out["posted"]) for _, out, _ in results]
    assert not (by_worker[0] & by_worker[1])
    live = sandbox_admin.ground_truth()["posts"]
    assert len(live) == n
    assert max(Counter(p["text"] for p in live).values()) == 1
    assert {p["tweet_id"] for p in live} == by_worker[0] | by_worker[1]
    rows = env.rows("SELECT decision_id, tweet_id FROM posted_decisions")
    assert {r[0] for r in rows} == ids and {r[1] for r in rows} == {p["tweet_id"] for p in live}
    assert env.rows("SELECT DISTINCT status FROM content_metadata") == [("posted",)]
