"""collect_metrics: every due pass (T+1h, T+24h) not stored yet, however late, plus a follower snapshot."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from prefect import flow, task

from flows.common import IDEMPOTENT
from xbot_core.adapters.x_browser.models import XClient
from xbot_core.services import collection
from xbot_core.services.runtime import Runtime, open_runtime, open_x


@task(name="collect-due-passes", **IDEMPOTENT)
async def collect_due_passes(rt: Runtime, x: XClient, now: datetime, limit: int) -> dict[str, Any]:
    report = await collection.collect_due(
        rt.pool,
        x,
        account_id=rt.account_id,
        now=now,
        settings=rt.settings,
        simulated=rt.simulated,
        limit=limit,
    )
    return asdict(report)


@flow(name="collect_metrics")
async def collect_metrics(limit: int = 500, now: datetime | None = None) -> dict[str, Any]:
    """Collect pass 1 and pass 2 of every post that is due (oldest first, up to `limit` passes)."""
    with open_runtime() as rt:
        if not rt.settings.real_metrics_enabled:
            return asdict(collection.CollectionReport(skipped="XBOT_REAL_METRICS_ENABLED=false"))
        at = rt.now(now)
        async with open_x(rt) as x:
            return await collect_due_passes(rt, x, at, limit)
