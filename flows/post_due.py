"""post_due: reconcile expired claims, then publish what is due, exactly once (a publish is never retried)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from prefect import flow, task

from flows.common import ONCE
from xbot_core.services import steps, wiring
from xbot_core.settings import get_settings


@task(name="post-step", **ONCE)
async def post(deps: steps.StepDeps, max_posts: int, now: datetime | None) -> dict[str, Any]:
    return (await steps.post_step(deps, max_posts=max_posts, now=now)).as_dict()


@flow(name="post_due")
async def post_due(
    max_posts: int = 1, now: datetime | None = None, account: str | None = None
) -> dict[str, Any]:
    """Publish up to `max_posts` due decisions; shadow mode closes them as skipped instead."""
    with wiring.open_deps(get_settings(), account) as deps:
        return await post(deps, max_posts, now)
