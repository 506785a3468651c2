"""Per-arm "always this arm" values from adaptively logged decisions, and cross-fitted target policies.

A bandit allocates adaptively, so an arm's plain mean reward mixes the days it was pulled often with the days
it was not; the value of the policy "always play arm a" is estimated instead with the logged propensities:
  IPS_a   = (1/n)·Σ 1[a_i = a]·r_i / p_i
  SNIPS_a = Σ 1[a_i = a]·r_i / p_i  /  Σ 1[a_i = a] / p_i
  AIPW_a  = q_a + (1/n)·Σ 1[a_i = a]·(r_i − q_a) / p_i,   q_a = the arm's mean logged reward
Standard errors come from a block bootstrap that resamples whole blocks (days): the propensities of a day
depend on the days before it, so decisions are not independent draws, but blocks are much closer to it.
With m blocks (two weeks: m = 14) the bootstrap variance is inflated by m/(m − 1) and the interval is
estimate ± t(m − 1)·se: on the sandbox audience model (bench/ope_interval_coverage.py, 100 runs) percentile
intervals covered the true arm means 90 % (IPS) and 90 % (AIPW) of the time, these 93 % and 94 %; under the
old clipping bandit (scaling version 1) 86 / 88 % against 89 / 92 %. The AIPW values
of one scope's arms are then shrunk towards each other by parametric empirical Bayes after Morris (1983,
JASA 78:47–55): a normal–normal model with the bootstrap standard errors as known variances V_a, τ² by
DerSimonian–Laird and μ̂ the random-effects mean. With k arms, B_a = ((k − 3)/(k − 1))·V_a/(V_a + τ²),
shrunk_a = AIPW_a − B_a·(AIPW_a − μ̂), and
  sd_a² = V_a·(1 − B_a) + B_a²·Var(μ̂) + (2/(k − 3))·B_a²·(AIPW_a − μ̂)²,
the last term being the uncertainty of the estimated shrinkage itself (and (k − 3)/(k − 1) its small-k
correction); with fewer than 4 arms nothing is shrunk. The interval is shrunk_a ± t(m − 1)·sd_a, like the
others (the V_a come from the same m blocks). Plugging τ² in as if known (B without the correction, no third
term) covered the true arm means 0.870 of the time on the sandbox model, the single clearly better arm only
0.63: it was pulled towards the others with an interval too narrow for the pull; this covers 0.940, that arm
0.90 (tests/unit/test_ope_simulation.py).

Target policies that are themselves fitted (Thompson on a posterior, greedy) are fitted on other folds than
the decisions they are evaluated on (`crossfit_target_probs`): folds are whole blocks.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import stats as sps

from xbot_core.domain.ope import (
    FLOOR_RTOL,
    NO_DATA_MESSAGE,
    PROPENSITY_BELOW_FLOOR_MESSAGE,
    PROPENSITY_MISSING_MESSAGE,
    STATUS_NO_DATA,
    STATUS_OK,
    STATUS_PROPENSITY_BELOW_FLOOR,
    STATUS_PROPENSITY_MISSING,
    Estimate,
)
from xbot_core.errors import StatsError

NAN = float("nan")
MIN_SHRINK_ARMS = 4  # Morris's shrinkage needs k > 3 estimates


@dataclass(frozen=True)
class ArmOpeConfig:
    """Tunables of the per-arm estimates; blocks (days) are the bootstrap's resampling unit."""

    n_bootstrap: int = 400
    alpha: float = 0.05
    propensity_floor: float = 0.01

    def __post_init__(self) -> None:
        if self.n_bootstrap < 0:
            raise StatsError(f"ArmOpeConfig.n_bootstrap must be >= 0, got {self.n_bootstrap}")
        if not (0 < self.alpha < 1):
            raise StatsError(f"ArmOpeConfig.alpha must be strictly between 0 and 1, got {self.alpha}")
        if not (0 <= self.propensity_floor < 1):
            raise StatsError(f"ArmOpeConfig.propensity_floor must be in [0, 1), got {self.propensity_floor}")


@dataclass(frozen=True)
class ArmValue:
    """One arm: its logged count and plain mean beside the IPS, SNIPS, AIPW and shrunk AIPW estimates."""

    arm: int
    n: int
    naive_mean: float
    ips: Estimate
    snips: Estimate
    aipw: Estimate
    se: float  # bootstrap standard error of AIPW
    shrunk: Estimate


@dataclass(frozen=True)
class ArmValues:
    """Every arm of one scope, or a refusal status with its message (then `arms` is empty)."""

    status: str
    message: str
    n: int
    n_blocks: int
    arms: tuple[ArmValue, ...] = ()
    prior_mean: float = NAN
    prior_var: float = NAN

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK


def always_arm_values(
    rewards: ArrayLike,
    actions: ArrayLike,
    propensity: ArrayLike,
    blocks: ArrayLike,
    k: int,
    rng: np.random.Generator,
    config: ArmOpeConfig | None = None,
) -> ArmValues:
    """IPS, SNIPS and AIPW values of "always arm a" for a = 0..k−1, block-bootstrap CIs, shrunk AIPW.

    blocks: one label per decision (e.g. its UTC day); the bootstrap resamples whole blocks.
    """
    cfg = config or ArmOpeConfig()
    r, a, p, b = _checked(rewards, actions, propensity, blocks, k)
    if r.size == 0:
        return ArmValues(STATUS_NO_DATA, NO_DATA_MESSAGE, 0, 0)
    _, block_index = np.unique(b, return_inverse=True)
    n_blocks = int(block_index.max()) + 1
    refused = _propensity_refusal(p, cfg)
    if refused is not None:
        return ArmValues(*refused, r.size, n_blocks)
    design = _design(r, a.astype(np.int64), p, k)
    block_sums = np.zeros((n_blocks, design.shape[1]))
    np.add.at(block_sums, block_index, design)
    point = _estimators(block_sums.sum(axis=0, keepdims=True), k)[0]  # (3, k): ips, snips, aipw
    se = _bootstrap_se(block_sums, k, n_blocks, rng, cfg)
    counts = block_sums[:, 3 * k : 4 * k].sum(axis=0)
    sums = block_sums[:, 2 * k : 3 * k].sum(axis=0)
    t_crit = float(sps.t.ppf(1 - cfg.alpha / 2, max(n_blocks - 1, 1)))
    shrunk, shrunk_sd, mu, tau2 = empirical_bayes(point[2], se[2], counts > 0)
    arms = tuple(
        _arm_value(i, counts[i], sums[i], point[:, i], se[:, i], t_crit, shrunk[i], shrunk_sd[i])
        for i in range(k)
    )
    return ArmValues(STATUS_OK, "", r.size, n_blocks, arms, mu, tau2)


def _checked(
    rewards: ArrayLike, actions: ArrayLike, propensity: ArrayLike, blocks: ArrayLike, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The inputs as flat arrays of one length, rewards finite and actions arm indices (StatsError if not)."""
    r = np.asarray(rewards, dtype=float).ravel()
    a = np.asarray(actions).ravel()
    p = np.asarray(propensity, dtype=float).ravel()
    b = np.asarray(blocks).ravel()
    if not (r.size == a.size == p.size == b.size):
        raise StatsError(
            f"rewards, actions, propensity and blocks differ in length: {r.size, a.size, p.size, b.size}"
        )
    if not np.isfinite(r).all():
        raise StatsError("rewards has missing or non-finite values; drop those decisions first")
    if r.size and (not np.issubdtype(a.dtype, np.integer) or a.min() < 0 or a.max() >= k):
        raise StatsError(f"actions must be integer arm indices in 0..{k - 1}")
    return r, a, p, b


def _propensity_refusal(p: np.ndarray, cfg: ArmOpeConfig) -> tuple[str, str] | None:
    """(status, message) when the logged propensities cannot support the estimates; StatsError outside
    [0, 1]; None when they can."""
    if np.isnan(p).any():
        return STATUS_PROPENSITY_MISSING, PROPENSITY_MISSING_MESSAGE
    if ((p < 0) | (p > 1)).any():
        raise StatsError("propensity values must lie in [0, 1]")
    if ((p < cfg.propensity_floor * (1 - FLOOR_RTOL)) | (p == 0)).any():
        return STATUS_PROPENSITY_BELOW_FLOOR, PROPENSITY_BELOW_FLOOR_MESSAGE
    return None


def _bootstrap_se(
    block_sums: np.ndarray, k: int, n_blocks: int, rng: np.random.Generator, cfg: ArmOpeConfig
) -> np.ndarray:
    """(3, k) standard errors of IPS, SNIPS and AIPW from the block bootstrap (NaN with fewer than 2
    blocks or no bootstrap)."""
    boot = _block_bootstrap(block_sums, k, rng, cfg)
    if boot is None or n_blocks < 2:
        return np.full((3, k), NAN)
    with warnings.catch_warnings():  # an unplayed arm's column is all NaN, and stays NaN
        warnings.simplefilter("ignore", RuntimeWarning)
        # the bootstrap variance of a mean of m blocks is (m − 1)/m of the unbiased one
        return np.nanstd(boot, axis=0, ddof=1) * math.sqrt(n_blocks / (n_blocks - 1))


def _arm_value(
    i: int,
    count: float,
    total: float,
    point: np.ndarray,
    se: np.ndarray,
    t_crit: float,
    shrunk: float,
    shrunk_sd: float,
) -> ArmValue:
    """One arm's estimates with t intervals (point, se: IPS, SNIPS, AIPW); NaN for an arm never played."""
    if count <= 0:
        nan_est = Estimate(NAN, NAN, NAN)
        return ArmValue(i, 0, NAN, nan_est, nan_est, nan_est, NAN, nan_est)
    ips, snips, aipw = (
        Estimate(float(point[j]), float(point[j] - t_crit * se[j]), float(point[j] + t_crit * se[j]))
        for j in range(3)
    )
    return ArmValue(
        arm=i,
        n=int(count),
        naive_mean=float(total / count),
        ips=ips,
        snips=snips,
        aipw=aipw,
        se=float(se[2]),
        shrunk=Estimate(
            float(shrunk), float(shrunk - t_crit * shrunk_sd), float(shrunk + t_crit * shrunk_sd)
        ),
    )


def empirical_bayes(
    estimates: np.ndarray, se: np.ndarray, use: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, float, float]:
    """Morris's parametric empirical Bayes for estimates with known standard errors: (shrunk, sd, μ, τ²).

    τ² by DerSimonian–Laird, μ the random-effects mean, the shrinkage factor corrected by (k − 3)/(k − 1) and
    the sd widened for the estimated shrinkage (module docstring). Entries outside `use`, or without a finite
    positive standard error, are left as they are (sd NaN); with fewer than 4 usable entries nothing is
    shrunk (sd = se), since Morris's correction is 0 at k = 3 and undefined below.
    """
    theta = np.asarray(estimates, dtype=float)
    s = np.asarray(se, dtype=float)
    ok = np.isfinite(theta) & np.isfinite(s) & (s > 0)
    if use is not None:
        ok &= np.asarray(use, dtype=bool)
    shrunk = theta.copy()
    sd = np.full(theta.shape, NAN)
    k = int(ok.sum())
    if k < MIN_SHRINK_ARMS:
        sd[ok] = s[ok]
        return shrunk, sd, NAN, NAN
    t, v = theta[ok], s[ok] ** 2
    w = 1.0 / v
    fixed = float((w * t).sum() / w.sum())
    q = float((w * (t - fixed) ** 2).sum())
    tau2 = max(0.0, (q - (k - 1)) / float(w.sum() - (w**2).sum() / w.sum()))
    w_re = 1.0 / (v + tau2)
    mu = float((w_re * t).sum() / w_re.sum())
    b = (k - 3) / (k - 1) * v / (v + tau2)
    shrunk[ok] = t - b * (t - mu)
    sd[ok] = np.sqrt(v * (1.0 - b) + b**2 / float(w_re.sum()) + 2.0 / (k - 3) * b**2 * (t - mu) ** 2)
    return shrunk, sd, mu, tau2


def _design(r: np.ndarray, a: np.ndarray, p: np.ndarray, k: int) -> np.ndarray:
    """Per-decision columns whose sums give every estimator: [1ₐ·r/p, 1ₐ/p, 1ₐ·r, 1ₐ] per arm, then 1."""
    onehot = np.zeros((r.size, k))
    onehot[np.arange(r.size), a] = 1.0
    inv = onehot / p[:, None]
    return np.hstack([inv * r[:, None], inv, onehot * r[:, None], onehot, np.ones((r.size, 1))])


def _estimators(sums: np.ndarray, k: int) -> np.ndarray:
    """(replicates, 3, k): IPS, SNIPS and AIPW per arm from column sums of `_design` (NaN if unplayed)."""
    x, u, s, c, n = (
        sums[:, 0:k],
        sums[:, k : 2 * k],
        sums[:, 2 * k : 3 * k],
        sums[:, 3 * k : 4 * k],
        sums[:, 4 * k : 4 * k + 1],
    )
    with np.errstate(invalid="ignore", divide="ignore"):
        q = np.where(c > 0, s / c, np.nan)
        ips = np.where(c > 0, x / n, np.nan)
        snips = np.where(c > 0, x / u, np.nan)
        aipw = q + (x - q * u) / n
    return np.stack([ips, snips, aipw], axis=1)


def _block_bootstrap(
    block_sums: np.ndarray, k: int, rng: np.random.Generator, cfg: ArmOpeConfig
) -> np.ndarray | None:
    """Replicates from resampling whole blocks with replacement: counts of each block @ its sums."""
    if cfg.n_bootstrap == 0:
        return None
    m = block_sums.shape[0]
    draws = rng.integers(0, m, size=(cfg.n_bootstrap, m))
    counts = np.zeros((cfg.n_bootstrap, m))
    np.add.at(counts, (np.repeat(np.arange(cfg.n_bootstrap), m), draws.ravel()), 1.0)
    return _estimators(counts @ block_sums, k)


def block_folds(blocks: ArrayLike, n_folds: int) -> np.ndarray:
    """A fold index per decision: blocks in sorted order dealt round-robin to `n_folds` folds."""
    if n_folds < 2:
        raise StatsError(f"cross-fitting needs at least 2 folds, got {n_folds}")
    _, index = np.unique(np.asarray(blocks).ravel(), return_inverse=True)
    return np.asarray(index % n_folds, dtype=np.int64)


def crossfit_target_probs(folds: ArrayLike, fit: Callable[[np.ndarray], np.ndarray]) -> np.ndarray:
    """Per-decision target probabilities (n × K): each fold gets the policy `fit` returns when given the
    boolean mask of the other folds' decisions (its training data), so no decision evaluates a policy
    fitted on itself."""
    f = np.asarray(folds).ravel()
    out: np.ndarray | None = None
    for fold in np.unique(f):
        probs = np.asarray(fit(f != fold), dtype=float)
        if out is None:
            out = np.zeros((f.size, probs.size))
        out[f == fold] = probs
    if out is None:
        raise StatsError("crossfit_target_probs needs at least one decision")
    if not math.isclose(float(out.sum()), float(f.size), rel_tol=1e-6):
        raise StatsError("every fitted target policy must sum to 1")
    return out
