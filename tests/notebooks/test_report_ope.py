"""The OPE parts of the bandit diagnostics and reward analysis, built from the seeded simulated history in the
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
    from xbot_core.services.read import analytics

    return analytics.open_source(SIM_HANDLE, simulated=True, url=db_url)


def test_bandit_report_arm_values_and_crossfitted_policies(source: Any) -> None:
    from xbot_core.domain.catalog import ArmCatalog
    from xbot_core.services.read.analytics import Window, active_reward_version
    from xbot_core.services.reporting import report_bandit

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


def test_reward_what_if_is_ope_on_a_fixed_outcome(source: Any) -> None:
    from xbot_core.services.reporting import report_reward

    report = report_reward.build(source, SIM_END, days=7, weights=ACTIVE, seed=7)
    w = report.what_if
    assert w.height == 3 * 2 * 2  # scopes × outcomes (follows, active reward) × weights (active, chosen)
    assert (w["status"] == "ok").all() and (w["excluded (no usable propensity)"] == 0).all()
    for est in ("ips", "snips", "dr"):
        assert (w[f"{est}_low"] <= w[est]).all() and (w[est] <= w[f"{est}_high"]).all()
    # the chosen weights equal the active ones here: the same policy, the same estimates
    for outcome in ("follows per post", "active reward"):
        rows = w.filter(pl.col("outcome") == outcome).partition_by("policy", as_dict=False)
        assert rows[0]["dr"].to_list() == pytest.approx(rows[1]["dr"].to_list(), rel=0.05)
    # doubling every weight doubles the re-scored mean (a yardstick) but not the what-if (a fixed outcome)
    doubled = {k: 2 * v for k, v in ACTIVE.items()}
    other = report_reward.build(source, SIM_END, days=7, weights=doubled, seed=7)
    rescored = dict(zip(other.rescored["weights"], other.rescored["re-scored mean"], strict=True))
    assert rescored["chosen weights"] == pytest.approx(2 * rescored["active weights"])
    follows = other.what_if.filter(pl.col("outcome") == "follows per post")
    by_policy = dict(zip(follows["policy"] + follows["scope"], follows["dr"], strict=True))
    for scope in ("content_type", "hook_pattern", "timing_slot"):
        ratio = (
            by_policy[f"bandit fitted on chosen weights{scope}"]
            / by_policy[f"bandit fitted on active weights{scope}"]
        )
        assert 0.7 < ratio < 1.3, (scope, ratio)
    # per-arm values are in the reward report too
    assert (report.arm_values["status"] == "ok").all() and report.arm_values.height == 14


ACTIVE = {"w_fpki": 0.5, "w_retweet": 0.3, "w_reply": 0.15, "w_novelty": 0.05, "w_dup_penalty": -0.1}
