"""`xbot generate` and `xbot budget` end to end: settings from the environment, real DB, sandbox over HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator

import psycopg
import pytest
import typer
from typer.testing import CliRunner

from tests.plugins.llm import LLMEndpoint
from xbot_core.commands.budget import budget
from xbot_core.commands.generate import generate
from xbot_core.settings import get_settings

pytestmark = pytest.mark.db

app = typer.Typer()
app.command("generate")(generate)
app.command("budget")(budget)


@pytest.fixture()
def env(clean_db: str, llm_endpoint: LLMEndpoint, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    monkeypatch.setenv("XBOT_DATABASE_URL", clean_db)
    monkeypatch.setenv("XBOT_OPENAI_BASE_URL", llm_endpoint.base_url)
    monkeypatch.setenv("XBOT_X_BASE_URL", llm_endpoint.url)
    monkeypatch.setenv("XBOT_LLM_DAILY_BUDGET_USD", "0.5")
    get_settings.cache_clear()
    yield clean_db
    get_settings.cache_clear()


def test_generate_queues_posts_and_budget_reports_the_spend(env: str) -> None:
    r = CliRunner().invoke(app, ["generate", "--count", "3", "--seed", "5"])
    assert r.exit_code == 0, r.output
    assert r.output.count("queued  ") == 3
    with psycopg.connect(env) as conn:
        n, used = conn.execute(
            "SELECT (SELECT count(*) FROM content_metadata WHERE status = 'queued' AND simulated),"
            " (SELECT used_usd FROM llm_budget_days)"
        ).fetchone()
    assert n == 3 and used > 0
    out = CliRunner().invoke(app, ["budget", "--json"])
    assert out.exit_code == 0, out.output
    b = json.loads(out.output)
    assert b["limit_usd"] == "0.500000" and b["used_usd"] == str(used) and b["reserved_usd"] == "0.000000"
    assert float(b["remaining_usd"]) == pytest.approx(0.5 - float(used))
    assert b["circuit"] == "closed"
    text = CliRunner().invoke(app, ["budget"]).output
    for key in ("limit_usd", "used_usd", "reserved_usd", "remaining_usd"):
        assert key in text


def test_generate_with_no_budget_exits_nonzero_and_queues_nothing(
    env: str, llm_endpoint: LLMEndpoint, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XBOT_LLM_DAILY_BUDGET_USD", "0")
    get_settings.cache_clear()
    r = CliRunner().invoke(app, ["generate", "--count", "2"])
    assert r.exit_code == 1
    assert r.output.count("budget_exceeded") == 2
    assert llm_endpoint.stats()["requests"] == 0
