"""The simulated history follows the live domain rules: plan, assignment, override, propensity, learning."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from xbot_core.domain.bandit import Observation, fit_scope
from xbot_core.domain.catalog import SCOPES
from xbot_core.domain.experiments import assign
from xbot_core.domain.reward import DEFAULT_VERSION
from xbot_core.errors import ConfigError
from xbot_core.services.simulation import history_sim as hs

SMALL = hs.HistoryConfig(seed=11, handle="hist_unit", end_day=date(2026, 1, 7), days=8, posts_per_day=6)
WIDE = hs.HistoryConfig(seed=3, handle="hist_wide", end_day=date(2026, 1, 7), days=7, posts_per_day=400)


@pytest.fixture(scope="module")
def wide() -> pl.DataFrame:
    return hs.simulate(WIDE)[0]


def test_plan_days_and_assignment_use_the_domain_rules(wide: pl.DataFrame) -> None:
    # 7 days = the whole default plan: question_cta on days 3–4, late_evening_slot on 5–6 (0-based 2–5)
    by_day = dict(wide.group_by("day").agg(pl.col("experiment").unique()).iter_rows())
    assert {d: sorted(v, key=str) for d, v in by_day.items()} == {
        0: [None], 1: [None], 2: ["question_cta"], 3: ["question_cta"],
        4: ["late_evening_slot"], 5: ["late_evening_slot"], 6: [None],
    }  # fmt: skip
    in_exp = wide.filter(pl.col("experiment").is_not_null())
    for row in in_exp.iter_rows(named=True):
        expected = assign(f"sim:{row['experiment']}", row["experiment_share"], row["decision_id"]).variant
        assert row["variant"] == expected
        assert row["policy"] == ("experiment" if expected == "treatment" else "thompson")
    treated = in_exp.filter(pl.col("variant") == "treatment")
    assert set(treated.filter(pl.col("experiment") == "question_cta")["hook_pattern"]) == {"question_cta"}
    assert set(treated.filter(pl.col("experiment") == "late_evening_slot")["timing_slot"]) == {"late_evening"}
    share = treated.height / in_exp.height  # 800 decisions at 0.3, 800 at 0.2: expected 0.25, sd ≈ 0.011
    assert abs(share - 0.25) < 0.04


@pytest.mark.parametrize(
    ("day", "scope", "arm", "share"),
    [(2, "hook_pattern", "question_cta", 0.3), (4, "timing_slot", "late_evening", 0.2)],
)
def test_control_can_draw_the_treatment_arm_and_every_post_logs_the_marginal(
    wide: pl.DataFrame, day: int, scope: str, arm: str, share: float
) -> None:
    rows = wide.filter(pl.col("day") == day)
    t_rows = rows.filter(pl.col(scope) == arm)
    # the old generator never let control draw T and logged `share` for treatment
    assert t_rows.filter(pl.col("variant") == "control").height > 0
    (p_t,) = set(t_rows[f"p_{scope}"].round(12))  # one marginal for T, whatever the variant
    assert p_t > share
    per_arm = rows.group_by(scope).agg(pl.col(f"p_{scope}").round(12).unique())
    assert all(len(v) == 1 for v in per_arm[f"p_{scope}"])
    # share·1[a = T] + (1 − share)·π_b(a) summed over all arms = share + (1 − share) = 1
    assert per_arm.height == len(WIDE.catalog.arms(scope))
    assert round(sum(v[0] for v in per_arm[f"p_{scope}"]), 9) == 1.0
    # the bandit part: (p_a)/(1 − share) for a ≠ T and (p_T − share)/(1 − share) form π_b, inside [0, 1]
    pi_t = (p_t - share) / (1 - share)
    assert 0 < pi_t < 1
    product = rows.select(pl.col("p_content_type") * pl.col("p_hook_pattern") * pl.col("p_timing_slot"))
    assert np.allclose(product.to_series().to_numpy(), rows["propensity"].to_numpy(), rtol=1e-12)


def test_exploration_follows_the_domain_schedule() -> None:
    _, runs, _, _ = hs.simulate(SMALL)
    # lag 2: day d has learned 6·(d − 1) outcomes per scope, ε = 0.20 − 0.15·n/100
    assert runs["outcomes_used"].to_list() == [0, 0, 6, 12, 18, 24, 30, 36]
    assert [round(e, 5) for e in runs["explore_ratio"]] == [
        0.2,
        0.2,
        0.191,
        0.182,
        0.173,
        0.164,
        0.155,
        0.146,
    ]


def test_final_posteriors_equal_the_scalar_rule_over_the_learned_posts() -> None:
    posts, _, _, states = hs.simulate(SMALL)
    learned = posts.filter(pl.col("day") < SMALL.days - SMALL.learn_lag_days)
    scored = hs.pass_outcomes(learned, 2, DEFAULT_VERSION).join(
        learned.select("decision_id", *SCOPES), on="decision_id"
    )
    for scope in SCOPES:
        obs = [
            Observation(r["decision_id"], r[scope], 2, r["reward"], r["exposure_weight"])
            for r in scored.iter_rows(named=True)
        ]
        expected = fit_scope(scope, SMALL.catalog.arms(scope), obs, SMALL.bandit)
        for got, want in zip(states[scope], expected, strict=True):
            assert got.arm == want.arm and got.pulls == want.pulls
            assert got.alpha == pytest.approx(want.alpha, abs=1e-9)
            assert got.beta == pytest.approx(want.beta, abs=1e-9)
            assert got.sum_reward == pytest.approx(want.sum_reward, abs=1e-9)


def test_same_seed_same_history_and_a_short_history_has_no_experiment() -> None:
    a, b = hs.simulate(SMALL)[0], hs.simulate(SMALL)[0]
    assert a.equals(b)
    short = hs.HistoryConfig(seed=1, handle="hist_short", end_day=date(2026, 1, 7), days=5, posts_per_day=4)
    posts = hs.simulate(short)[0]
    assert short.plan_start is None and posts["experiment"].null_count() == posts.height
    assert SMALL.plan_start == date(2026, 1, 1)


def test_bad_config_is_refused() -> None:
    with pytest.raises(ConfigError, match="learn_lag_days must be ≥ 1"):
        hs.HistoryConfig(learn_lag_days=0)
