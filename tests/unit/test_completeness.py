"""Which metrics a reward version needs and which a pass lacks: worked by hand."""

from __future__ import annotations

import pytest

from xbot_core.domain.completeness import incomplete_share, missing_metrics, required_metrics
from xbot_core.domain.reward import DEFAULT_VERSION, RewardVersion

FULL = {"impressions": 1200, "follows": 3.0, "retweets": 9, "replies": 0}


def test_default_version_needs_every_rate_metric_and_impressions() -> None:
    assert required_metrics(DEFAULT_VERSION) == ("impressions", "follows", "retweets", "replies")


def test_a_zero_weight_drops_its_metric() -> None:
    v = RewardVersion(version=2, w_fpki=0.0, w_retweet=0.3, w_reply=0.0, w_novelty=0.1)
    assert required_metrics(v) == ("impressions", "retweets")
    assert missing_metrics(v, {**FULL, "follows": None, "replies": None}) == ()


def test_novelty_only_version_needs_no_collected_metric() -> None:
    v = RewardVersion(version=3, w_fpki=0.0, w_retweet=0.0, w_reply=0.0, w_novelty=1.0)
    assert required_metrics(v) == ()
    assert missing_metrics(v, {}) == ()


def test_missing_names_each_unknown_metric_and_zero_is_known() -> None:
    assert missing_metrics(DEFAULT_VERSION, FULL) == ()  # replies = 0 is a value, not a gap
    assert missing_metrics(DEFAULT_VERSION, {**FULL, "follows": None}) == ("follows",)
    assert missing_metrics(DEFAULT_VERSION, {"retweets": 1}) == ("impressions", "follows", "replies")


def test_share() -> None:
    assert incomplete_share(1, 4) == 0.25
    assert incomplete_share(0, 0) is None
    with pytest.raises(ValueError, match="2 of 1"):
        incomplete_share(2, 1)
