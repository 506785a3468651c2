"""post_due: reconcile expired claims, then publish what is due, exactly once (a publish is never retried)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from prefect import flow, task

from flows.common import IDEMPOTENT, ONCE
from xbot_core.adapters.x_browser.models import XClient
from xbot_core.services import posting
from xbot_core.services.runtime import Runtime, open_runtime, open_x


@task(name="skip-due-in-shadow", **IDEMPOTENT)
def skip_due_in_shadow(rt: Runtime, now: datetime) -> int:
    return posting.skip_due_in_shadow(rt.pool, rt.account_id, now=now)


@task(name="reconcile-claims", **IDEMPOTENT)
async def reconcile_claims(rt: Runtime, x: XClient, now: datetime) -> dict[str, int]:
    r = await posting.reconcile(rt.pool, x, account_id=rt.account_id, now=now, settings=rt.settings)
    return {"recorded": len(r.recorded), "requeued": len(r.requeued), "failed": len(r.failed)}


@task(name="publish-next", **ONCE)
async def publish_next(rt: Runtime, x: XClient, now: datetime, worker: str) -> dict[str, Any]:
    res = await posting.post_next(
        rt.pool, x, account_id=rt.account_id, now=now, settings=rt.settings, worker=worker
    )
    return {k: (str(v) if v is not None and k == "decision_id" else v) for k, v in asdict(res).items()}


@flow(name="post_due")
async def post_due(max_posts: int = 1, now: datetime | None = None) -> dict[str, Any]:
    """Publish up to `max_posts` due decisions; shadow mode closes them as skipped instead."""
    with open_runtime() as rt:
        at = rt.now(now)
        if rt.settings.mode != "live":
            return {"mode": rt.settings.mode, "skipped": skip_due_in_shadow(rt, at), "posts": []}
        due, expired = posting.pending_work(rt.pool, rt.account_id, now=at)
        if due == 0 and expired == 0:
            return {"mode": "live", "reconciled": {}, "posts": []}
        worker = posting.worker_id()
        async with open_x(rt) as x:
            reconciled = await reconcile_claims(rt, x, at) if expired else {}
            posts: list[dict[str, Any]] = []
            for _ in range(max_posts if due else 0):
                res = await publish_next(rt, x, at, worker)
                posts.append(res)
                if res["status"] != "posted":
                    break
        return {"mode": "live", "reconciled": reconciled, "posts": posts}
