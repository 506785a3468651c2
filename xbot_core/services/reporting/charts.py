"""Altair chart builders for the notebooks, and an Altair renderer whose charts draw with no network.

Altair's default output and nbconvert's template load JavaScript from CDNs (ENVIRONMENT.md). Here every
chart is a `<div>` plus a script that calls `vegaEmbed` in its own scope; the Vega bundle
(`vl_convert.javascript_bundle()`) is on the page once: in a rendered report the template puts it in the
head, in JupyterLab `enable_offline()` displays it once (an output the report pipeline drops).
"""

from __future__ import annotations

import functools
import json
import os
import uuid
from importlib import metadata
from pathlib import Path
from typing import Any

import altair as alt
import polars as pl

RENDERER = "xbot_offline"
BUNDLE_MARK = "xbot_vega_bundle"  # output metadata key of the Lab-only bundle output
CHART_CLASS = "xbot-chart"
TERM_LABELS = {
    "fpki_n": "FPKI (normalised)",
    "retweet_n": "retweet rate (normalised)",
    "reply_n": "reply rate (normalised)",
    "novelty": "novelty",
    "dup_penalty": "duplicate penalty",
}


def embed_html(spec: dict[str, Any]) -> str:
    """One chart as a div + a scoped script; waits for the bundle if it is not loaded yet."""
    div = f"xbot-chart-{uuid.uuid4().hex}"
    payload = json.dumps(spec).replace("</", "<\\/")
    return (
        f'<div id="{div}" class="{CHART_CLASS}"></div>\n'
        "<script>(function () {\n"
        f"  const spec = {payload};\n"
        f'  const el = document.getElementById("{div}");\n'
        '  const draw = () => vegaEmbed(el, spec, {actions: false, renderer: "svg"})'
        '.catch((e) => console.error("chart failed", e));\n'
        "  if (window.vegaEmbed) { draw(); }\n"
        "  else { (window.xbotVegaQueue = window.xbotVegaQueue || []).push(draw); }\n"
        "})();</script>"
    )


EMPTY_CHART = "Nothing to draw: no data for this chart in the window."


def has_data(spec: dict[str, Any]) -> bool:
    """Whether any dataset of a Vega-Lite spec has a row (a chart of nothing draws an empty, broken frame:
    Vega logs `viewBox` errors for a facet with no rows)."""
    datasets = spec.get("datasets")
    if datasets is None:
        return True  # data given inline or by URL: nothing to judge
    return any(len(rows) for rows in datasets.values())


def _render(spec: dict[str, Any], **_: Any) -> dict[str, str]:
    if not has_data(spec):
        return {
            "text/html": f'<p class="xbot-empty-chart"><em>{EMPTY_CHART}</em></p>',
            "text/plain": EMPTY_CHART,
        }
    return {"text/html": embed_html(spec), "text/plain": "<chart>"}


@functools.cache
def vega_bundle() -> str:
    """vl_convert.javascript_bundle(), cached on disk per vl-convert version (building it takes seconds), in
    the user's cache folder (platformdirs: ~/.cache/xbot on Linux): a build product, not account data."""
    import platformdirs
    import vl_convert

    version = metadata.version("vl-convert-python")
    path = Path(platformdirs.user_cache_dir("xbot")) / f"vega-bundle-{version}.js"
    if path.is_file():
        return path.read_text(encoding="utf-8")
    bundle = vl_convert.javascript_bundle()  # type: ignore[call-arg]  # the stub marks optional args required
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".{os.getpid()}.tmp")
    tmp.write_text(bundle, encoding="utf-8")
    tmp.replace(path)
    return bundle


def bundle_loader_html() -> str:
    """Loads the Vega bundle once per page (guarded: re-running the cell does not redeclare it)."""
    source = json.dumps(vega_bundle()).replace("</", "<\\/")
    return (
        "<script>(function () {\n"
        "  if (!window.vegaEmbed) {\n"
        '    const s = document.createElement("script");\n'
        f"    s.text = {source};\n"
        "    document.head.appendChild(s);\n"
        "  }\n"
        "  (window.xbotVegaQueue || []).splice(0).forEach((f) => f());\n"
        "})();</script>"
    )


def enable_offline(*, show_bundle: bool = True) -> None:
    """Make Altair charts render offline; in a live kernel also display the bundle once (Lab only)."""
    if RENDERER not in alt.renderers.names():
        alt.renderers.register(RENDERER, _render)
    alt.renderers.enable(RENDERER)
    alt.data_transformers.disable_max_rows()
    if show_bundle:
        from IPython.display import HTML, display

        display(HTML(bundle_loader_html()), metadata={BUNDLE_MARK: True})


# ---- builders ----


def daily_lines(daily: pl.DataFrame, metric: str, title: str, fmt: str = ",.3f") -> alt.Chart:
    """One metric per day as a line with points."""
    return (
        alt.Chart(daily, title=title)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=None, axis=alt.Axis(format="%b %d")),
            y=alt.Y(f"{metric}:Q", title=None, axis=alt.Axis(format=fmt)),
            tooltip=[alt.Tooltip("day:T"), alt.Tooltip(f"{metric}:Q", format=fmt)],
        )
        .properties(width=260, height=140)
    )


def daily_panel(daily: pl.DataFrame, metrics: dict[str, str]) -> alt.ConcatChart:
    """Small multiples of daily metrics {column: title}."""
    return alt.concat(*(daily_lines(daily, m, t) for m, t in metrics.items()), columns=3)


def followers_line(snapshots: pl.DataFrame) -> alt.Chart:
    return (
        alt.Chart(snapshots, title="Followers")
        .mark_line()
        .encode(x=alt.X("taken_at:T", title=None), y=alt.Y("followers:Q", scale=alt.Scale(zero=False)))
        .properties(width=820, height=160)
    )


def arm_bars(
    arms: pl.DataFrame, value: str = "weighted_reward", title: str = "Reward per arm"
) -> alt.FacetChart:
    """Bars per arm, one row per scope, sorted by value."""
    return (
        alt.Chart(arms)
        .mark_bar()
        .encode(
            y=alt.Y("arm:N", sort="-x", title=None),
            x=alt.X(f"{value}:Q", title=value.replace("_", " ")),
            tooltip=["scope", "arm", "n", alt.Tooltip(f"{value}:Q", format=".4f")],
        )
        .properties(width=420, height=110)
        .facet(row=alt.Row("scope:N", title=None), title=title)
        .resolve_scale(y="independent")
    )


WEIGHT_RANGES: dict[str, tuple[float, float]] = {
    "w_fpki": (0.0, 1.0),
    "w_retweet": (0.0, 1.0),
    "w_reply": (0.0, 1.0),
    "w_novelty": (0.0, 1.0),
    "w_dup_penalty": (-1.0, 0.0),
}
# each weight multiplies the exposure-weighted sum of its term
_WEIGHTED_SUM = (
    "w_fpki * datum.sum_fpki_n + w_retweet * datum.sum_retweet_n + w_reply * datum.sum_reply_n"
    " + w_novelty * datum.sum_novelty + w_dup_penalty * datum.sum_dup_penalty"
)


def weights_chart(arms: pl.DataFrame, weights: dict[str, float]) -> alt.VConcatChart:
    """The interactive weights chart: one slider per reward weight (shared by every scope) recomputes each
    arm's exposure-weighted reward, Σ_k w_k · Σ(w·term_k) / Σ w (exact: the reward is linear in its weights),
    and re-sorts each scope's bars, in the browser with no kernel."""
    params = [
        alt.param(name=n, value=weights[n], bind=alt.binding_range(min=lo, max=hi, step=0.01, name=f"{n} "))
        for n, (lo, hi) in WEIGHT_RANGES.items()
    ]
    charts = []
    for scope in arms["scope"].unique(maintain_order=True).to_list():
        data = arms.filter(pl.col("scope") == scope).select(
            "arm", "weight", "sum_fpki_n", "sum_retweet_n", "sum_reply_n", "sum_novelty", "sum_dup_penalty"
        )
        charts.append(
            alt.Chart(data, title=scope)
            .transform_calculate(weighted_sum=_WEIGHTED_SUM)
            .transform_aggregate(total="sum(weighted_sum)", exposure="sum(weight)", groupby=["arm"])
            .transform_calculate(reward="datum.total / datum.exposure")
            .mark_bar()
            .encode(
                y=alt.Y(
                    "arm:N",
                    sort="-x",
                    title=None,
                ),
                x=alt.X("reward:Q", title="re-scored mean reward under the slider weights (exact)"),
                tooltip=["arm:N", alt.Tooltip("reward:Q", format=".4f")],
            )
            .properties(width=420, height=alt.Step(18))
        )
    return alt.vconcat(*charts).add_params(*params)


def line_by(
    frame: pl.DataFrame, x: str, y: str, color: str, title: str, *, y_title: str | None = None
) -> alt.Chart:
    """Lines of y over x, one per `color` value (posteriors over time, cumulative regret, cumulative lift)."""
    return (
        alt.Chart(frame, title=title)
        .mark_line()
        .encode(
            x=alt.X(f"{x}:T", title=None),
            y=alt.Y(f"{y}:Q", title=y_title or y.replace("_", " ")),
            color=alt.Color(f"{color}:N", title=None),
            tooltip=[color, alt.Tooltip(f"{y}:Q", format=".4f"), alt.Tooltip(f"{x}:T")],
        )
        .properties(width=380, height=180)
    )


def interval_chart(
    frame: pl.DataFrame, label: str, mid: str, low: str, high: str, title: str
) -> alt.LayerChart:
    """Point estimates with interval whiskers (OPE estimates, lifts)."""
    base = alt.Chart(frame, title=title).encode(y=alt.Y(f"{label}:N", title=None))
    rule = base.mark_rule().encode(x=alt.X(f"{low}:Q", title=mid.replace("_", " ")), x2=f"{high}:Q")
    point = base.mark_point(filled=True, size=60).encode(
        x=f"{mid}:Q", tooltip=[label, alt.Tooltip(f"{mid}:Q", format=".4f")]
    )
    return (rule + point).properties(width=420, height=alt.Step(22))


def scatter(frame: pl.DataFrame, x: str, y: str, title: str) -> alt.Chart:
    """A scatter with a y = x reference (pass-1 → pass-2 calibration)."""
    return (
        alt.Chart(frame, title=title)
        .mark_circle(size=18, opacity=0.5)
        .encode(x=alt.X(f"{x}:Q"), y=alt.Y(f"{y}:Q"), tooltip=[x, y])
        .properties(width=300, height=300)
    )


def weights_widget(arms: pl.DataFrame, weights: dict[str, float]) -> Any:
    """JupyterLab only: ipywidgets sliders that re-rank the arms live (the kernel recomputes the ranking)."""
    import ipywidgets as widgets
    from IPython.display import display

    from xbot_core.services.reporting.report_reward import rank_arms
    from xbot_core.services.reporting.report_tables_analysis import ranking_table

    sliders = {
        n: widgets.FloatSlider(
            value=weights[n], min=lo, max=hi, step=0.01, description=n, continuous_update=False
        )
        for n, (lo, hi) in WEIGHT_RANGES.items()
    }
    out = widgets.Output()

    def redraw(_: object = None) -> None:
        ranked = rank_arms(arms, {n: s.value for n, s in sliders.items()})
        out.clear_output(wait=True)
        with out:
            display(ranking_table(ranked))

    for s in sliders.values():
        s.observe(redraw, names="value")
    redraw()
    return widgets.VBox(
        [widgets.HBox(list(sliders.values())[:3]), widgets.HBox(list(sliders.values())[3:]), out]
    )


def per_arm_lines(frame: pl.DataFrame, value: str, title: str) -> alt.FacetChart:
    """A daily value per arm, one panel per scope."""
    return (
        alt.Chart(frame)
        .mark_line(point=True)
        .encode(
            x=alt.X("day:T", title=None),
            y=alt.Y(f"{value}:Q", title=value.replace("_", " ")),
            color=alt.Color("arm:N", title=None),
            tooltip=["scope", "arm", alt.Tooltip("day:T"), alt.Tooltip(f"{value}:Q", format=".3f")],
        )
        .properties(width=260, height=150)
        .facet(column=alt.Column("scope:N", title=None), title=title)
        .resolve_scale(color="independent")
    )


def posterior_bands(posteriors: pl.DataFrame) -> alt.FacetChart:
    """Posterior mean per arm over time with its 90 % interval as a band, one panel per scope."""
    base = alt.Chart().encode(x=alt.X("day:T", title=None), color=alt.Color("arm:N", title=None))
    band = base.mark_area(opacity=0.15).encode(y=alt.Y("low:Q", title="posterior mean"), y2="high:Q")
    line = base.mark_line().encode(y="mean:Q", tooltip=["arm", alt.Tooltip("mean:Q", format=".3f")])
    return (
        alt.layer(band, line, data=posteriors)
        .properties(width=260, height=170)
        .facet(column=alt.Column("scope:N", title=None), title="Posterior mean and 90 % interval")
        .resolve_scale(color="independent")
    )


def explore_line(explore: pl.DataFrame) -> alt.Chart:
    """The explore ratio of each training run that trained (a run with too little data has none: with no
    such run the chart is the empty-chart sentence, not an empty frame)."""
    return (
        alt.Chart(
            explore.filter(pl.col("explore_ratio").is_not_null()), title="Explore ratio per training run"
        )
        .mark_line(point=True)
        .encode(x=alt.X("ran_at:T", title=None), y=alt.Y("explore_ratio:Q", title="explore ratio"))
        .properties(width=520, height=150)
    )


def term_bars(terms: pl.DataFrame) -> alt.FacetChart:
    """Stacked contributions of each reward term per arm (they add up to the arm's reward)."""
    return (
        alt.Chart(terms.with_columns(pl.col("term").replace(TERM_LABELS)))
        .mark_bar()
        .encode(
            y=alt.Y("arm:N", title=None),
            x=alt.X("sum(contribution):Q", title="weight × exposure-weighted term mean"),
            color=alt.Color("term:N", title=None),
            tooltip=["arm", "term", alt.Tooltip("contribution:Q", format=".4f")],
        )
        .properties(width=420, height=alt.Step(16))
        .facet(row=alt.Row("scope:N", title=None), title="Reward terms per arm")
        .resolve_scale(y="independent")
    )


def ope_intervals(ope: pl.DataFrame) -> alt.FacetChart:
    """SNIPS estimate and 95 % bootstrap interval of each alternative policy, one panel per scope."""
    data = ope.filter(pl.col("status") == "ok")
    base = alt.Chart().encode(y=alt.Y("policy:N", title=None, sort=None))
    rule = base.mark_rule().encode(
        x=alt.X("snips_low:Q", title="estimated mean reward (SNIPS)"), x2="snips_high:Q"
    )
    point = base.mark_point(filled=True, size=50).encode(
        x="snips:Q", tooltip=["policy", alt.Tooltip("snips:Q", format=".4f"), "n"]
    )
    return (
        alt.layer(rule, point, data=data)
        .properties(width=380, height=alt.Step(18))
        .facet(row=alt.Row("scope:N", title=None), title="Off-policy value of alternative policies")
        .resolve_scale(y="independent")
    )


def lift_intervals(results: pl.DataFrame) -> alt.LayerChart:
    """Each experiment's reward lift with its Welch CI (thin) and anytime-valid CI (thick)."""
    data = results.filter(pl.col("status") == "ok") if "status" in results.columns else results
    base = alt.Chart(data, title="Relative lift of the exposure-weighted reward").encode(
        y=alt.Y("experiment:N", title=None)
    )
    av = base.mark_rule(size=6, opacity=0.35).encode(
        x=alt.X("av_low:Q", title="lift", axis=alt.Axis(format="%")), x2="av_high:Q"
    )
    welch = base.mark_rule().encode(x="ci_low:Q", x2="ci_high:Q")
    point = base.mark_point(filled=True, size=60).encode(
        x="lift:Q", tooltip=["experiment:N", alt.Tooltip("lift:Q", format=".1%"), "decision:N"]
    )
    zero = alt.Chart(pl.DataFrame({"x": [0.0]})).mark_rule(strokeDash=[4, 4]).encode(x="x:Q")
    return (av + welch + point + zero).properties(width=460, height=alt.Step(28))


def cumulative_lift(cumulative: pl.DataFrame) -> alt.LayerChart:
    """Day-by-day cumulative lift with its anytime-valid band, per experiment."""
    data = cumulative.filter(pl.col("status") == "ok") if "status" in cumulative.columns else cumulative
    base = alt.Chart(data).encode(x=alt.X("day:T", title=None), color=alt.Color("experiment:N", title=None))
    band = base.mark_area(opacity=0.15).encode(
        y=alt.Y("av_low:Q", title="cumulative lift", axis=alt.Axis(format="%")), y2="av_high:Q"
    )
    line = base.mark_line(point=True).encode(
        y="lift:Q", tooltip=["experiment:N", alt.Tooltip("lift:Q", format=".1%")]
    )
    return (band + line).properties(width=460, height=200, title="Cumulative lift (anytime-valid 95 % band)")
