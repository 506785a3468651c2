"""Experiment plans from TOML and deterministic hash assignment."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from xbot_core.domain import experiments as ex
from xbot_core.domain.catalog import TIMING_SLOTS
from xbot_core.errors import ConfigError
from xbot_core.settings import load_settings

DEFAULT_PLAN = load_settings().experiment_plan


def test_default_plan_is_design_md() -> None:
    plan = ex.load_plan(DEFAULT_PLAN)
    assert (plan.length_days, plan.baseline_days, plan.analysis_day) == (7, (1, 2), 7)
    q, late = plan.experiments
    assert (q.name, q.scope, q.treatment_arm, q.share, q.first_day, q.last_day) == (
        "question_cta",
        "hook_pattern",
        "question_cta",
        0.30,
        3,
        4,
    )
    assert (late.name, late.scope, late.treatment_arm, late.share, late.first_day, late.last_day) == (
        "late_evening_slot",
        "timing_slot",
        "late_evening",
        0.20,
        5,
        6,
    )
    assert TIMING_SLOTS[late.treatment_arm] == (20, 22)


def test_windows_are_local_midnights() -> None:
    plan = ex.load_plan(DEFAULT_PLAN)
    (_, qs, qe), (_, ls, le) = plan.windows(date(2026, 3, 27), "Europe/Berlin")
    berlin = ZoneInfo("Europe/Berlin")
    assert qs == datetime(2026, 3, 29, tzinfo=berlin) and qe == datetime(2026, 3, 31, tzinfo=berlin)
    # 29 March 2026 is the DST switch in Berlin: the window is 47 hours, not 48
    assert (qe.astimezone(UTC) - qs.astimezone(UTC)).total_seconds() / 3600 == 47
    assert (ls, le) == (qe, datetime(2026, 4, 2, tzinfo=berlin))


def test_assignment_is_deterministic_and_probability_is_the_share() -> None:
    d = uuid.UUID("12345678-1234-5678-1234-567812345678")
    first = ex.assign(7, 0.3, d)
    assert ex.assign(7, 0.3, d) == first
    assert first.probability == (0.3 if first.variant == "treatment" else 0.7)
    u = ex.assignment_unit(7, d)
    assert 0 <= u < 1 and (first.variant == "treatment") == (u < 0.3)


@pytest.mark.parametrize("share", [0.30, 0.20, 0.05])
def test_shares_over_10000_decisions_within_one_percent(share: float) -> None:
    rnd = random.Random(5)
    ids = [uuid.UUID(int=rnd.getrandbits(128), version=4) for _ in range(10_000)]
    treated = sum(ex.assign(41, share, d).variant == "treatment" for d in ids)
    assert abs(treated / 10_000 - share) < 0.01


def test_assignments_of_two_experiments_are_independent() -> None:
    rnd = random.Random(9)
    ids = [uuid.UUID(int=rnd.getrandbits(128), version=4) for _ in range(10_000)]
    both = sum(ex.assign(1, 0.5, d).variant == ex.assign(2, 0.5, d).variant == "treatment" for d in ids)
    assert abs(both / 10_000 - 0.25) < 0.015


def test_active_experiment() -> None:
    plan = ex.load_plan(DEFAULT_PLAN)
    rows = [
        ex.Experiment(i + 1, s.name, s.scope, s.treatment_arm, s.share, start, end)
        for i, (s, start, end) in enumerate(plan.windows(date(2026, 1, 1)))
    ]
    assert ex.active_experiment(rows, datetime(2026, 1, 2, 12, tzinfo=UTC)) is None
    assert ex.active_experiment(rows, datetime(2026, 1, 3, 0, tzinfo=UTC)).name == "question_cta"  # type: ignore[union-attr]
    assert ex.active_experiment(rows, datetime(2026, 1, 6, 23, tzinfo=UTC)).name == "late_evening_slot"  # type: ignore[union-attr]
    assert ex.active_experiment(rows, datetime(2026, 1, 7, 0, tzinfo=UTC)) is None


GOOD = {"scope": "hook_pattern", "treatment_arm": "question_cta", "share": 0.3, "days": [3, 4]}


@pytest.mark.parametrize(
    ("experiments", "message"),
    [
        (
            [{**GOOD, "name": "x", "treatment_arm": "haiku"}],
            "treatment_arm 'haiku' is not an arm of hook_pattern",
        ),
        ([{**GOOD, "name": "x", "scope": "colour"}], "scope must be one of"),
        ([{**GOOD, "name": "x", "share": 1.2}], "share must be a number in"),
        ([{**GOOD, "name": "x", "days": [6, 8]}], "days must be consecutive"),
        ([{**GOOD, "name": "x", "days": [7, 8]}], "outside the plan"),
        ([{**GOOD, "name": "x"}, {**GOOD, "name": "y", "days": [4, 5]}], "overlap"),
        ([{**GOOD}], "name is required"),
    ],
)
def test_invalid_plans(experiments: list[dict[str, object]], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ex.parse_plan({"length_days": 7, "experiments": experiments})


def test_unreadable_plan_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not found"):
        ex.load_plan(tmp_path / "missing.toml")
    bad = tmp_path / "bad.toml"
    bad.write_text("length_days = [", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML"):
        ex.load_plan(bad)


def test_share_out_of_range_in_assign() -> None:
    with pytest.raises(ConfigError):
        ex.assign(1, 1.0, "d")
