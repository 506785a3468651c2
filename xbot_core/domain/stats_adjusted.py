"""Covariate-adjusted treatment effect: weighted least squares with heteroskedasticity-robust (HC2) errors.

reward ~ 1 + treated + covariates, each post weighted by its exposure weight. Randomization makes the
covariates independent of the assignment, so adjusting does not bias the effect and removes the part of the
noise they explain (Lin 2013 shows the robust errors stay valid even when the linear model is wrong).
  β = (XᵀWX)⁻¹ XᵀWy,   V_HC2 = (XᵀWX)⁻¹ Xᵀ W diag(e² / (1 − h)) W X (XᵀWX)⁻¹,   h = leverage of each post
the same estimator as statsmodels' WLS(...).fit(cov_type="HC2"). The relative lift is β_treated divided by
the weighted control mean (taken as fixed); df = n − k for the t interval and p-value.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from xbot_core.errors import StatsError

STATUS_OK = "ok"
STATUS_NOT_ENOUGH = "not_enough_data"


@dataclass(frozen=True)
class AdjustedEffect:
    """Treatment coefficient with robust error, and the same as a relative lift over the control mean."""

    effect: float
    std_error: float
    dof: float
    p_value: float
    lift: float
    ci_low: float
    ci_high: float
    covariates: int
    status: str = STATUS_OK


def _nan(k: int) -> AdjustedEffect:
    n = math.nan
    return AdjustedEffect(n, n, n, n, n, n, n, k, STATUS_NOT_ENOUGH)


def adjusted_effect(
    y: ArrayLike,
    treated: ArrayLike,
    covariates: ArrayLike | None = None,
    weights: ArrayLike | None = None,
    alpha: float = 0.05,
) -> AdjustedEffect:
    """WLS of y on an intercept, the treatment indicator and `covariates` (n × k) with HC2 errors.

    Constant covariate columns and ones that make X rank-deficient are the caller's to drop; they are
    rejected here. Without enough posts (n ≤ columns + 1) the result is STATUS_NOT_ENOUGH with NaNs.
    """
    if not 0 < alpha < 1:
        raise StatsError(f"alpha must be strictly between 0 and 1, got {alpha!r}")
    yv = np.asarray(y, dtype=float).ravel()
    z = np.asarray(treated, dtype=float).ravel()
    n = yv.size
    c = np.empty((n, 0)) if covariates is None else np.asarray(covariates, dtype=float).reshape(n, -1)
    w = np.ones(n) if weights is None else np.asarray(weights, dtype=float).ravel()
    if z.size != n or w.size != n:
        raise StatsError(f"y, treated and weights differ in length: {n}, {z.size}, {w.size}")
    if not (np.isfinite(yv).all() and np.isfinite(c).all() and np.isfinite(w).all()) or (w <= 0).any():
        raise StatsError(
            "y, covariates and weights must be finite, weights > 0 (drop unmeasured posts first)"
        )
    x = np.column_stack([np.ones(n), z, c])
    k = x.shape[1]
    if n <= k + 1 or z.min() == z.max():
        return _nan(c.shape[1])
    sw = np.sqrt(w)
    xw, yw = x * sw[:, None], yv * sw
    if np.linalg.matrix_rank(xw) < k:
        raise StatsError(f"covariates are collinear with the intercept or the treatment ({k} columns)")
    bread = np.linalg.inv(xw.T @ xw)
    beta = bread @ xw.T @ yw
    resid = yw - xw @ beta
    leverage = np.einsum("ij,jk,ik->i", xw, bread, xw)
    if (leverage > 1 - 1e-10).any():
        return _nan(c.shape[1])
    meat = (xw * (resid**2 / (1 - leverage))[:, None]).T @ xw
    cov = bread @ meat @ bread
    se = math.sqrt(cov[1, 1])
    dof = float(n - k)
    control_mean = float(np.sum(w * yv * (1 - z)) / np.sum(w * (1 - z)))
    t = beta[1] / se if se > 0 else math.inf
    half = float(special.stdtrit(dof, 1 - alpha / 2)) * se
    effect = float(beta[1])
    lift = effect / control_mean if control_mean != 0 else math.nan
    return AdjustedEffect(
        effect=effect,
        std_error=se,
        dof=dof,
        p_value=float(2 * special.stdtr(dof, -abs(t))),
        lift=lift,
        ci_low=(effect - half) / control_mean if control_mean > 0 else math.nan,
        ci_high=(effect + half) / control_mean if control_mean > 0 else math.nan,
        covariates=c.shape[1],
    )
