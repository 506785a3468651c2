"""`xbot report history`: the history notebook runs under papermill on a real import and renders offline HTML
with formatted tables, the 'not enough data' line and no CDN; reports/index.html lists it."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import polars as pl
import psycopg
import pytest
from typer.testing import CliRunner

from tests.x_analytics_data import import_legacy
from xbot_core.cli import app
from xbot_core.services.reporting.history_report import load_history
from xbot_core.settings import get_settings

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


def test_history_report_renders(history_env: Path) -> None:
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
    index = (history_env / "index.html").read_text(encoding="utf-8")
    assert 'href="history_report_rOpenSci.html"' in index
