"""Drift alarm: has an arm's reward moved between the recent days and the days before them?

The bandit treats an arm's reward as fixed; when the audience changes, old evidence keeps the posterior where
it was. Per arm, the mean reward of the last `recent_days` (up to the newest observation) is compared with
the mean before them by Welch's z = (m_recent − m_before) / √(s²_recent/n_recent + s²_before/n_before); an arm
with both periods holding at least `min_posts` observations and |z| ≥ `z_alarm` raises the alarm. It is a
flag for a person (and a reason to set a discount or a window), not a test with a controlled error rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta

import numpy as np

from xbot_core.domain.bandit import Observation, latest_pass
from xbot_core.errors import ConfigError


@dataclass(frozen=True)
class DriftConfig:
    """The recent period, the smallest sample per period and the |z| that raises the alarm."""

    recent_days: int = 7
    min_posts: int = 5
    z_alarm: float = 3.0

    def __post_init__(self) -> None:
        if self.recent_days < 1 or self.min_posts < 2 or not self.z_alarm > 0:
            raise ConfigError("invalid drift config: need recent_days ≥ 1, min_posts ≥ 2 and z_alarm > 0")


@dataclass(frozen=True)
class ArmDrift:
    """One arm's recent and earlier mean reward and Welch's z between them (None without enough data)."""

    scope: str
    arm: str
    n_recent: int
    n_before: int
    mean_recent: float | None
    mean_before: float | None
    z: float | None
    alarm: bool

    def describe(self) -> str:
        return f"{self.scope}:{self.arm} {self.mean_before:.3f}→{self.mean_recent:.3f} (z={self.z:+.1f})"


def arm_drift(
    scope: str, observations: Iterable[Observation], cfg: DriftConfig | None = None
) -> list[ArmDrift]:
    """Per arm of the observations (latest pass per decision, timed ones only), recent vs before."""
    cfg = cfg or DriftConfig()
    obs = [o for o in latest_pass(observations) if o.observed_at is not None]
    if not obs:
        return []
    cut = max(o.observed_at for o in obs if o.observed_at) - timedelta(days=cfg.recent_days)
    out = []
    for arm in sorted({o.arm for o in obs}):
        recent = np.array([o.reward for o in obs if o.arm == arm and o.observed_at and o.observed_at > cut])
        before = np.array([o.reward for o in obs if o.arm == arm and o.observed_at and o.observed_at <= cut])
        z = None
        if recent.size >= cfg.min_posts and before.size >= cfg.min_posts:
            se = math.sqrt(recent.var(ddof=1) / recent.size + before.var(ddof=1) / before.size)
            diff = float(recent.mean() - before.mean())
            z = diff / se if se > 0 else (0.0 if diff == 0 else math.copysign(math.inf, diff))
        out.append(
            ArmDrift(
                scope=scope,
                arm=arm,
                n_recent=int(recent.size),
                n_before=int(before.size),
                mean_recent=float(recent.mean()) if recent.size else None,
                mean_before=float(before.mean()) if before.size else None,
                z=z,
                alarm=z is not None and abs(z) >= cfg.z_alarm,
            )
        )
    return out
