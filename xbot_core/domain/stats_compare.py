"""Control vs treatment on relative lift: Welch t-test, flat-prior Bayesian, anytime-valid sequence.

Same definitions as GrowthBook's gbstats (frequentist/tests.py TwoSidedTTest and
SequentialTwoSidedTTest, bayesian/tests.py EffectBayesianABTest with an improper flat prior):
  lift      = (m_t − m_c) / m_c
  Var(lift) = v_t / (m_c² n_t) + v_c m_t² / (m_c⁴ n_c)          (delta method, utils.variance_of_ratios)
  df        = (v_t/n_t + v_c/n_c)² / ((v_t/n_t)²/(n_t − 1) + (v_c/n_c)²/(n_c − 1))   (Welch–Satterthwaite)
The array kernels (`compare_arrays`, `sequential_arrays`) take many arm pairs at once (simulations,
benchmarks, a report with many metrics); `compare` and `sequential_ci` wrap them for one pair.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy import special

from xbot_core.domain.stats_samples import ArmStats, moments
from xbot_core.errors import StatsError

STATUS_OK = "ok"
STATUS_NOT_ENOUGH_DATA = "not_enough_data"
STATUS_BASELINE_ZERO = "baseline_zero"
STATUS_ZERO_VARIANCE = "zero_variance"

NOT_ENOUGH_DATA_MESSAGE = "Each arm needs more than one observation (effective n > 1)."
BASELINE_ZERO_MESSAGE = "The control mean is zero, so a relative lift is undefined."
ZERO_VARIANCE_MESSAGE = "Both arms have zero variance, so no interval can be computed."
MESSAGES = {
    STATUS_OK: "",
    STATUS_NOT_ENOUGH_DATA: NOT_ENOUGH_DATA_MESSAGE,
    STATUS_BASELINE_ZERO: BASELINE_ZERO_MESSAGE,
    STATUS_ZERO_VARIANCE: ZERO_VARIANCE_MESSAGE,
}
_STATUS_CODES = (STATUS_OK, STATUS_NOT_ENOUGH_DATA, STATUS_BASELINE_ZERO, STATUS_ZERO_VARIANCE)


@dataclass(frozen=True)
class Comparison:
    """Treatment vs control on relative lift; numeric fields are NaN unless status == "ok".

    chance_to_win = P(lift > 0) under the flat-prior Gaussian posterior N(lift, std_error²);
    expected_loss = E[max(−lift, 0)], the relative loss expected from shipping treatment
    (gbstats risk[1]); risk_control = E[max(lift, 0)], the loss from keeping control (risk[0]).
    """

    lift: float
    ci_low: float
    ci_high: float
    p_value: float
    chance_to_win: float
    expected_loss: float
    risk_control: float
    std_error: float
    dof: float
    control_mean: float
    treatment_mean: float
    alpha: float
    status: str = STATUS_OK
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK


@dataclass(frozen=True)
class SequentialConfig:
    """Anytime-valid confidence sequence settings.

    tuning_n (N*): the total sample size (control + treatment, effective n for weighted arms) at which
    the sequence is tightest (Waudby-Smith et al. 2023 eq. 161: ρ² = (−2 ln α + ln(1 − 2 ln α)) / N*).
    Set it to the size you expect at the final look; a too-small N* widens late intervals, a too-large
    N* widens early ones, and coverage holds either way. 150 ≈ a 7-day plan at ~10 posts/day per arm
    pair; gbstats defaults to 5,000 for web traffic.
    """

    tuning_n: float = 150.0
    alpha: float = 0.05

    def __post_init__(self) -> None:
        _check_alpha(self.alpha)
        if not (self.tuning_n > 0 and np.isfinite(self.tuning_n)):
            raise StatsError(f"SequentialConfig.tuning_n must be a positive number, got {self.tuning_n}")


@dataclass(frozen=True)
class SequentialResult:
    """Anytime-valid interval and p-value for the relative lift at the current look."""

    lift: float
    ci_low: float
    ci_high: float
    p_value: float
    std_error: float
    n_total: float
    tuning_n: float
    alpha: float
    status: str = STATUS_OK
    message: str = ""

    @property
    def ok(self) -> bool:
        return self.status == STATUS_OK


@dataclass(frozen=True)
class ComparisonArrays:
    """`compare_arrays` output: one element per arm pair; `status` holds the STATUS_* strings."""

    lift: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    chance_to_win: np.ndarray
    expected_loss: np.ndarray
    risk_control: np.ndarray
    std_error: np.ndarray
    dof: np.ndarray
    status: np.ndarray


@dataclass(frozen=True)
class SequentialArrays:
    lift: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray
    std_error: np.ndarray
    status: np.ndarray


def _check_alpha(alpha: float) -> None:
    if not (0 < alpha < 1):
        raise StatsError(f"alpha must be strictly between 0 and 1, got {alpha}")


def _relative_moments(
    mean_c: ArrayLike, var_c: ArrayLike, n_c: ArrayLike, mean_t: ArrayLike, var_t: ArrayLike, n_t: ArrayLike
) -> tuple[np.ndarray, ...]:
    """lift, Var(lift), Welch df and a status code array (index into _STATUS_CODES)."""
    mc, vc, nc, mt, vt, nt = (np.asarray(a, dtype=float) for a in (mean_c, var_c, n_c, mean_t, var_t, n_t))
    with np.errstate(divide="ignore", invalid="ignore"):
        lift = (mt - mc) / mc
        variance = vt / (mc**2 * nt) + vc * mt**2 / (mc**4 * nc)
        se_t, se_c = vt / nt, vc / nc
        dof = (se_t + se_c) ** 2 / (se_t**2 / (nt - 1) + se_c**2 / (nc - 1))
    code = np.zeros(np.broadcast(lift, variance).shape, dtype=np.int8)
    code = np.where(~(variance > 0), 3, code)
    code = np.where(mc == 0, 2, code)
    code = np.where((nc <= 1) | (nt <= 1), 1, code)
    return lift, variance, dof, code


def _mask(code: np.ndarray, *arrays: np.ndarray) -> list[np.ndarray]:
    bad = code != 0
    return [np.where(bad, np.nan, a) for a in arrays]


def compare_arrays(
    mean_c: ArrayLike,
    var_c: ArrayLike,
    n_c: ArrayLike,
    mean_t: ArrayLike,
    var_t: ArrayLike,
    n_t: ArrayLike,
    alpha: float = 0.05,
) -> ComparisonArrays:
    """Vectorised `compare` over arrays of per-arm (mean, per-unit variance, n)."""
    _check_alpha(alpha)
    lift, variance, dof, code = _relative_moments(mean_c, var_c, n_c, mean_t, var_t, n_t)
    with np.errstate(divide="ignore", invalid="ignore"):
        se = np.sqrt(variance)
        t_stat = lift / se
        p_value = 2 * special.stdtr(dof, -np.abs(t_stat))
        half = special.stdtrit(dof, 1 - alpha / 2) * se
        z = lift / se
        pdf = np.exp(-0.5 * z**2) / np.sqrt(2 * np.pi)
        ctw = special.ndtr(z)
        loss_treatment = se * pdf - lift * special.ndtr(-z)
        loss_control = se * pdf + lift * ctw
    lift, lo, hi, p_value, ctw, loss_treatment, loss_control, se, dof = _mask(
        code, lift, lift - half, lift + half, p_value, ctw, loss_treatment, loss_control, se, dof
    )
    return ComparisonArrays(
        lift=lift,
        ci_low=lo,
        ci_high=hi,
        p_value=p_value,
        chance_to_win=ctw,
        expected_loss=loss_treatment,
        risk_control=loss_control,
        std_error=se,
        dof=dof,
        status=np.asarray(_STATUS_CODES, dtype=object)[code],
    )


def _scalar_moments(
    mc: float, vc: float, nc: float, mt: float, vt: float, nt: float
) -> tuple[str, float, float, float]:
    """One pair's (status, lift, Var(lift), Welch df) in plain floats: same formulas as `_relative_moments`,
    without numpy's per-call overhead (a report compares hundreds of pairs one at a time)."""
    if nc <= 1 or nt <= 1:
        return STATUS_NOT_ENOUGH_DATA, math.nan, math.nan, math.nan
    if mc == 0:
        return STATUS_BASELINE_ZERO, math.nan, math.nan, math.nan
    variance = vt / (mc**2 * nt) + vc * mt**2 / (mc**4 * nc)
    if not variance > 0:
        return STATUS_ZERO_VARIANCE, math.nan, math.nan, math.nan
    se_t, se_c = vt / nt, vc / nc
    dof = (se_t + se_c) ** 2 / (se_t**2 / (nt - 1) + se_c**2 / (nc - 1))
    return STATUS_OK, (mt - mc) / mc, variance, dof


def compare(control: ArmStats, treatment: ArmStats, alpha: float = 0.05) -> Comparison:
    """Relative lift of treatment over control: Welch CI and p-value, chance to win, expected loss."""
    _check_alpha(alpha)
    _same_kind(control, treatment)
    mc, vc, nc = moments(control)
    mt, vt, nt = moments(treatment)
    status, lift, variance, dof = _scalar_moments(mc, vc, nc, mt, vt, nt)
    if status != STATUS_OK:
        nan = math.nan
        return Comparison(
            nan, nan, nan, nan, nan, nan, nan, nan, nan, mc, mt, alpha, status, MESSAGES[status]
        )
    se = math.sqrt(variance)
    z = lift / se
    half = float(special.stdtrit(dof, 1 - alpha / 2)) * se
    pdf = math.exp(-0.5 * z * z) / math.sqrt(2 * math.pi)
    ctw = float(special.ndtr(z))
    return Comparison(
        lift=lift,
        ci_low=lift - half,
        ci_high=lift + half,
        p_value=2 * float(special.stdtr(dof, -abs(z))),
        chance_to_win=ctw,
        expected_loss=se * pdf - lift * float(special.ndtr(-z)),
        risk_control=se * pdf + lift * ctw,
        std_error=se,
        dof=dof,
        control_mean=mc,
        treatment_mean=mt,
        alpha=alpha,
        status=status,
        message=MESSAGES[status],
    )


def sequential_rho(alpha: float, tuning_n: float) -> float:
    """Mixing parameter ρ of the normal-mixture confidence sequence tuned for N* (eq. 161)."""
    log_alpha = math.log(alpha)
    return math.sqrt((-2 * log_alpha + math.log(-2 * log_alpha + 1)) / tuning_n)


def sequential_arrays(
    mean_c: ArrayLike,
    var_c: ArrayLike,
    n_c: ArrayLike,
    mean_t: ArrayLike,
    var_t: ArrayLike,
    n_t: ArrayLike,
    config: SequentialConfig | None = None,
) -> SequentialArrays:
    """Vectorised asymptotic confidence sequence (Waudby-Smith et al. 2023, eqs. 9 and 155).

    With N = n_c + n_t and s² = Var(lift)·N (a per-observation variance), the half-width is
    √s² · √(2(Nρ² + 1) · ln(√(Nρ² + 1)/α) / (Nρ)²), and the always-valid p-value is
    min(1, 1/e) with e = exp(ρ²·N·lift²/s²·N/(2(Nρ² + 1))) / √(Nρ² + 1) — gbstats' parametrisation.
    """
    cfg = config or SequentialConfig()
    rho = sequential_rho(cfg.alpha, cfg.tuning_n)
    lift, variance, _dof, code = _relative_moments(mean_c, var_c, n_c, mean_t, var_t, n_t)
    n = np.asarray(n_c, dtype=float) + np.asarray(n_t, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        s2 = variance * n
        nr2p1 = n * rho**2 + 1
        half = np.sqrt(s2) * np.sqrt(2 * nr2p1 * np.log(np.sqrt(nr2p1) / cfg.alpha) / (n * rho) ** 2)
        st2 = lift**2 * n / variance
        log_e = rho**2 * st2 / (2 * nr2p1) - 0.5 * np.log(nr2p1)
        p_value = np.minimum(1.0, np.exp(-log_e))
        se = np.sqrt(variance)
    lift, lo, hi, p_value, se = _mask(code, lift, lift - half, lift + half, p_value, se)
    return SequentialArrays(
        lift=lift,
        ci_low=lo,
        ci_high=hi,
        p_value=p_value,
        std_error=se,
        status=np.asarray(_STATUS_CODES, dtype=object)[code],
    )


def sequential_ci(
    control: ArmStats, treatment: ArmStats, config: SequentialConfig | None = None
) -> SequentialResult:
    """Anytime-valid interval for the relative lift: safe to look at every day and stop any time."""
    cfg = config or SequentialConfig()
    _same_kind(control, treatment)
    mc, vc, nc = moments(control)
    mt, vt, nt = moments(treatment)
    status, lift, variance, _dof = _scalar_moments(mc, vc, nc, mt, vt, nt)
    if status != STATUS_OK:
        nan = math.nan
        return SequentialResult(
            nan, nan, nan, nan, nan, nc + nt, cfg.tuning_n, cfg.alpha, status, MESSAGES[status]
        )
    rho = sequential_rho(cfg.alpha, cfg.tuning_n)
    n = nc + nt
    s2 = variance * n
    nr2p1 = n * rho**2 + 1
    half = math.sqrt(s2) * math.sqrt(2 * nr2p1 * math.log(math.sqrt(nr2p1) / cfg.alpha) / (n * rho) ** 2)
    log_e = rho**2 * (lift**2 * n / variance) / (2 * nr2p1) - 0.5 * math.log(nr2p1)
    return SequentialResult(
        lift=lift,
        ci_low=lift - half,
        ci_high=lift + half,
        p_value=min(1.0, math.exp(-log_e)) if log_e > -700 else 1.0,
        std_error=math.sqrt(variance),
        n_total=n,
        tuning_n=cfg.tuning_n,
        alpha=cfg.alpha,
        status=status,
        message=MESSAGES[status],
    )


def _same_kind(control: ArmStats, treatment: ArmStats) -> None:
    if type(control) is not type(treatment):
        raise StatsError(
            f"control and treatment must be the same kind of statistic, got "
            f"{type(control).__name__} and {type(treatment).__name__}"
        )
