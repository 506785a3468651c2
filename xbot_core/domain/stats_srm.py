"""Sample-ratio mismatch: does the observed split of decisions across arms match the configured shares?

χ² goodness of fit (gbstats utils.check_srm) when every expected count is at least `min_expected`;
otherwise the exact multinomial test (p = total probability of every split no more likely than the
observed one), since the χ² approximation is poor for small expected counts.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from xbot_core.errors import StatsError

METHOD_CHI2 = "chi2"
METHOD_EXACT = "exact_multinomial"
METHOD_CHI2_FALLBACK = "chi2_exact_too_large"
METHOD_NO_DATA = "no_data"


@dataclass(frozen=True)
class SrmConfig:
    """SRM settings: flag threshold (DESIGN.md: p < 0.001), when to go exact, and the exact-test budget."""

    flag_below: float = 0.001
    min_expected: float = 5.0
    max_exact_outcomes: int = 2_000_000


@dataclass(frozen=True)
class SrmResult:
    p_value: float
    statistic: float
    method: str
    flagged: bool
    expected: tuple[float, ...]


def srm_pvalue(counts: ArrayLike, weights: ArrayLike) -> float:
    """p-value that `counts` were drawn with the configured `weights` (shares; need not sum to 1)."""
    return srm_test(counts, weights).p_value


def srm_test(counts: ArrayLike, weights: ArrayLike, config: SrmConfig | None = None) -> SrmResult:
    """SRM check with its method and flag. Arms with weight 0 must have count 0 (otherwise p = 0).

    Plain Python over the handful of arms: a report checks hundreds of experiments one at a time.
    """
    cfg = config or SrmConfig()
    n_obs, w = _validate(counts, weights)
    total, weight_sum = sum(n_obs), math.fsum(w)
    expected = tuple(x / weight_sum * total for x in w)
    if total == 0:
        return SrmResult(1.0, 0.0, METHOD_NO_DATA, False, expected)
    if any(c > 0 and x == 0 for c, x in zip(n_obs, w, strict=True)):
        return SrmResult(0.0, math.inf, METHOD_EXACT, True, expected)
    kept = [(c, e) for c, e in zip(n_obs, expected, strict=True) if e > 0]
    statistic = math.fsum((c - e) ** 2 / e for c, e in kept)
    if len(kept) < 2:
        return SrmResult(1.0, 0.0, METHOD_CHI2, False, expected)
    method = METHOD_CHI2
    p_value = float(special.chdtrc(len(kept) - 1, statistic))
    if min(e for _, e in kept) < cfg.min_expected:
        if math.comb(total + len(kept) - 1, len(kept) - 1) <= cfg.max_exact_outcomes:
            obs = np.array([c for c, _ in kept], dtype=np.int64)
            probs = np.array([e / total for _, e in kept])
            method, p_value = METHOD_EXACT, _exact_multinomial(obs, probs)
        else:
            method = METHOD_CHI2_FALLBACK
    return SrmResult(p_value, statistic, method, p_value < cfg.flag_below, expected)


def _floats(values: ArrayLike) -> list[float]:
    items = values if isinstance(values, list | tuple) else np.ravel(values)
    try:
        return [float(x) for x in items]
    except (TypeError, ValueError) as exc:
        raise StatsError(f"srm inputs must be numbers: {exc}") from exc


def _validate(counts: ArrayLike, weights: ArrayLike) -> tuple[list[int], list[float]]:
    c, w = _floats(counts), _floats(weights)
    if len(c) != len(w):
        raise StatsError(f"counts and weights differ in length: {len(c)} vs {len(w)}")
    if not c:
        raise StatsError("srm needs at least one arm")
    if any(not math.isfinite(x) or x < 0 or x != round(x) for x in c):
        raise StatsError(f"counts must be non-negative whole numbers, got {c}")
    if any(not math.isfinite(x) or x < 0 for x in w) or sum(w) <= 0:
        raise StatsError(f"weights must be non-negative with a positive sum, got {w}")
    return [round(x) for x in c], w


def _exact_multinomial(obs: np.ndarray, probs: np.ndarray) -> float:
    total, k = int(obs.sum()), len(obs)
    outcomes = _compositions(total, k)
    log_p = np.log(probs)
    log_pmf = special.gammaln(total + 1) - special.gammaln(outcomes + 1).sum(axis=1) + outcomes @ log_p
    observed = special.gammaln(total + 1) - special.gammaln(obs + 1).sum() + obs @ log_p
    # relative tolerance as in scipy.stats.binomtest, so ties in probability count as "as extreme"
    extreme = log_pmf <= observed + 1e-7
    return float(min(1.0, np.exp(log_pmf[extreme]).sum()))


@lru_cache(maxsize=64)
def _compositions(total: int, k: int) -> np.ndarray:
    """Every vector of k non-negative integers summing to `total` (stars and bars)."""
    if k == 1:
        return np.array([[total]], dtype=np.int64)
    parts = []
    for first in range(total + 1):
        rest = _compositions(total - first, k - 1)
        parts.append(np.column_stack([np.full(len(rest), first, dtype=np.int64), rest]))
    return np.concatenate(parts)
