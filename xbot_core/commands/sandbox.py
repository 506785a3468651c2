"""`xbot sandbox`: serve the local X look-alike, audience simulator and OpenAI-compatible endpoint."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from xbot_core.settings import get_settings


def sandbox(
    host: Annotated[str | None, typer.Option(help="Interface to bind (default XBOT_SANDBOX_HOST).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default XBOT_SANDBOX_PORT).")] = None,
    seed: Annotated[int | None, typer.Option(help="Audience seed (default XBOT_SANDBOX_SEED).")] = None,
    state_dir: Annotated[
        Path | None, typer.Option(help="Persist state here and resume it on restart (default: in memory).")
    ] = None,
    latency_ms: Annotated[int, typer.Option(min=0, help="Delay of every X page and API call, in ms.")] = 0,
    audience_file: Annotated[
        Path | None, typer.Option(help="Audience parameters (default xbot_core/sandbox/audience.toml).")
    ] = None,
) -> None:
    """Run the sandbox until interrupted: X site at /, admin at /admin, OpenAI-compatible API at /v1."""
    import uvicorn

    from xbot_core.sandbox.app import create_app
    from xbot_core.sandbox.config import AUDIENCE_FILE, SandboxConfig, load_audience_config

    settings = get_settings()
    config = SandboxConfig(
        latency_ms=latency_ms, audience=load_audience_config(audience_file or AUDIENCE_FILE)
    )
    app = create_app(config, seed=settings.sandbox_seed if seed is None else seed, state_dir=state_dir)
    uvicorn.run(
        app,
        host=host or settings.sandbox_host,
        port=port or settings.sandbox_port,
        log_level="warning",
        access_log=False,
    )
