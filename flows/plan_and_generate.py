"""plan_and_generate: choose arms (bandit + experiments), then write each post with the budgeted LLM."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import numpy as np
from prefect import flow, task

from flows.common import IDEMPOTENT, ONCE
from xbot_core.domain.experiments import load_plan
from xbot_core.domain.planning_types import PlannedDecision
from xbot_core.services import generation, planning
from xbot_core.services.runtime import Runtime, open_runtime


@task(name="ensure-experiments", **IDEMPOTENT)
def ensure_experiments(rt: Runtime, start: date) -> int:
    plan = load_plan(rt.settings.experiment_plan)
    return len(planning.ensure_experiments(rt.pool, rt.account_id, plan, start))


@task(name="advance-experiments", **IDEMPOTENT)
def advance_experiments(rt: Runtime, now: datetime) -> int:
    return planning.advance_experiment_status(rt.pool, rt.account_id, now=now)


@task(name="plan-posts", **IDEMPOTENT)
def plan_posts(rt: Runtime, now: datetime, count: int, seed: int | None) -> list[PlannedDecision]:
    rng = np.random.default_rng(seed)
    return planning.plan_posts(rt.pool, rt.account_id, now=now, count=count, rng=rng, simulated=rt.simulated)


# not retried here: the LLM adapter has the one retry layer, and a retry would pay for the calls again
@task(name="generate-posts", **ONCE)
def generate_posts(rt: Runtime, planned: list[PlannedDecision], now: datetime) -> list[dict[str, Any]]:
    results = generation.generate_posts(
        rt.pool,
        rt.llm(),
        planned,
        account_id=rt.account_id,
        now=now,
        simulated=rt.simulated,
        settings=rt.settings,
    )
    return [
        {"decision_id": str(r.decision_id), "status": r.status, "skip_reason": r.skip_reason} for r in results
    ]


@flow(name="plan_and_generate")
def plan_and_generate(
    count: int = 2, seed: int | None = None, experiment_start: date | None = None, now: datetime | None = None
) -> dict[str, Any]:
    """Plan `count` decisions and generate their posts (queued, or skipped with the reason).

    `experiment_start` stores the experiment plan from that day (idempotent; pass the same day every run).
    """
    with open_runtime() as rt:
        at = rt.now(now)
        experiments = ensure_experiments(rt, experiment_start) if experiment_start is not None else None
        advance_experiments(rt, at)
        planned = plan_posts(rt, at, count, seed)
        results = generate_posts(rt, planned, at)
        return {
            "planned": len(planned),
            "queued": sum(r["status"] == "queued" for r in results),
            "skipped": [r for r in results if r["status"] != "queued"],
            "experiments": experiments,
        }
