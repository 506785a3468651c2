"""`xbot plan check [--plan FILE]`: what each experiment of a plan can detect, before it runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xbot_core.errors import ConfigError, DatabaseError
from xbot_core.settings import get_settings

app = typer.Typer(help="Experiment plans: check what they can detect.", no_args_is_help=True)


@app.command()
def check(
    plan: Annotated[
        Path | None, typer.Option("--plan", help="TOML plan; default XBOT_EXPERIMENT_PLAN.")
    ] = None,
    posts_per_day: Annotated[
        float | None, typer.Option(help="Posting rate; default the plan's posts_per_day.")
    ] = None,
    cv: Annotated[
        float | None, typer.Option(help="Reward sd / mean to assume; default the account's own data.")
    ] = None,
    data: Annotated[
        str | None,
        typer.Option("--data", help="simulated or real data for the CV; default as the reports choose."),
    ] = None,
) -> None:
    """Per experiment: expected posts per arm, the MDE at the account's reward CV, what the target needs."""
    from xbot_core.domain.experiments import load_plan
    from xbot_core.domain.plan_power import PILOT_WARNING, describe
    from xbot_core.services import wiring
    from xbot_core.services.read import experiment_power

    settings = get_settings()
    path = plan or settings.experiment_plan
    parsed = load_plan(path)
    if data not in (None, "simulated", "real"):
        raise ConfigError(f"--data must be 'simulated' or 'real', got {data!r}")
    source = None
    if cv is None:
        simulated = settings.x_is_sandbox if data is None else data == "simulated"
        try:
            source = wiring.analytics_source(settings, simulated=simulated)
        except (ConfigError, DatabaseError) as exc:  # no account or no database yet: the stated default
            typer.echo(f"note: {str(exc).splitlines()[0]}")
    estimate, rows = experiment_power.check_plan(parsed, source=source, posts_per_day=posts_per_day, cv=cv)
    typer.echo(f"plan {parsed.name} ({path}), {rows[0].posts_per_day:g} posts a day" if rows else str(path))
    typer.echo(f"{estimate.note}; α = 0.05 two-sided, 80 % power")
    for row in rows:
        typer.echo(f"- {describe(row)}")
    if any(r.pilot for r in rows):
        typer.echo(PILOT_WARNING)
