"""Off-policy evaluation of logged bandit decisions: IPS, SNIPS, DM and DR with bootstrap CIs.

Answers (a) "what would another policy have earned on these decisions" and (b) "what did last week
earn under other reward weights" (rewards recomputed under the new weights, evaluated for the logging
policy or any other). Inputs are plain arrays (numpy, Polars columns, lists), one row per decision:
the reward, the arm index chosen and the logged propensity of that arm.

With w_i = π_target(a_i) / π_logging(a_i) and a reward model q(a):
  IPS   = mean(w·r)                     unbiased when the logging policy covers the target's arms
  SNIPS = Σ w·r / Σ w                   self-normalised: biased O(1/n), lower variance, exact for constants
  DM    = mean(Σ_a π_target(a|i)·q(a))  the reward model's prediction for the target policy
  DR    = DM + mean(w·(r − q(a_i)))     unbiased if either the propensities or the model are right
The default reward model is each arm's mean logged reward, refitted inside every bootstrap resample.
With that model and a fixed target policy, DR equals DM only when the logged propensities are constant
within each arm (the correction w·(r − q(a)) then sums to zero within each arm). When they vary within an
arm, as they do for a bandit whose posteriors move, DR re-weights the residuals and can differ a lot from DM
(tests/unit/test_ope.py pins a four-decision case with DM 0.40 and DR −0.22); they also differ for
per-decision target policies.

Logged propensities below `propensity_floor` refuse the estimate. The comparison allows a relative
tolerance of FLOOR_RTOL: ε/K at the end of the ε schedule is 0.05/5 in exact arithmetic but
0.009999999999999998 in floating point, and must pass a floor of 0.01.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike

from xbot_core.errors import StatsError

STATUS_OK = "ok"
STATUS_PROPENSITY_MISSING = "propensity_missing"
STATUS_PROPENSITY_BELOW_FLOOR = "propensity_below_floor"
STATUS_NO_DATA = "no_data"

PROPENSITY_MISSING_MESSAGE = (
    "Some logged decisions have no propensity; off-policy estimates would be biased, so none are given."
)
PROPENSITY_BELOW_FLOOR_MESSAGE = (
    "Some logged propensities are below the floor; their importance weights would dominate the estimate."
)
NO_DATA_MESSAGE = "There are no logged decisions to evaluate."
# relative tolerance of the floor comparison: absorbs floating-point rounding of ε/K, nothing larger
FLOOR_RTOL = 1e-9


@dataclass(frozen=True)
class OpeConfig:
    """Tunable values of the estimators; `propensity_floor` is the smallest propensity accepted."""

    propensity_floor: float = 0.01
    n_bootstrap: int = 200
    alpha: float = 0.05
    bootstrap_chunk: int = 20  # resamples drawn per vectorised step (bounds memory at chunk × n)

    def __post_init__(self) -> None:
        if not (0 <= self.propensity_floor < 1):
            raise StatsError(f"OpeConfig.propensity_floor must be in [0, 1), got {self.propensity_floor}")
        if self.n_bootstrap < 0 or self.bootstrap_chunk < 1:
            raise StatsError("OpeConfig.n_bootstrap must be >= 0 and bootstrap_chunk >= 1")
        if not (0 < self.alpha < 1):
            raise StatsError(f"OpeConfig.alpha must be strictly between 0 and 1, got {self.alpha}")


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its percentile-bootstrap interval (NaN bounds when n_bootstrap == 0)."""

    value: float
    ci_low: float
    ci_high: float


@dataclass(frozen=True)
class OpeResult:
    """All four estimates of one target policy's mean reward, or a refusal status with its message."""

    status: str
    message: str
    n: int
    logged_mean: float
    ips: Estimate | None = None
    snips: Estimate | None = None
    dm: Estimate | None = None
    dr: Estimate | None = None
    effective_sample_size: float = float("nan")
    max_weight: float = float("nan")
    n_missing_propensity: int = 0
    n_below_floor: int = 0

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK


def evaluate_policy(
    rewards: ArrayLike,
    actions: ArrayLike,
    logging_propensity: ArrayLike,
    target_probs: ArrayLike,
    rng: np.random.Generator,
    config: OpeConfig | None = None,
) -> OpeResult:
    """Estimate a target policy's mean reward from logs of another policy (case a).

    actions: arm index per decision, 0..K−1. target_probs: the target's arm probabilities, either one
    row of K (a fixed policy) or n rows of K (a per-decision policy); each row sums to 1.
    """
    cfg = config or OpeConfig()
    r = _finite("rewards", rewards)
    a = _actions(actions, r.size)
    p, refusal = _propensities(logging_propensity, r.size, cfg)
    probs = _target_probs(target_probs, r.size)
    if int(a.max(initial=-1)) >= probs.shape[1]:
        raise StatsError(f"actions go up to {int(a.max())} but target_probs has only {probs.shape[1]} arms")
    if refusal is not None:
        return _refused(refusal, r)
    pi = probs[np.arange(r.size), a] if probs.shape[0] == r.size else probs[0, a]
    return _estimate(r, a, p, pi, probs, rng, cfg)


def evaluate_reweighted(
    new_rewards: ArrayLike,
    logging_propensity: ArrayLike,
    rng: np.random.Generator,
    actions: ArrayLike | None = None,
    target_probs: ArrayLike | None = None,
    config: OpeConfig | None = None,
) -> OpeResult:
    """Mean reward of the logged decisions re-scored under other reward weights (case b).

    new_rewards: each logged decision's reward recomputed under the new weights (e.g. a Polars column
    from the reward module). Without target_probs the logging policy itself is evaluated (every weight
    is 1, so IPS = SNIPS = the mean new reward); with actions and target_probs, another policy is
    evaluated on the re-scored rewards exactly as in `evaluate_policy`.
    """
    cfg = config or OpeConfig()
    r = _finite("new_rewards", new_rewards)
    if target_probs is not None:
        if actions is None:
            raise StatsError("evaluate_reweighted needs actions when target_probs is given")
        return evaluate_policy(r, actions, logging_propensity, target_probs, rng, cfg)
    p, refusal = _propensities(logging_propensity, r.size, cfg)
    if refusal is not None:
        return _refused(refusal, r)
    a = np.zeros(r.size, dtype=np.int64) if actions is None else _actions(actions, r.size)
    # on-policy: the target's probability of each logged arm is the logging one, so w = 1 throughout;
    # DM's expectation over the logging policy is estimated by the logged arms themselves
    return _estimate(r, a, p, p, None, rng, cfg)


def _estimate(
    r: np.ndarray,
    a: np.ndarray,
    p: np.ndarray,
    pi: np.ndarray,
    probs: np.ndarray | None,
    rng: np.random.Generator,
    cfg: OpeConfig,
) -> OpeResult:
    n = r.size
    if n == 0:
        return OpeResult(STATUS_NO_DATA, NO_DATA_MESSAGE, 0, float("nan"))
    w = pi / p
    k = int(a.max()) + 1 if probs is None else probs.shape[1]
    design = _design(r, a, w, probs, k)
    point = _estimators(design.sum(axis=0, keepdims=True), n, probs, k)
    boot = _bootstrap(design, probs, k, rng, cfg)
    estimates = []
    for j in range(4):  # ips, snips, dm, dr
        if boot is None:
            lo = hi = float("nan")
        else:
            lo, hi = np.quantile(boot[:, j], [cfg.alpha / 2, 1 - cfg.alpha / 2])
        estimates.append(Estimate(float(point[0, j]), float(lo), float(hi)))
    ips, snips, dm, dr = estimates
    return OpeResult(
        status=STATUS_OK,
        message="",
        n=n,
        logged_mean=float(r.mean()),
        effective_sample_size=float(w.sum() ** 2 / np.square(w).sum()) if w.any() else 0.0,
        max_weight=float(w.max()),
        ips=ips,
        snips=snips,
        dm=dm,
        dr=dr,
    )


def _design(r: np.ndarray, a: np.ndarray, w: np.ndarray, probs: np.ndarray | None, k: int) -> np.ndarray:
    """Per-decision columns whose resample sums give every estimator: [w·r, w, r·1ₐ, 1ₐ, w·1ₐ, π(·|i)]."""
    onehot = np.zeros((r.size, k))
    onehot[np.arange(r.size), a] = 1.0
    columns = [(w * r)[:, None], w[:, None], onehot * r[:, None], onehot, onehot * w[:, None]]
    if probs is not None and probs.shape[0] > 1:  # a per-decision target policy
        columns.append(probs)
    return np.hstack(columns)


def _estimators(sums: np.ndarray, n: int, probs: np.ndarray | None, k: int) -> np.ndarray:
    """IPS, SNIPS, DM, DR per resample from the column sums of `_design` (one row per resample).

    The reward model (per-arm mean reward) is refitted from each resample's own sums.
    """
    wr, w = sums[:, 0], sums[:, 1]
    arm_sums, arm_counts, arm_weights = (
        sums[:, 2 : 2 + k],
        sums[:, 2 + k : 2 + 2 * k],
        sums[:, 2 + 2 * k : 2 + 3 * k],
    )
    overall = arm_sums.sum(axis=1, keepdims=True) / n
    with np.errstate(invalid="ignore", divide="ignore"):
        arm_means = np.where(arm_counts > 0, arm_sums / arm_counts, overall)  # unseen arm: overall mean
        snips = np.where(w > 0, wr / w, np.nan)
    # DM = mean_i Σ_a π(a|i)·q(a) = Σ_a mean_i(π(a|i))·q(a): only the mean target row is needed
    if probs is None:
        dm = (arm_means * arm_counts).sum(axis=1) / n  # on-policy: logged arms are draws from the target
    elif probs.shape[0] == 1:
        dm = arm_means @ probs[0]
    else:
        dm = (arm_means * sums[:, 2 + 3 * k :] / n).sum(axis=1)
    # DR correction mean(w·(r − q(a))) = (Σ w·r − Σ_a q(a)·Σ_{i: a_i = a} w_i) / n
    dr = dm + (wr - (arm_means * arm_weights).sum(axis=1)) / n
    return np.column_stack([wr / n, snips, dm, dr])


def _bootstrap(
    design: np.ndarray,
    probs: np.ndarray | None,
    k: int,
    rng: np.random.Generator,
    cfg: OpeConfig,
) -> np.ndarray | None:
    """Bootstrap replicates: a resample is a row of draw counts, so its column sums are counts @ design."""
    if cfg.n_bootstrap == 0:
        return None
    n = design.shape[0]
    out = np.empty((cfg.n_bootstrap, 4))
    done = 0
    while done < cfg.n_bootstrap:
        b = min(cfg.bootstrap_chunk, cfg.n_bootstrap - done)
        idx = rng.integers(0, n, size=(b, n)) + np.arange(b)[:, None] * n
        counts = np.bincount(idx.ravel(), minlength=b * n).reshape(b, n).astype(float)
        out[done : done + b] = _estimators(counts @ design, n, probs, k)
        done += b
    return out


def _refused(refusal: tuple[str, int, int], r: np.ndarray) -> OpeResult:
    status, n_missing, n_below = refusal
    missing = status == STATUS_PROPENSITY_MISSING
    return OpeResult(
        status=status,
        message=PROPENSITY_MISSING_MESSAGE if missing else PROPENSITY_BELOW_FLOOR_MESSAGE,
        n=r.size,
        logged_mean=float(r.mean()) if r.size else float("nan"),
        n_missing_propensity=n_missing,
        n_below_floor=n_below,
    )


def _finite(name: str, values: ArrayLike) -> np.ndarray:
    try:
        x = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise StatsError(f"{name} must be numbers: {exc}") from exc
    bad = int((~np.isfinite(x)).sum())
    if bad:
        raise StatsError(f"{name} has {bad} missing or non-finite value(s); drop those decisions first")
    return x


def _actions(actions: ArrayLike, n: int) -> np.ndarray:
    a = np.asarray(actions).ravel()
    if a.size != n:
        raise StatsError(f"actions has {a.size} rows but rewards has {n}")
    if a.size and (not np.issubdtype(a.dtype, np.integer) or a.min() < 0):
        raise StatsError("actions must be non-negative integer arm indices (0..K−1)")
    return a.astype(np.int64)


def _propensities(
    values: ArrayLike, n: int, cfg: OpeConfig
) -> tuple[np.ndarray, tuple[str, int, int] | None]:
    """Logged propensities, and (status, n_missing, n_below_floor) when some are missing or too low."""
    try:
        p = np.asarray(values, dtype=float).ravel()
    except (TypeError, ValueError) as exc:
        raise StatsError(f"logging_propensity must be numbers (missing as None/NaN): {exc}") from exc
    if p.size != n:
        raise StatsError(f"logging_propensity has {p.size} rows but rewards has {n}")
    missing = np.isnan(p)
    present = p[~missing]
    if ((present < 0) | (present > 1)).any():
        raise StatsError("logging_propensity values must lie in [0, 1]")
    n_missing = int(missing.sum())
    n_below = int(((present < cfg.propensity_floor * (1 - FLOOR_RTOL)) | (present == 0)).sum())
    if n_missing:
        return p, (STATUS_PROPENSITY_MISSING, n_missing, n_below)
    if n_below:
        return p, (STATUS_PROPENSITY_BELOW_FLOOR, n_missing, n_below)
    return p, None


def _target_probs(values: ArrayLike, n: int) -> np.ndarray:
    probs = np.asarray(values, dtype=float)
    if probs.ndim == 1:
        probs = probs[None, :]
    if probs.ndim != 2 or probs.shape[0] not in (1, n):
        raise StatsError(f"target_probs must have shape (K,) or ({n}, K), got {np.shape(values)}")
    if not np.isfinite(probs).all() or (probs < 0).any():
        raise StatsError("target_probs must be finite and non-negative")
    if not np.allclose(probs.sum(axis=1), 1.0, atol=1e-6):
        raise StatsError("each row of target_probs must sum to 1")
    return probs
