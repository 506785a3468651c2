"""The daily report's engagement figures use mature posts only (T+24h pass stored): numbers worked by hand."""

from __future__ import annotations

from datetime import UTC, datetime

import polars as pl
import pytest

from xbot_core.domain.reward import weighted_reward_expr
from xbot_core.services.reporting.report_daily import daily_frame, engagement_summary, mature_posts


def posts() -> pl.DataFrame:
    # A and B have their T+24h pass; C has only its T+1h pass (and would dominate every rate if counted)
    return pl.DataFrame(
        {
            "collected_pass": [2, 2, 1],
            "impressions": [1000, 500, 100],
            "likes": [30, 10, 50],
            "retweets": [10, 0, 50],
            "replies": [10, 5, 50],
            "follows": [4.0, 1.0, 20.0],
            "reward": [0.5, 0.2, 3.0],
            "exposure_weight": [1.0, 0.5, 0.1],
            "novelty": [0.2, 0.4, 0.9],
        }
    )


def test_mature_posts_keep_only_the_t24h_pass() -> None:
    assert mature_posts(posts())["impressions"].to_list() == [1000, 500]


def test_engagement_rows_come_from_mature_posts_only() -> None:
    window = posts()
    today = window.filter(pl.col("collected_pass") == 1)
    rows = {r["period"]: r for r in engagement_summary(today, window, 7).iter_rows(named=True)}
    week = rows["last 7 days"]
    assert (week["posts"], week["mature"]) == (3, 2)
    assert week["impressions"] == 1500 and week["engagements"] == 65 and week["follows"] == 5
    assert week["ER"] == pytest.approx(65 / 1500)  # 0.04333
    assert week["FPKI"] == pytest.approx(1000 * 5 / 1500)  # 3.33333
    assert week["reply rate"] == pytest.approx(15 / 1500)  # 0.01
    assert week["weighted reward"] == pytest.approx((0.5 * 1.0 + 0.2 * 0.5) / 1.5)  # 0.4
    day = rows["today"]  # nothing mature yet: unknown, never 0
    assert (day["posts"], day["mature"]) == (1, 0)
    assert all(day[k] is None for k in ("impressions", "ER", "FPKI", "reply rate", "weighted reward"))


def test_daily_frame_counts_every_post_and_rates_only_the_mature() -> None:
    # day 1: A, B (mature) and C (T+1h only); day 2: D with T+1h only
    day1, day2 = datetime(2026, 1, 5, 9, tzinfo=UTC), datetime(2026, 1, 6, 23, 30, tzinfo=UTC)
    frame = pl.concat(
        [
            posts().with_columns(pl.Series("posted_at", [day1, day1, day1])),
            posts().head(1).with_columns(collected_pass=pl.lit(1, pl.Int64), posted_at=pl.lit(day2)),
        ]
    )
    rows = daily_frame(frame).rows(named=True)
    assert [(r["day"].isoformat(), r["posts"], r["posts_mature"]) for r in rows] == [
        ("2026-01-05", 3, 2),
        ("2026-01-06", 1, 0),
    ]
    first, second = rows
    assert first["fpki"] == pytest.approx(1000 * 5 / 1500)  # 3.33333 (C's 20 follows per 100 left out)
    assert first["er"] == pytest.approx(65 / 1500)  # 0.04333
    assert first["reply_rate"] == pytest.approx(15 / 1500)  # 0.01
    assert first["weighted_reward"] == pytest.approx(0.6 / 1.5)  # (0.5·1.0 + 0.2·0.5) / 1.5 = 0.4
    assert first["novelty"] == pytest.approx(0.5)  # mean of all three: final at posting
    assert all(second[k] is None for k in ("fpki", "er", "reply_rate", "weighted_reward"))
    assert second["novelty"] == pytest.approx(0.2)


def test_weighted_reward_ignores_unknown_rewards_and_is_none_without_weight() -> None:
    frame = pl.DataFrame({"reward": [1.0, None, 0.0], "exposure_weight": [0.5, 1.0, 0.25]})
    assert frame.select(weighted_reward_expr()).item() == pytest.approx(0.5 / 0.75)  # 0.66667
    empty = pl.DataFrame(
        {"reward": [None], "exposure_weight": [1.0]},
        schema={"reward": pl.Float64, "exposure_weight": pl.Float64},
    )
    assert empty.select(weighted_reward_expr()).item() is None
