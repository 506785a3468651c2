"""The learn step: rewards under the active version, then `bandit_arms` rebuilt from latest passes.

Real and simulated outcomes are never mixed: a run reads one kind and rebuilds only that kind's arms. With
fewer than `min_outcomes` usable outcomes nothing is learned (a status value, recorded as a training run).
Passes lacking a metric the active reward version needs (domain/completeness.py) have no reward, so they are
left out; the run counts them (`training_runs.outcomes_incomplete`) and the log names what they miss.
`explore_ratio` = mean over scopes of P(next choice is not the best posterior-mean arm), ε included.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
import psycopg
from psycopg_pool import ConnectionPool

from xbot_core.adapters.db import learning_repo
from xbot_core.domain.bandit import ArmState, BanditConfig, Observation, explore_probability, fit_scope
from xbot_core.domain.catalog import SCOPES, ArmCatalog
from xbot_core.domain.completeness import missing_metrics
from xbot_core.domain.drift import ArmDrift, DriftConfig, arm_drift
from xbot_core.domain.metrics import exposure_weight
from xbot_core.domain.reward import RewardVersion, reward
from xbot_core.errors import ConfigError
from xbot_core.services.loop.history_prior import HistoryPrior, load_prior
from xbot_core.services.operations.rewards import version_for

log = logging.getLogger(__name__)

MIN_OUTCOMES = 5
INSUFFICIENT_REAL = "insufficient real outcomes"
INSUFFICIENT_SIMULATED = "insufficient simulated outcomes"


@dataclass(frozen=True)
class LearnResult:
    """What a learn run did; `status` is "trained" or "insufficient_data" (with `message`)."""

    status: Literal["trained", "insufficient_data"]
    message: str
    simulated: bool
    reward_version: int
    outcomes_used: int
    arms_trained: int
    explore_ratio: float | None
    run_id: int
    skipped_outcomes: int = 0


def _rewards(rows: list[dict[str, Any]], v: RewardVersion) -> list[float | None]:
    return [
        reward(
            v,
            impressions=r["impressions"],
            follows=r["follows"],
            retweets=r["retweets"],
            replies=r["replies"],
            novelty=r["novelty"],
            dup_penalty=r["dup_penalty"],
        )
        for r in rows
    ]


def _incomplete(rows: list[dict[str, Any]], v: RewardVersion) -> tuple[int, str]:
    """How many passes lack a metric `v` needs, and a note naming the counts per metric ('' when none)."""
    counts: dict[str, int] = {}
    n = 0
    for r in rows:
        lacking = missing_metrics(v, r)
        n += bool(lacking)
        for name in lacking:
            counts[name] = counts.get(name, 0) + 1
    note = ", ".join(f"{k} {c}" for k, c in counts.items())
    return n, (f"incomplete_passes_left_out={n} (missing: {note})" if n else "")


def _latest_usable(rows: list[dict[str, Any]], rewards: list[float | None]) -> dict[str, tuple[dict, float]]:
    """Latest collected pass per decision whose reward is computable (pass 2 replaces pass 1)."""
    out: dict[str, tuple[dict, float]] = {}
    for r, rew in zip(rows, rewards, strict=True):
        if rew is None:
            continue
        key = str(r["decision_id"])
        if key not in out or r["collected_pass"] > out[key][0]["collected_pass"]:
            out[key] = (r, rew)
    return out


def train_states(
    usable: dict[str, tuple[dict, float]],
    v: RewardVersion,
    cfg: BanditConfig,
    catalog: ArmCatalog,
    priors: dict[str, dict[str, tuple[float, float]]] | None = None,
) -> tuple[dict[str, tuple[ArmState, ...]], int]:
    """Per-scope posteriors from the usable outcomes (started from `priors` per scope and arm when given);
    arms outside the catalog are skipped and counted."""
    states: dict[str, tuple[ArmState, ...]] = {}
    skipped = 0
    for scope in SCOPES:
        arms = catalog.arms(scope)
        obs = []
        for decision_id, (r, rew) in usable.items():
            if r[scope] not in arms:
                skipped += 1
                continue
            w = exposure_weight(r["impressions"], v.exposure_cap)
            assert w is not None  # a computable reward has impressions
            obs.append(Observation(decision_id, r[scope], r["collected_pass"], rew, w, r["collected_at"]))
        states[scope] = fit_scope(scope, arms, obs, cfg, (priors or {}).get(scope))
    return states, skipped


def drift_alarms(
    usable: dict[str, tuple[dict, float]], catalog: ArmCatalog, cfg: DriftConfig | None = None
) -> list[ArmDrift]:
    """Arms whose reward over the last days moved away from before (domain/drift.py), every scope."""
    out: list[ArmDrift] = []
    for scope in SCOPES:
        obs = [
            Observation(d, r[scope], r["collected_pass"], rew, 1.0, r["collected_at"])
            for d, (r, rew) in usable.items()
            if r[scope] in catalog.arms(scope)
        ]
        out += [a for a in arm_drift(scope, obs, cfg) if a.alarm]
    return out


def drift_record(cfg: DriftConfig, alarms: list[ArmDrift]) -> dict[str, Any]:
    """The drift check of a run as stored (training_runs.drift): its thresholds and the arms that raised the
    alarm. An infinite z (both periods constant, and different) is stored as null: JSON has no infinity."""
    return {
        "recent_days": cfg.recent_days,
        "min_posts": cfg.min_posts,
        "z_alarm": cfg.z_alarm,
        "arms": [
            {
                "scope": a.scope,
                "arm": a.arm,
                "n_recent": a.n_recent,
                "n_before": a.n_before,
                "mean_recent": a.mean_recent,
                "mean_before": a.mean_before,
                "z": a.z if a.z is not None and math.isfinite(a.z) else None,
            }
            for a in alarms
        ],
    }


def learn(
    pool: ConnectionPool,
    account_id: int,
    *,
    simulated: bool,
    now: datetime,
    cfg: BanditConfig | None = None,
    catalog: ArmCatalog | None = None,
    min_outcomes: int = MIN_OUTCOMES,
    seed: int = 0,
    drift: DriftConfig | None = None,
    history_prior_weight: float | None = None,
    reward_version: int | None = None,
) -> LearnResult:
    """Recompute rewards, rebuild this kind's bandit arms (with `cfg`'s discount or window) and record a
    training run with its drift alarms (`drift`'s thresholds), in one transaction. `reward_version` pins the
    account's version (None: the active one).

    With `history_prior_weight` W the posteriors start from the account's imported history, each post counting
    W of a live one (loop/history_prior.py); then even a run with too few live outcomes writes the arms
    (from the prior alone), so the bot starts from what the history says."""
    cfg = cfg or BanditConfig()
    catalog = catalog or ArmCatalog()
    _refuse_prior_on_simulated(history_prior_weight, simulated)
    with pool.connection() as conn:
        v = version_for(conn, reward_version)
        with conn.transaction():
            prior = (
                None
                if history_prior_weight is None
                else load_prior(conn, account_id, v, history_prior_weight, cfg, catalog)
            )
            ctx = _Learning(conn, account_id, simulated, v, now, cfg, catalog, prior)
            rows = learning_repo.learning_outcomes(conn, account_id, simulated=simulated)
            rewards = _rewards(rows, v)
            usable = _latest_usable(rows, rewards)
            run = _run_row(ctx, rows, usable)
            if len(usable) < min_outcomes:
                return _insufficient(ctx, run, len(usable), min_outcomes)
            keys = [(r["decision_id"], r["collected_pass"]) for r in rows]
            learning_repo.set_rewards(conn, keys, rewards, v.version)
            result = _trained(ctx, run, usable, seed=seed, drift=drift or DriftConfig())
    log.info(result.message)
    return result


@dataclass(frozen=True)
class _Learning:
    """What one learning run works on: its transaction, account, data kind, reward version and bandit."""

    conn: psycopg.Connection
    account_id: int
    simulated: bool
    v: RewardVersion
    now: datetime
    cfg: BanditConfig
    catalog: ArmCatalog
    prior: HistoryPrior | None

    @property
    def prior_note(self) -> str:
        return f" {self.prior.note}" if self.prior else ""

    def write_arms(self, states: dict[str, Any]) -> None:
        arms = _arm_rows(self.account_id, self.simulated, states, self.v.version, self.now)
        learning_repo.replace_arms(self.conn, self.account_id, simulated=self.simulated, arms=arms)


def _refuse_prior_on_simulated(history_prior_weight: float | None, simulated: bool) -> None:
    if history_prior_weight is not None and simulated:
        raise ConfigError(
            "--prior-from-history starts real posteriors from real imported history, but this account's "
            "data kind is simulated (its X is the sandbox) and the two are never mixed: give the account its "
            "real X (XBOT_X_BASE_URL=https://x.com, or `xbot account add HANDLE --x-base-url https://x.com`)"
        )


def _run_row(ctx: _Learning, rows: list[dict[str, Any]], usable: dict[str, Any]) -> dict[str, Any]:
    """The training run's common columns; incomplete passes (rewards None, never learned from) logged."""
    incomplete, incomplete_note = _incomplete(rows, ctx.v)
    if incomplete:
        log.warning("learn (reward v%d): %s", ctx.v.version, incomplete_note)
    return {
        "account_id": ctx.account_id,
        "simulated": ctx.simulated,
        "reward_version": ctx.v.version,
        "outcomes_used": len(usable),
        "ran_at": ctx.now,
        "outcomes_incomplete": incomplete,
    }


def _insufficient(ctx: _Learning, run: dict[str, Any], n_usable: int, min_outcomes: int) -> LearnResult:
    """Too few usable outcomes: record so; with a history prior the arms start from the history alone."""
    message = INSUFFICIENT_SIMULATED if ctx.simulated else INSUFFICIENT_REAL
    detail = f"{message}: {n_usable} usable of {min_outcomes} needed"
    if ctx.prior is not None:
        states, _ = train_states({}, ctx.v, ctx.cfg, ctx.catalog, ctx.prior.counts)
        ctx.write_arms(states)
        message = detail = f"{detail}; arms set from the history prior:{ctx.prior_note}"
    run_id = learning_repo.insert_training_run(
        ctx.conn, **run, status="insufficient_data", arms_trained=0, explore_ratio=None, message=detail
    )
    return LearnResult("insufficient_data", message, ctx.simulated, ctx.v.version, n_usable, 0, None, run_id)


def _trained(
    ctx: _Learning, run: dict[str, Any], usable: dict[str, Any], *, seed: int, drift: DriftConfig
) -> LearnResult:
    """Rebuild the arms from the usable outcomes, check drift, record the run and its log line."""
    states, skipped = train_states(
        usable, ctx.v, ctx.cfg, ctx.catalog, ctx.prior.counts if ctx.prior else None
    )
    ctx.write_arms(states)
    rng = np.random.default_rng(seed)
    explore = float(np.mean([explore_probability(st, ctx.cfg, rng) for st in states.values()]))
    arms_trained = sum(1 for st in states.values() for s in st if s.pulls > 0)
    line = f"coeffs_updated=v{ctx.v.version} arms_trained={arms_trained} explore_ratio={explore:.3f}"
    line += ctx.prior_note + _recency_note(ctx.cfg)
    alarms = drift_alarms(usable, ctx.catalog, drift)
    if alarms:  # in the log line (= the run's message) and as data in training_runs.drift
        line += " drift_alarm=" + "; ".join(a.describe() for a in alarms)
    run_id = learning_repo.insert_training_run(
        ctx.conn,
        **run,
        status="trained",
        arms_trained=arms_trained,
        explore_ratio=explore,
        message=line,
        drift=drift_record(drift, alarms),
    )
    return LearnResult(
        "trained", line, ctx.simulated, ctx.v.version, len(usable), arms_trained, explore, run_id, skipped
    )


def _recency_note(cfg: BanditConfig) -> str:
    """' discount=γ' / ' window_days=N' when the rebuild used them ('' for all history, undiscounted)."""
    note = f" discount={cfg.discount:g}" if cfg.discount is not None else ""
    return note + (f" window_days={cfg.window_days}" if cfg.window_days is not None else "")


def _arm_rows(
    account_id: int,
    simulated: bool,
    states: dict[str, tuple[ArmState, ...]],
    version: int,
    now: datetime,
) -> list[dict[str, Any]]:
    """The bandit_arms rows of the new posteriors."""
    return [
        {
            "account_id": account_id,
            "scope": s.scope,
            "arm": s.arm,
            "simulated": simulated,
            "alpha": s.alpha,
            "beta": s.beta,
            "successes": s.successes,
            "failures": s.failures,
            "pulls": s.pulls,
            "sum_reward": s.sum_reward,
            "provisional": s.provisional,
            "reward_version": version,
            "updated_at": now,
        }
        for scope_states in states.values()
        for s in scope_states
    ]
