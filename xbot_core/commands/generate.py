"""`xbot generate --count N`: plan N decisions (bandit + experiments) and generate their posts."""

from __future__ import annotations

from typing import Annotated

import typer


def generate(
    count: Annotated[
        int, typer.Option("--count", "-n", min=1, max=200, help="Decisions to plan and write.")
    ] = 1,
    topic: Annotated[
        list[str] | None,
        typer.Option("--topic", help="Topic to write about (repeatable; default built-in list)."),
    ] = None,
    seed: Annotated[int | None, typer.Option(min=0, help="Planner seed (default: random).")] = None,
) -> None:
    """Plan, generate, validate and queue posts; prints one line per decision and the day's LLM budget."""
    import numpy as np

    from xbot_core.services.budget import budget_status
    from xbot_core.services.generation import DEFAULT_TOPICS, generate_posts
    from xbot_core.services.planning import plan_posts
    from xbot_core.services.runtime import open_runtime

    with open_runtime() as rt:
        now = rt.now()
        planned = plan_posts(
            rt.pool,
            rt.account_id,
            now=now,
            count=count,
            rng=np.random.default_rng(seed),
            simulated=rt.simulated,
        )
        llm = rt.llm()
        results = generate_posts(
            rt.pool,
            llm,
            planned,
            account_id=rt.account_id,
            now=now,
            simulated=rt.simulated,
            settings=rt.settings,
            topics=tuple(topic) if topic else DEFAULT_TOPICS,
        )
        for d, r in zip(planned, results, strict=True):
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
        b = budget_status(rt.pool, rt.settings, rt.now())
        queued = sum(r.status == "queued" for r in results)
        typer.echo(
            f"{queued} of {len(results)} queued; LLM budget {b.budget_day}: used {b.used_usd} USD of "
            f"{b.limit_usd}, remaining {b.remaining_usd}"
        )
        if queued == 0:
            raise typer.Exit(1)
