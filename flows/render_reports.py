"""render_reports: execute the report notebooks for a day and write self-contained HTML to the reports dir."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from prefect import flow, task

from flows.common import IDEMPOTENT
from xbot_core.services import reports
from xbot_core.services.runtime import Runtime, open_runtime

# notebook -> (kind, stem pattern); a notebook not present yet is skipped with a note, not an error
REPORTS: dict[str, tuple[str, str]] = {
    "daily_report": ("daily", "daily_{date}"),
    "experiment_report": ("experiment", "experiment_{date}"),
}


@task(name="render-report", **IDEMPOTENT)
def render_report(rt: Runtime, notebook: str, report_date: date, days: int, seed: int) -> str:
    kind, stem = REPORTS[notebook]
    spec = reports.ReportSpec(
        notebook=notebook,
        kind=kind,
        stem=stem.format(date=report_date.isoformat()),
        parameters={
            "report_date": report_date.isoformat(),
            "account_handle": rt.settings.account_handle,
            "simulated": rt.simulated,
            "days": days,
            "seed": seed,
        },
    )
    return str(reports.render(spec, settings=rt.settings).html)


@flow(name="render_reports")
def render_reports(
    report_date: date | None = None, days: int = 7, seed: int = 7, now: datetime | None = None
) -> dict[str, Any]:
    """Render every report notebook for `report_date` (default: the last complete day by the clock)."""
    with open_runtime() as rt:
        day = report_date or (rt.now(now).date() - timedelta(days=1))
        rendered: dict[str, str] = {}
        missing: list[str] = []
        for notebook in REPORTS:
            if not (reports.NOTEBOOKS_DIR / f"{notebook}.ipynb").is_file():
                missing.append(notebook)
                continue
            rendered[notebook] = render_report(rt, notebook, day, days, seed)
        return {"report_date": day.isoformat(), "rendered": rendered, "missing": missing}
