"""The OPE parts of the bandit diagnostics and reward analysis, built from a seeded simulated history in the
real test database: per-arm values beside naive means, cross-fitted targets, experiment posts included."""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl
import pytest

from tests.plugins.notebooks import SIM_END, SIM_HANDLE

pytestmark = [pytest.mark.db, pytest.mark.slow]


@pytest.fixture(scope="module")
def source(db_url: str, sim_history: dict[str, Any]):  # type: ignore[no-untyped-def]
    from xbot_core.services import analytics

    return analytics.open_source(SIM_HANDLE, simulated=True, url=db_url)


def test_bandit_report_arm_values_and_crossfitted_policies(source: Any) -> None:
    from xbot_core.domain.catalog import ArmCatalog
    from xbot_core.services import report_bandit
    from xbot_core.services.analytics import Window, active_reward_version

    report = report_bandit.build(source, SIM_END, days=14, seed=7)
    values = report.arm_values
    catalog = ArmCatalog()
    assert values.height == sum(len(catalog.arms(s)) for s in ("content_type", "hook_pattern", "timing_slot"))
    assert (values["status"] == "ok").all() and (values["excluded (no usable propensity)"] == 0).all()
    played = values.filter(pl.col("n") > 0)
    for name in ("ips", "aipw", "shrunk"):
        assert (played[f"{name}_low"] <= played[name]).all() and (
            played[name] <= played[f"{name}_high"]
        ).all()
    assert (values["days"] == 14).all()
    # shrinkage pulls the scope's AIPW values together
    for scope in ("content_type", "hook_pattern", "timing_slot"):
        s = played.filter(pl.col("scope") == scope)
        assert s["shrunk"].std() <= s["aipw"].std()
    ope = report.ope
    policies = set(ope["policy"])
    assert {"Thompson (fitted on other days)", "greedy (fitted on other days)", "uniform"} <= policies
    assert (ope["status"] == "ok").all()
    # every post with a reward is used, experiment posts (days 9–12 of 14) included
    posts = report_bandit.load_posts(source, Window.days_ending(SIM_END, 14), active_reward_version(source))
    scored = posts.filter(pl.col("reward").is_not_null())
    assert scored.filter(pl.col("experiment_id").is_not_null()).height > 0
    assert set(ope["n"].to_list()) == {scored.height}
    assert int(values.filter(pl.col("scope") == "content_type")["n"].sum()) == scored.height
    assert np.isfinite(ope["dr"].to_numpy()).all()
