"""`xbot import x-analytics PATH... --account HANDLE [--as-of YYYY-MM-DD] [--classify rules|llm]`: bring real
history in."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer

from xbot_core.errors import ConfigError
from xbot_core.settings import get_settings

app = typer.Typer(help="Import real history: X's own analytics exports.", no_args_is_help=True)


@app.command("x-analytics")
def x_analytics(
    paths: Annotated[list[Path], typer.Argument(help="Export files (CSV; either format X has offered).")],
    account: Annotated[str, typer.Option("--account", help="The X handle the exports belong to.")],
    as_of: Annotated[
        str | None,
        typer.Option(
            "--as-of",
            help="Day the exports were taken, YYYY-MM-DD; default the end date in X's file name, else today.",
        ),
    ] = None,
    classify: Annotated[
        str,
        typer.Option(
            "--classify",
            help="Content types by `rules` (default: the history rules) or `llm`: labelled through the "
            "budgeted LLM client (XBOT_OPENAI_*; a budget reservation per call), cached per text so a "
            "re-import costs nothing.",
        ),
    ] = "rules",
) -> None:
    """Import X analytics exports (legacy 'Tweet activity' or current 'content') as the account's real
    history; all or nothing, idempotent, a later --as-of adds a later read."""
    import psycopg

    from xbot_core.adapters.db.connection import database_url
    from xbot_core.services.operations.imports import import_exports

    if classify not in ("rules", "llm"):
        raise ConfigError(f"--classify must be rules or llm, got {classify!r}")
    day = None
    if as_of is not None:
        try:
            day = date.fromisoformat(as_of)
        except ValueError:
            raise ConfigError(f"--as-of must be a date YYYY-MM-DD, got {as_of!r}") from None
    settings = get_settings()
    with psycopg.connect(database_url(settings)) as conn:
        result = import_exports(
            conn,
            paths,
            handle=account,
            x_base_url=settings.x_base_url,
            default_timezone=settings.timezone,
            as_of=day,
            today=datetime.now(ZoneInfo(settings.timezone)).date(),
        )
    for f in result.files:
        skipped = f", {f.skipped_without_id} rows without an id skipped" if f.skipped_without_id else ""
        typer.echo(f"{f.path}: {f.rows} posts ({f.format} export), as of {f.as_of}{skipped}")
    typer.echo(result.message)
    if classify == "llm":
        from xbot_core.adapters.db.connection import open_pool
        from xbot_core.services import wiring
        from xbot_core.services.operations.classify import classify_account

        with open_pool(database_url(settings), max_size=2) as pool:
            llm = wiring.budgeted_llm(pool, settings, result.account_id)
            typer.echo(classify_account(pool, llm, result.account_id).message)
