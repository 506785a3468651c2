"""learn: recompute rewards under the active version and rebuild the bandit posteriors."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any

from prefect import flow, task

from flows.common import IDEMPOTENT
from xbot_core.services import learning
from xbot_core.services.runtime import Runtime, open_runtime


@task(name="learn-from-outcomes", **IDEMPOTENT)
def learn_from_outcomes(rt: Runtime, now: datetime, seed: int) -> dict[str, Any]:
    return asdict(learning.learn(rt.pool, rt.account_id, simulated=rt.simulated, now=now, seed=seed))


@flow(name="learn")
def learn(seed: int = 0, now: datetime | None = None) -> dict[str, Any]:
    """One learning run on the account's outcomes (simulated against the sandbox, real otherwise)."""
    with open_runtime() as rt:
        return learn_from_outcomes(rt, rt.now(now), seed)
