"""`xbot sandbox`: serve the local X look-alike, audience simulator and OpenAI-compatible endpoint."""

from __future__ import annotations

import signal
from pathlib import Path
from typing import Annotated

import typer

from xbot_core.errors import ConfigError
from xbot_core.settings import get_settings

app = typer.Typer(
    help="Serve the sandbox (no subcommand), or calibrate its audience to real history.",
    invoke_without_command=True,
)


@app.callback()
def sandbox(
    ctx: typer.Context,
    host: Annotated[str | None, typer.Option(help="Interface to bind (default XBOT_SANDBOX_HOST).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port (default XBOT_SANDBOX_PORT).")
    ] = None,
    seed: Annotated[
        int | None, typer.Option(min=0, max=2**32 - 1, help="Audience seed (default XBOT_SANDBOX_SEED).")
    ] = None,
    state_dir: Annotated[
        Path | None, typer.Option(help="Persist state here and resume it on restart (default: in memory).")
    ] = None,
    latency_ms: Annotated[
        int, typer.Option(min=0, max=60_000, help="Delay of every X page and API call, in ms.")
    ] = 0,
    audience_file: Annotated[
        Path | None,
        typer.Option(
            "--audience",
            "--audience-file",
            help="Audience parameters (default xbot_core/sandbox/audience.toml; `xbot sandbox calibrate` "
            "writes one fitted to real history).",
        ),
    ] = None,
    token_file: Annotated[
        Path | None,
        typer.Option(
            help="Write the per-process admin token here (mode 0600; default "
            "<XBOT_DATA_DIR>/sandbox/admin-token-<port>)."
        ),
    ] = None,
    account: Annotated[
        list[str] | None,
        typer.Option(
            "--account",
            help="Host another account HANDLE or HANDLE:SEED (its own audience seed; default derived from "
            "--seed and the handle). Repeatable.",
        ),
    ] = None,
    allow_remote: Annotated[
        bool,
        typer.Option(
            "--allow-remote", help="Allow binding beyond loopback (the fake X site and /v1 become reachable)."
        ),
    ] = False,
) -> None:
    """Run the sandbox until interrupted: X site at /, admin at /admin, OpenAI-compatible API at /v1."""
    if ctx.invoked_subcommand is not None:
        return
    import uvicorn

    from xbot_core.api import is_local_host
    from xbot_core.sandbox.app import create_app
    from xbot_core.sandbox.config import AUDIENCE_FILE, SandboxConfig, load_audience_config, parse_hosted
    from xbot_core.sandbox.token import (
        admin_token_file,
        new_admin_token,
        remove_admin_token,
        write_admin_token,
    )

    settings = get_settings()
    bind = host or settings.sandbox_host
    if not is_local_host(bind) and not allow_remote:
        raise ConfigError(
            f"refusing to bind the sandbox to {bind!r}: it serves a fake X and an LLM endpoint to anyone "
            "who can reach it; bind 127.0.0.1 or pass --allow-remote (admin stays loopback-only)"
        )
    bind_port = port or settings.sandbox_port
    config = SandboxConfig(
        latency_ms=latency_ms,
        audience=load_audience_config(audience_file or AUDIENCE_FILE),
        accounts=tuple(parse_hosted(spec) for spec in account or ()),
    )
    token = new_admin_token()
    app = create_app(
        config,
        seed=settings.sandbox_seed if seed is None else seed,
        state_dir=state_dir,
        admin_token=token,
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host=bind, port=bind_port, log_level="warning", access_log=False)
    )
    # bound before the token is written: a second sandbox on a taken port must not overwrite the first's file
    sock = server.config.bind_socket()
    path = token_file or admin_token_file(settings.data_dir, bind_port)
    write_admin_token(path, token)
    # uvicorn shuts down gracefully on SIGTERM/SIGINT, then raises the signal again: exit through `finally`
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, _exit_on_signal)
    try:
        server.run(sockets=[sock])
    finally:
        remove_admin_token(path, token)  # a kill -9 leaves it: harmless, its token died with the process


def _exit_on_signal(signum: int, _frame: object) -> None:
    raise SystemExit(128 + signum)


@app.command("calibrate")
def calibrate(
    account: Annotated[str, typer.Option("--account", help="The handle whose imported history is fitted.")],
    out: Annotated[
        Path | None,
        typer.Option(help="Audience file to write (default <XBOT_DATA_DIR>/sandbox/audience-HANDLE.toml)."),
    ] = None,
) -> None:
    """Fit the audience model (lognormal impressions, per-impression rates, follows per 1,000, reply share) to
    the account's imported real history and write an audience file for `xbot sandbox --audience FILE` and
    `xbot demo --audience FILE`. Arms and their ground truth stay the template's."""
    from xbot_core.adapters.db.connection import database_url
    from xbot_core.services.simulation.calibration import calibrate as fit

    settings = get_settings()
    target = out or settings.data_dir / "sandbox" / f"audience-{account}.toml"
    result = fit(database_url(settings), account, target)
    typer.echo(result.message)
