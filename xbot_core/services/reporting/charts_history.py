"""Altair charts of the history report (offline through charts.py's renderer): the monthly trend of
impressions and follows per 1,000, and each feature level's pooled rate with its 95 % interval."""

from __future__ import annotations

import altair as alt
import polars as pl

from xbot_core.domain.history_analysis import STATUS_OK

_TREND = {
    "impressions_per_post": ("impressions per post", ",.0f"),
    "follows_per_1k": ("follows per 1,000 impressions", ".3f"),
}


def trend_chart(trend: pl.DataFrame) -> alt.HConcatChart | None:
    """Impressions per post and follows per 1,000 impressions by period (None without a trend)."""
    if trend.height == 0:
        return None
    panels = []
    for column, (title, fmt) in _TREND.items():
        data = trend.select("period", column).drop_nulls()
        panels.append(
            alt.Chart(data, title=title)
            .mark_line(point=True)
            .encode(
                x=alt.X("period:T", title=None, axis=alt.Axis(format="%Y-%m")),
                y=alt.Y(f"{column}:Q", title=None, axis=alt.Axis(format=fmt)),
                tooltip=[alt.Tooltip("period:T", format="%Y-%m"), alt.Tooltip(f"{column}:Q", format=fmt)],
            )
            .properties(width=380, height=160)
        )
    return alt.hconcat(*panels)


def level_intervals(table: pl.DataFrame, metric: str, title: str) -> alt.LayerChart | None:
    """One metric's levels with enough data (arms and other features): pooled rate and 95 % interval per
    level (None when no level has enough data: the notebook says so instead)."""
    if table.height == 0:
        return None
    ok = table.filter((pl.col("metric") == metric) & (pl.col("status") == STATUS_OK))
    if ok.height == 0:
        return None
    data = ok.select(
        pl.format("{}: {}", "feature", "level").alias("level"), "posts", "rate", "ci_low", "ci_high"
    )
    base = alt.Chart(data, title=title).encode(y=alt.Y("level:N", title=None, sort=None))
    rule = base.mark_rule().encode(x=alt.X("ci_low:Q", title="rate (95% CI)"), x2="ci_high:Q")
    point = base.mark_point(filled=True, size=60).encode(
        x="rate:Q",
        tooltip=[
            "level",
            "posts",
            alt.Tooltip("rate:Q", format=".4g"),
            alt.Tooltip("ci_low:Q", format=".4g"),
            alt.Tooltip("ci_high:Q", format=".4g"),
        ],
    )
    return (rule + point).properties(width=420, height=alt.Step(18))
