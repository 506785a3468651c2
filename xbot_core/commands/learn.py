"""`xbot learn`: recompute rewards, rebuild the configured account's bandit posteriors (learn step)."""

from __future__ import annotations

from typing import Annotated

import typer

from xbot_core.commands.account import AccountOption
from xbot_core.domain.history_prior import DEFAULT_WEIGHT
from xbot_core.errors import ConfigError
from xbot_core.services import steps, wiring
from xbot_core.settings import get_settings


def learn(
    seed: Annotated[int, typer.Option(min=0, help="Seed of the explore-ratio Monte Carlo.")] = 0,
    account: AccountOption = None,
    prior_from_history: Annotated[
        bool,
        typer.Option(
            "--prior-from-history",
            help="Start the real posteriors from the account's imported history (`xbot import x-analytics`): "
            "original posts, arms by the history rules, rewards under the active version. Writes the arms "
            "even before 5 live outcomes exist.",
        ),
    ] = False,
    prior_weight: Annotated[
        float | None,
        typer.Option(
            "--prior-weight",
            help=f"What one history post counts, as a share of a live post (default {DEFAULT_WEIGHT}: ten "
            "history posts weigh one live post, because the history was not randomized and predates the "
            "bot; docs/operations.md). Needs --prior-from-history.",
        ),
    ] = None,
) -> None:
    """Learn from the account's outcomes of the configured data kind (simulated when X is the sandbox, real
    otherwise; the two are never mixed); needs ≥ 5 outcomes."""
    if prior_weight is not None and not prior_from_history:
        raise ConfigError("--prior-weight needs --prior-from-history")
    settings = get_settings()
    weight = None
    if prior_from_history:
        weight = prior_weight if prior_weight is not None else settings.history_prior_weight or DEFAULT_WEIGHT
    with wiring.open_deps(settings, account) as deps:
        result = steps.learn_step(deps, seed=seed, prior_weight=weight)
    typer.echo(result.message)
