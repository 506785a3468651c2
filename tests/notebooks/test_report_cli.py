"""`xbot report ...` through its Typer app against the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from tests.plugins.notebooks import SIM_END, SIM_HANDLE

pytestmark = [pytest.mark.db, pytest.mark.notebooks, pytest.mark.slow]


def test_report_daily_command_renders_another_account(
    report_env: Path, sim_history: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    from xbot_core.commands.report import app
    from xbot_core.settings import get_settings

    # the simulated history's account is not the configured one here: --account reaches it through its row
    monkeypatch.setenv("XBOT_ACCOUNT_HANDLE", "agency_main")
    get_settings.cache_clear()
    try:
        day = ["daily", "--date", SIM_END.isoformat(), "--data", "simulated", "--seed", "3"]
        result = CliRunner().invoke(app, [*day, "--account", SIM_HANDLE])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    html = report_env / f"daily_report_{SIM_END.isoformat()}_{SIM_HANDLE}.html"
    assert str(html) in result.output
    lineage = json.loads(html.with_suffix(".json").read_text())
    assert lineage["seed"] == 3 and lineage["parameters"]["simulated"] is True
    assert lineage["account"] == SIM_HANDLE and lineage["parameters"]["account_handle"] == SIM_HANDLE
    snapshot = {row["table_name"]: row["row_count"] for row in lineage["data_snapshot"]}
    assert snapshot["posted_decisions"] == 14 * 16  # that account's data, not agency_main's (none)
    index = (report_env / "index.html").read_text()
    section = index.split(f'id="account-{SIM_HANDLE}"', 1)[1].split("</section>", 1)[0]
    assert f'href="{html.name}"' in section


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
