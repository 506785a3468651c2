"""The reward what-if as OPE: the bandit re-fitted on re-scored history, cross-fitted, evaluated on a fixed
outcome; pinned by hand with the ε-greedy bandit (closed-form probabilities)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from xbot_core.domain import whatif
from xbot_core.domain.bandit import BanditConfig
from xbot_core.domain.ope import OpeConfig

CFG = whatif.WhatIfConfig(
    policy="epsilon_greedy",
    bandit=BanditConfig(policies={"content_type": "epsilon_greedy"}),
    ope=OpeConfig(n_bootstrap=0),
)


def _log(days: list[int]) -> whatif.ScopeLog:
    return whatif.ScopeLog(
        scope="content_type",
        arms=("x", "y"),
        actions=np.array([0, 1, 0, 1]),
        propensity=np.full(4, 0.5),
        days=np.array(days),
        exposure=np.ones(4),
        posted_at=tuple(datetime(2026, 1, d, 9, i, tzinfo=UTC) for i, d in enumerate(days)),
    )


def test_implied_policy_is_fitted_on_the_other_days() -> None:
    # day 1 scores x 0.9, y 0.1; day 2 scores x 0.2, y 0.8
    scores = [0.9, 0.1, 0.2, 0.8]
    probs = whatif.implied_policy(_log([1, 1, 2, 2]), scores, np.random.default_rng(0), CFG)
    # day 1 is judged by the bandit fitted on day 2 (greedy y), day 2 by the one fitted on day 1 (greedy x);
    # two pulls: ε = 0.2 − 0.15·2/100 = 0.197, greedy arm 1 − ε + ε/2 = 0.9015, the other 0.0985
    assert np.round(probs, 5).tolist() == [
        [0.0985, 0.9015],
        [0.0985, 0.9015],
        [0.9015, 0.0985],
        [0.9015, 0.0985],
    ]


def test_evaluate_weights_pinned_by_hand() -> None:
    follows = [1.0, 0.0, 3.0, 4.0]
    res = whatif.evaluate_weights(
        _log([1, 1, 2, 2]), [0.9, 0.1, 0.2, 0.8], follows, np.random.default_rng(0), CFG
    )
    # w = π/0.5 = [0.197, 1.803, 1.803, 0.197]; Σ w·y = 0.197 + 5.409 + 0.788 = 6.394; Σ w = 4
    assert round(res.ips.value, 5) == round(res.snips.value, 5) == 1.5985
    # q(x) = 2, q(y) = 2; mean target row [0.5, 0.5]: DM = 2; Σ w·q = 8, so DR = DM + (6.394 − 8)/4
    assert round(res.dm.value, 5) == 2.0 and round(res.dr.value, 5) == 1.5985
    assert res.logged_mean == pytest.approx(2.0)


def test_the_yardstick_does_not_scale_with_the_weights() -> None:
    # doubling every score leaves the greedy choices, hence the estimate of the fixed outcome, unchanged
    # (the re-scored mean would double)
    log = _log([1, 1, 2, 2])
    follows = [1.0, 0.0, 3.0, 4.0]
    once = whatif.evaluate_weights(log, [0.4, 0.1, 0.2, 0.3], follows, np.random.default_rng(0), CFG)
    twice = whatif.evaluate_weights(log, [0.8, 0.2, 0.4, 0.6], follows, np.random.default_rng(0), CFG)
    assert once.ips.value == pytest.approx(twice.ips.value) and once.dr.value == pytest.approx(twice.dr.value)


def test_one_day_is_too_few_to_cross_fit() -> None:
    res = whatif.evaluate_weights(
        _log([1, 1, 1, 1]), [0.9, 0.1, 0.2, 0.8], [1, 0, 3, 4], np.random.default_rng(0), CFG
    )
    assert res.status == whatif.STATUS_TOO_FEW_DAYS and res.message == whatif.TOO_FEW_DAYS_MESSAGE
    assert res.ips is None and res.logged_mean == 2.0
