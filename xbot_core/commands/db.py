"""`xbot db start|stop|status|url|migrate|rollback`: the database and its schema."""

from __future__ import annotations

from typing import Annotated

import typer

from xbot_core.adapters.db import embedded, migrations
from xbot_core.adapters.db.connection import database_url, redact
from xbot_core.settings import get_settings

app = typer.Typer(help="The database: embedded server and schema migrations.", no_args_is_help=True)


def _embedded_only() -> None:
    if get_settings().database_url is not None:
        typer.echo("XBOT_DATABASE_URL is set: the embedded server is not used.", err=True)
        raise typer.Exit(2)


@app.command()
def start() -> None:
    """Start the embedded Postgres (reused if it already runs)."""
    _embedded_only()
    url = embedded.start(get_settings().pgdata)
    typer.echo(f"embedded postgres running: {url}")


@app.command()
def stop() -> None:
    """Stop the embedded Postgres."""
    _embedded_only()
    was = embedded.stop(get_settings().pgdata)
    typer.echo("stopped" if was else "not running")


@app.command()
def url() -> None:
    """Print the database URL (password redacted), starting the embedded server if needed."""
    typer.echo(redact(database_url(get_settings())))


@app.command()
def status() -> None:
    """Server state and every migration with its applied time."""
    settings = get_settings()
    if settings.database_url is None:
        st = embedded.status(settings.pgdata)
        typer.echo(
            f"embedded: data={st.pgdata} initialised={st.initialised} running={st.running} pid={st.pid}"
        )
        if not st.running:
            typer.echo("schema: unknown (server not running; `xbot db start`)")
            raise typer.Exit(1)
    db = database_url(settings, start_embedded=False)
    typer.echo(f"url: {redact(db)}")
    states = migrations.status(db)
    applied = [s for s in states if s.applied_at is not None]
    known = sum(not s.missing for s in states)
    typer.echo(f"schema version: {applied[-1].version if applied else 0} of {known}")
    for s in states:
        when = s.applied_at.isoformat(timespec="seconds") if s.applied_at else "pending"
        flag = "  EDITED AFTER APPLY" if s.edited else "  FILES MISSING" if s.missing else ""
        flag += "  (legacy checksum: `xbot db migrate` re-stamps)" if s.legacy else ""
        typer.echo(f"  {s.version:04d}_{s.name}: {when}{flag}")
    bad = [s for s in states if s.edited or s.missing]
    if bad:
        typer.echo(
            f"error: migration history differs from the files ({len(bad)} edited or missing: "
            f"{', '.join(f'{s.version:04d}' for s in bad)})",
            err=True,
        )
        raise typer.Exit(1)


@app.command()
def migrate(to: Annotated[int | None, typer.Option(min=0, help="Stop at this version.")] = None) -> None:
    """Apply pending migrations (each once, in a transaction)."""
    done = migrations.migrate(database_url(get_settings()), to=to)
    typer.echo(f"applied: {', '.join(f'{v:04d}' for v in done)}" if done else "nothing to apply")


@app.command()
def rollback(
    to: Annotated[int, typer.Option(min=0, help="Roll back every migration above this version.")],
) -> None:
    """Roll back migrations newer than --to, newest first."""
    done = migrations.rollback(database_url(get_settings()), to=to)
    typer.echo(f"rolled back: {', '.join(f'{v:04d}' for v in done)}" if done else "nothing to roll back")
