"""learn: recompute rewards under the active version and rebuild the bandit posteriors."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from prefect import flow, task

from flows.common import IDEMPOTENT
from xbot_core.services import steps, wiring
from xbot_core.settings import get_settings


@task(name="learn-step", **IDEMPOTENT)
def learn_task(deps: steps.StepDeps, seed: int, now: datetime | None) -> dict[str, Any]:
    return asdict(steps.learn_step(deps, seed=seed, now=now))


@flow(name="learn")
def learn(seed: int = 0, now: datetime | None = None, account: str | None = None) -> dict[str, Any]:
    """One learning run on the account's outcomes of the configured data kind (simulated on the sandbox)."""
    with wiring.open_deps(get_settings(), account) as deps:
        return learn_task(deps, seed, now)
