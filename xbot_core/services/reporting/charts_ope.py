"""Altair charts of off-policy estimates: per-arm values beside the naive means, and the reward what-if."""

from __future__ import annotations

import altair as alt
import polars as pl

ESTIMATE_LABELS = {
    "naive mean": "naive mean (exact)",
    "aipw": "AIPW (estimate)",
    "shrunk": "shrunk AIPW (estimate)",
}


def arm_estimates(
    table: pl.DataFrame, title: str = "Always this arm: naive mean vs off-policy estimates"
) -> alt.FacetChart:
    """Per scope and arm: the AIPW interval (rule) with the naive mean, AIPW and shrunk AIPW as points."""
    data = table.filter(pl.col("aipw").is_not_null()).rename(ESTIMATE_LABELS)
    base = alt.Chart().encode(y=alt.Y("arm:N", title=None, sort=None))
    rule = base.mark_rule().encode(x=alt.X("aipw_low:Q", title="mean reward per post"), x2="aipw_high:Q")
    points = (
        base.transform_fold(list(ESTIMATE_LABELS.values()), as_=["estimate", "value"])
        .mark_point(size=55)
        .encode(
            x=alt.X("value:Q", title="mean reward per post"),
            color=alt.Color("estimate:N", title=None),
            shape=alt.Shape("estimate:N", title=None),
            tooltip=["arm:N", "estimate:N", alt.Tooltip("value:Q", format=".4f"), "n:Q"],
        )
    )
    # no arm with an interval yet (one post each): points only, as all-null ends give Vega an infinite extent
    layers = (rule, points) if data["aipw_low"].is_not_null().any() else (points,)
    return (
        alt.layer(*layers, data=data)
        .properties(width=380, height=alt.Step(18))
        .facet(row=alt.Row("scope:N", title=None), title=title)
        .resolve_scale(y="independent")
    )
