"""The experiment report's covariates: other scopes' arms and weekday, full rank, no singleton levels."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import polars as pl

from xbot_core.services.reporting.report_experiment import covariates


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


def test_followers_at_post_is_the_last_snapshot_before_it_and_keeps_row_order():
    from xbot_core.services.reporting.report_experiment import with_followers

    t = [datetime(2026, 1, 5, h, tzinfo=UTC) for h in (8, 9, 10, 11)]
    posts = pl.DataFrame({"decision_id": ["late", "early", "unposted"], "posted_at": [t[3], t[1], None]})
    snapshots = pl.DataFrame({"taken_at": [t[0], t[2]], "followers": [100, 120]})
    out = with_followers(posts, snapshots)
    assert out["decision_id"].to_list() == ["late", "early", "unposted"]
    assert out["followers_at_post"].to_list() == [120.0, 100.0, None]


def test_followers_are_the_first_covariate_when_every_post_has_them():
    rng = np.random.default_rng(0)
    n = 20
    frame = pl.DataFrame(
        {
            "variant": ["control", "treatment"] * (n // 2),
            "content_type": ["a"] * n,
            "hook_pattern": ["q"] * n,
            "timing_slot": ["m"] * n,
            "posted_at": [datetime(2026, 1, 5, 9, tzinfo=UTC)] * n,
            "followers_at_post": rng.normal(1000, 50, n),
        }
    )
    x = covariates(frame, "hook_pattern")
    assert x.shape == (n, 1)
    assert np.allclose(x[:, 0], frame["followers_at_post"] - frame["followers_at_post"].mean())
    assert covariates(frame.with_columns(pl.lit(None).alias("followers_at_post")), "hook_pattern").shape == (
        n,
        0,
    )
