"""`xbot plan check` against the test database: the CV comes from the account's own mature posts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import psycopg
import pytest
from typer.testing import CliRunner

from tests.plugins.notebooks import SIM_END, SIM_HANDLE

pytestmark = [pytest.mark.db]


def _mature_rewards(db_url: str) -> tuple[np.ndarray, np.ndarray]:
    """Pass-2 rewards and exposure weights of the simulated account, read straight from Postgres.

    The simulated history scores every outcome under the active reward version (1) and the default exposure
    cap, so its stored reward_composite is the reward the service recomputes.
    """
    with psycopg.connect(db_url) as conn:
        rows = conn.execute(
            """SELECT o.reward_composite, LEAST(1.0, o.impressions / rv.exposure_cap)
                 FROM outcomes o
                 JOIN accounts a USING (account_id)
                 JOIN reward_versions rv ON rv.version = o.reward_version
                WHERE a.handle = %s AND o.collected_pass = 2 AND o.simulated
                  AND o.reward_composite IS NOT NULL""",
            (SIM_HANDLE,),
        ).fetchall()
    arr = np.array(rows, dtype=float)
    return arr[:, 0], arr[:, 1]


def test_plan_check_uses_the_accounts_cv(report_env: Path, sim_history: dict[str, Any], db_url: str) -> None:
    from xbot_core.cli import app
    from xbot_core.domain.stats import mde
    from xbot_core.services import wiring
    from xbot_core.services.read import experiment_power
    from xbot_core.settings import get_settings

    result = CliRunner().invoke(app, ["plan", "check", "--data", "simulated"])
    assert result.exit_code == 0, result.output
    source = wiring.analytics_source(get_settings(), SIM_HANDLE, simulated=True)
    est = experiment_power.account_cv(source)
    assert est.measured and est.posts >= 20
    # independently: the weighted CV of the stored pass-2 rewards of the last 28 days
    x, w = _mature_rewards(db_url)
    mean = np.sum(w * x) / np.sum(w)
    var = np.sum(w * (x - mean) ** 2) / (np.sum(w) - np.sum(w**2) / np.sum(w))
    assert est.posts == len(x)  # 14 days of history, all inside the 28-day window
    assert est.cv == pytest.approx(np.sqrt(var) / mean, rel=1e-6)
    assert (
        f"reward CV {est.cv:.2f} measured on @{SIM_HANDLE}'s {est.posts} mature posts ending {SIM_END}"
        in (result.output)
    )
    m = mde(16 * 0.7, 16 * 0.3, est.cv)
    q = "question_cta: ≈ 4.8 treatment and 11.2 control posts in 2 day(s) can only detect lifts of"
    assert f"{q} ±{100 * m:.0f} %" in result.output
    assert "This plan is a pilot" in result.output


def test_plan_check_without_account_data_states_the_default(
    report_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from xbot_core.cli import app
    from xbot_core.settings import get_settings

    monkeypatch.setenv("XBOT_ACCOUNT_HANDLE", "nobody_here")
    get_settings.cache_clear()
    result = CliRunner().invoke(app, ["plan", "check"])
    get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "no account with handle 'nobody_here'" in result.output
    assert "using 0.6, the simulator's per-post reward sd / mean" in result.output
    assert "±99 %" in result.output  # mde(11.2, 4.8, 0.6) = 0.986


def test_plan_check_rejects_bad_input(tmp_path: Path) -> None:
    from xbot_core.cli import app

    bad = tmp_path / "plan.toml"
    bad.write_text(
        'length_days = 7\nposts_per_day = 8\n[[experiments]]\nname = "x"\nscope = "hook_pattern"\n'
        'treatment_arm = "question_cta"\nshare = 0.3\ndays = [1]\ntarget_mde = -1\n'
    )
    result = CliRunner().invoke(app, ["plan", "check", "--plan", str(bad), "--cv", "0.5"])
    assert result.exit_code != 0 and "target_mde must be a relative lift" in str(result.exception)
    result = CliRunner().invoke(app, ["plan", "check", "--cv", "-1"])
    assert result.exit_code != 0 and "--cv must be a positive number" in str(result.exception)
