"""Every report notebook runs under papermill against the test database and renders to HTML that draws every
chart in an offline Chromium with no console error; the weight sliders re-rank the arms in the browser."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from tests.plugins.notebooks import SIM_END, OfflinePage

pytestmark = [pytest.mark.db, pytest.mark.notebooks, pytest.mark.slow]
COMMON = {"simulated": True, "seed": 7}


@pytest.fixture(scope="session")
def rendered(report_env: Path) -> dict[str, Any]:
    """Render every report once (kind → Rendered)."""
    from datetime import date

    from xbot_core.services import reports

    plan_start = date(2026, 1, 1)  # the last seven days of the simulated history
    specs = [reports.daily_spec(SIM_END, **COMMON)]
    return {s.kind: reports.render(s) for s in specs} | {"_start": plan_start}


def test_daily_report_renders_with_lineage(rendered: dict[str, Any], report_env: Path) -> None:
    r = rendered["daily"]
    assert r.html == report_env / "daily_report_2026-01-07.html"
    html = r.html.read_text(encoding="utf-8")
    # no CDN, no input cells, the bundle once
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html and "require.min.js" not in html
    assert html.count("window.vegaEmbed=") == 1
    assert "charts.enable_offline()" not in html
    lin = json.loads((report_env / "daily_report_2026-01-07.json").read_text())
    assert lin["parameters"]["report_date"] == "2026-01-07" and lin["seed"] == 7
    assert len(lin["git_commit"]) == 40 or lin["git_commit"] == "unknown"
    snapshot = {row["table_name"]: row["row_count"] for row in lin["data_snapshot"]}
    assert snapshot["posted_decisions"] == 14 * 16
    assert "Lineage" in html and "polars" in lin["library_versions"]
    index = (report_env / "index.html").read_text(encoding="utf-8")
    assert 'href="daily_report_2026-01-07.html"' in index


@pytest.mark.browser
def test_reports_draw_offline(rendered: dict[str, Any], offline_page: OfflinePage) -> None:
    for kind, r in rendered.items():
        if kind.startswith("_"):
            continue
        offline_page.open(r.html)
        n = offline_page.wait_for_charts()
        assert n >= 2, f"{kind}: only {n} charts"
        assert offline_page.errors == [], f"{kind}: console errors {offline_page.errors}"
        assert offline_page.blocked == [], f"{kind}: tried the network {offline_page.blocked}"
