"""Every report notebook runs under papermill against the test database and renders to HTML that draws every
chart in an offline Chromium with no console error; the weight sliders re-rank the arms in the browser."""

from __future__ import annotations

import json
import re
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from tests.plugins.notebooks import SIM_END, SIM_HANDLE, OfflinePage

pytestmark = [pytest.mark.db, pytest.mark.notebooks, pytest.mark.slow]
COMMON = {"simulated": True, "seed": 7}


@pytest.fixture(scope="session")
def rendered(report_env: Path, sim_history: dict[str, Any]) -> dict[str, Any]:
    """Render every report notebook once (kind → Rendered)."""
    from xbot_core.services.reporting import reports
    from xbot_core.settings import get_settings

    plan_start = date(2026, 1, 1)  # the last seven days of the simulated history
    reward, bandit = reports.analysis_specs(SIM_END, **COMMON)
    bandit = replace(
        bandit, parameters={**bandit.parameters, "ground_truth_path": str(sim_history["ground_truth"])}
    )
    specs = [
        reports.daily_spec(SIM_END, **COMMON),
        reports.experiment_spec(plan_start, **COMMON),
        reward,
        bandit,
    ]
    return {s.kind: reports.render(s, settings=get_settings()) for s in specs}


def test_daily_report_renders_with_lineage(rendered: dict[str, Any], report_env: Path) -> None:
    r = rendered["daily"]
    assert r.html == report_env / f"daily_report_2026-01-07_{SIM_HANDLE}.html"
    html = r.html.read_text(encoding="utf-8")
    # no CDN, no input cells, the bundle once
    assert "cdn.jsdelivr" not in html and "unpkg.com" not in html and "require.min.js" not in html
    assert html.count("window.vegaEmbed=") == 1
    assert "charts.enable_offline()" not in html
    lin = json.loads((report_env / f"daily_report_2026-01-07_{SIM_HANDLE}.json").read_text())
    assert lin["parameters"]["report_date"] == "2026-01-07" and lin["seed"] == 7
    assert len(lin["git_commit"]) == 40 or lin["git_commit"] == "unknown"
    snapshot = {row["table_name"]: row["row_count"] for row in lin["data_snapshot"]}
    assert snapshot["posted_decisions"] == 14 * 16
    assert "Lineage" in html and "polars" in lin["library_versions"]
    index = (report_env / "index.html").read_text(encoding="utf-8")
    assert f'href="daily_report_2026-01-07_{SIM_HANDLE}.html"' in index


@pytest.mark.browser
def test_reports_draw_offline(rendered: dict[str, Any], offline_page: OfflinePage) -> None:
    assert set(rendered) == {"daily", "experiment", "reward", "bandit"}
    for kind, r in rendered.items():
        offline_page.errors.clear()
        offline_page.open(r.html)
        n = offline_page.wait_for_charts()
        assert n >= 2, f"{kind}: only {n} charts"
        assert offline_page.errors == [], f"{kind}: console errors {offline_page.errors}"
        assert offline_page.blocked == [], f"{kind}: tried the network {offline_page.blocked}"


# y-axis labels of every sub-chart of one chart, top to bottom as drawn: Vega keeps the label elements in
# data order and moves them, so the order on screen is read from their positions
_LABELS_JS = """(i) => [...document.querySelectorAll('.xbot-chart')[i].querySelectorAll('svg .role-axis')]
    .filter((axis) => axis.getAttribute('aria-label')?.startsWith('Y-axis'))
    .map((axis) => [...axis.querySelectorAll('.role-axis-label text')]
        .map((t) => [t.getBoundingClientRect().y, t.textContent])
        .sort((a, b) => a[0] - b[0])
        .map((p) => p[1]))"""


def _axis_labels(page: Any, chart_index: int) -> list[list[str]]:
    return page.evaluate(_LABELS_JS, chart_index)


@pytest.mark.browser
def test_weight_sliders_rerank_arms(rendered: dict[str, Any], offline_page: OfflinePage, db_url: str) -> None:
    """Moving the sliders in the HTML re-ranks the arms exactly as the kernel-side ranking does."""
    from xbot_core.services import wiring
    from xbot_core.services.read import analytics
    from xbot_core.services.reporting import report_reward
    from xbot_core.settings import get_settings

    offline_page.open(rendered["reward"].html)
    offline_page.wait_for_charts()
    page = offline_page.page
    index = page.evaluate(
        "[...document.querySelectorAll('.xbot-chart')].findIndex((c) => c.querySelector('input[type=range]'))"
    )
    assert index >= 0, "no chart with sliders"
    before = _axis_labels(page, index)

    source = wiring.analytics_source(get_settings(), simulated=True)
    version = analytics.active_reward_version(source)
    posts = report_reward.load_posts(source, analytics.Window.days_ending(SIM_END, 7), version)
    arms = analytics.duck("arms", posts=posts)
    scopes = arms["scope"].unique(maintain_order=True).to_list()

    def order(weights: dict[str, float]) -> list[list[str]]:
        ranked = report_reward.rank_arms(arms, weights)
        return [ranked.filter(pl.col("scope") == s)["arm"].to_list() for s in scopes]

    assert before == order(version.weights())  # the page starts at the active weights
    tables = page.evaluate("[...document.querySelectorAll('table')].map((t) => t.innerText)")
    assert any("chosen weights" in t for t in tables)  # the re-scored mean and what-if tables are there
    # the page says plainly which numbers are exact arithmetic (the re-scored mean the sliders recompute) and
    # which are estimates (the OPE what-if, at the notebook's parameter weights only)
    text = " ".join(page.inner_text("body").split())
    for said in (
        # beside the sliders
        "Exact arithmetic, not an estimate. Move a slider: each arm's re-scored mean reward",
        "What a bandit using other weights would have earned is the estimate in the what-if below, computed "
        "only at the notebook's parameter weights: the sliders do not change it.",
        # the what-if note, with the weights the estimates were computed at (the notebook's defaults)
        "Exact arithmetic: the re-scored mean (the window's posts scored under each set of weights) and the "
        "interactive weights chart (each arm's re-scored mean reward under the slider weights, which the "
        "sliders recompute in the page).",
        "Estimates: the off-policy what-if table, computed at the notebook's parameter weights only "
        "(w_fpki = 0.5, w_retweet = 0.3, w_reply = 0.15, w_novelty = 0.05, w_dup_penalty = -0.1); moving a "
        "slider does not change it",
        # the two tables' headings
        "Re-scored mean (exact arithmetic, not a policy value)",
        "Off-policy estimates (estimates, 95 % bootstrap intervals)",
    ):
        assert said in text, said
    titles = page.evaluate(
        "[...document.querySelectorAll('.role-axis-title text')].map((t) => t.textContent)"
    )
    assert "re-scored mean reward under the slider weights (exact)" in titles
    # the single-term weightings; pick one that ranks the arms differently from the active weights
    zero = dict.fromkeys(version.weights(), 0.0)
    candidates = [{**zero, name: 1.0} for name in ("w_reply", "w_retweet", "w_novelty", "w_fpki")]
    target = next(w for w in candidates if order(w) != before)
    for name, value in target.items():
        page.fill(f"input[type=range][name='{name}']", str(value))
    page.wait_for_function(
        f"([i, want]) => JSON.stringify(want) === JSON.stringify(({_LABELS_JS})(i))",
        arg=[index, order(target)],
        timeout=10_000,
    )
    after = _axis_labels(page, index)
    assert after == order(target) and after != before
    # the sliders recompute the chart only: every table, the off-policy estimates included, stays as rendered
    # (and the page said so above)
    assert page.evaluate("[...document.querySelectorAll('table')].map((t) => t.innerText)") == tables
    assert offline_page.errors == [] and offline_page.blocked == []


# what a raw dataframe leaves on a page: Polars' shape line and its text table, a dtype row (a line of
# nothing but type names), NaN
_DTYPE = r"(str|f64|f32|i64|i32|u32|bool|date|datetime\[[^\]]*\]|null|decimal\[[^\]]*\])"
RAW_FRAME = re.compile(rf"shape: \(|\bNaN\b|┆|╞|^\s*{_DTYPE}(\s+{_DTYPE})*\s*$", re.MULTILINE)
CLEAN_KINDS = ["experiment", "daily", "reward", "bandit"]  # every page: its tables are formatted for people
# Python values printed as text: None, nan, inf, a timestamp with microseconds (the lineage had them)
LEFTOVER = re.compile(r"\bNone\b|\bnan\b|\binf\b|\bInfinity\b|\d\d:\d\d:\d\d\.\d{6}")


@pytest.mark.browser
@pytest.mark.parametrize("kind", CLEAN_KINDS)
def test_pages_show_no_raw_frames(rendered: dict[str, Any], offline_page: OfflinePage, kind: str) -> None:
    offline_page.open(rendered[kind].html)
    text = offline_page.page.inner_text("body")
    found = [m.group(0) for m in RAW_FRAME.finditer(text)]
    assert not found, f"{kind}: raw frame output on the page: {found[:5]}"
    assert RAW_FRAME.search("shape: (2, 18)") and RAW_FRAME.search("a\nstr\tf64\n")  # the check can fail
    leftovers = [text[max(0, m.start() - 40) : m.end() + 20] for m in LEFTOVER.finditer(text)]
    assert not leftovers, f"{kind}: Python values printed on the page: {leftovers[:5]}"
    assert LEFTOVER.search("seed\tNone") and LEFTOVER.search("2026-01-11 21:57:00.000000+00:00")


@pytest.mark.browser
def test_experiment_page_opens_with_what_to_do(rendered: dict[str, Any], offline_page: OfflinePage) -> None:
    from xbot_core.services.reporting import report_experiment as rx

    offline_page.open(rendered["experiment"].html)
    text = offline_page.page.inner_text("body")
    summary = text.index("Summary")
    assert summary < text.index("Can each experiment decide yet?") < text.index("Results and decisions")
    first = text[summary : text.index("Can each experiment decide yet?")]
    for name in ("question_cta", "late_evening_slot"):
        assert re.search(
            rf"{name}: not enough data: about \d+ more posts \(≈ \d+ days at this share\)", first
        )
    assert "This plan is a pilot" in first
    assert rx.CONTROL_LABEL in text and "bandit's other arms" not in text
    assert rx.NO_RESULTS in text  # no lift chart, no p-value below the planned n
    # the decision cell is coloured by the rule (great_tables inline style)
    cell = offline_page.page.get_by_role("cell", name=rx.NOT_ENOUGH, exact=True).first
    assert cell.evaluate("(td) => getComputedStyle(td).backgroundColor") == "rgb(224, 224, 224)"


@pytest.mark.browser
def test_daily_page_labels_provisional_figures(rendered: dict[str, Any], offline_page: OfflinePage) -> None:
    """The simulated history's last posts (SIM_END evening) have no T+24h pass yet: their figures are
    labelled provisional and the page says how many posts are still maturing."""
    from xbot_core.services.reporting.report_tables_daily import PROVISIONAL_NOTE

    offline_page.open(rendered["daily"].html)
    text = offline_page.page.inner_text("body")
    assert "Mature data" in text and "still maturing" in text
    assert PROVISIONAL_NOTE in text
    assert offline_page.page.get_by_role("cell", name="provisional", exact=True).count() >= 3
    # a count reads as a count and a share as a percentage (both were '0.000')
    assert re.search(r"incomplete passes 7d\t\d[\d,]*\s", text) and re.search(
        r"incomplete share 7d\t(\d+\.\d %|—)\s", text
    ), text[text.index("Key figures") :][:900]
