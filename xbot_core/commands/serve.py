"""`xbot serve`: serve every flow with its schedule (flows/serve.py) in this process, local or on a server."""

from __future__ import annotations

import os
import sys
from typing import Annotated

import typer

from xbot_core.settings import PROJECT_DIR


def _import_flows() -> None:
    """The flows live next to the package (flows/); deployments record entrypoints relative to the project."""
    os.chdir(PROJECT_DIR)
    if str(PROJECT_DIR) not in sys.path:
        sys.path.insert(0, str(PROJECT_DIR))


def serve(
    list_only: Annotated[
        bool, typer.Option("--list", help="Print the deployments and schedules; serve nothing.")
    ] = False,
    limit: Annotated[int | None, typer.Option(min=1, help="At most this many concurrent flow runs.")] = None,
) -> None:
    """Serve each flow on its schedule for every enabled account (crons in the account's time zone).

    Without PREFECT_API_URL Prefect runs a temporary local server in this process; with it, the deployments
    register on that server (scale-out: README). Ctrl-C stops.
    """
    _import_flows()
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "xbot")  # the services' [post]/[collect]/... lines
    os.environ.setdefault("DO_NOT_TRACK", "1")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    from flows import serve as flows_serve
    from xbot_core.services.operations.accounts import scheduled
    from xbot_core.settings import get_settings

    settings = get_settings()
    for a in scheduled(settings):
        for s in flows_serve.SCHEDULES:
            name = f"{s.flow.name}/{a.handle or s.flow.name}"
            who = a.handle or settings.account_handle
            typer.echo(f"{name:<32} cron '{s.cron}' ({a.timezone})  {s.note}  @{who}")
    if list_only:
        return
    flows_serve.main(limit=limit)
