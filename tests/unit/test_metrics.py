"""Metric definitions of DESIGN.md, scalar and Polars, with NULL (None) semantics."""

from __future__ import annotations

import polars as pl
import pytest

from xbot_core.domain import metrics as m


def test_pinned_values() -> None:
    # by hand: (10 + 5 + 3) / 1000, 1000·3/1500, 7/1000, 4/800, min(1, 250/1000)
    assert round(m.er(10, 5, 3, 1000), 5) == 0.018
    assert round(m.fpki(3, 1500), 5) == 2.0
    assert round(m.retweet_rate(7, 1000), 5) == 0.007
    assert round(m.reply_rate(4, 800), 5) == 0.005
    assert round(m.exposure_weight(250, 1000), 5) == 0.25
    assert m.exposure_weight(5000, 1000) == 1.0
    assert m.exposure_weight(0, 1000) == 0.0


@pytest.mark.parametrize("impressions", [0, None])
def test_undefined_without_impressions(impressions: int | None) -> None:
    assert m.er(1, 1, 1, impressions) is None
    assert m.fpki(1, impressions) is None
    assert m.retweet_rate(1, impressions) is None
    assert m.reply_rate(1, impressions) is None


def test_unknown_numerator_is_none_not_zero() -> None:
    assert m.fpki(None, 1000) is None
    assert m.er(1, None, 1, 1000) is None
    assert m.exposure_weight(None, 1000) is None


def test_bad_cap_is_rejected() -> None:
    with pytest.raises(ValueError, match="exposure cap"):
        m.exposure_weight(10, 0)


def test_polars_matches_scalar_including_nulls() -> None:
    rows = {
        "impressions": [1000, 0, None, 1500, 250, 4000],
        "likes": [10, 1, 2, None, 3, 40],
        "retweets": [5, 1, 2, 3, 0, 12],
        "replies": [3, 0, 1, 2, 1, 9],
        "follows": [2.0, 1.0, 1.0, 3.0, None, 5.5],
    }
    out = pl.DataFrame(rows).with_columns(
        m.er_expr(), m.fpki_expr(), m.retweet_rate_expr(), m.reply_rate_expr(), m.exposure_weight_expr(1000)
    )
    for r in out.iter_rows(named=True):
        assert r["er"] == m.er(r["likes"], r["retweets"], r["replies"], r["impressions"])
        assert r["fpki"] == m.fpki(r["follows"], r["impressions"])
        assert r["retweet_rate"] == m.retweet_rate(r["retweets"], r["impressions"])
        assert r["reply_rate"] == m.reply_rate(r["replies"], r["impressions"])
        assert r["exposure_weight"] == m.exposure_weight(r["impressions"], 1000)


def test_pooled_rates_are_ratios_of_sums_by_hand() -> None:
    # two posts: 3 follows / 1000 impressions and 1 / 100; pooled 1000·4/1100 = 3.63636, while the mean of
    # the per-post FPKI (3 and 10) would be 6.5: the small post would weigh as much as the large one
    assert round(m.pooled_fpki([3, 1], [1000, 100]), 5) == 3.63636
    assert round(m.pooled_reply_rate([4, 1], [800, 200]), 5) == 0.005  # 5 / 1000
    assert round(m.pooled_er([10, 1], [5, 1], [3, 0], [1000, 100]), 5) == 0.01818  # 20 / 1100


def test_pooled_leaves_out_posts_whose_own_rate_is_undefined() -> None:
    # unknown follows, unknown impressions and 0 impressions add neither events nor impressions
    assert m.pooled_fpki([3, None, 5, 2], [1000, 4000, None, 0]) == 3.0
    assert m.pooled_er([10, None], [5, 1], [3, 1], [1000, 9000]) == 0.018  # the second lacks likes
    assert m.pooled_fpki([None, 1], [1000, 0]) is None
    assert m.pooled_fpki([], []) is None
    with pytest.raises(ValueError):
        m.pooled_fpki([1, 2], [1000])  # counts and impressions of different posts


def test_pooled_polars_matches_scalar() -> None:
    rows = {
        "impressions": [1000, 0, None, 1500, 250, 4000],
        "likes": [10, 1, 2, None, 3, 40],
        "retweets": [5, 1, 2, 3, 0, 12],
        "replies": [3, 0, 1, 2, 1, 9],
        "follows": [2.0, 1.0, 1.0, 3.0, None, 5.5],
    }
    frame = pl.DataFrame(rows)
    got = frame.select(m.pooled_er_expr(), m.pooled_fpki_expr(), m.pooled_reply_rate_expr()).row(
        0, named=True
    )
    assert got["er"] == pytest.approx(
        m.pooled_er(rows["likes"], rows["retweets"], rows["replies"], rows["impressions"])
    )
    assert got["fpki"] == pytest.approx(m.pooled_fpki(rows["follows"], rows["impressions"]))
    assert got["reply_rate"] == pytest.approx(m.pooled_reply_rate(rows["replies"], rows["impressions"]))
    # by hand: follows known with reach on rows 1, 4, 6: 1000·(2 + 3 + 5.5)/(1000 + 1500 + 4000)
    assert round(got["fpki"], 5) == round(1000 * 10.5 / 6500, 5) == 1.61538
    empty = frame.head(0).select(m.pooled_fpki_expr(), m.pooled_er_expr()).row(0, named=True)
    assert empty == {"fpki": None, "er": None}
