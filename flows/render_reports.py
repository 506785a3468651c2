"""render_reports: execute the report notebooks for a day and write self-contained HTML to the reports dir."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from prefect import flow, task

from flows.common import IDEMPOTENT
from xbot_core.services import reports
from xbot_core.services.runtime import Runtime, open_runtime


@task(name="render-reports", **IDEMPOTENT)
def render_kind(rt: Runtime, kind: str, day: date, start: date, seed: int) -> list[str]:
    rendered = reports.render_kind(
        kind, day=day, start=start, simulated=rt.simulated, seed=seed, settings=rt.settings
    )
    return [str(r.html) for r in rendered]


@flow(name="render_reports")
def render_reports(
    report_date: date | None = None,
    kind: str = "daily",
    experiment_start: date | None = None,
    seed: int = 7,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Render the `kind` reports (daily | experiment | all) for `report_date` (default: yesterday by the
    clock); the experiment report covers the 7 days from `experiment_start` (default: 6 days before)."""
    with open_runtime() as rt:
        day = report_date or (rt.now(now).date() - timedelta(days=1))
        start = experiment_start or day - timedelta(days=6)
        paths = render_kind(rt, kind, day, start, seed)
        return {"report_date": day.isoformat(), "kind": kind, "rendered": paths}
