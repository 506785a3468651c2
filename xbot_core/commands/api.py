"""`xbot api [--host 127.0.0.1] [--port 8000]`: serve the observability API with uvicorn."""

from __future__ import annotations

from typing import Annotated

import typer

from xbot_core.settings import get_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Bind address; default XBOT_API_HOST (127.0.0.1).")] = None,
    port: Annotated[
        int | None, typer.Option(min=1, max=65535, help="Port; default XBOT_API_PORT (8000).")
    ] = None,
) -> None:
    """Serve the read-only observability API; any non-loopback address needs XBOT_API_TOKEN."""
    import uvicorn

    from xbot_core.api import check_bind, create_app

    settings = get_settings()
    host = host or settings.api_host
    port = port or settings.api_port
    check_bind(host, settings)
    auth = "bearer token required" if settings.api_token is not None else "no token (loopback only)"
    typer.echo(f"xbot api on http://{host}:{port} ({auth}); docs at /docs")
    uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
