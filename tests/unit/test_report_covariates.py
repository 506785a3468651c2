"""The experiment report's covariates: other scopes' arms and weekday, full rank, no singleton levels."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from xbot_core.services.report_experiment import covariates


def test_covariates_drop_the_experiment_scope_singletons_and_collinear_levels():
    monday, tuesday = datetime(2026, 1, 5, 9, tzinfo=UTC), datetime(2026, 1, 6, 9, tzinfo=UTC)
    frame = pl.DataFrame(
        {
            "variant": ["control", "treatment", "control", "treatment", "control", "control"],
            "content_type": ["a", "a", "b", "b", "c", "a"],
            "hook_pattern": ["q", "q", "x", "x", "q", "x"],  # the experiment's scope: never a covariate
            "timing_slot": ["m", "m", "e", "e", "m", "e"],  # 'e' differs from content_type 'b': kept
            "posted_at": [monday, monday, tuesday, tuesday, monday, tuesday],  # Tuesday = 'e': collinear
        }
    )
    x = covariates(frame, "hook_pattern")
    assert x.shape == (6, 1)  # 'c' has one post; timing_slot 'e' would leave post 6 alone; weekday = 'e'
    assert x[:, 0].tolist() == [0, 0, 1, 1, 0, 0]
    frame = pl.concat([frame, frame])  # twice each post: 'c' and 'e' are kept, weekday still duplicates 'e'
    x = covariates(frame, "hook_pattern")
    assert x.shape == (12, 3)
    assert [x[:6, i].tolist() for i in range(3)] == [
        [0, 0, 1, 1, 0, 0],
        [0, 0, 0, 0, 1, 0],
        [0, 0, 1, 1, 0, 1],
    ]
    design = np.column_stack([np.ones(12), (frame["variant"] == "treatment").to_numpy(), x])
    assert np.linalg.matrix_rank(design) == design.shape[1]


def test_a_column_that_pins_one_post_is_dropped():
    frame = pl.DataFrame(
        {
            "variant": ["control", "treatment"] * 4,
            "content_type": ["a", "a", "a", "a", "a", "a", "b", "b"],
            "hook_pattern": ["q"] * 8,
            "timing_slot": ["m", "m", "m", "m", "m", "m", "m", "e"],  # with 'b' it would leave post 8 alone
            "posted_at": [datetime(2026, 1, 5, 9, tzinfo=UTC)] * 8,
        }
    )
    assert covariates(frame, "hook_pattern").shape == (8, 1)
