"""`xbot report ...` through its Typer app against the test database."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import psycopg
import pytest
from typer.testing import CliRunner

from tests.plugins.notebooks import SIM_END, SIM_HANDLE

pytestmark = [pytest.mark.db, pytest.mark.notebooks, pytest.mark.slow]


def test_report_daily_command_renders_and_indexes_per_account(
    report_env: Path, sim_history: dict[str, Any], db_url: str
) -> None:
    from xbot_core.commands.report import app
    from xbot_core.services import history

    other = "xbot_nb_other"  # a second account with a small simulated history of its own
    cfg = history.HistoryConfig(seed=11, handle=other, end_day=SIM_END, days=3, posts_per_day=4)
    with psycopg.connect(db_url) as conn:
        history.generate(conn, cfg, replace=True)

    day = ["daily", "--date", SIM_END.isoformat(), "--data", "simulated", "--seed", "3"]
    result = CliRunner().invoke(app, day)
    assert result.exit_code == 0, result.output
    second = CliRunner().invoke(app, [*day, "--account", other])
    assert second.exit_code == 0, second.output

    index = (report_env / "index.html").read_text()
    for handle, posts in ((SIM_HANDLE, 14 * 16), (other, 3 * 4)):
        html = report_env / f"daily_report_{SIM_END.isoformat()}_{handle}.html"
        assert str(html) in result.output + second.output
        lineage = json.loads(html.with_suffix(".json").read_text())
        assert lineage["seed"] == 3 and lineage["parameters"]["simulated"] is True
        assert lineage["account"] == handle and lineage["parameters"]["account_handle"] == handle
        snapshot = {row["table_name"]: row["row_count"] for row in lineage["data_snapshot"]}
        assert snapshot["posted_decisions"] == posts  # each page is its own account's data
        # the report is listed in its account's section of the index
        section = index.split(f'id="account-{handle}"', 1)[1].split("</section>", 1)[0]
        assert f'href="{html.name}"' in section
    assert index.index(f'id="account-{SIM_HANDLE}"') > index.index(f'id="account-{other}"')  # sorted


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
