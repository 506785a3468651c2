"""The audience fit (domain/audience_fit.py) pinned by hand: three original posts and one reply."""

from __future__ import annotations

import math

import pytest

from xbot_core.domain.audience_fit import FitConfig, PostSample, fit_audience
from xbot_core.errors import StatsError

POSTS = [
    PostSample(100, {"likes": 2, "follows": None}),
    PostSample(400, {"likes": 4, "follows": 0}),
    # a post the sandbox would give twice the reach and twice the like rate (its arms): divided out
    PostSample(1600, {"likes": 16, "follows": 1}, reach_multiplier=2.0, rate_multipliers={"like": 2.0}),
    PostSample(10, {"likes": 9, "follows": 5}, is_reply=True),  # replies: counted, not fitted
]


def test_fit_by_hand() -> None:
    fit = fit_audience(POSTS, FitConfig(min_posts=3))
    # ln 100 + ln 400 + ln 800 = 4.60517 + 5.99146 + 6.68461 = 17.28125, mean 5.76042,
    # so base = (100·400·800)^(1/3) = 317.48021
    assert round(fit.mu, 5) == 5.76042
    assert round(fit.base_impressions, 5) == round((100 * 400 * 800) ** (1 / 3), 5) == 317.48021
    # deviations −1.15524, 0.23105, 0.92420: population sd sqrt(2.24211 / 3) = 0.86451
    assert round(fit.sigma, 5) == 0.86451
    # likes 22 over exposure 100 + 400 + 1600·2 = 3700; follows 1 over 400 + 1600 (first post has none)
    assert round(fit.rates["like"], 8) == round(22 / 3700, 8) == 0.00594595
    assert fit.rates["follow"] == 1 / 2000 and fit.follows_per_1k == 0.5
    assert fit.rate_posts == {"like": 3, "follow": 2}
    assert "bookmark" not in fit.rates  # no post reports it: the template's value is kept
    assert (fit.posts, fit.replies, fit.used, fit.reply_share) == (4, 1, 3, 0.25)


def test_replies_included_on_request() -> None:
    fit = fit_audience(POSTS, FitConfig(min_posts=3, include_replies=True))
    assert fit.used == 4
    assert math.isclose(fit.base_impressions, (100 * 400 * 800 * 10) ** (1 / 4))
    assert math.isclose(fit.rates["like"], 31 / 3710)


def test_invariants_scale_and_zero_impressions() -> None:
    # multiplying every impression by k multiplies the base by k and leaves sigma alone
    scaled = [PostSample(p.impressions * 10, p.counts, p.is_reply, p.reach_multiplier) for p in POSTS]
    a, b = fit_audience(POSTS, FitConfig(min_posts=3)), fit_audience(scaled, FitConfig(min_posts=3))
    assert math.isclose(b.base_impressions, 10 * a.base_impressions) and math.isclose(a.sigma, b.sigma)
    with_zero = fit_audience([*POSTS, PostSample(0, {"likes": 0})], FitConfig(min_posts=3))
    assert with_zero.zero_impressions == 1 and with_zero.used == 3


def test_not_enough_data_says_how_much_is_needed() -> None:
    with pytest.raises(StatsError, match="not enough data: 3 original posts with impressions, 20 needed"):
        fit_audience(POSTS)
