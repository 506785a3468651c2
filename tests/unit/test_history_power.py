"""Posts needed per arm at an account's own rates: the ratio cv worked by hand, the sample sizes against R's
power.t.test, and "not enough data" with the posts still needed."""

from __future__ import annotations

import math

import numpy as np
import polars as pl
import pytest

from xbot_core.domain.history_power import (
    STATUS_NOT_ENOUGH_DATA,
    STATUS_OK,
    HistoryPowerConfig,
    posts_needed_table,
    posts_per_arm,
    ratio_cv,
)


def test_ratio_cv_by_hand() -> None:
    # R = 4/600; e = y − R·x = (−2/3, 1/3, −4/3, 5/3); Σe² = 46/9; var = 46/27; mean(y) = 1
    cv = ratio_cv(np.array([0, 1, 0, 3]), np.array([100, 100, 200, 200]))
    assert round(cv, 5) == round(math.sqrt(46 / 27), 5) == 1.30526
    assert math.isnan(ratio_cv(np.array([0, 0]), np.array([10, 20])))


def test_posts_per_arm_matches_power_t_test() -> None:
    # R: power.t.test(delta = 0.25, sd = 1, power = 0.8)$n = 252.13; delta = 0.5 → 63.77 (cv 2: lift/cv)
    cfg = HistoryPowerConfig()
    assert posts_per_arm(2.0, 0.5, cfg) == 253
    assert posts_per_arm(2.0, 1.0, cfg) == 64


def _posts(follows: list[int | None], likes: list[int], impressions: list[int]) -> pl.DataFrame:
    n = len(impressions)
    return pl.DataFrame(
        {
            "impressions": impressions,
            "follows": follows,
            "profile_visits": [1] * n,
            "likes": likes,
            "reposts": [0] * n,
            "replies": [0] * n,
        },
        schema_overrides={"follows": pl.Int64},
    )


def test_table_rows_and_not_enough_data() -> None:
    cfg = HistoryPowerConfig(min_posts=4, min_events=3)
    posts = _posts([0, 1, 0, 3, None], [1, 2, 3, 4, 5], [100, 100, 200, 200, 300])
    table = posts_needed_table(posts, cfg)
    assert table.height == 6 and set(table["lift"]) == {0.5, 1.0}
    follows = table.filter(pl.col("metric") == "follows_per_1k").row(0, named=True)
    assert follows["posts"] == 4 and follows["events"] == 4  # the post without a follows value is left out
    assert follows["rate"] == pytest.approx(1000 * 4 / 600)
    assert follows["cv"] == pytest.approx(math.sqrt(46 / 27))
    assert follows["status"] == STATUS_OK and follows["posts_per_arm"] == posts_per_arm(
        math.sqrt(46 / 27), 0.5, cfg
    )
    # every post has exactly one profile visit: the same count but not the same rate, so a spread exists
    visits = table.filter(pl.col("metric") == "profile_visit_rate")
    assert set(visits["status"]) == {STATUS_OK}
    sparse = posts_needed_table(_posts([0, 1, 0, 0, 0], [1] * 5, [100] * 5), cfg)
    row = sparse.filter(pl.col("metric") == "follows_per_1k").row(0, named=True)
    assert row["status"] == STATUS_NOT_ENOUGH_DATA and row["posts_per_arm"] is None
    # 1 follow in 5 posts: 3 follows take 15 posts at this rate, 10 more
    assert row["message"] == (
        "not enough data: 1 events in 5 posts; the spread needs ≥ 3 events and ≥ 4 posts "
        "(about 10 more posts at this rate)"
    )
    none = posts_needed_table(_posts([0] * 5, [1] * 5, [100] * 5), cfg)
    assert "no rate to plan from" in none.filter(pl.col("metric") == "follows_per_1k")["message"][0]
