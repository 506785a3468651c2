"""Reward weights and scales are bounded (issue 17): 1e308 weights made reward() return inf."""

from __future__ import annotations

import math

import pytest

from xbot_core.domain.reward import RewardVersion, reward
from xbot_core.errors import ConfigError


@pytest.mark.parametrize(
    ("field", "value", "named"),
    [
        ("w_fpki", 1e308, "w_fpki must be within ±10"),
        ("w_retweet", 10.5, "w_retweet must be within ±10"),
        ("w_dup_penalty", -11.0, "w_dup_penalty must be within ±10"),
        ("scale_fpki", 1e-300, "scale_fpki must be within [1e-06, 1e+06]"),
        ("scale_reply", 2e6, "scale_reply must be within"),
        ("exposure_cap", 0.5, "exposure_cap must be within [1, 1e+09]"),
        ("exposure_cap", 1e10, "exposure_cap must be within"),
    ],
)
def test_out_of_bounds_versions_are_refused(field: str, value: float, named: str) -> None:
    with pytest.raises(ConfigError, match=named.replace("[", r"\[").replace("+", r"\+")):
        RewardVersion(**{field: value})


def test_the_bounds_themselves_are_accepted_and_reward_stays_finite() -> None:
    extreme = RewardVersion(
        w_fpki=10,
        w_retweet=10,
        w_reply=10,
        w_novelty=10,
        w_dup_penalty=-10,
        scale_fpki=1e-6,
        scale_retweet=1e-6,
        scale_reply=1e-6,
        exposure_cap=1,
    )
    # the worst inputs a post can have: every impression followed, retweeted and replied to
    r = reward(extreme, impressions=1, follows=1, retweets=1, replies=1, novelty=1, dup_penalty=0)
    assert r is not None and math.isfinite(r)
    # 10·(1000/1e-6) + 10·(1/1e-6)·2 + 10 = 1e10 + 2e7 + 10
    assert r == pytest.approx(1e10 + 2e7 + 10)
