"""`xbot report history`: the history notebook runs under papermill on a real import and renders offline HTML
with formatted tables, the 'not enough data' line and no CDN; reports/index.html lists it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import psycopg
import pytest
from psycopg_pool import ConnectionPool
from typer.testing import CliRunner

from tests.plugins.llm import LLMEndpoint
from tests.x_analytics_data import import_legacy
from xbot_core.cli import app
from xbot_core.domain.text import content_hash
from xbot_core.services import wiring
from xbot_core.services.operations.classify import classify_account
from xbot_core.services.reporting.history_report import labeller_markdown, load_history
from xbot_core.settings import get_settings, load_settings

pytestmark = [pytest.mark.db, pytest.mark.notebooks, pytest.mark.slow]


@pytest.fixture
def history_env(clean_db: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    with psycopg.connect(clean_db) as conn:
        import_legacy(conn)
    monkeypatch.setenv("XBOT_DATABASE_URL", clean_db)
    monkeypatch.setenv("XBOT_REPORTS_DIR", str(tmp_path))
    get_settings.cache_clear()
    yield tmp_path
    get_settings.cache_clear()


def test_history_report_renders(
    history_env: Path, db_pool: ConnectionPool, llm_endpoint: LLMEndpoint
) -> None:
    """The page as a user gets it after `xbot import … --classify llm`: the imported history labelled through
    the sandbox's OpenAI-compatible endpoint (the real openai client, budgeted), the LLM's labels used and
    named on the page with the counts the label cache gives."""
    url = os.environ["XBOT_DATABASE_URL"]
    with psycopg.connect(url) as conn:
        (account_id,) = conn.execute(
            "SELECT account_id FROM accounts WHERE handle = 'rOpenSci'"
        ).fetchone() or (0,)
    llm = wiring.budgeted_llm(db_pool, load_settings(openai_base_url=llm_endpoint.base_url))
    assert classify_account(db_pool, llm, account_id).left == 0
    with psycopg.connect(url) as conn:
        originals = [r[0] for r in conn.execute("SELECT text FROM imported_posts WHERE NOT is_reply")]
        stored: dict[str, str] = dict(
            conn.execute("SELECT text_hash, content_type FROM content_type_labels WHERE valid").fetchall()
        )
    by_llm = [stored[content_hash(t)] for t in originals if content_hash(t) in stored]
    assert 0 < len(by_llm) < len(originals) == 308  # the sandbox answers `other` where the rules cannot tell
    result = CliRunner().invoke(app, ["report", "history", "--account", "rOpenSci"], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    html = (history_env / "history_report_rOpenSci.html").read_text(encoding="utf-8")
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html
    assert "@rOpenSci</strong>: 374 posts (66 replies)" in html
    assert "1,857,985 impressions" in html and "0.020 follows per 1,000 impressions" in html
    assert "<table>" in html and "rate (95% CI)" in html and "q (BH)" in html
    assert "Not enough data</strong> to compare" in html
    assert "Trend over time" in html and "2017-06" in html
    assert "Every post has a single read" in html  # one export per month: no growth to show
    assert "Spearman ρ with follows per impression" in html and "37 follows over 374 posts" in html
    assert "Traceback" not in html and "shape: (" not in html  # no errors, no raw frame dumps
    # posts needed per arm, as the service computes them from the same database, and the charts
    power = load_history(os.environ["XBOT_DATABASE_URL"], "rOpenSci").power
    follows = power.filter(pl.col("metric") == "follows_per_1k").sort("lift")["posts_per_arm"].to_list()
    assert "Posts needed to tell two arms apart" in html and "posts per arm for +50%" in html
    assert f"<td>{follows[0]:,}</td>" in html and f"<td>{follows[1]:,}</td>" in html
    # the trend (impressions per post, follows per 1,000) and one interval chart per metric with enough data
    assert html.count('class="xbot-chart"') == 4
    assert "follows per 1,000 impressions" in html and "impressions per post" in html
    # the labeller: mixed (the LLM's `other` leaves those posts to the rules), each LLM label with its count
    assert (
        "<strong>Content types: mixed</strong>: LLM (<code>--classify llm</code>) for "
        f"{len(by_llm)} original posts, rules for {308 - len(by_llm)}" in html
    )
    assert "<th>LLM label</th>" in html and f"agree with the LLM on {len(by_llm)} of {len(by_llm)}" in html
    for label in set(by_llm):  # the sandbox answers as the rules would: they agree on every post
        assert f"<td>{label}</td>\n<td>{label}</td>\n<td>{by_llm.count(label)}</td>" in html
    index = (history_env / "index.html").read_text(encoding="utf-8")
    assert 'href="history_report_rOpenSci.html"' in index


@pytest.mark.usefixtures("history_env")
def test_history_report_says_the_rules_labelled_when_no_llm_labels_exist() -> None:
    """Without `--classify llm` the page names the rules as the labeller (the service's text, no second
    render: the one above shows the LLM's)."""
    data = load_history(os.environ["XBOT_DATABASE_URL"], "rOpenSci")
    assert (data.labeller.kind, data.labeller.llm, data.labeller.rules) == ("rules", 0, 374 - 66)
    assert "**Content types: rules** for all 308 original posts" in labeller_markdown(data)
