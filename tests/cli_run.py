"""Run an `xbot` command in the test process (typer's CliRunner) with XBOT_ settings from the test: no
subprocess, so no second import of the whole CLI (≈ 7 s of CPU each on the CI machine)."""

from __future__ import annotations

from typing import Any

import pytest
from typer.testing import CliRunner, Result


def run_xbot(monkeypatch: pytest.MonkeyPatch, args: list[str], **settings: Any) -> Result:
    """`xbot ARGS` with XBOT_<NAME>=value for each keyword (settings re-read before and after)."""
    from xbot_core.cli import app
    from xbot_core.settings import get_settings

    for name, value in settings.items():
        monkeypatch.setenv(f"XBOT_{name.upper()}", str(value))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, args)
    finally:
        get_settings.cache_clear()
