"""The per-arm report table on a small hand-made frame: unusable propensities, naive means, NULL not 0."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from xbot_core.domain.catalog import ArmCatalog
from xbot_core.services.read import arm_values

CATALOG = ArmCatalog(
    content_type=("tip", "story"), hook_pattern=("how_to", "bold_claim"), timing_slot=("morning",)
)


def _posts() -> pl.DataFrame:
    day = [datetime(2026, 1, d, 9, tzinfo=UTC) for d in (1, 1, 2, 2)]
    return pl.DataFrame(
        {
            "decision_id": ["a", "b", "c", "d"],
            "posted_at": day,
            "reward": [0.71, 0.09, 0.3, 0.5],
            "exposure_weight": [1.0, 1.0, 1.0, 1.0],
            "experiment_id": [None, None, 1, 1],
            "content_type": ["tip", "tip", "story", "story"],
            "hook_pattern": ["how_to", "how_to", "how_to", "how_to"],
            "timing_slot": ["morning"] * 4,
            "p_content_type": [0.5, 0.1, 0.5, 0.9],
            "p_hook_pattern": [0.5, 0.5, 0.5, 0.3],
            "p_timing_slot": [1.0] * 4,
            # post d is a treatment post logged before migration 0004: its hook propensity is unusable
            "p_unusable_scope": [None, None, None, "hook_pattern"],
        }
    )


def test_unusable_propensity_is_missing_only_in_its_scope() -> None:
    long = arm_values.long_by_scope(_posts())
    p = {(r["decision_id"], r["scope"]): r["p"] for r in long.iter_rows(named=True)}
    assert p[("d", "hook_pattern")] is None and p[("d", "content_type")] == 0.9
    assert p[("c", "hook_pattern")] == 0.5


def test_always_arm_table_pinned() -> None:
    table = arm_values.always_arm_table(
        arm_values.long_by_scope(_posts()), CATALOG, np.random.default_rng(0), None
    )
    row = {(r["scope"], r["arm"]): r for r in table.iter_rows(named=True)}
    tip, story = row[("content_type", "tip")], row[("content_type", "story")]
    # the same four decisions as tests/unit/test_arm_ope.py: IPS 0.58 / AIPW −0.22 and 0.28889 / 0.37778
    assert (round(tip["ips"], 5), round(tip["aipw"], 5), round(tip["naive mean"], 5)) == (0.58, -0.22, 0.4)
    assert (round(story["ips"], 5), round(story["aipw"], 5)) == (0.28889, 0.37778)
    assert tip["days"] == 2 and tip["excluded (no usable propensity)"] == 0
    # hook_pattern: post d is excluded from the estimate but still counted in the naive mean
    how_to = row[("hook_pattern", "how_to")]
    assert how_to["excluded (no usable propensity)"] == 1 and how_to["n"] == 4
    assert round(how_to["naive mean"], 5) == 0.4
    # (0.71 + 0.09 + 0.3)/0.5 / 3 = 0.73333: IPS of the three usable decisions
    assert round(how_to["ips"], 5) == 0.73333
    # an arm never played: no estimate (NULL), n = 0
    bold = row[("hook_pattern", "bold_claim")]
    assert bold["n"] == 0 and bold["naive mean"] is None and bold["aipw"] is None
