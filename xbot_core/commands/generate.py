"""`xbot generate --count N`: the plan step — plan N decisions (bandit + experiments), write posts."""

from __future__ import annotations

from typing import Annotated

import typer

from xbot_core.commands.account import AccountOption


def generate(
    count: Annotated[
        int, typer.Option("--count", "-n", min=1, max=200, help="Decisions to plan and write.")
    ] = 1,
    topic: Annotated[
        list[str] | None,
        typer.Option("--topic", help="Topic to write about (repeatable; default built-in list)."),
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Planner seed (default: random).")] = None,
    account: AccountOption = None,
) -> None:
    """Plan, generate, validate and queue posts; prints one line per decision and the day's LLM budget."""
    from xbot_core.services import steps, wiring
    from xbot_core.services.operations.budget import budget_status
    from xbot_core.settings import get_settings

    with wiring.open_deps(get_settings(), account) as deps:
        report = steps.plan_step(deps, count=count, seed=seed, topics=tuple(topic) if topic else None)
        for d, r in zip(report.planned, report.results, strict=True):
            arms = f"{d.content_type}/{d.hook_pattern}/{d.timing_slot}"
            if r.status == "queued":
                assert r.features is not None
                typer.echo(
                    f"queued  {r.decision_id} {arms} at {d.scheduled_at.isoformat(timespec='minutes')} "
                    f"novelty={r.features.novelty:.3f} readability={r.features.readability_score:.1f} "
                    f"sentiment={r.features.sentiment:+.3f}"
                )
                typer.echo("        " + (r.content or "").replace("\n", " / "))
            else:
                typer.echo(f"skipped {r.decision_id} {arms}: {r.skip_reason}")
        b = budget_status(deps.pool, deps.settings, deps.now())
    typer.echo(
        f"{report.queued} of {len(report.results)} queued; LLM budget {b.budget_day}: "
        f"used {b.used_usd} USD of {b.limit_usd}, remaining {b.remaining_usd}"
    )
    if report.queued == 0:
        raise typer.Exit(1)
