"""The history table: pooled ratio rates with delta-method CIs, lift against the rest, BH across the table,
checked against an independent numpy/scipy computation; "not enough data" instead of ranking noise."""

from __future__ import annotations

import math
from datetime import UTC, date, datetime

import numpy as np
import polars as pl
import pytest
from scipy import stats

from tests.x_analytics_data import CURRENT_FILE, exports_dir, legacy_files
from xbot_core.domain.history_analysis import (
    LABELLED_BY_LLM,
    LABELLED_BY_RULES,
    STATUS_NOT_ENOUGH_DATA,
    STATUS_OK,
    HistoryAnalysisConfig,
    Labeller,
    content_labeller,
    history_table,
    length_bucket,
    post_features,
    read_growth,
    surrogates,
    trend,
    with_features,
)
from xbot_core.domain.text import content_hash
from xbot_core.domain.x_analytics import parse_export


def _posts(seed: int = 3, n: int = 40) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    impressions = rng.integers(50, 2000, n)
    return pl.DataFrame(
        {
            "hook_pattern": ["question_cta" if i % 3 == 0 else "bold_claim" for i in range(n)],
            "impressions": impressions,
            "follows": rng.binomial(impressions, 0.004),
            "profile_visits": rng.binomial(impressions, 0.02),
            "likes": rng.binomial(impressions, 0.03),
            "reposts": rng.binomial(impressions, 0.005),
            "replies": rng.binomial(impressions, 0.004),
        }
    )


def _reference(y: np.ndarray, x: np.ndarray, mask: np.ndarray) -> tuple[float, float, float, float]:
    """rate, CI half-width, lift vs rest and Welch p-value, from the textbook formulas."""

    def mv(yy: np.ndarray, xx: np.ndarray) -> tuple[float, float, int]:
        n, my, mx = yy.size, yy.mean(), xx.mean()
        vy, vx, c = yy.var(ddof=1), xx.var(ddof=1), np.cov(yy, xx, ddof=1)[0, 1]
        r = my / mx
        return r, (vy - 2 * r * c + r * r * vx) / mx**2, n

    rt, vt, nt = mv(y[mask], x[mask])
    rc, vc, nc = mv(y[~mask], x[~mask])
    half = stats.norm.ppf(0.975) * math.sqrt(vt / nt)
    lift = (rt - rc) / rc
    var = vt / (rc**2 * nt) + vc * rt**2 / (rc**4 * nc)
    dof = (vt / nt + vc / nc) ** 2 / ((vt / nt) ** 2 / (nt - 1) + (vc / nc) ** 2 / (nc - 1))
    p = 2 * stats.t.sf(abs(lift / math.sqrt(var)), dof)
    return rt, half, lift, p


def test_rates_cis_lifts_and_q_values_match_an_independent_computation() -> None:
    posts = _posts()
    table = history_table(posts, HistoryAnalysisConfig(min_posts=5, min_events=1), features=("hook_pattern",))
    assert table.height == 6 and set(table["status"]) == {STATUS_OK}
    x = posts["impressions"].to_numpy().astype(float)
    for row in table.iter_rows(named=True):
        cols = {"follows_per_1k": ["follows"], "profile_visit_rate": ["profile_visits"]}.get(
            row["metric"], ["likes", "reposts", "replies"]
        )
        y = posts.select(pl.sum_horizontal(cols)).to_series().to_numpy().astype(float)
        scale = 1000.0 if row["metric"] == "follows_per_1k" else 1.0
        rate, half, lift, p = _reference(y, x, posts["hook_pattern"].to_numpy() == row["level"])
        assert row["rate"] == pytest.approx(scale * rate, rel=1e-9)
        assert row["ci_high"] - row["rate"] == pytest.approx(scale * half, rel=1e-9)
        assert row["lift_vs_rest"] == pytest.approx(lift, rel=1e-9)
        assert row["p_value"] == pytest.approx(p, rel=1e-7)
    expected_q = stats.false_discovery_control(table["p_value"].to_numpy(), method="bh")
    np.testing.assert_allclose(table["q_value"].to_numpy(), expected_q, rtol=1e-12)


def test_too_few_posts_or_events_is_not_enough_data_and_left_out_of_bh() -> None:
    posts = _posts(n=40).with_columns(pl.lit(0).alias("follows"))
    table = history_table(posts, HistoryAnalysisConfig(min_posts=5, min_events=3), features=("hook_pattern",))
    follows = table.filter(pl.col("metric") == "follows_per_1k")
    assert set(follows["status"]) == {STATUS_NOT_ENOUGH_DATA}
    assert follows["rate"].is_nan().all() and follows["q_value"].is_nan().all()
    few = history_table(_posts(n=12), HistoryAnalysisConfig(min_posts=10), features=("hook_pattern",))
    assert set(few["status"]) == {STATUS_NOT_ENOUGH_DATA}  # 4 question_cta posts < 10


def test_features_of_a_day_only_post_invent_no_time() -> None:
    f = post_features(
        "Pick one format. https://t.co/x 1/3", datetime(2026, 7, 31, tzinfo=UTC), False, False, "UTC"
    )
    assert (f["timing_slot"], f["weekday"], f["has_link"], f["thread"]) == (
        "unknown",
        "unknown",
        "link",
        "thread",
    )
    g = post_features("@a yes", datetime(2017, 1, 30, 21, 5, tzinfo=UTC), True, True, "UTC")
    assert (g["timing_slot"], g["weekday"], g["post_kind"]) == ("late_evening", "Mon", "reply")
    assert [length_bucket("x" * n) for n in (79, 80, 159, 160, 280, 281)] == [
        "short",
        "medium",
        "medium",
        "long",
        "long",
        "very_long",
    ]


def test_table_on_the_real_legacy_history() -> None:
    frames = [parse_export(f.read_bytes(), f.name).frame for f in legacy_files()]
    posts = with_features(pl.concat(frames), "UTC")
    assert posts["is_reply"].dtype == pl.Boolean and posts["is_reply"].sum() == 66
    table = history_table(posts)
    ok = table.filter(pl.col("status") == STATUS_OK)
    # 37 follows over 1,857,985 impressions: the pooled rate is Σfollows / Σimpressions, not a mean of rates
    pooled = 1000 * posts["follows"].sum() / posts["impressions"].sum()
    assert pooled == pytest.approx(1000 * 37 / 1_857_985)
    assert ok.height > 0 and table.height > ok.height
    assert ok["q_value"].is_not_nan().all()
    assert (ok["q_value"] >= ok["p_value"]).all()
    current = with_features(
        parse_export((exports_dir() / CURRENT_FILE).read_bytes(), CURRENT_FILE).frame, "UTC"
    )
    follows = history_table(current).filter(pl.col("metric") == "follows_per_1k")
    assert set(follows["status"]) == {STATUS_NOT_ENOUGH_DATA}  # one follow in 70 posts


def test_trend_pools_each_period_and_growth_compares_reads() -> None:
    posts = pl.DataFrame(
        {
            "posted_at": [datetime(2026, 1, d, tzinfo=UTC) for d in (5, 20)]
            + [datetime(2026, 2, 3, tzinfo=UTC)],
            "impressions": [100, 300, 50],
            "follows": [1, 0, None],
            "profile_visits": [2, 4, 1],
            "likes": [3, 9, 1],
            "reposts": [0, 1, 0],
            "replies": [1, 0, 0],
        }
    )
    t = trend(posts, "1mo")
    assert t["posts"].to_list() == [2, 1]
    assert t["impressions_per_post"].to_list() == [200.0, 50.0]
    assert t["follows_per_1k"][0] == pytest.approx(1000 * 1 / 400)
    assert t["follows_per_1k"][1] is None  # no post of February has a follows value
    assert t["engagement_rate"].to_list() == pytest.approx([14 / 400, 1 / 50])
    reads = pl.DataFrame(
        {
            "tweet_id": ["1", "1", "2"],
            "as_of": [date(2026, 7, 31), date(2026, 8, 31), date(2026, 7, 31)],
            "impressions": [16, 116, 5],
        }
    )
    g = read_growth(reads)
    assert g.select("tweet_id", "reads", "impressions_growth").rows() == [("1", 2, 100)]


def test_surrogates_rank_correlation_against_scipy() -> None:
    posts = _posts(seed=5, n=60)
    s = surrogates(posts)
    imp = posts["impressions"].to_numpy().astype(float)
    fol = posts["follows"].to_numpy() / imp
    for row in s.iter_rows(named=True):
        expected = stats.spearmanr(posts[row["surrogate"]].to_numpy() / imp, fol).statistic
        assert row["posts"] == 60 and row["spearman_rho"] == pytest.approx(expected, rel=1e-12)
    flat = surrogates(posts.with_columns(pl.lit(0).alias("follows")))
    assert flat["spearman_rho"].to_list() == [None, None]  # follows never vary: nothing to predict
    assert posts["follows"].sum() >= 5
    few = surrogates(posts, min_follows=int(posts["follows"].sum()) + 1)
    assert few["spearman_rho"].to_list() == [None, None]


def test_llm_labels_win_over_the_rules_for_original_posts_only() -> None:
    at = datetime(2026, 7, 31, 9, tzinfo=UTC)
    texts = [
        "Why most dashboards fail: nobody owns them.",  # rules: insight? whatever they say, the LLM wins
        "Read this before you ship a notebook.",
        "@a thanks, that helps",  # a reply: never relabelled, even with a label for its text
    ]
    posts = pl.DataFrame(
        {
            "text": texts,
            "posted_at": [at] * 3,
            "time_known": [True] * 3,
            "is_reply": [False, False, True],
        }
    )
    rules = with_features(posts, "UTC")
    assert rules["content_type_by"].to_list() == [LABELLED_BY_RULES] * 3
    assert content_labeller(rules) == Labeller(LABELLED_BY_RULES, 0, 2)
    assert rules["rules_content_type"].to_list() == rules["content_type"].to_list()
    # a label unlike the rules' for the first text and one for the reply's text
    first = "story" if rules["content_type"][0] != "story" else "tip"
    llm = {content_hash(texts[0]): first, content_hash(texts[2]): "resource"}
    mixed = with_features(posts, "UTC", llm)
    assert mixed["content_type"].to_list() == [first, *rules["content_type"].to_list()[1:]]
    assert mixed["content_type_by"].to_list() == [LABELLED_BY_LLM, LABELLED_BY_RULES, LABELLED_BY_RULES]
    assert mixed["rules_content_type"].to_list() == rules["content_type"].to_list()
    assert content_labeller(mixed) == Labeller("mixed", 1, 1)
    llm[content_hash(" Read this before you  ship a notebook. ")] = "tip"  # the hash of the normalised text
    assert content_labeller(with_features(posts, "UTC", llm)) == Labeller(LABELLED_BY_LLM, 2, 0)
