"""The `xbot` command line: one Typer app mounting one module per area (xbot_core/commands/)."""

from __future__ import annotations

import logging
import sys

import typer

from xbot_core.commands import db
from xbot_core.errors import XbotError

app = typer.Typer(
    help="Run and study an X growth account. Embedded defaults need no configuration.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")


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
