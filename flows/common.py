"""What every flow module shares: task options and the retry policy."""

from __future__ import annotations

from typing import Any

from prefect.cache_policies import NO_CACHE

from xbot_core.services.steps import NEEDS_A_PERSON

RETRY_DELAYS = [2, 5, 15]
NOT_RETRIED = NEEDS_A_PERSON  # errors a retry cannot fix


def retry_unless_permanent(task: Any, task_run: Any, state: Any) -> bool:
    """Prefect retry condition: retry a failed idempotent task unless the error needs a person."""
    try:
        state.result()
    except NOT_RETRIED:
        return False
    except Exception:
        return True
    return True


# tasks receive the steps' dependencies (pool, factories): never hash or cache their inputs
IDEMPOTENT: dict[str, Any] = {
    "retries": 3,
    "retry_delay_seconds": RETRY_DELAYS,
    "retry_condition_fn": retry_unless_permanent,
    "cache_policy": NO_CACHE,
}
ONCE: dict[str, Any] = {"retries": 0, "cache_policy": NO_CACHE}
