"""How a collected pass gets its follows: analytics first, else snapshot attribution; never a made-up 0."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from xbot_core.adapters.db.repositories import PendingPass
from xbot_core.adapters.x_browser.models import Metrics
from xbot_core.domain.attribution import Attribution
from xbot_core.domain.reward import RewardVersion
from xbot_core.services.loop.collection import _outcome

T = datetime(2026, 1, 6, 9, tzinfo=UTC)
PASS = PendingPass(uuid.uuid4(), 1, "123", None, T, True, 2, T + timedelta(hours=24))


def metrics(new_follows: int | None, impressions: int | None = 2000) -> Metrics:
    return Metrics(impressions, 30, 6, 4, 1, 2, 15, 3, new_follows, T + timedelta(hours=25))


def test_analytics_follows_win() -> None:
    row = _outcome(PASS, metrics(5), now=T, attribution=Attribution(PASS.decision_id, 9.0, 3, "medium", 1.0))
    assert (row.follows, row.follows_source, row.follows_confidence) == (5.0, "analytics", "high")
    assert round(row.fpki, 5) == 2.5  # 1000 * 5 / 2000
    assert round(row.er, 5) == 0.02  # (30 + 6 + 4) / 2000
    assert (round(row.retweet_rate, 5), round(row.reply_rate, 5)) == (0.003, 0.002)
    assert row.collected_at == T + timedelta(hours=25)  # when it was really read


def test_attributed_follows_carry_their_confidence() -> None:
    att = Attribution(PASS.decision_id, 7.5, 3, "medium", 86400.0)
    row = _outcome(PASS, metrics(None), now=T, attribution=att)
    assert (row.follows, row.follows_source, row.follows_confidence) == (7.5, "attributed", "medium")
    assert round(row.fpki, 5) == 3.75  # 1000 * 7.5 / 2000


@pytest.mark.parametrize("att", [None, Attribution("x", None, 1, "high", 0.0)])
def test_unknown_follows_stay_null(att: Attribution | None) -> None:
    row = _outcome(PASS, metrics(None), now=T, attribution=att)
    assert (row.follows, row.follows_source, row.follows_confidence, row.fpki) == (None, None, None, None)
    assert row.missing_metrics == ["follows"]  # stored as incomplete, naming the gap


def test_a_version_without_the_follows_term_does_not_need_them() -> None:
    v = RewardVersion(version=2, w_fpki=0.0)
    assert _outcome(PASS, metrics(None), now=T, attribution=None, version=v).missing_metrics == []
    assert _outcome(PASS, metrics(3), now=T, attribution=None).missing_metrics == []


def test_zero_or_unknown_impressions_leave_rates_null() -> None:
    for imp in (0, None):
        row = _outcome(PASS, metrics(4, impressions=imp), now=T, attribution=None)
        assert (row.er, row.fpki, row.retweet_rate, row.reply_rate) == (None, None, None, None)
        assert row.follows == 4.0
        assert row.missing_metrics == ([] if imp == 0 else ["impressions"])  # 0 is known, None is a gap
