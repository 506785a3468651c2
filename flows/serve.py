"""Serve every flow with its schedule from one process: `xbot serve` (or `python -m flows.serve`).

Works against Prefect's local mode (a temporary server in this process) and against a Prefect server
(PREFECT_API_URL): the same deployments, no code change. Scale-out: README, "Scaling out".
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flows.collect_metrics import collect_metrics
from flows.learn import learn
from flows.plan_and_generate import plan_and_generate
from flows.post_due import post_due
from flows.render_reports import render_reports
from xbot_core.services.operations.accounts import Scheduled, scheduled
from xbot_core.settings import get_settings


@dataclass(frozen=True)
class Schedule:
    """One deployment: the flow, its cron and what the schedule means."""

    flow: Any
    cron: str
    note: str


SCHEDULES: tuple[Schedule, ...] = (
    Schedule(plan_and_generate, "0 */4 * * *", "plan and generate every 4 hours"),
    Schedule(post_due, "*/10 * * * *", "post what is due every 10 minutes"),
    Schedule(collect_metrics, "*/10 * * * *", "collect due passes every 10 minutes"),
    Schedule(learn, "15 * * * *", "learn hourly"),
    Schedule(render_reports, "30 0 * * *", "render yesterday's reports daily at 00:30"),
)


def deployments(timezone: str | None = None, accounts: list[Scheduled] | None = None) -> list[Any]:
    """One RunnerDeployment per flow and account, its cron read in the account's time zone.

    The default account's deployments are named after the flow (`learn/learn`) and run with no `account`
    parameter; another account's are named after its handle (`learn/alice`) and pass `account`. With no
    `accounts`, only the default account, in `timezone` (default XBOT_TIMEZONE).
    """
    from prefect.schedules import Cron

    if accounts is None:
        accounts = [Scheduled(None, timezone or get_settings().timezone)]
    return [
        s.flow.to_deployment(
            name=a.handle or s.flow.name,
            schedules=[Cron(s.cron, timezone=a.timezone)],
            description=f"{s.note} ({a.handle or 'default account'})",
            parameters={"account": a.handle} if a.handle else {},
        )
        for a in accounts
        for s in SCHEDULES
    ]


def main(limit: int | None = None) -> None:
    """Serve all deployments until interrupted (flow runs execute in subprocesses of this process)."""
    from prefect import serve

    serve(*deployments(accounts=scheduled(get_settings())), limit=limit)


if __name__ == "__main__":
    main()
