"""The learn step: rewards under the active version, then `bandit_arms` rebuilt from latest passes.

Real and simulated outcomes are never mixed: a run reads one kind and rebuilds only that kind's arms. With
fewer than `min_outcomes` usable outcomes nothing is learned (a status value, recorded as a training run).
Passes lacking a metric the active reward version needs (domain/completeness.py) have no reward, so they are
left out; the run counts them (`training_runs.outcomes_incomplete`) and the log names what they miss.
`explore_ratio` = mean over scopes of P(next choice is not the best posterior-mean arm), ε included.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

import numpy as np
from psycopg_pool import ConnectionPool

from xbot_core.adapters.db import learning_repo
from xbot_core.domain.bandit import ArmState, BanditConfig, Observation, explore_probability, fit_scope
from xbot_core.domain.catalog import SCOPES, ArmCatalog
from xbot_core.domain.completeness import missing_metrics
from xbot_core.domain.drift import ArmDrift, DriftConfig, arm_drift
from xbot_core.domain.metrics import exposure_weight
from xbot_core.domain.reward import RewardVersion, reward
from xbot_core.services.rewards import version_for

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
    usable: dict[str, tuple[dict, float]], v: RewardVersion, cfg: BanditConfig, catalog: ArmCatalog
) -> tuple[dict[str, tuple[ArmState, ...]], int]:
    """Per-scope posteriors from the usable outcomes; arms outside the catalog are skipped and counted."""
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
        states[scope] = fit_scope(scope, arms, obs, cfg)
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
    reward_version: int | None = None,
) -> LearnResult:
    """Recompute rewards, rebuild this kind's bandit arms and record a training run, in one transaction.
    `reward_version` pins the account's version (None: the active one)."""
    cfg = cfg or BanditConfig()
    catalog = catalog or ArmCatalog()
    with pool.connection() as conn:
        v = version_for(conn, reward_version)
        with conn.transaction():
            rows = learning_repo.learning_outcomes(conn, account_id, simulated=simulated)
            rewards = _rewards(rows, v)
            incomplete, incomplete_note = _incomplete(rows, v)  # their rewards are None: never learned from
            usable = _latest_usable(rows, rewards)
            run: dict[str, Any] = {
                "account_id": account_id,
                "simulated": simulated,
                "reward_version": v.version,
                "outcomes_used": len(usable),
                "ran_at": now,
                "outcomes_incomplete": incomplete,
            }
            if incomplete:
                log.warning("learn (reward v%d): %s", v.version, incomplete_note)
            if len(usable) < min_outcomes:
                message = INSUFFICIENT_SIMULATED if simulated else INSUFFICIENT_REAL
                detail = f"{message}: {len(usable)} usable of {min_outcomes} needed"
                run_id = learning_repo.insert_training_run(
                    conn,
                    **run,
                    status="insufficient_data",
                    arms_trained=0,
                    explore_ratio=None,
                    message=detail,
                )
                log.info("%s (account=%s simulated=%s)", detail, account_id, simulated)
                return LearnResult(
                    "insufficient_data", message, simulated, v.version, len(usable), 0, None, run_id
                )
            keys = [(r["decision_id"], r["collected_pass"]) for r in rows]
            learning_repo.set_rewards(conn, keys, rewards, v.version)
            states, skipped = train_states(usable, v, cfg, catalog)
            arms = _arm_rows(account_id, simulated, states, v.version, now)
            learning_repo.replace_arms(conn, account_id, simulated=simulated, arms=arms)
            rng = np.random.default_rng(seed)
            explore = float(np.mean([explore_probability(st, cfg, rng) for st in states.values()]))
            arms_trained = sum(1 for st in states.values() for s in st if s.pulls > 0)
            line = f"coeffs_updated=v{v.version} arms_trained={arms_trained} explore_ratio={explore:.3f}"
            alarms = drift_alarms(usable, catalog)
            if alarms:  # in the log and in the training run's message (/api/learning/status shows it)
                line += " drift_alarm=" + "; ".join(a.describe() for a in alarms)
            run_id = learning_repo.insert_training_run(
                conn, **run, status="trained", arms_trained=arms_trained, explore_ratio=explore, message=line
            )
    log.info(line)
    return LearnResult(
        "trained", line, simulated, v.version, len(usable), arms_trained, explore, run_id, skipped
    )


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
