"""The daily report's engagement figures use mature posts only (T+24h pass stored): numbers worked by hand."""

from __future__ import annotations

import polars as pl
import pytest

from xbot_core.services.reporting.report_daily import engagement_summary, mature_posts


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
