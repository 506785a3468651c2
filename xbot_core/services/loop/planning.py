"""Plan the next posts: an arm per scope (bandit or running experiment), when to post, and propensities.

The planner writes no decision rows: the generation service inserts each decision with its content (and
calls `record_assignment` after it). `ensure_experiments` stores a TOML plan's experiments for an
account from a start date.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

import numpy as np
import psycopg
from psycopg_pool import ConnectionPool

from xbot_core.adapters.db import experiment_repo
from xbot_core.adapters.db import repositories as repo
from xbot_core.domain.bandit import ArmState, BanditConfig, Choice, draw, policy_probabilities, prior
from xbot_core.domain.catalog import SCOPES, ArmCatalog
from xbot_core.domain.experiments import Assignment, Experiment, ExperimentPlan, active_experiment, assign
from xbot_core.domain.override import EXPERIMENT_POLICY, experiment_choice
from xbot_core.domain.planning_types import PlannedDecision
from xbot_core.domain.scheduling import slot_time
from xbot_core.errors import ConfigError, DatabaseError


def load_states(
    conn: psycopg.Connection, account_id: int, *, simulated: bool, cfg: BanditConfig, catalog: ArmCatalog
) -> dict[str, tuple[ArmState, ...]]:
    """Stored posteriors per scope, in catalog order; arms never trained start at the prior."""
    rows = repo.bandit_arms(conn, account_id, simulated=simulated)
    stored = {(r["scope"], r["arm"]): r for r in rows}
    out: dict[str, tuple[ArmState, ...]] = {}
    for scope in SCOPES:
        states = []
        for arm in catalog.arms(scope):
            r = stored.get((scope, arm))
            if r is None:
                states.append(prior(scope, arm, cfg))
            else:
                states.append(ArmState(scope=scope, **{k: v for k, v in r.items() if k != "scope"}))
        out[scope] = tuple(states)
    return out


def account_timezone(conn: psycopg.Connection, account_id: int) -> str:
    tz = repo.account_timezone(conn, account_id)
    if tz is None:
        raise DatabaseError(f"account {account_id} does not exist")
    return tz


def plan_posts(
    pool: ConnectionPool,
    account_id: int,
    *,
    now: datetime,
    count: int,
    rng: np.random.Generator,
    simulated: bool = False,
    cfg: BanditConfig | None = None,
    catalog: ArmCatalog | None = None,
) -> list[PlannedDecision]:
    """`count` decisions: bandit choice per scope, overridden where the running experiment assigns."""
    if count < 0:
        raise ConfigError(f"count must be ≥ 0, got {count}")
    cfg = cfg or BanditConfig()
    catalog = catalog or ArmCatalog()
    with pool.connection() as conn:
        states = load_states(conn, account_id, simulated=simulated, cfg=cfg, catalog=catalog)
        tz = account_timezone(conn, account_id)
        running = experiment_repo.active(conn, account_id, now=now)
    experiment = active_experiment(running, now)
    # posteriors are fixed during a batch: one probability vector per scope, every decision drawn from it
    mixed = {scope: policy_probabilities(states[scope], cfg.policy(scope), cfg, rng) for scope in SCOPES}
    planned = []
    for _ in range(count):
        decision_id = uuid.UUID(bytes=rng.bytes(16), version=4)
        assignment = assign(experiment.experiment_id, experiment.share, decision_id) if experiment else None
        choices = {
            scope: _choose(scope, states[scope], mixed[scope], cfg, experiment, assignment, rng)
            for scope in SCOPES
        }
        scheduled_at = slot_time(choices["timing_slot"].arm, now, tz, rng, catalog)
        planned.append(_decision(decision_id, choices, scheduled_at, experiment, assignment))
    return planned


def _choose(
    scope: str,
    states: tuple[ArmState, ...],
    mixed: tuple[np.ndarray, float],
    cfg: BanditConfig,
    experiment: Experiment | None,
    assignment: Assignment | None,
    rng: np.random.Generator,
) -> Choice:
    """The bandit's draw for one scope, or the experiment's override (domain.override) in the scope the
    running experiment tests."""
    probs, eps = mixed
    if experiment is None or assignment is None or experiment.scope != scope:
        return draw(states, probs, eps, cfg.policy(scope), rng)
    return experiment_choice(
        states,
        probs,
        eps,
        cfg.policy(scope),
        variant=assignment.variant,
        treatment_arm=experiment.treatment_arm,
        share=experiment.share,
        rng=rng,
    )


def _decision(
    decision_id: uuid.UUID,
    choices: dict[str, Choice],
    scheduled_at: datetime,
    experiment: Experiment | None,
    assignment: Assignment | None,
) -> PlannedDecision:
    """One planned decision from its per-scope choices, with each scope's logged propensity and their
    product."""
    treated = assignment is not None and assignment.variant == "treatment"
    policies = [c.policy for c in choices.values() if c.policy != EXPERIMENT_POLICY]
    return PlannedDecision(
        decision_id=decision_id,
        content_type=choices["content_type"].arm,
        hook_pattern=choices["hook_pattern"].arm,
        timing_slot=choices["timing_slot"].arm,
        scheduled_at=scheduled_at,
        # one policy column: "experiment" for treatment, else the first bandit scope's policy
        policy="experiment" if treated else policies[0],  # type: ignore[arg-type]
        p_content_type=choices["content_type"].propensity,
        p_hook_pattern=choices["hook_pattern"].propensity,
        p_timing_slot=choices["timing_slot"].propensity,
        propensity=float(np.prod([choices[s].propensity for s in SCOPES])),
        experiment_id=experiment.experiment_id if experiment else None,
        variant=assignment.variant if assignment else None,
    )


def record_assignment(conn: psycopg.Connection, decision: PlannedDecision) -> None:
    """Store the decision's experiment assignment (after its content_metadata row); no-op outside one."""
    if decision.experiment_id is None or decision.variant is None:
        return
    exp = experiment_repo.by_id(conn, decision.experiment_id)
    if exp is None:
        raise DatabaseError(f"experiment {decision.experiment_id} does not exist")
    arm = getattr(decision, exp.scope)
    probability = exp.share if decision.variant == "treatment" else 1.0 - exp.share
    repo.insert_assignment(conn, exp.experiment_id, decision.decision_id, decision.variant, arm, probability)


def ensure_experiments(
    pool: ConnectionPool, account_id: int, plan: ExperimentPlan, start: date
) -> list[Experiment]:
    """Store the plan's experiments for the account from `start` (idempotent); return all of them."""
    with pool.connection() as conn, conn.transaction():
        tz = account_timezone(conn, account_id)
        for spec, starts_at, ends_at in plan.windows(start, tz):
            experiment_repo.insert(conn, account_id, spec, starts_at, ends_at)
        return experiment_repo.for_account(conn, account_id)


def advance_experiment_status(pool: ConnectionPool, account_id: int, *, now: datetime) -> int:
    """Move the account's experiments along their windows (planned → running → analysing); returns how many
    changed. Shipping or rolling back stays a person's decision, taken from the experiment report."""
    with pool.connection() as conn, conn.transaction():
        return experiment_repo.advance_status(conn, account_id, now=now)
