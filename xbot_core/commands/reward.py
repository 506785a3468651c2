"""`xbot reward show|new|activate`: the versioned reward weights learning and reports use."""

from __future__ import annotations

from typing import Annotated

import typer

from xbot_core.adapters.db.connection import connect, database_url
from xbot_core.services.operations import rewards
from xbot_core.settings import get_settings

app = typer.Typer(help="Reward versions: immutable weights and reference scales.", no_args_is_help=True)

_COLUMNS = (
    "w_fpki",
    "w_retweet",
    "w_reply",
    "w_novelty",
    "w_dup_penalty",
    "scale_fpki",
    "scale_retweet",
    "scale_reply",
    "exposure_cap",
)


@app.command()
def show() -> None:
    """List every reward version; the active one (used by learning and reports) is marked with *."""
    with connect(database_url(get_settings())) as conn:
        versions = rewards.list_versions(conn)
    typer.echo("  version " + " ".join(f"{c:>13}" for c in _COLUMNS) + "  created_at            note")
    for v in versions:
        r = v.reward
        created = r.created_at.isoformat(timespec="seconds") if r.created_at else ""
        cells = " ".join(f"{getattr(r, c):>13g}" for c in _COLUMNS)
        typer.echo(f"{'*' if v.is_active else ' '} {r.version:>7} {cells}  {created}  {r.note or ''}")


Weight = Annotated[float | None, typer.Option(help="Weight; default: the active version's.")]
Scale = Annotated[float | None, typer.Option(help="Reference scale (> 0); default: the active version's.")]


@app.command()
def new(
    fpki: Weight = None,
    retweet: Weight = None,
    reply: Weight = None,
    novelty: Weight = None,
    dup_penalty: Annotated[
        float | None, typer.Option(help="Penalty weight (≤ 0); default: active's.")
    ] = None,
    scale_fpki: Scale = None,
    scale_retweet: Scale = None,
    scale_reply: Scale = None,
    exposure_cap: Annotated[
        float | None, typer.Option(help="Impressions at which a post counts fully.")
    ] = None,
    note: Annotated[str | None, typer.Option(help="Why this version exists.")] = None,
    activate: Annotated[bool, typer.Option("--activate", help="Make it the active version.")] = False,
) -> None:
    """Create a new version (weights validated: finite, penalty ≤ 0, at least one positive)."""
    given = {
        "w_fpki": fpki,
        "w_retweet": retweet,
        "w_reply": reply,
        "w_novelty": novelty,
        "w_dup_penalty": dup_penalty,
        "scale_fpki": scale_fpki,
        "scale_retweet": scale_retweet,
        "scale_reply": scale_reply,
        "exposure_cap": exposure_cap,
    }
    values = {k: v for k, v in given.items() if v is not None}
    with connect(database_url(get_settings())) as conn:
        v = rewards.create_version(conn, activate=activate, note=note, **values)
        conn.commit()
    state = "active" if activate else "inactive (activate with `xbot reward activate " + str(v.version) + "`)"
    typer.echo(f"created reward version {v.version}: {state}")


@app.command("activate")
def activate_cmd(version: Annotated[int, typer.Argument(help="Version number to activate.")]) -> None:
    """Make an existing version the active one."""
    with connect(database_url(get_settings())) as conn:
        rewards.activate_version(conn, version)
        conn.commit()
    typer.echo(f"reward version {version} is active")
