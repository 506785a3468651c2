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
