"""`xbot demo`: the main job — the simulated 7-day experiment end to end on the embedded defaults."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xbot_core.settings import get_settings


def demo(
    days: Annotated[int, typer.Option(min=1, max=60, help="Simulated days of the plan.")] = 7,
    seed: Annotated[
        int, typer.Option(min=0, max=2**32 - 1, help="Seed of the sandbox audience and the bandit.")
    ] = 7,
    fresh: Annotated[
        bool, typer.Option("--fresh", help="Forget the demo's data and start day 1 again.")
    ] = False,
    posts_per_day: Annotated[int, typer.Option(min=1, max=24, help="Decisions planned per day.")] = 8,
    reports: Annotated[bool, typer.Option("--reports/--no-reports", help="Render the HTML reports.")] = True,
    audience: Annotated[
        Path | None,
        typer.Option(
            "--audience",
            help="Sandbox audience file (default the template; `xbot sandbox calibrate` fits one to real "
            "history).",
        ),
    ] = None,
    x_backend: Annotated[
        str | None,
        typer.Option(help="browser or api (default XBOT_X_BACKEND): how the sandbox X is reached."),
    ] = None,
) -> None:
    """Run the default 7-day plan on virtual time: sandbox X via Chromium, sandbox LLM, real flows and DB.

    Without --fresh it continues where the data stands; all of it is marked simulated.
    """
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from xbot_core.demo.driver import DemoConfig, run_demo

    config = DemoConfig(
        days=days,
        seed=seed,
        fresh=fresh,
        posts_per_day=posts_per_day,
        render_reports=reports,
        audience_file=audience,
    )
    with Progress(
        TextColumn("simulated days"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        transient=False,
    ) as progress:
        task = progress.add_task("starting", total=days)
        base = get_settings()
        if x_backend is not None:
            if x_backend not in ("browser", "api"):
                raise typer.BadParameter(f"--x-backend {x_backend!r}: expected browser or api")
            base = base.model_copy(update={"x_backend": x_backend})
        result = run_demo(
            base,
            config,
            on_day=lambda done, total, note: progress.update(task, completed=done, description=note),
        )
    s = result.summary
    typer.echo(f"plan {result.start} → {result.end} ({result.days_run} days) on {result.sandbox_url}")
    typer.echo(
        f"decisions {s['decisions']}: posted {s['posted']}, skipped {s['skipped']}, failed {s['failed']}, "
        f"still queued {s['queued']}; outcomes pass 1 {s['pass1']}, pass 2 {s['pass2']}; "
        f"learning runs {s['trainings']}; follower growth {s['follower_growth']}"
    )
    typer.echo(f"results fingerprint {result.digest} (the same plan and seed give the same)")
    split = ", ".join(f"{k} {v:.1f} s" for k, v in sorted(result.times.seconds.items()))
    typer.echo(f"wall time {result.times.total:.1f} s: {split}")
    if result.reports:
        typer.echo("reports:")
        for path in result.reports:
            typer.echo(f"  {path}")
