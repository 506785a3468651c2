"""The versioned composite reward: pinned numbers, validation, scalar == Polars to 1e-12."""

from __future__ import annotations

import math

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from xbot_core.domain.reward import DEFAULT_VERSION, RewardVersion, reward, reward_expr, with_rewards
from xbot_core.errors import ConfigError

ROW = {"impressions": 1200, "follows": 3.0, "retweets": 9, "replies": 4, "novelty": 0.6, "dup_penalty": 0.2}


def test_default_weights_are_design_md() -> None:
    v = DEFAULT_VERSION
    assert (v.w_fpki, v.w_retweet, v.w_reply, v.w_novelty, v.w_dup_penalty) == (0.5, 0.3, 0.15, 0.05, -0.1)


def test_pinned_reward_default_version() -> None:
    # by hand: fpki 2.5/2 = 1.25; rt 0.0075/0.01 = 0.75; reply (4/1200)/0.005 = 2/3
    # 0.5·1.25 + 0.3·0.75 + 0.15·(2/3) + 0.05·0.6 − 0.1·0.2 = 0.625 + 0.225 + 0.1 + 0.03 − 0.02 = 0.96
    assert round(reward(DEFAULT_VERSION, **ROW), 5) == 0.96


def test_pinned_reward_other_version() -> None:
    v = RewardVersion(
        version=2,
        w_fpki=0.4,
        w_retweet=0.3,
        w_reply=0.2,
        w_novelty=0.1,
        w_dup_penalty=-0.3,
        scale_fpki=3.0,
        scale_retweet=0.005,
        scale_reply=0.01,
    )
    # by hand: 0.4·(2.5/3) + 0.3·(0.0075/0.005) + 0.2·((4/1200)/0.01) + 0.1·0.6 − 0.3·0.2
    #        = 1/3 + 0.45 + 1/15 + 0.06 − 0.06 = 0.85
    assert round(reward(v, **ROW), 5) == 0.85


def test_a_good_post_has_terms_of_order_one() -> None:
    """The documented reference scales: mid-range good metrics give normalised terms between 0.3 and 3."""
    v = DEFAULT_VERSION
    for fpki, rt, rp in [(1.0, 0.005, 0.003), (2.0, 0.0075, 0.005), (3.0, 0.01, 0.01)]:
        for term in (fpki / v.scale_fpki, rt / v.scale_retweet, rp / v.scale_reply):
            assert 0.3 <= term <= 3.0


@pytest.mark.parametrize(
    "missing", ["impressions", "follows", "retweets", "replies", "novelty", "dup_penalty"]
)
def test_unknown_input_gives_none(missing: str) -> None:
    assert reward(DEFAULT_VERSION, **{**ROW, missing: None}) is None


def test_zero_impressions_gives_none() -> None:
    assert reward(DEFAULT_VERSION, **{**ROW, "impressions": 0}) is None


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"w_fpki": math.nan}, "w_fpki must be a finite number"),
        ({"w_retweet": math.inf}, "w_retweet must be a finite number"),
        ({"w_dup_penalty": 0.1}, "w_dup_penalty is a penalty weight and must be ≤ 0"),
        ({"w_fpki": 0, "w_retweet": 0, "w_reply": 0, "w_novelty": 0}, "at least one of"),
        ({"scale_fpki": 0.0}, "scale_fpki must be > 0"),
        ({"exposure_cap": -5}, "exposure_cap must be > 0"),
        ({"version": 0}, "version must be a positive integer"),
    ],
)
def test_invalid_versions_raise_config_error(changes: dict[str, float], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        RewardVersion(**changes)  # type: ignore[arg-type]


def test_version_is_immutable() -> None:
    with pytest.raises(AttributeError):
        DEFAULT_VERSION.w_fpki = 1.0  # type: ignore[misc]


counts = st.one_of(st.none(), st.integers(min_value=0, max_value=10**7))
unit = st.one_of(st.none(), st.floats(min_value=0, max_value=1))
weights = st.floats(min_value=-5, max_value=5, allow_nan=False)
scales = st.floats(min_value=1e-4, max_value=100, allow_nan=False)


@st.composite
def versions(draw: st.DrawFn) -> RewardVersion:
    return RewardVersion(
        version=draw(st.integers(1, 1000)),
        w_fpki=draw(st.floats(min_value=0.01, max_value=5)),
        w_retweet=draw(weights),
        w_reply=draw(weights),
        w_novelty=draw(weights),
        w_dup_penalty=draw(st.floats(min_value=-5, max_value=0)),
        scale_fpki=draw(scales),
        scale_retweet=draw(scales),
        scale_reply=draw(scales),
        exposure_cap=draw(st.floats(min_value=1, max_value=1e6)),
    )


@settings(max_examples=60, deadline=None)
@given(
    v=versions(),
    rows=st.lists(
        st.fixed_dictionaries(
            {
                "impressions": counts,
                "follows": st.one_of(st.none(), st.floats(min_value=0, max_value=1e5)),
                "retweets": counts,
                "replies": counts,
                "novelty": unit,
                "dup_penalty": unit,
            }
        ),
        min_size=1,
        max_size=30,
    ),
)
def test_scalar_and_polars_agree(v: RewardVersion, rows: list[dict[str, float | None]]) -> None:
    schema = {
        "impressions": pl.Int64,
        "follows": pl.Float64,
        "retweets": pl.Int64,
        "replies": pl.Int64,
        "novelty": pl.Float64,
        "dup_penalty": pl.Float64,
    }
    frame = with_rewards(pl.DataFrame(rows, schema=schema), v)
    assert isinstance(frame, pl.DataFrame)
    for row, got in zip(rows, frame["reward"].to_list(), strict=True):
        want = reward(v, **row)
        if want is None:
            assert got is None
        else:
            assert got is not None
            assert abs(got - want) <= 1e-12 * max(1.0, abs(want))


def test_polars_reward_lazy_and_named_columns() -> None:
    lf = pl.LazyFrame({"imp": [1200], "f": [3.0], "rt": [9], "rp": [4], "nov": [0.6], "dup": [0.2]})
    expr = reward_expr(
        DEFAULT_VERSION,
        impressions="imp",
        follows="f",
        retweets="rt",
        replies="rp",
        novelty="nov",
        dup_penalty="dup",
    )
    assert round(lf.select(expr).collect().item(), 5) == 0.96
