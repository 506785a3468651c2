"""The experiment report's numbers on the seeded simulated history (test database, real Postgres)."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest

from tests.plugins.notebooks import SIM_HANDLE

pytestmark = [pytest.mark.db]
PLAN_START = date(2026, 1, 1)  # the simulated history's experiments run on its last seven days


def _mature_counts(db_url: str) -> dict[tuple[str, str], int]:
    """(experiment, variant) → posts with a stored T+24h outcome, counted in SQL."""
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """SELECT e.name, a.variant, count(*)
                 FROM experiment_assignments a
                 JOIN experiments e USING (experiment_id)
                 JOIN accounts acc ON acc.account_id = e.account_id
                 JOIN outcomes o ON o.decision_id = a.decision_id AND o.collected_pass = 2 AND o.status = 'ok'
                WHERE acc.handle = %s
                GROUP BY 1, 2""",
            (SIM_HANDLE,),
        ).fetchall()
    return {(name, variant): n for name, variant, n in rows}


def _configured_plan() -> Any:
    from xbot_core.domain.experiments import load_plan
    from xbot_core.settings import get_settings

    return load_plan(get_settings().experiment_plan)


@pytest.fixture(scope="module")
def source(report_env: Path, sim_history: dict[str, Any]) -> Any:
    from xbot_core.services import wiring
    from xbot_core.settings import get_settings

    return wiring.analytics_source(get_settings(), SIM_HANDLE, simulated=True)


def test_default_plan_is_not_enough_data(source: Any, db_url: str) -> None:
    from xbot_core.domain import stats
    from xbot_core.services.reporting import report_experiment as rx

    report = rx.build(source, PLAN_START, plan=_configured_plan())
    counts = _mature_counts(db_url)
    assert report.results["decision"].to_list() == [rx.NOT_ENOUGH, rx.NOT_ENOUGH]
    # below the planned n nothing is compared: no lift, no p-value, no chance to win, no cumulative lift
    for col in ("lift", "p_randomization", "p_welch", "chance_to_win"):
        assert report.results[col].null_count() == 2
    assert report.guardrails.is_empty() and report.cumulative.is_empty() and not rx.has_results(report)
    for row, exp in zip(
        report.power.iter_rows(named=True), ("question_cta", "late_evening_slot"), strict=True
    ):
        assert row["experiment"] == exp
        assert (row["mature_control"], row["mature_treatment"]) == (
            counts[(exp, "control")],
            counts[(exp, "treatment")],
        )
        # every post of days 3–6 has its T+24h pass in the simulated history: nothing is still maturing
        assert (row["maturing_posts"], row["mature_by"]) == (0, None)
        assert row["planned_posts"] == stats.posts_needed(0.3, row["share"], report.cv.cv)
        more = row["planned_posts"] - row["mature_posts"]
        # the simulated history plans 16 decisions a day, 2 days per experiment
        days = math.ceil(more / 16)
        assert (row["more_posts"], row["more_days"]) == (more, days)
        assert row["mde"] == pytest.approx(
            stats.mde(row["mature_control"], row["mature_treatment"], report.cv.cv)
        )
        text = f"{exp}: not enough data: about {more} more posts (≈ {days} days at this share)"
        assert any(s.startswith(text) for s in report.summary)
    assert report.cv.measured and report.cv.posts >= 100
    assert "pilot" in rx.summary_markdown(report)
    labels = report.arms.filter(report.arms["variant"] == "control")["arm"].unique().to_list()
    assert labels == [rx.CONTROL_LABEL]


def test_with_enough_data_the_report_compares(source: Any) -> None:
    """A plan whose target (±200 %) the history already reaches: p-values, CIs, guardrails and a decision."""
    from xbot_core.domain.experiments import load_plan
    from xbot_core.services.reporting import report_experiment as rx
    from xbot_core.settings import get_settings

    plan = load_plan(get_settings().experiment_plan)
    plan = replace(plan, experiments=tuple(replace(e, target_mde=2.0) for e in plan.experiments))
    report = rx.build(source, PLAN_START, plan=plan, seed=3)
    assert report.results["enough"].to_list() == [True, True] and rx.has_results(report)
    for r in report.results.iter_rows(named=True):
        assert 0 < r["p_randomization"] <= 1 and 0 < r["p_welch"] <= 1
        assert r["ci_low"] < r["lift"] < r["ci_high"] and r["av_low"] < r["ci_low"]
        assert r["decision"] == rx.decide(r["av_low"], r["av_high"], r["p_randomization"], r["srm_flag"])
        assert r["adjusted_low"] < r["adjusted_lift"] < r["adjusted_high"] and 0 < r["adjusted_p"] <= 1
    assert report.guardrails.height == 6  # FPKI, ER, reply rate × 2 experiments
    assert set(report.guardrails["metric"]) == {"FPKI", "ER", "reply rate"}
    assert not report.cumulative.is_empty()
    again = rx.build(source, PLAN_START, plan=plan, seed=3)
    assert again.results["p_randomization"].to_list() == report.results["p_randomization"].to_list()


def test_an_empty_window_says_so_in_one_sentence(source: Any) -> None:
    from IPython.display import Markdown

    from xbot_core.services.reporting import charts_experiment, report_tables
    from xbot_core.services.reporting import report_experiment as rx

    report = rx.build(source, date(2025, 6, 1), plan=_configured_plan())
    assert report.experiments.is_empty() and report.summary == []
    assert rx.summary_markdown(report) == rx.NO_EXPERIMENTS and "xbot demo" in rx.NO_EXPERIMENTS
    for chart in (
        charts_experiment.progress(report.power),
        charts_experiment.reward_strips(report.rewards),
        charts_experiment.lifts(report),
        charts_experiment.cumulative(report),
    ):
        assert isinstance(chart, Markdown)  # a sentence, never an empty chart
    for build_table in (report_tables.power_table, report_tables.arms_table, report_tables.results_table):
        assert "nothing to show yet" in build_table(report).as_raw_html()


def test_notebooks_default_to_the_accounts_latest_data(source: Any) -> None:
    from xbot_core.services.reporting import report_daily
    from xbot_core.services.reporting import report_experiment as rx

    assert rx.default_start(source, "", 7) == PLAN_START  # 7 days ending with the last post (2026-01-07)
    assert report_daily.default_day(source, "") == date(2026, 1, 7)
    assert rx.default_start(source, "2025-12-01", 7) == date(2025, 12, 1)
    # reward analysis and bandit diagnostics take the same default; an empty window names the command
    from xbot_core.services.read import analytics
    from xbot_core.services.reporting import report_bandit, report_reward

    assert analytics.report_day(source, "") == date(2026, 1, 7)
    assert analytics.report_day(source, "2025-06-01") == date(2025, 6, 1)
    weights = {"w_fpki": 0.5, "w_retweet": 0.3, "w_reply": 0.15, "w_novelty": 0.05, "w_dup_penalty": -0.1}
    empty = report_reward.build(source, date(2025, 6, 1), days=7, weights=weights, seed=7)
    note = report_reward.headline(empty, 7)
    assert note.startswith("**No simulated posts of @") and "`xbot demo`" in note and "`report_date`" in note
    assert "2025-05-26 to 2025-06-01" in note
    bandit = report_bandit.build(source, date(2025, 6, 1), days=14, seed=7)
    assert report_bandit.headline(bandit).startswith("**No simulated posts of @")
    full = report_reward.build(source, date(2026, 1, 7), days=7, weights=weights, seed=7)
    tail = f"{full.posts.height} posts, active reward version {full.version.version}"
    assert full.posts.height > 0 and report_reward.headline(full, 7).endswith(tail)
