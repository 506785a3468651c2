"""plan_and_generate: choose arms (bandit + experiments), then write each post with the budgeted LLM."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from prefect import flow, task

from flows.common import ONCE
from xbot_core.services import steps, wiring
from xbot_core.settings import get_settings


# not retried: the LLM adapter has the one retry layer, and a retry would pay for the calls again
@task(name="plan-step", **ONCE)
def plan(
    deps: steps.StepDeps, count: int, seed: int | None, experiment_start: date | None, now: datetime | None
) -> dict[str, Any]:
    return steps.plan_step(deps, count=count, seed=seed, experiment_start=experiment_start, now=now).as_dict()


@flow(name="plan_and_generate")
def plan_and_generate(
    count: int = 2,
    seed: int | None = None,
    experiment_start: date | None = None,
    now: datetime | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """Plan `count` decisions and generate their posts (queued, or skipped with the reason).

    `experiment_start` stores the experiment plan from that day (idempotent; pass the same day every run).
    """
    with wiring.open_deps(get_settings(), account) as deps:
        return plan(deps, count, seed, experiment_start, now)
