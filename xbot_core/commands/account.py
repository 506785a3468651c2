"""`xbot account add|list|disable|enable`: many accounts on one database, each with its own settings."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xbot_core.adapters.db import accounts_repo
from xbot_core.adapters.db.accounts_repo import NewAccount
from xbot_core.adapters.db.connection import connect, database_url
from xbot_core.services.operations import accounts
from xbot_core.settings import get_settings

# `--account` on every step command: another account's row supplies its settings (default: the configured one)
AccountOption = Annotated[
    str | None, typer.Option("--account", help="Account handle; default XBOT_ACCOUNT_HANDLE.")
]

app = typer.Typer(help="Accounts: each a row with its own settings; the configured one is the default.")


@app.command()
def add(
    handle: Annotated[str, typer.Argument(help="The X handle (1-30 letters, digits, underscores).")],
    x_base_url: Annotated[str | None, typer.Option(help="X site; default XBOT_X_BASE_URL.")] = None,
    session_file: Annotated[
        Path | None, typer.Option(help="Storage-state file; default <data_dir>/session/HANDLE.json.")
    ] = None,
    timezone: Annotated[str | None, typer.Option(help="Time zone of its schedule.")] = None,
    max_posts_per_hour: Annotated[int | None, typer.Option(help="Hourly posting cap.")] = None,
    min_post_interval_s: Annotated[
        int | None, typer.Option(help="Seconds between posts; default the workspace's.")
    ] = None,
    experiment_plan: Annotated[
        Path | None, typer.Option(help="TOML experiment plan; default XBOT_EXPERIMENT_PLAN.")
    ] = None,
    x_backend: Annotated[str | None, typer.Option(help="browser or api; default XBOT_X_BACKEND.")] = None,
    x_api_token_file: Annotated[
        Path | None, typer.Option(help="OAuth token file (0600); default <data_dir>/x_api/HANDLE.json.")
    ] = None,
    reward_version: Annotated[
        int | None, typer.Option(help="Reward version its learning uses; default the active one.")
    ] = None,
    llm_budget_share: Annotated[
        float | None,
        typer.Option(help="Share (0-1] of the daily LLM limit it may spend; default XBOT_LLM_BUDGET_SHARE."),
    ] = None,
) -> None:
    """Add an account (validated; nothing is written on bad input)."""
    settings = get_settings()
    new = NewAccount(
        handle=handle,
        x_base_url=x_base_url or settings.x_base_url,
        session_file=str(session_file or settings.data_dir / "session" / f"{handle}.json"),
        timezone=timezone or settings.timezone,
        max_posts_per_hour=max_posts_per_hour,
        min_post_interval_s=min_post_interval_s,
        experiment_plan=str(experiment_plan.resolve()) if experiment_plan is not None else None,
        x_backend=x_backend,
        x_api_token_file=str(x_api_token_file or settings.data_dir / "x_api" / f"{handle}.json"),
        reward_version=reward_version,
        llm_budget_share=llm_budget_share,
    )
    accounts.validate_new(new)  # before the database is even started
    with connect(database_url(settings)) as conn:
        account_id = accounts.add(conn, new)
    typer.echo(f"account {handle} added (id {account_id}, {new.timezone}, {new.x_base_url})")


@app.command("list")
def list_() -> None:
    """Every account with its own settings (- = the workspace's setting)."""
    settings = get_settings()
    with connect(database_url(settings)) as conn:
        rows = accounts_repo.list_accounts(conn)
    typer.echo(
        f"{'handle':<20} {'enabled':<8} {'timezone':<20} {'posts/h':>7} {'gap s':>6} {'backend':<8} "
        f"{'reward':>6} {'llm share':>9}  x site / plan"
    )
    for r in rows:
        default = "  (default)" if r.handle == settings.account_handle else ""
        typer.echo(
            f"{r.handle:<20} {'yes' if r.enabled else 'no':<8} {r.timezone:<20} "
            f"{_or_dash(r.max_posts_per_hour):>7} {_or_dash(r.min_post_interval_s):>6} "
            f"{r.x_backend or '-':<8} {_or_dash(r.reward_version):>6} {_or_dash(r.llm_budget_share):>9}  "
            f"{r.x_base_url} {r.experiment_plan or '-'}{default}"
        )


def _or_dash(v: float | None) -> str:
    return "-" if v is None else f"{v:g}"


@app.command()
def disable(handle: Annotated[str, typer.Argument(help="The account's handle.")]) -> None:
    """Disable an account: its flows refuse to run and `xbot serve` no longer schedules it."""
    with connect(database_url(get_settings())) as conn:
        accounts.set_enabled(conn, handle, enabled=False)
    typer.echo(f"account {handle} disabled")


@app.command()
def enable(handle: Annotated[str, typer.Argument(help="The account's handle.")]) -> None:
    """Enable a disabled account again."""
    with connect(database_url(get_settings())) as conn:
        accounts.set_enabled(conn, handle, enabled=True)
    typer.echo(f"account {handle} enabled")
