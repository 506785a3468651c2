"""The experiment report's charts that need no lift: how far each experiment is from its planned n, and the
mature posts' rewards per group (descriptive, no ranking). Rendered offline like every chart (charts.py)."""

from __future__ import annotations

from typing import Any

import altair as alt
import polars as pl

from xbot_core.services.reporting import charts
from xbot_core.services.reporting import report_experiment as rx


def _note(text: str = rx.NO_RESULTS) -> Any:
    from IPython.display import Markdown

    return Markdown(text)


def lifts(report: rx.ExperimentReport) -> Any:
    """The lift intervals of the experiments with enough data; otherwise the sentence why there are none."""
    if not rx.has_results(report):
        return _note()
    return charts.lift_intervals(report.results.filter(pl.col("enough")))


def cumulative(report: rx.ExperimentReport) -> Any:
    """Cumulative lift with its anytime-valid band, for experiments with enough data."""
    return charts.cumulative_lift(report.cumulative) if rx.has_results(report) else _note()


def progress(power: pl.DataFrame) -> Any:
    """Mature posts so far against the planned posts, per experiment (the no-experiment sentence if none)."""
    if power.is_empty():
        return _note(rx.NO_EXPERIMENTS)
    data = power.select(
        "experiment",
        pl.col("mature_posts").alias("mature posts"),
        pl.col("planned_posts").alias("planned posts"),
    )
    base = alt.Chart(data, title="Mature posts against the planned number").encode(
        y=alt.Y("experiment:N", title=None)
    )
    planned = base.mark_bar(color="#dddddd").encode(x=alt.X("planned posts:Q", title="posts"))
    done = base.mark_bar(color="#4c78a8").encode(
        x="mature posts:Q", tooltip=["experiment:N", "mature posts:Q", "planned posts:Q"]
    )
    return (planned + done).properties(width=460, height=alt.Step(28))


def reward_strips(rewards: pl.DataFrame) -> Any:
    """Each mature post's reward by group (point size = exposure weight), one row per experiment."""
    if rewards.is_empty():
        return _note("No mature posts in any experiment yet.")
    return (
        alt.Chart(rewards, title="Reward of each mature post")
        .mark_circle(opacity=0.6)
        .encode(
            x=alt.X("reward:Q", title="reward"),
            y=alt.Y("group:N", title=None),
            row=alt.Row("experiment:N", title=None),
            size=alt.Size("exposure_weight:Q", title="exposure weight", scale=alt.Scale(domain=[0, 1])),
            tooltip=["experiment:N", "group:N", alt.Tooltip("reward:Q", format=".3f")],
        )
        .properties(width=420, height=alt.Step(24))
        .resolve_scale(y="independent")
    )
