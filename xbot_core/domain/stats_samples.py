"""Sufficient statistics for one arm: plain means, exposure-weighted means, proportions and ratios.

Every record is a handful of sums that SQL, Polars and tests can all produce, with mean and per-unit
variance as derived properties (the gbstats convention: `variance` is the variance of one observation,
the variance of the arm's mean is `variance / n`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from xbot_core.errors import StatsError


def _check_finite(name: str, **values: float) -> None:
    for key, value in values.items():
        if not math.isfinite(value):
            raise StatsError(f"{name}.{key} must be a finite number, got {value!r}")


@dataclass(frozen=True)
class SampleStats:
    """n observations summarised by their sum and sum of squares.

    `n` may be fractional: an exposure-weighted arm is expressed with its effective n (see
    `WeightedSampleStats.to_sample_stats`).
    """

    n: float
    sum: float
    sum_squares: float

    def __post_init__(self) -> None:
        _check_finite("SampleStats", n=self.n, sum=self.sum, sum_squares=self.sum_squares)
        if self.n < 0:
            raise StatsError(f"SampleStats.n must be >= 0, got {self.n}")
        if self.sum_squares < 0:
            raise StatsError(f"SampleStats.sum_squares must be >= 0, got {self.sum_squares}")

    @property
    def mean(self) -> float:
        return self.sum / self.n if self.n > 0 else 0.0

    @property
    def variance(self) -> float:
        """Unbiased per-observation variance, (Σx² − (Σx)²/n) / (n − 1); 0 when n <= 1."""
        if self.n <= 1:
            return 0.0
        return max(0.0, (self.sum_squares - self.sum**2 / self.n) / (self.n - 1))

    @classmethod
    def from_values(cls, values: ArrayLike) -> SampleStats:
        x = _as_finite_array("values", values)
        return cls(n=float(x.size), sum=float(x.sum()), sum_squares=float(np.square(x).sum()))

    @classmethod
    def from_weighted(cls, values: ArrayLike, weights: ArrayLike) -> SampleStats:
        """Exposure-weighted values as SampleStats with the effective n; see WeightedSampleStats."""
        return WeightedSampleStats.from_values(values, weights).to_sample_stats()


@dataclass(frozen=True)
class WeightedSampleStats:
    """Weighted sufficient statistics: Σw, Σw², Σw·x, Σw·x² over `n` rows.

    How the weights enter (DESIGN.md exposure weighting, w = min(1, impressions / exposure_cap)):
      mean      = Σw·x / Σw
      n_eff     = (Σw)² / Σw²                         (Kish effective sample size)
      variance  = Σw·(x − mean)² / (Σw − Σw²/Σw)      (unbiased for reliability weights)
      Var(mean) = variance / n_eff                    (= variance · Σw² / (Σw)², weights taken as fixed)
    `to_sample_stats()` rewrites this as SampleStats(n=n_eff, ...) with the same mean and variance, so
    Welch's test, the delta method and the Bayesian posterior use n_eff everywhere n appears
    (including the Welch–Satterthwaite degrees of freedom, n_eff − 1). Equal weights reduce exactly to
    the unweighted statistics; multiplying every weight by a constant changes nothing.
    """

    n: int
    sum_weights: float
    sum_weights_squares: float
    weighted_sum: float
    weighted_sum_squares: float

    def __post_init__(self) -> None:
        _check_finite(
            "WeightedSampleStats",
            sum_weights=self.sum_weights,
            sum_weights_squares=self.sum_weights_squares,
            weighted_sum=self.weighted_sum,
            weighted_sum_squares=self.weighted_sum_squares,
        )
        if self.n < 0 or self.sum_weights < 0 or self.sum_weights_squares < 0:
            raise StatsError("WeightedSampleStats.n, sum_weights and sum_weights_squares must be >= 0")
        if self.sum_weights > 0 and self.sum_weights_squares <= 0:
            raise StatsError("WeightedSampleStats.sum_weights_squares must be > 0 when sum_weights > 0")

    @property
    def effective_n(self) -> float:
        if self.sum_weights_squares <= 0:
            return 0.0
        return self.sum_weights**2 / self.sum_weights_squares

    @property
    def mean(self) -> float:
        return self.weighted_sum / self.sum_weights if self.sum_weights > 0 else 0.0

    @property
    def variance(self) -> float:
        if self.sum_weights <= 0:
            return 0.0
        denominator = self.sum_weights - self.sum_weights_squares / self.sum_weights
        if denominator <= 0:
            return 0.0
        centred = self.weighted_sum_squares - self.weighted_sum**2 / self.sum_weights
        return max(0.0, centred / denominator)

    def to_sample_stats(self) -> SampleStats:
        n_eff = self.effective_n
        mean = self.mean
        return SampleStats(
            n=n_eff,
            sum=n_eff * mean,
            sum_squares=max(0.0, (n_eff - 1) * self.variance) + n_eff * mean**2,
        )

    @classmethod
    def from_values(cls, values: ArrayLike, weights: ArrayLike) -> WeightedSampleStats:
        x = _as_finite_array("values", values)
        w = _as_finite_array("weights", weights)
        if x.shape != w.shape:
            raise StatsError(f"values and weights differ in length: {x.size} vs {w.size}")
        if (w < 0).any():
            raise StatsError(f"weights must be >= 0; {int((w < 0).sum())} are negative")
        return cls(
            n=int(x.size),
            sum_weights=float(w.sum()),
            sum_weights_squares=float(np.square(w).sum()),
            weighted_sum=float((w * x).sum()),
            weighted_sum_squares=float((w * np.square(x)).sum()),
        )


@dataclass(frozen=True)
class ProportionStats:
    """n trials with `successes`; per-trial variance p(1 − p) (gbstats ProportionStatistic)."""

    n: int
    successes: float

    def __post_init__(self) -> None:
        _check_finite("ProportionStats", n=self.n, successes=self.successes)
        if self.n < 0 or self.successes < 0 or self.successes > self.n:
            raise StatsError(f"ProportionStats needs 0 <= successes <= n, got {self.successes} of {self.n}")

    @property
    def mean(self) -> float:
        return self.successes / self.n if self.n > 0 else 0.0

    @property
    def variance(self) -> float:
        p = self.mean
        return p * (1 - p)


@dataclass(frozen=True)
class RatioStats:
    """A ratio metric Σnumerator / Σdenominator over n units (e.g. ER = Σengagements / Σimpressions).

    Per-unit variance by the delta method (gbstats RatioStatistic / utils.variance_of_ratios):
      var = var_m/d̄² + var_d·m̄²/d̄⁴ − 2·cov_md·m̄/d̄³, with sample (n − 1) variances and covariance.
    """

    n: int
    numerator_sum: float
    numerator_sum_squares: float
    denominator_sum: float
    denominator_sum_squares: float
    cross_sum: float

    def __post_init__(self) -> None:
        _check_finite(
            "RatioStats",
            n=self.n,
            numerator_sum=self.numerator_sum,
            numerator_sum_squares=self.numerator_sum_squares,
            denominator_sum=self.denominator_sum,
            denominator_sum_squares=self.denominator_sum_squares,
            cross_sum=self.cross_sum,
        )
        if self.n < 0 or self.numerator_sum_squares < 0 or self.denominator_sum_squares < 0:
            raise StatsError("RatioStats.n and the sums of squares must be >= 0")

    @property
    def numerator(self) -> SampleStats:
        return SampleStats(self.n, self.numerator_sum, self.numerator_sum_squares)

    @property
    def denominator(self) -> SampleStats:
        return SampleStats(self.n, self.denominator_sum, self.denominator_sum_squares)

    @property
    def covariance(self) -> float:
        if self.n <= 1:
            return 0.0
        return (self.cross_sum - self.numerator_sum * self.denominator_sum / self.n) / (self.n - 1)

    @property
    def mean(self) -> float:
        return self.numerator_sum / self.denominator_sum if self.denominator_sum != 0 else 0.0

    @property
    def variance(self) -> float:
        d_mean = self.denominator.mean
        if self.n <= 1 or d_mean == 0:
            return 0.0
        m_mean = self.numerator.mean
        value = (
            self.numerator.variance / d_mean**2
            + self.denominator.variance * m_mean**2 / d_mean**4
            - 2 * self.covariance * m_mean / d_mean**3
        )
        return max(0.0, value)

    @classmethod
    def from_values(cls, numerator: ArrayLike, denominator: ArrayLike) -> RatioStats:
        m = _as_finite_array("numerator", numerator)
        d = _as_finite_array("denominator", denominator)
        if m.shape != d.shape:
            raise StatsError(f"numerator and denominator differ in length: {m.size} vs {d.size}")
        return cls(
            n=int(m.size),
            numerator_sum=float(m.sum()),
            numerator_sum_squares=float(np.square(m).sum()),
            denominator_sum=float(d.sum()),
            denominator_sum_squares=float(np.square(d).sum()),
            cross_sum=float((m * d).sum()),
        )


ArmStats = SampleStats | WeightedSampleStats | ProportionStats | RatioStats


def moments(stats: ArmStats) -> tuple[float, float, float]:
    """(mean, per-unit variance, n) of any arm record; weighted records use their effective n."""
    if isinstance(stats, WeightedSampleStats):
        return stats.mean, stats.variance, stats.effective_n
    if isinstance(stats, SampleStats | ProportionStats | RatioStats):
        return stats.mean, stats.variance, float(stats.n)
    raise StatsError(
        f"expected SampleStats, WeightedSampleStats, ProportionStats or RatioStats, got {stats!r}"
    )


def _as_finite_array(name: str, values: ArrayLike) -> np.ndarray:
    try:
        x = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise StatsError(f"{name} must be numbers (missing values as NaN are not allowed): {exc}") from exc
    bad = int((~np.isfinite(x)).sum())
    if bad:
        raise StatsError(f"{name} has {bad} missing or non-finite value(s); drop or fill them first")
    return x
