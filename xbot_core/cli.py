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
    imports,
    lab,
    learn,
    ops,
    plan,
    report,
    reward,
    sandbox,
    serve,
    server,
    x,
)
from xbot_core.errors import XbotError

try:  # typer >= 0.20 vendors click; its usage errors are not click's
    from typer._click.exceptions import ClickException, NoArgsIsHelpError, UsageError
except ImportError:  # pragma: no cover
    from click.exceptions import (  # type: ignore[assignment]
        ClickException,
        NoArgsIsHelpError,
        UsageError,
    )

app = typer.Typer(
    help="Run and study an X growth account. Embedded defaults need no configuration.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
app.add_typer(db.app, name="db")
app.add_typer(x.app, name="x")
app.add_typer(reward.app, name="reward")
app.add_typer(sandbox.app, name="sandbox")
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
app.add_typer(imports.app, name="import")
app.add_typer(plan.app, name="plan")
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
        rc = app(standalone_mode=False)
    except XbotError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(2)
    except NoArgsIsHelpError as exc:  # `xbot db`: the group's help, as before
        typer.echo(exc.ctx.get_help() if exc.ctx else exc.format_message(), err=True)
        sys.exit(2)
    except UsageError as exc:  # a bad argument: one line naming the command and the argument, no usage box
        names, ctx = [], exc.ctx
        while ctx is not None and ctx.parent is not None:  # the root's name is the program (python -m ...)
            names.append(ctx.info_name or "")
            ctx = ctx.parent
        where = " ".join(["xbot", *reversed(names)])
        typer.echo(f"error: {where}: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(2)
    except ClickException as exc:  # e.g. a file option that cannot be opened
        typer.echo(f"error: {' '.join(exc.format_message().split())}", err=True)
        sys.exit(exc.exit_code or 2)
    except typer.Abort:
        typer.echo("aborted", err=True)
        sys.exit(1)
    sys.exit(rc if isinstance(rc, int) else 0)


if __name__ == "__main__":
    main()
