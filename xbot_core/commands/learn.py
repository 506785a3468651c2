"""`xbot learn [--simulated]`: recompute rewards, rebuild the bandit posteriors of the configured account."""

from __future__ import annotations

from typing import Annotated

import typer

from xbot_core.adapters.clock import make_clock
from xbot_core.adapters.db.connection import database_url, open_pool
from xbot_core.adapters.db.repositories import ensure_account
from xbot_core.services.learning import learn as learn_service
from xbot_core.settings import get_settings


def learn(
    simulated: Annotated[
        bool, typer.Option("--simulated", help="Learn from simulated outcomes only (else real only).")
    ] = False,
    seed: Annotated[int, typer.Option(min=0, help="Seed of the explore-ratio Monte Carlo.")] = 0,
) -> None:
    """Learn from the account's outcomes (real and simulated are never mixed); needs ≥ 5 outcomes."""
    settings = get_settings()
    with open_pool(database_url(settings), max_size=2) as pool:
        with pool.connection() as conn:
            account_id = ensure_account(
                conn,
                settings.account_handle,
                settings.x_base_url,
                str(settings.session_file),
                settings.timezone,
            )
        result = learn_service(
            pool, account_id, simulated=simulated, now=make_clock(settings).now(), seed=seed
        )
    typer.echo(result.message)
