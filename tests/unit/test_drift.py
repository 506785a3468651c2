"""Drift alarm and sliding window: pinned by hand on small sequences."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest

from xbot_core.domain import bandit as b
from xbot_core.domain.drift import DriftConfig, arm_drift
from xbot_core.errors import ConfigError

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _obs(arm: str, day: int, reward: float, i: int = 0) -> b.Observation:
    return b.Observation(f"{arm}{day}/{i}", arm, 2, reward, 1.0, T0 + timedelta(days=day, minutes=i))


def test_drift_pinned_by_hand() -> None:
    # arm a: days 0–4 reward 0.2, 0.3, 0.2, 0.3, 0.2; days 10–14 0.6, 0.7, 0.6, 0.7, 0.6 (recent: 7 days)
    before, recent = [0.2, 0.3, 0.2, 0.3, 0.2], [0.6, 0.7, 0.6, 0.7, 0.6]
    obs = [_obs("a", d, r) for d, r in enumerate(before)] + [
        _obs("a", 10 + d, r) for d, r in enumerate(recent)
    ]
    obs += [_obs("b", d, 0.5) for d in (0, 1, 12)]  # too few per period: no z
    got = {
        d.arm: d for d in arm_drift("content_type", obs, DriftConfig(recent_days=7, min_posts=5, z_alarm=3.0))
    }
    a = got["a"]
    # means 0.24 and 0.64, variances 0.003 each: z = 0.4 / √(0.003/5 + 0.003/5) = 11.54701
    assert (a.n_before, a.n_recent, round(a.mean_before, 5), round(a.mean_recent, 5)) == (5, 5, 0.24, 0.64)
    assert round(a.z, 5) == 11.54701 and a.alarm
    assert got["b"].z is None and not got["b"].alarm and (got["b"].n_before, got["b"].n_recent) == (2, 1)
    assert a.describe() == "content_type:a 0.240→0.640 (z=+11.5)"
    # a stable arm raises nothing
    flat = [_obs("c", d, 0.2 + 0.1 * (d % 2)) for d in range(15)]
    (c,) = arm_drift("content_type", flat)
    assert not c.alarm and abs(c.z) < 1
    with pytest.raises(ConfigError):
        DriftConfig(min_posts=1)


def test_sliding_window_keeps_only_recent_evidence() -> None:
    seq = [_obs("a", 0, 3.0), _obs("a", 5, 0.0), _obs("b", 9, 1.5)]
    cfg = b.BanditConfig(window_days=5)
    fit = b.fit_scope("s", ["a", "b"], seq, cfg)
    # newest at day 9: the window keeps days (4, 9]: a gets only the 0.0 (failure 1), b 1.5 / 3 = 0.5
    assert (fit[0].pulls, fit[0].alpha, fit[0].beta) == (1, 1.0, 2.0)
    assert (fit[1].pulls, fit[1].alpha, fit[1].beta) == (1, 1.5, 1.5)
    everything = b.fit_scope("s", ["a", "b"], seq, b.BanditConfig())
    assert everything[0].pulls == 2 and math.isclose(everything[0].alpha, 2.0)
    with pytest.raises(ConfigError, match="window_days"):
        b.BanditConfig(window_days=0)
