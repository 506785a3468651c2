"""`xbot learn`: recompute rewards, rebuild the configured account's bandit posteriors (learn step)."""

from __future__ import annotations

from typing import Annotated

import typer

from xbot_core.commands.account import AccountOption
from xbot_core.services import steps, wiring
from xbot_core.settings import get_settings


def learn(
    seed: Annotated[int, typer.Option(min=0, help="Seed of the explore-ratio Monte Carlo.")] = 0,
    account: AccountOption = None,
) -> None:
    """Learn from the account's outcomes of the configured data kind (simulated when X is the sandbox, real
    otherwise; the two are never mixed); needs ≥ 5 outcomes."""
    with wiring.open_deps(get_settings(), account) as deps:
        result = steps.learn_step(deps, seed=seed)
    typer.echo(result.message)
