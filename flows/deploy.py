"""Deploy every flow of every scheduled account to a process work pool, from the project's source.

`prefect worker start --pool NAME` on any machine with the project at the same path and PREFECT_API_URL set
then runs them (README, "Scaling out"). Same names, crons and parameters as `xbot serve` (flows/serve.py).
"""

from __future__ import annotations

from typing import Any

from flows.serve import SCHEDULES
from xbot_core.services.operations.accounts import Scheduled
from xbot_core.settings import PROJECT_DIR


def ensure_process_pool(name: str) -> bool:
    """Create the process work pool `name` if missing; returns whether it was created."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=name, type="process"))
        except ObjectAlreadyExists:
            return False
    return True


def deploy_all(pool: str, accounts: list[Scheduled]) -> list[Any]:
    """One deployment per flow and account on `pool`, loaded from the project source; returns their ids."""
    from prefect import deploy
    from prefect.flows import Flow
    from prefect.schedules import Cron

    deployments = []
    for s in SCHEDULES:
        module = s.flow.fn.__module__.replace(".", "/") + ".py"
        source = Flow.from_source(source=str(PROJECT_DIR), entrypoint=f"{module}:{s.flow.fn.__name__}")
        for a in accounts:
            deployments.append(
                source.to_deployment(  # type: ignore[union-attr]
                    name=a.handle or s.flow.name,
                    schedules=[Cron(s.cron, timezone=a.timezone)],
                    description=f"{s.note} ({a.handle or 'default account'})",
                    parameters={"account": a.handle} if a.handle else {},
                )
            )
    # from_source/to_deployment/deploy are sync here (no running event loop): Prefect's sync_compatible
    # types them as "value or coroutine"
    ids = deploy(
        *deployments,  # type: ignore[arg-type]
        work_pool_name=pool,
        print_next_steps_message=False,
        ignore_warnings=True,
    )
    return list(ids)  # type: ignore[arg-type]
