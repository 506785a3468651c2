"""The `xbot` command line: one Typer app mounting one module per area (xbot_core/commands/)."""

from __future__ import annotations

import logging
import os
import sys

# set before anything imports prefect: it must not phone home, and its temporary server needs more than
# its default 20 s to start on a loaded 2-core machine
os.environ.setdefault("DO_NOT_TRACK", "1")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
if sys.argv[1:2] == ["demo"]:  # the progress bar and the summary are the demo's output
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")

import typer

from xbot_core.commands import (
    account,
    api,
    budget,
    db,
    demo,
    deploy,
    generate,
    lab,
    learn,
    ops,
    report,
    reward,
    sandbox,
    serve,
    server,
    x,
)
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
app.command("demo")(demo.demo)
app.command("stop")(ops.stop)
app.command("resume")(ops.resume)
app.command("post")(ops.post)
app.command("collect")(ops.collect)
app.command("serve")(serve.serve)
app.add_typer(server.app, name="server")
app.add_typer(account.app, name="account")
app.command("deploy")(deploy.deploy)
app.add_typer(report.app, name="report")
app.command("lab")(lab.lab)


def main() -> None:
    """Entry point: configuration and domain errors become one clear line and exit code 2."""
    quiet = sys.argv[1:2] == ["demo"]
    logging.basicConfig(
        level=logging.WARNING if quiet else logging.INFO,
        format="%(asctime)s %(levelname)s %(name)s %(message)s",
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request drowns the useful ones
    try:
        app()
    except XbotError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
