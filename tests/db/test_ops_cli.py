"""`xbot stop | resume | post | collect | serve` against the real database, sandbox and Chromium.

The commands are mounted here exactly as xbot_core/cli.py mounts them (top-level commands).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from tests.plugins.posting import SANDBOX_HANDLE, PostingEnv
from tests.plugins.sandbox import SandboxAdmin
from xbot_core.commands import ops as ops_cmd
from xbot_core.commands import serve as serve_cmd
from xbot_core.settings import get_settings

pytestmark = [pytest.mark.db, pytest.mark.browser]

app = typer.Typer()
for fn in (ops_cmd.stop, ops_cmd.resume, ops_cmd.post, ops_cmd.collect, serve_cmd.serve):
    app.command()(fn)
runner = CliRunner()


@pytest.fixture
def cli_env(
    make_posting_env: Callable[..., PostingEnv],
    x_client: Any,
    sandbox_admin: SandboxAdmin,
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[PostingEnv]:
    env = make_posting_env()
    for k, v in {
        "XBOT_DATABASE_URL": env.db_url,
        "XBOT_X_BASE_URL": sandbox_admin.url,
        "XBOT_ACCOUNT_HANDLE": SANDBOX_HANDLE,
        "XBOT_X_SESSION_FILE": str(x_client.session_file),
        "XBOT_CLOCK": "sandbox",
        "XBOT_MODE": "live",
        "XBOT_MIN_POST_INTERVAL_S": "0",
        "XBOT_MAX_POSTS_PER_HOUR": "100",
    }.items():
        monkeypatch.setenv(k, v)
    for k in ("POSTING_DISABLED", "LIVE_POSTS"):
        monkeypatch.delenv(k, raising=False)
    monkeypatch.chdir(env.settings.data_dir.parent)
    get_settings.cache_clear()
    yield env
    get_settings.cache_clear()


def invoke(*args: str) -> Any:
    result = runner.invoke(app, list(args), catch_exceptions=False)
    return result


def test_stop_resume_and_status(cli_env: PostingEnv, sandbox_admin: SandboxAdmin) -> None:
    d = cli_env.queue("Held by `xbot stop`, released by `xbot resume`.")
    out = invoke("stop", "--reason", "bad batch of posts", "--by", "oncall")
    assert out.exit_code == 0 and "ENGAGED by oncall" in out.output and "bad batch of posts" in out.output
    status = json.loads(invoke("post", "--status").output)
    assert status["kill_switch"]["engaged"] is True and status["due_now"] == 1 and status["mode"] == "live"
    blocked = json.loads(invoke("post").output)
    assert blocked["posts"][0]["status"] == "blocked" and cli_env.status(d) == "queued"
    assert invoke("resume", "--by", "oncall").exit_code == 0
    posted = json.loads(invoke("post", "--max", "3").output)
    assert [p["status"] for p in posted["posts"]] == ["posted", "idle"]
    assert [p["tweet_id"] for p in sandbox_admin.ground_truth()["posts"]] == [posted["posts"][0]["tweet_id"]]
    status = json.loads(invoke("post", "--status").output)
    assert status["kill_switch"]["engaged"] is False and status["queue"]["posted"]["n"] == 1


def test_stop_needs_a_reason(cli_env: PostingEnv) -> None:
    out = runner.invoke(app, ["stop"])
    assert out.exit_code == 2 and "--reason" in out.output


def test_collect_command(cli_env: PostingEnv, sandbox_admin: SandboxAdmin) -> None:
    cli_env.queue("Collected by `xbot collect`.")
    assert json.loads(invoke("post").output)["posts"][0]["status"] == "posted"
    sandbox_admin.advance(3700)
    report = json.loads(invoke("collect").output)
    assert (report["due"], report["stored"]) == (1, 1) and report["followers"] > 0


def test_serve_lists_every_flow_with_its_schedule(cli_env: PostingEnv) -> None:
    out = invoke("serve", "--list")
    assert out.exit_code == 0
    for name in ("plan_and_generate", "post_due", "collect_metrics", "learn", "render_reports"):
        assert name in out.output
    assert "*/10 * * * *" in out.output
