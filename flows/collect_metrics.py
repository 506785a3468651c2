"""collect_metrics: every due pass (T+1h, T+24h) not stored yet, however late, plus a follower snapshot."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from prefect import flow, task

from flows.common import IDEMPOTENT
from xbot_core.services import steps, wiring
from xbot_core.settings import get_settings


@task(name="collect-step", **IDEMPOTENT)
async def collect(deps: steps.StepDeps, limit: int, now: datetime | None) -> dict[str, Any]:
    return asdict(await steps.collect_step(deps, limit=limit, now=now))


@flow(name="collect_metrics")
async def collect_metrics(
    limit: int = 500, now: datetime | None = None, account: str | None = None
) -> dict[str, Any]:
    """Collect pass 1 and pass 2 of every post that is due (oldest first, up to `limit` passes)."""
    with wiring.open_deps(get_settings(), account) as deps:
        return await collect(deps, limit, now)
