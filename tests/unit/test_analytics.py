"""Pure parts of the analytics data path: psql variable substitution, windows, dates, scoring, ranking."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import polars as pl
import pytest

from xbot_core.domain.reward import RewardVersion
from xbot_core.errors import ConfigError
from xbot_core.services.read import analytics, outcome_loader
from xbot_core.services.reporting import report_experiment, report_reward


def test_render_quotes_like_psql_and_leaves_casts_alone() -> None:
    sql = "SELECT :'name'::text, x::bigint FROM t WHERE a = :'account_id'::bigint AND b = :'flag'::boolean"
    out = analytics.render(sql, {"name": "it's", "account_id": 3, "flag": False})
    assert out == "SELECT 'it''s'::text, x::bigint FROM t WHERE a = '3'::bigint AND b = 'false'::boolean"


def test_render_datetimes_are_iso_literals() -> None:
    out = analytics.render(":'since'::timestamptz", {"since": datetime(2026, 1, 1, tzinfo=UTC)})
    assert out == "'2026-01-01T00:00:00+00:00'::timestamptz"


def test_render_names_every_missing_parameter() -> None:
    with pytest.raises(ConfigError, match=r"\['since', 'until'\]"):
        analytics.render(":'until' :'since' :'account_id'", {"account_id": 1})


def test_every_analytics_file_loads_and_frame_queries_parse() -> None:
    for name in (
        "outcomes",
        "posted_times",
        "decisions",
        "follower_snapshots",
        "bandit_arms",
        "training_runs",
        "experiments",
        "assignments",
        "llm_budget",
        "data_snapshot",
        "reward_versions",
    ):
        assert "SELECT" in analytics.analytics_sql(name)
    assert {"posts", "arms", "top_posts"} <= set(analytics.frame_queries())

    # the scanner's outcomes query selects outcomes.sql's columns, in its order
    def columns(text: str) -> list[str]:
        return re.findall(r"\b[op]\.\w+", text.split("FROM")[0])

    scanned = columns(outcome_loader.scanner_sql("outcomes"))
    assert len(scanned) == 22 and scanned == columns(analytics.analytics_sql("outcomes"))
    with pytest.raises(ConfigError, match="no analytics query 'nope'"):
        analytics.analytics_sql("nope")


def test_window_is_half_open_utc_days() -> None:
    w = analytics.Window.days_ending(date(2026, 1, 7), 7)
    assert w.since == datetime(2026, 1, 1, tzinfo=UTC) and w.until == datetime(2026, 1, 8, tzinfo=UTC)
    with pytest.raises(ConfigError):
        analytics.Window.days_ending(date(2026, 1, 7), 0)


def test_parse_day() -> None:
    assert analytics.parse_day("2026-02-03") == date(2026, 2, 3)
    assert analytics.parse_day("") == datetime.now(UTC).date()
    with pytest.raises(ConfigError, match="not a date"):
        analytics.parse_day("03/02/2026")


def test_score_posts_terms_add_up_to_the_reward() -> None:
    # by hand, version 1: fpki = 1000·3/1000 = 3 → 3/2 = 1.5; rt = 10/1000/0.01 = 1; rp = 5/1000/0.005 = 1
    # reward = 0.5·1.5 + 0.3·1 + 0.15·1 + 0.05·0.6 − 0.1·0.2 = 1.21
    posts = pl.DataFrame(
        {
            "impressions": [1000, 0],
            "follows": [3.0, 1.0],
            "retweets": [10, 1],
            "replies": [5, 1],
            "novelty": [0.6, 0.5],
            "dup_penalty": [0.2, 0.0],
        }
    )
    v = RewardVersion()
    scored = analytics.score_posts(posts, v)
    assert round(scored["reward"][0], 5) == 1.21
    assert scored["reward"][1] is None and scored["fpki_n"][1] is None  # impressions 0: undefined, not 0
    total = sum(getattr(v, w) * scored[t][0] for t, w in report_reward.WEIGHT_OF_TERM.items())
    assert round(total, 12) == round(scored["reward"][0], 12)


def test_rank_arms_is_linear_in_the_weights() -> None:
    arms = pl.DataFrame(
        {
            "scope": ["s", "s"],
            "arm": ["a", "b"],
            "n": [2, 2],
            "weight": [2.0, 1.0],
            "sum_fpki_n": [2.0, 0.5],
            "sum_retweet_n": [0.0, 1.0],
            "sum_reply_n": [0.0, 0.0],
            "sum_novelty": [1.0, 0.5],
            "sum_dup_penalty": [0.0, 0.0],
        }
    )
    w = {"w_fpki": 1.0, "w_retweet": 0.0, "w_reply": 0.0, "w_novelty": 0.0, "w_dup_penalty": 0.0}
    ranked = report_reward.rank_arms(arms, w)
    assert ranked["arm"].to_list() == ["a", "b"] and ranked["reward"].to_list() == [1.0, 0.5]
    ranked = report_reward.rank_arms(arms, {**w, "w_fpki": 0.0, "w_retweet": 1.0})
    assert ranked["arm"].to_list() == ["b", "a"] and ranked["reward"].to_list() == [1.0, 0.0]


def test_chosen_version_rejects_unknown_weights_and_positive_penalty() -> None:
    with pytest.raises(ConfigError, match="unknown reward weights"):
        report_reward.chosen_version(RewardVersion(), {"w_likes": 1.0})
    with pytest.raises(ConfigError, match="w_dup_penalty"):
        report_reward.chosen_version(RewardVersion(), {"w_dup_penalty": 0.5})


@pytest.mark.parametrize(
    ("low", "high", "p", "srm", "decision"),
    [
        (0.01, 0.3, 0.01, False, "ship"),
        (-0.3, -0.01, 0.01, False, "roll back"),
        (-0.1, 0.2, 0.01, False, "keep testing"),  # the interval contains 0
        (0.01, 0.3, 0.2, False, "keep testing"),  # the randomization test does not reject
        (-0.3, -0.01, 0.05, False, "keep testing"),  # p must be below 0.05, not equal
        (0.01, 0.3, float("nan"), False, "keep testing"),
        (0.01, 0.3, 0.01, True, "keep testing"),
        (float("nan"), float("nan"), 0.01, False, "keep testing"),
    ],
)
def test_experiment_decision_rule(low: float, high: float, p: float, srm: bool, decision: str) -> None:
    assert report_experiment.decide(low, high, p, srm) == decision
    assert report_experiment.decide(low, high, p, srm, enough_data=False) == "not enough data"


def test_decision_sentence_names_both_parts_of_the_rule() -> None:
    power_row = {"experiment": "question_cta", "mature_posts": 40, "planned_posts": 30, "enough": True}
    base = {"srm_flag": False, "av_low": 0.05, "av_high": 0.4, "p_randomization": 0.012}
    ship = report_experiment.sentence(power_row, {**base, "decision": "ship"}, "question")
    assert ship == (
        "question_cta: ship question: randomization p = 0.012 and the anytime-valid 95 % interval of its "
        "reward lift lies above 0 (40 mature posts of the 30 planned)."
    )
    weak = {**base, "p_randomization": 0.31, "av_low": -0.2, "decision": "keep testing"}
    text = report_experiment.sentence(power_row, weak, "question")
    assert "randomization p = 0.310 (not below 0.05)" in text and "still contains 0" in text
    assert "Both must agree" in report_experiment.DECISION_RULE
