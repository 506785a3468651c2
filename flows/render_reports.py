"""render_reports: execute the report notebooks for a day and write self-contained HTML to the reports dir."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from prefect import flow, task

from flows.common import IDEMPOTENT
from xbot_core.services import steps, wiring
from xbot_core.settings import get_settings


@task(name="report-step", **IDEMPOTENT)
def render(
    deps: steps.StepDeps, kind: str, day: date | None, start: date | None, seed: int, now: datetime | None
) -> dict[str, Any]:
    return steps.report_step(deps, kind=kind, day=day, start=start, seed=seed, now=now).as_dict()


@flow(name="render_reports")
def render_reports(
    report_date: date | None = None,
    kind: str = "daily",
    experiment_start: date | None = None,
    seed: int = 7,
    now: datetime | None = None,
    account: str | None = None,
) -> dict[str, Any]:
    """Render the `kind` reports (daily | experiment | all) for `report_date` (default: yesterday by the
    clock); the experiment report covers the 7 days from `experiment_start` (default: 6 days before)."""
    with wiring.open_deps(get_settings(), account) as deps:
        return render(deps, kind, report_date, experiment_start, seed, now)
