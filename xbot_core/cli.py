"""The `xbot` command line: one Typer app mounting one module per area (xbot_core/commands/)."""

from __future__ import annotations

import logging
import sys

import typer

from xbot_core.commands import api, budget, db, generate, learn, reward, sandbox, x
from xbot_core.errors import XbotError

app = typer.Typer(
    help="Run and study an X growth account. Embedded defaults need no configuration.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(x.app, name="x")
app.add_typer(reward.app, name="reward")
app.command("sandbox")(sandbox.sandbox)
app.command("generate")(generate.generate)
app.command("budget")(budget.budget)
app.command("learn")(learn.learn)
app.command("api")(api.serve)


def main() -> None:
    """Entry point: configuration and domain errors become one clear line and exit code 2."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    try:
        app()
    except XbotError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
