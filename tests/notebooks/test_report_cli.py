"""`xbot report ...` through its Typer app against the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.plugins.notebooks import SIM_END

pytestmark = [pytest.mark.db, pytest.mark.notebooks, pytest.mark.slow]


def test_report_daily_command_renders_and_indexes(report_env: Path, sim_history: dict[str, Any]) -> None:
    from xbot_core.commands.report import app

    result = CliRunner().invoke(
        app, ["daily", "--date", SIM_END.isoformat(), "--data", "simulated", "--seed", "3"]
    )
    assert result.exit_code == 0, result.output
    html = report_env / f"daily_report_{SIM_END.isoformat()}.html"
    assert str(html) in result.output
    lineage = json.loads(html.with_suffix(".json").read_text())
    assert lineage["seed"] == 3 and lineage["parameters"]["simulated"] is True
    assert f'href="{html.name}"' in (report_env / "index.html").read_text()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["daily", "--date", "2026-13-01"], "--date must be a date"),
        (["daily", "--data", "both"], "--data must be"),
    ],
)
def test_report_command_rejects_bad_input(args: list[str], needle: str) -> None:
    from xbot_core.commands.report import app

    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert needle in str(result.exception)
