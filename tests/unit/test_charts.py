"""Chart builders and the offline renderer: specs carry what the browser needs, HTML is safe to inline."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import altair as alt
import polars as pl

from xbot_core.services.reporting import charts

ARMS = pl.DataFrame(
    {
        "scope": ["content_type", "content_type", "timing_slot"],
        "arm": ["tip", "story", "morning"],
        "weight": [1.0, 2.0, 1.5],
        "sum_fpki_n": [0.5, 1.0, 0.2],
        "sum_retweet_n": [0.1, 0.2, 0.3],
        "sum_reply_n": [0.0, 0.1, 0.2],
        "sum_novelty": [0.5, 1.0, 0.7],
        "sum_dup_penalty": [0.0, 0.1, 0.0],
    }
)
WEIGHTS = {"w_fpki": 0.5, "w_retweet": 0.3, "w_reply": 0.15, "w_novelty": 0.05, "w_dup_penalty": -0.1}


def test_weights_chart_binds_one_slider_per_weight_shared_by_every_scope() -> None:
    spec = charts.weights_chart(ARMS, WEIGHTS).to_dict()
    params = {p["name"]: p for p in spec["params"]}
    assert set(params) == set(WEIGHTS)
    assert all(p["bind"]["input"] == "range" and p["value"] == WEIGHTS[n] for n, p in params.items())
    assert params["w_dup_penalty"]["bind"]["min"] == -1 and params["w_dup_penalty"]["bind"]["max"] == 0
    assert [c["title"] for c in spec["vconcat"]] == ["content_type", "timing_slot"]
    for sub in spec["vconcat"]:
        calc, agg, ratio = sub["transform"]
        assert all(
            f"w_{k}" in calc["calculate"] for k in ("fpki", "retweet", "reply", "novelty", "dup_penalty")
        )
        assert agg["groupby"] == ["arm"] and ratio["calculate"] == "datum.total / datum.exposure"
        assert sub["encoding"]["y"]["sort"] == "-x"


def test_embed_html_scopes_each_chart_and_escapes_script_end() -> None:
    chart = alt.Chart(pl.DataFrame({"a": ["</script><b>x"]})).mark_point().encode(x="a:N")
    html = charts.embed_html(chart.to_dict())
    assert html.count("</script>") == 1  # only the snippet's own closing tag
    assert html.count('class="xbot-chart"') == 1 and "(function () {" in html
    payload = html.split("const spec = ", 1)[1].split(";\n", 1)[0]
    assert json.loads(payload.replace("<\\/", "</"))["datasets"]


def test_offline_renderer_emits_no_cdn_reference() -> None:
    charts.enable_offline(show_bundle=False)
    bundle = alt.Chart(pl.DataFrame({"x": [1, 2]})).mark_bar().encode(x="x:Q")._repr_mimebundle_()
    html = bundle["text/html"] if isinstance(bundle, dict) else bundle[0]["text/html"]
    assert "cdn" not in html and "https://" not in html.split("const spec", 1)[0]
    assert "vegaEmbed(el, spec" in html


def test_a_chart_with_no_rows_renders_a_sentence_not_an_empty_frame() -> None:
    empty = charts.arm_bars(ARMS.head(0).with_columns(n=pl.lit(0), weighted_reward=pl.lit(0.0)))
    out = charts._render(empty.to_dict())
    assert charts.EMPTY_CHART in out["text/html"] and charts.CHART_CLASS not in out["text/html"]
    drawn = charts._render(
        charts.arm_bars(ARMS.with_columns(n=pl.lit(1), weighted_reward=pl.lit(0.1))).to_dict()
    )
    assert charts.CHART_CLASS in drawn["text/html"] and charts.EMPTY_CHART not in drawn["text/html"]
    assert charts.has_data({"data": {"url": "x.json"}})  # data it cannot see is not judged empty


def test_explore_chart_of_runs_without_an_explore_ratio_is_a_sentence() -> None:
    # the first learning runs of a demo have too little data: status insufficient_data, no explore ratio
    runs = pl.DataFrame(
        {"ran_at": [datetime(2026, 1, 5, 6, tzinfo=UTC), datetime(2026, 1, 6, 6, tzinfo=UTC)]},
    ).with_columns(explore_ratio=pl.Series([None, None], dtype=pl.Float64))
    assert charts.EMPTY_CHART in charts._render(charts.explore_line(runs).to_dict())["text/html"]
    trained = runs.with_columns(explore_ratio=pl.Series([None, 0.69]))
    spec = charts.explore_line(trained).to_dict()
    assert charts.CHART_CLASS in charts._render(spec)["text/html"]
    assert [r["explore_ratio"] for r in next(iter(spec["datasets"].values()))] == [0.69]


def test_arm_estimates_draw_no_interval_rule_when_no_arm_has_one() -> None:
    from xbot_core.services.reporting import charts_ope

    one_post = pl.DataFrame(
        {"scope": ["content_type"] * 2, "arm": ["tip", "story"], "n": [1, 1], "naive mean": [0.1, 0.2]}
    ).with_columns(
        aipw=pl.Series([0.1, 0.3]),
        shrunk=pl.Series([0.1, 0.2]),
        aipw_low=pl.Series([None, None], dtype=pl.Float64),
        aipw_high=pl.Series([None, None], dtype=pl.Float64),
    )

    def marks(frame: pl.DataFrame) -> list[str]:
        layers = charts_ope.arm_estimates(frame).to_dict()["spec"]["layer"]
        return [layer["mark"]["type"] for layer in layers]

    # all-null interval ends made Vega warn 'Infinite extent for field "aipw_low"' on the one-day demo
    assert marks(one_post) == ["point"]
    assert marks(
        one_post.with_columns(aipw_low=pl.Series([None, 0.1]), aipw_high=pl.Series([None, 0.5]))
    ) == [
        "rule",
        "point",
    ]
