"""What an experiment plan can detect: posts per arm, the MDE at a reward CV, and what a target needs.

Pure: a plan (domain/experiments.py), a posting rate and a coefficient of variation in; one record per
experiment out. Used by `xbot plan check` before the plan runs and by the experiment report after.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from xbot_core.domain.experiments import ExperimentPlan
from xbot_core.domain.stats_power import DEFAULT_ALPHA, DEFAULT_POWER, mde, posts_needed
from xbot_core.domain.stats_power import power as power_at
from xbot_core.errors import ConfigError

# measured: per-post reward sd / mean of the simulator's 14-day history at 8 posts a day (seed 7) is 0.606
DEFAULT_CV = 0.6
DEFAULT_CV_NOTE = (
    "no measured reward CV for this account yet: using 0.6, the simulator's per-post reward sd / mean "
    "(real accounts are often noisier, which makes every MDE larger)"
)
PILOT_MDE = 0.5  # a plan that cannot see ±50 % lifts is a pilot, whatever its target


@dataclass(frozen=True)
class ExperimentPower:
    """One experiment of a plan at a posting rate and reward CV."""

    name: str
    share: float
    days: int
    posts_per_day: float
    expected_posts: float
    expected_control: float
    expected_treatment: float
    cv: float
    mde: float | None  # None when the plan gives fewer than 2 posts to an arm
    target_mde: float | None
    power_at_target: float | None
    posts_needed: int | None
    days_needed: int | None

    @property
    def reaches_target(self) -> bool:
        return self.mde is not None and self.target_mde is not None and self.mde <= self.target_mde

    @property
    def pilot(self) -> bool:
        """Too small to detect anything but very large effects."""
        return self.mde is None or self.mde > PILOT_MDE


def experiment_power(
    name: str,
    share: float,
    days: int,
    posts_per_day: float,
    cv: float,
    target_mde: float | None,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
) -> ExperimentPower:
    """Expected arms from the plan's days and rate; the MDE they give and what the target needs."""
    if not posts_per_day > 0:
        raise ConfigError(f"posts per day must be positive, got {posts_per_day!r}")
    total = days * posts_per_day
    n_t, n_c = total * share, total * (1 - share)
    small = n_t < 2 or n_c < 2
    m = None if small else mde(n_c, n_t, cv, alpha, power)
    needed = None if target_mde is None else posts_needed(target_mde, share, cv, alpha, power)
    return ExperimentPower(
        name=name,
        share=share,
        days=days,
        posts_per_day=posts_per_day,
        expected_posts=total,
        expected_control=n_c,
        expected_treatment=n_t,
        cv=cv,
        mde=m,
        target_mde=target_mde,
        power_at_target=None if target_mde is None or small else power_at(n_c, n_t, cv, target_mde, alpha),
        posts_needed=needed,
        days_needed=None if needed is None else math.ceil(needed / posts_per_day),
    )


def plan_power(
    plan: ExperimentPlan,
    cv: float,
    posts_per_day: float | None = None,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
) -> list[ExperimentPower]:
    """Every experiment of `plan` at `posts_per_day` (default: the plan's own) and reward CV `cv`."""
    rate = posts_per_day if posts_per_day is not None else plan.posts_per_day
    if rate is None:
        raise ConfigError(f"plan {plan.name!r} has no posts_per_day; pass --posts-per-day")
    return [
        experiment_power(e.name, e.share, e.last_day - e.first_day + 1, rate, cv, e.target_mde, alpha, power)
        for e in plan.experiments
    ]


def _pct(x: float) -> str:
    return f"±{100 * x:.0f} %"


def describe(p: ExperimentPower) -> str:
    """One plain sentence about what the experiment can detect and what its target would take."""
    arms = f"≈ {p.expected_treatment:.1f} treatment and {p.expected_control:.1f} control posts"
    if p.mde is None:
        head = f"{p.name}: {arms} in {p.days} day(s): too few to test at all."
    else:
        head = (
            f"{p.name}: {arms} in {p.days} day(s) can only detect lifts of {_pct(p.mde)} or more "
            "(80 % power)."
        )
    if p.target_mde is None:
        return head
    if p.reaches_target:
        return f"{head} That meets the target of {_pct(p.target_mde)}."
    return (
        f"{head} A target of {_pct(p.target_mde)} needs {p.posts_needed} posts "
        f"(≈ {p.days_needed} days at {p.posts_per_day:g} posts a day and a {100 * p.share:.0f} % share)."
    )


PILOT_WARNING = (
    "This plan is a pilot: at its size only very large effects (above ±50 %) can be detected, so 'not "
    "enough data' or 'keep testing' means nothing was learned yet, not that the variants are equal."
)
