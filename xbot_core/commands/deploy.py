"""`xbot deploy --pool NAME`: every enabled account's flows on a process work pool (README, "Scaling out")."""

from __future__ import annotations

import os
from typing import Annotated

import typer

from xbot_core.commands.serve import _import_flows
from xbot_core.settings import get_settings


def deploy(
    pool: Annotated[str, typer.Option(help="Process work pool to create if missing.")] = "xbot",
) -> None:
    """Create the process work pool and deploy each flow of each enabled account to it from the project
    source: `prefect worker start --pool NAME` on a machine with the project runs them."""
    if not os.environ.get("PREFECT_API_URL"):
        typer.echo("PREFECT_API_URL is not set: xbot server start, then export the URL it prints.", err=True)
        raise typer.Exit(2)
    _import_flows()
    from flows.deploy import deploy_all, ensure_process_pool
    from xbot_core.services.operations.accounts import scheduled

    created = ensure_process_pool(pool)
    typer.echo(f"work pool {pool}: {'created' if created else 'exists'} (type process)")
    accounts = scheduled(get_settings())
    ids = deploy_all(pool, accounts)
    names = ", ".join(a.handle or get_settings().account_handle for a in accounts)
    typer.echo(f"{len(ids)} deployments on pool {pool} for {len(accounts)} account(s): {names}")
    api = os.environ["PREFECT_API_URL"]
    typer.echo(f"run them: PREFECT_API_URL={api} prefect worker start --pool {pool}")
