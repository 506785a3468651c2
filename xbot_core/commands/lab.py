"""`xbot lab`: JupyterLab on notebooks/ with the project's kernel registered and the database settings set."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Annotated

import typer

from xbot_core.package_data import NOTEBOOKS_DIR
from xbot_core.settings import PROJECT_DIR, get_settings


def ensure_kernel() -> str:
    """Register this venv's python as the `python3` kernel when missing; returns where it lives."""
    from jupyter_client.kernelspec import KernelSpecManager, NoSuchKernel

    try:
        spec = KernelSpecManager().get_kernel_spec("python3")
        if os.path.realpath(spec.argv[0]) == os.path.realpath(sys.executable):
            return str(spec.resource_dir)
    except NoSuchKernel:
        pass
    subprocess.run(
        [sys.executable, "-m", "ipykernel", "install", "--sys-prefix", "--name", "python3"], check=True
    )
    return str(KernelSpecManager().get_kernel_spec("python3").resource_dir)


def lab(
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port of JupyterLab.")] = 8888,
    browser: Annotated[bool, typer.Option(help="Open a browser.")] = False,
    notebook_dir: Annotated[
        Path | None,
        typer.Option(
            exists=True,
            file_okay=False,
            help="Folder to open instead of the project's notebooks/ (e.g. a copy).",
        ),
    ] = None,
) -> None:
    """Open JupyterLab on notebooks/: every notebook runs top to bottom with no edits."""
    from xbot_core.adapters.db.connection import database_url

    settings = get_settings()
    env = dict(os.environ)
    # the kernels inherit the resolved database (the embedded server is started if needed)
    env["XBOT_DATABASE_URL"] = database_url(settings)
    env.setdefault("XBOT_ACCOUNT_HANDLE", settings.account_handle)
    env["PYTHONPATH"] = os.pathsep.join(p for p in (str(PROJECT_DIR), env.get("PYTHONPATH", "")) if p)
    typer.echo(f"kernel: {ensure_kernel()}")
    cmd = [
        sys.executable,
        "-m",
        "jupyterlab",
        f"--notebook-dir={(notebook_dir or NOTEBOOKS_DIR).resolve()}",
        f"--port={port}",
        "--ServerApp.ip=127.0.0.1",
        "--LabApp.news_url=None",
    ]
    if not browser:
        cmd.append("--no-browser")
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    raise typer.Exit(subprocess.call(cmd, env=env, cwd=PROJECT_DIR))
