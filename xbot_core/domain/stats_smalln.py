"""Inference that holds at a handful of posts per arm: a randomization test and t-based chance to win.

Randomization (Fisher) test. A decision is in treatment when its hash unit is below the plan's share
(domain/experiments.py): each post independently with probability `share`. Under the sharp null (the
treatment changes no post's reward) the statistic's distribution is obtained by re-drawing that assignment
and recomputing it; the observed rewards stay fixed. Given the number of treated posts the hash rule puts
every subset of that size at the same probability, so the default re-draw keeps the achieved split and
permutes labels (exact enumeration when the subsets are few); `condition_on_split=False` re-draws each post
at `share` as the hash does. Statistic: the difference of exposure-weighted mean rewards (treatment −
control; 0 for a draw that leaves an arm without weight). p = (1 + #{|T*| ≥ |T|}) / (1 + draws), two-sided.

Chance to win and risk. With 3–10 degrees of freedom a normal posterior for the lift is overconfident
(the A/A share of chance-to-win < 5 % was 16 %). Here the difference of means gets a Student t posterior
(flat prior, pooled scale se² = s_p²(1/n_c + 1/n_t), ν = n_c + n_t − 2: the test the MDE of stats_power
assumes; with a handful of treated posts Welch's scale follows the small arm's own spread and, for skewed
rewards, calls A/A losers twice as often as it should): X = Δ + se·T_ν, chance to win P(X > 0), and the
relative losses E[max(∓X, 0)] / control mean, from the t partial expectation
E[(c − T)⁺] = c·F_ν(c) + (ν + c²)/(ν − 1)·f_ν(c) (ν > 1).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from xbot_core.domain.stats_samples import ArmStats, moments
from xbot_core.errors import StatsError

METHOD_EXACT = "exact"
METHOD_MONTE_CARLO = "monte_carlo"
METHOD_NOT_ENOUGH = "not_enough_data"


@dataclass(frozen=True)
class RandomizationConfig:
    """Re-draws of the assignment; exact enumeration when the distinct splits number at most `max_exact`."""

    draws: int = 9_999
    max_exact: int = 20_000
    condition_on_split: bool = True

    def __post_init__(self) -> None:
        if self.draws < 99:
            raise StatsError(f"RandomizationConfig.draws must be at least 99, got {self.draws}")


@dataclass(frozen=True)
class RandomizationResult:
    """Observed statistic (weighted mean difference), its two-sided p-value and how it was obtained."""

    statistic: float
    p_value: float
    method: str
    draws: int
    n_control: int
    n_treatment: int


def _weighted_diff(z: np.ndarray, wx: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Rows of z (1 = treatment) → weighted mean difference; 0 where an arm has no weight."""
    sum_t, w_t = z @ wx, z @ w
    sum_c, w_c = wx.sum() - sum_t, w.sum() - w_t
    ok = (w_t > 0) & (w_c > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(ok, sum_t / w_t - sum_c / w_c, 0.0)


@lru_cache(maxsize=32)
def _subsets(n: int, k: int) -> np.ndarray:
    """Every way of treating k of n posts, one 0/1 row each."""
    idx = np.array(list(itertools.combinations(range(n), k)), dtype=np.intp).reshape(-1, k)
    rows = np.zeros((idx.shape[0], n))
    np.put_along_axis(rows, idx, 1.0, axis=1)
    rows.setflags(write=False)
    return rows


def randomization_test(
    values: ArrayLike,
    treated: ArrayLike,
    share: float,
    rng: np.random.Generator,
    weights: ArrayLike | None = None,
    config: RandomizationConfig | None = None,
) -> RandomizationResult:
    """Fisher randomization p-value for treatment vs control rewards under the plan's assignment rule."""
    cfg = config or RandomizationConfig()
    if not 0 < share < 1:
        raise StatsError(f"share must be in (0, 1), got {share!r}")
    x = np.asarray(values, dtype=float).ravel()
    z = np.asarray(treated, dtype=bool).ravel()
    w = np.ones_like(x) if weights is None else np.asarray(weights, dtype=float).ravel()
    if not (x.shape == z.shape == w.shape):
        raise StatsError(f"values, treated and weights differ in length: {x.size}, {z.size}, {w.size}")
    if not (np.isfinite(x).all() and np.isfinite(w).all()) or (w < 0).any():
        raise StatsError("values and weights must be finite and weights >= 0 (drop unmeasured posts first)")
    n_t = int(z.sum())
    n_c = int(z.size - n_t)
    wx = w * x
    observed = float(_weighted_diff(z[None, :].astype(float), wx, w)[0])
    if n_t == 0 or n_c == 0 or w[z].sum() == 0 or w[~z].sum() == 0:
        return RandomizationResult(math.nan, math.nan, METHOD_NOT_ENOUGH, 0, n_c, n_t)
    tol = 1e-12 * max(1.0, abs(observed))
    if cfg.condition_on_split and math.comb(z.size, n_t) <= cfg.max_exact:
        rows = _subsets(int(z.size), n_t)
        stats = _weighted_diff(rows, wx, w)
        p = float(np.mean(np.abs(stats) >= abs(observed) - tol))
        return RandomizationResult(observed, p, METHOD_EXACT, rows.shape[0], n_c, n_t)
    if cfg.condition_on_split:
        draws = rng.permuted(np.tile(z.astype(float), (cfg.draws, 1)), axis=1)
    else:
        draws = (rng.random((cfg.draws, z.size)) < share).astype(float)
    stats = _weighted_diff(draws, wx, w)
    extreme = int(np.sum(np.abs(stats) >= abs(observed) - tol))
    return RandomizationResult(
        observed, (1 + extreme) / (1 + cfg.draws), METHOD_MONTE_CARLO, cfg.draws, n_c, n_t
    )


@dataclass(frozen=True)
class TChanceToWin:
    """P(treatment beats control) and the relative expected losses under a Student t posterior."""

    chance_to_win: float
    expected_loss: float  # relative loss expected from shipping treatment
    risk_control: float  # relative loss expected from keeping control
    difference: float
    std_error: float
    dof: float


def _t_partial(c: np.ndarray | float, dof: np.ndarray | float) -> np.ndarray:
    """E[(c − T)⁺] for T ~ t_ν, ν > 1."""
    c, dof = np.asarray(c, dtype=float), np.asarray(dof, dtype=float)
    pdf = np.exp(
        special.gammaln((dof + 1) / 2)
        - special.gammaln(dof / 2)
        - 0.5 * np.log(dof * np.pi)
        - (dof + 1) / 2 * np.log1p(c**2 / dof)
    )
    return c * special.stdtr(dof, c) + (dof + c**2) / (dof - 1) * pdf


def t_chance_to_win_arrays(
    mean_c: ArrayLike, var_c: ArrayLike, n_c: ArrayLike, mean_t: ArrayLike, var_t: ArrayLike, n_t: ArrayLike
) -> TChanceToWin:
    """Vectorised `t_chance_to_win` over arrays of per-arm (mean, per-unit variance, n); NaN where the
    arms are too small (n <= 1), both variances are 0, or the control mean is not positive."""
    mc, vc, nc, mt, vt, nt = (np.asarray(a, dtype=float) for a in (mean_c, var_c, n_c, mean_t, var_t, n_t))
    with np.errstate(divide="ignore", invalid="ignore"):
        dof = nc + nt - 2
        pooled = ((nc - 1) * vc + (nt - 1) * vt) / dof
        se = np.sqrt(pooled * (1 / nc + 1 / nt))
        diff = mt - mc
        ctw = special.stdtr(dof, diff / se)
        loss_t = se * _t_partial(-diff / se, dof) / mc
        loss_c = se * _t_partial(diff / se, dof) / mc
    bad = (nc <= 1) | (nt <= 1) | ~(se > 0) | ~(mc > 0) | ~(dof > 1)
    out = [np.where(bad, np.nan, a) for a in (ctw, loss_t, loss_c, diff, se, dof)]
    return TChanceToWin(*out)  # type: ignore[arg-type]


def t_chance_to_win(control: ArmStats, treatment: ArmStats) -> TChanceToWin:
    """Chance to win and risk for one pair of arms (weighted arms use their effective n)."""
    r = t_chance_to_win_arrays(*moments(control), *moments(treatment))
    return TChanceToWin(*(float(np.asarray(v)) for v in vars(r).values()))
