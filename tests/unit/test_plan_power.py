"""Plan TOML target MDE / posting rate and what each experiment of a plan can detect."""

from __future__ import annotations

import math

import pytest

from xbot_core.domain.experiments import load_plan, parse_plan
from xbot_core.domain.plan_power import (
    DEFAULT_CV,
    PILOT_WARNING,
    describe,
    experiment_power,
    plan_power,
)
from xbot_core.domain.stats import mde, posts_needed, power
from xbot_core.errors import ConfigError
from xbot_core.settings import PROJECT_DIR

DEFAULT_PLAN = PROJECT_DIR / "xbot_core" / "experiments" / "plan_7d.toml"


def _plan(**extra):
    exp = {
        "name": "q",
        "scope": "hook_pattern",
        "treatment_arm": "question_cta",
        "share": 0.3,
        "days": [1, 2],
    }
    exp.update(extra.pop("experiment", {}))
    return {"length_days": 7, "experiments": [exp], **extra}


def test_default_plan_keeps_the_seed_schedule_with_targets():
    plan = load_plan(DEFAULT_PLAN)
    assert plan.posts_per_day == 8
    assert [(e.name, e.share, e.first_day, e.last_day, e.target_mde) for e in plan.experiments] == [
        ("question_cta", 0.3, 3, 4, 0.3),
        ("late_evening_slot", 0.2, 5, 6, 0.3),
    ]


def test_default_plan_is_a_pilot():
    rows = plan_power(load_plan(DEFAULT_PLAN), DEFAULT_CV)
    q, late = rows
    # 2 days × 8 posts: 30 % → 4.8 treated of 16, 20 % → 3.2
    assert (q.expected_posts, q.expected_treatment, q.expected_control) == (16, pytest.approx(4.8), 11.2)
    assert late.expected_treatment == pytest.approx(3.2)
    assert q.mde == mde(11.2, 4.8, 0.6) and round(q.mde, 3) == 0.986
    assert round(late.mde, 3) == 1.130
    assert q.posts_needed == posts_needed(0.3, 0.3, 0.6) and q.days_needed == math.ceil(q.posts_needed / 8)
    assert q.power_at_target == pytest.approx(power(11.2, 4.8, 0.6, 0.3))
    assert q.pilot and late.pilot and not q.reaches_target
    assert "can only detect lifts of ±99 % or more" in describe(q)
    assert f"needs {q.posts_needed} posts (≈ {q.days_needed} days at 8 posts a day" in describe(q)
    assert "pilot" in PILOT_WARNING


def test_a_long_enough_experiment_reaches_its_target():
    n = posts_needed(0.3, 0.5, 0.6)
    days = math.ceil(n / 10)
    p = experiment_power("long", 0.5, days, 10, 0.6, 0.3)
    assert p.reaches_target and not p.pilot and p.days_needed == days
    assert "meets the target of ±30 %" in describe(p)


def test_too_few_posts_to_test():
    p = experiment_power("tiny", 0.1, 1, 4, 0.6, None)
    assert p.mde is None and p.pilot and "too few to test" in describe(p)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_plan(experiment={"target_mde": 0}), "target_mde must be a relative lift"),
        (_plan(experiment={"target_mde": "20%"}), "target_mde must be a relative lift"),
        (_plan(posts_per_day=0), "posts_per_day must be a positive integer"),
        (_plan(posts_per_day=True), "posts_per_day must be a positive integer"),
    ],
)
def test_bad_plan_fields_are_one_clear_error(data, message):
    with pytest.raises(ConfigError, match=message):
        parse_plan(data)


def test_plan_without_rate_needs_one():
    plan = parse_plan(_plan())
    assert plan.posts_per_day is None and plan.experiments[0].target_mde is None
    with pytest.raises(ConfigError, match="no posts_per_day"):
        plan_power(plan, 0.6)
    assert plan_power(plan, 0.6, posts_per_day=12)[0].expected_posts == 24
