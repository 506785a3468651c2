"""Power and minimum detectable effect of an experiment before it runs (and of what it achieved).

Student's pooled two-sample t-test on per-post values, both arms sharing the coefficient of variation
cv = sd / mean, so a relative lift `lift` is the standardised effect d = lift / cv:
  df  = n_c + n_t − 2,   ncp = d · √(n_c n_t / (n_c + n_t)),   t* = t_{df}^{-1}(1 − α/2)   (two-sided)
  power = P(T' > t*) + P(T' < −t*),   T' ~ noncentral t(df, ncp)
(the same formulation as R's power.t.test and statsmodels' TTestIndPower). The MDE is the lift at which
the power reaches the target; `posts_needed` is the total sample, split at the plan's share, whose MDE
reaches a target.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import optimize, special

from xbot_core.errors import StatsError

DEFAULT_ALPHA = 0.05
DEFAULT_POWER = 0.8


def _check(n_control: float, n_treatment: float, cv: float, alpha: float) -> None:
    if not (n_control >= 1 and n_treatment >= 1 and n_control + n_treatment >= 3):
        raise StatsError(
            f"power needs at least 1 post per arm and 3 in all, got n_control={n_control}, "
            f"n_treatment={n_treatment}"
        )
    if not (math.isfinite(cv) and cv > 0):
        raise StatsError(f"cv (per-post sd / mean) must be a positive number, got {cv!r}")
    if not 0 < alpha < 1:
        raise StatsError(f"alpha must be strictly between 0 and 1, got {alpha!r}")


def _power_d(d: float, n_control: float, n_treatment: float, alpha: float, two_sided: bool) -> float:
    df = n_control + n_treatment - 2
    ncp = d * math.sqrt(n_control * n_treatment / (n_control + n_treatment))
    if two_sided:
        crit = float(special.stdtrit(df, 1 - alpha / 2))
        # the far lower tail under a large ncp underflows to NaN in cdflib; it is ≈ 0 there
        lower = float(special.nctdtr(df, ncp, -crit))
        return float(1 - special.nctdtr(df, ncp, crit)) + (0.0 if math.isnan(lower) else lower)
    crit = float(special.stdtrit(df, 1 - alpha))
    return float(1 - special.nctdtr(df, ncp, crit))


def power(
    n_control: float,
    n_treatment: float,
    cv: float,
    lift: float,
    alpha: float = DEFAULT_ALPHA,
    two_sided: bool = True,
) -> float:
    """Probability that the pooled t-test at level `alpha` rejects when the true relative lift is `lift`."""
    _check(n_control, n_treatment, cv, alpha)
    if not math.isfinite(lift):
        raise StatsError(f"lift must be a finite number, got {lift!r}")
    return _power_d(abs(lift) / cv, n_control, n_treatment, alpha, two_sided)


def mde(
    n_control: float,
    n_treatment: float,
    cv: float,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
    two_sided: bool = True,
) -> float:
    """The smallest relative lift detected with probability `power` (e.g. 1.1 = +110 %)."""
    _check(n_control, n_treatment, cv, alpha)
    floor = alpha / 2 if two_sided else alpha
    if not floor < power < 1:
        raise StatsError(f"power must lie in ({floor}, 1), got {power!r}")
    target = power

    def gap(d: float) -> float:
        return _power_d(d, n_control, n_treatment, alpha, two_sided) - target

    high = 1.0
    while gap(high) < 0:
        high *= 2
        if high > 1e6:
            raise StatsError(f"no finite effect reaches power {power} with n={n_control}+{n_treatment}")
    return float(optimize.brentq(gap, 0.0, high, xtol=1e-12, rtol=1e-12)) * cv


def posts_needed(
    target_mde: float,
    share: float,
    cv: float,
    alpha: float = DEFAULT_ALPHA,
    power: float = DEFAULT_POWER,
    two_sided: bool = True,
) -> int:
    """Smallest total number of posts, a `share` of them treated, whose MDE is at most `target_mde`."""
    if not 0 < share < 1:
        raise StatsError(f"share must be in (0, 1), got {share!r}")
    if not (math.isfinite(target_mde) and target_mde > 0):
        raise StatsError(f"target MDE must be a positive number, got {target_mde!r}")

    def at(total: float) -> float:
        return mde(total * (1 - share), total * share, cv, alpha, power, two_sided)

    low = max(4.0, 2 / share, 2 / (1 - share))  # at least two posts per arm
    if at(low) <= target_mde:
        return math.ceil(low)
    high = 2 * low
    while at(high) > target_mde:
        high *= 2
        if high > 1e9:
            raise StatsError(f"MDE {target_mde} is out of reach (cv {cv})")
    total = optimize.brentq(lambda n: at(n) - target_mde, low, high, xtol=1e-6)
    return math.ceil(total - 1e-9)


@dataclass(frozen=True)
class PowerSummary:
    """Planned or achieved sample against a target: the MDE at this n and the posts still needed."""

    n_control: float
    n_treatment: float
    cv: float
    mde: float
    target_mde: float | None
    power_at_target: float | None
    posts_needed: int | None
    more_posts: int | None


def summarise(
    n_control: float,
    n_treatment: float,
    cv: float,
    share: float,
    target_mde: float | None = None,
    alpha: float = DEFAULT_ALPHA,
    power_goal: float = DEFAULT_POWER,
) -> PowerSummary:
    """MDE of (n_control, n_treatment); with a target, the power at it and the total posts it needs."""
    m = mde(n_control, n_treatment, cv, alpha, power_goal)
    if target_mde is None:
        return PowerSummary(n_control, n_treatment, cv, m, None, None, None, None)
    needed = posts_needed(target_mde, share, cv, alpha, power_goal)
    return PowerSummary(
        n_control,
        n_treatment,
        cv,
        m,
        target_mde,
        power(n_control, n_treatment, cv, target_mde, alpha),
        needed,
        max(0, needed - math.ceil(n_control + n_treatment)),
    )
