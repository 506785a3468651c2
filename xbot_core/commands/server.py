"""`xbot server start|stop|status`: Prefect's own server, with its UI, on Postgres (README, "Scaling out")."""

from __future__ import annotations

import typer

from xbot_core.adapters import prefect_server
from xbot_core.settings import Settings, get_settings

app = typer.Typer(
    help="Prefect's server: UI on 127.0.0.1:4200, runs stored in Postgres.", no_args_is_help=True
)


def _database_url(settings: Settings) -> str:
    """XBOT_PREFECT_DATABASE_URL, else a database `prefect` on an embedded server of its own (pg_trgm)."""
    if settings.prefect_database_url is not None:
        return prefect_server.check_database_url(settings.prefect_database_url.get_secret_value())
    return prefect_server.start_embedded_database(settings.data_dir / "prefect-pgdata")


def _show(state: prefect_server.ServerState) -> None:
    typer.echo(f"UI:       {state.ui_url}")
    typer.echo(f"API:      {state.api_url}   (export PREFECT_API_URL={state.api_url})")
    typer.echo(f"database: {state.database}")
    typer.echo(f"pid:      {state.pid}   log: {state.log_file}")


@app.command()
def start() -> None:
    """Start the server in the background (reused if it runs) and print where its UI is."""
    settings = get_settings()
    url = _database_url(settings)
    typer.echo("starting the Prefect server (the first start migrates its database; up to a few minutes)")
    state = prefect_server.start(settings.data_dir, url, port=settings.prefect_port)
    typer.echo("Prefect server running")
    _show(state)


@app.command()
def stop() -> None:
    """Stop the server started from this data dir."""
    settings = get_settings()
    was = prefect_server.stop(settings.data_dir)
    typer.echo("stopped" if was else "not running")
    if settings.prefect_database_url is None and prefect_server.stop_embedded_database(
        settings.data_dir / "prefect-pgdata"
    ):
        typer.echo("stopped the Prefect database's embedded server")


@app.command()
def status() -> None:
    """The UI address, the database the server uses (password redacted) and whether it answers."""
    state = prefect_server.read_state(get_settings().data_dir)
    if state is None or not state.running:
        typer.echo("Prefect server: not running (xbot server start)")
        raise typer.Exit(1)
    typer.echo(f"Prefect server: running, {'healthy' if state.healthy else 'NOT answering /api/health'}")
    _show(state)
