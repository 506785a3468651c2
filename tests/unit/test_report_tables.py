"""Cell formatting for people: percentages with CI ranges, p-values to 3 places, an em dash for missing."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from xbot_core.services.reporting.report_tables import DASH, count, num, pct, pct_range, pvalue, table, when


@pytest.mark.parametrize("missing", [None, math.nan, math.inf])
def test_missing_is_an_em_dash_never_nan_or_zero(missing):
    assert pct(missing) == pct_range(missing, 0.1, 0.2) == pvalue(missing) == num(missing) == DASH
    assert count(missing) == DASH


def test_formats():
    assert pct(0.1234) == "12 %" and pct(0.1234, 1) == "12.3 %" and pct(-0.05, signed=True) == "-5 %"
    assert pct_range(0.12, -0.3, 0.54) == "+12 % (-30 % to +54 %)"
    assert pct_range(0.12, math.nan, 0.54) == "+12 %"
    assert (pvalue(0.04567), pvalue(0.0004), pvalue(1.0)) == ("0.046", "< 0.001", "1.000")
    assert num(1234.5678, 2) == "1,234.57" and count(1234) == "1,234"
    assert when(datetime(2026, 1, 7, 21, 41, tzinfo=UTC)) == "2026-01-07 21:41 UTC" and when(None) == DASH


def test_table_html_has_no_frame_repr():
    html = table([{"a": "1 %", "b": DASH}], "T", ["a note"]).as_raw_html()
    assert "a note" in html and DASH in html and "shape:" not in html and "NaN" not in html
    empty = table([], "T", empty="nothing here yet").as_raw_html()
    assert "nothing here yet" in empty


def test_daily_kpi_formats_by_metric():
    from xbot_core.services.reporting.report_tables_daily import _kpi

    assert _kpi("followers", 1234.0) == "1,234" and _kpi("followers gained today", 3.0) == "+3"
    assert _kpi("followers gained 7d", None) == DASH and _kpi("FPKI 7d", 1.23456) == "1.23"
    assert (
        _kpi("reply rate 7d", 0.00441) == "0.44 %" and _kpi("reply uplift 7d vs previous 7d", -0.1) == "-10 %"
    )
    # counts and shares, not 3-decimal numbers ("incomplete passes 7d 0.000" was on every daily report)
    assert _kpi("incomplete passes 7d", 3.0) == "3" and _kpi("incomplete share 7d", 0.125) == "12.5 %"
    assert _kpi("incomplete share 7d", None) == DASH


def test_the_dash_note_only_under_a_table_that_shows_a_dash():
    with_dash = table([{"a": "1", "b": DASH}], "T").as_raw_html()
    without = table([{"a": "1", "b": "2"}], "T", ["a note"]).as_raw_html()
    missing = table([{"a": "1", "b": None}], "T").as_raw_html()  # sub_missing draws it as a dash
    note = "not computed: too few mature posts"
    assert note in with_dash and note in missing
    assert note not in without and "a note" in without


def test_interval_of_a_missing_end_is_a_dash():
    from xbot_core.services.reporting.report_tables_analysis import interval

    assert interval(0.12, 0.456) == "0.120 to 0.456"
    assert interval(math.nan, 0.4) == interval(0.1, math.inf) == interval(None, 0.4) == DASH


def test_lineage_snapshot_reads_as_times_and_dashes():
    import polars as pl

    from xbot_core.services.reporting.reports import snapshot_rows

    snap = pl.DataFrame(
        {
            "table_name": ["outcomes", "training_runs"],
            "row_count": [104, 0],
            "max_timestamp": [datetime(2026, 1, 11, 22, 57, 0, 123456, tzinfo=UTC), None],
        }
    )
    rows = snapshot_rows(snap).to_dicts()
    # was "2026-01-11 22:57:00.123456+00:00" and, for a table with no rows, the text "None"
    assert [r["max_timestamp"] for r in rows] == ["2026-01-11 22:57:00 UTC", DASH]
    nothing = pl.DataFrame({"table_name": ["outcomes"], "row_count": [0], "max_timestamp": [None]})
    assert snapshot_rows(nothing)["max_timestamp"].to_list() == [DASH]


def test_lineage_footer_has_no_none_and_says_what_empty_means():
    import nbformat

    from xbot_core.services.reporting import reports

    lineage = {
        "report": "history_report_acct",
        "rendered_at": "2026-01-07T00:00:00+00:00",
        "git_commit": "c" * 40,
        "git_dirty": False,
        "seed": None,  # the history report draws nothing at random
        "source": "account acct (real data)",
        "parameters": {"account_handle": "acct", "since": "", "until": "2026-01-06"},
        "data_snapshot": [{"table_name": "outcomes", "row_count": 0, "max_timestamp": DASH}],
        "library_versions": {"polars": "x"},
    }
    html = reports.to_html(nbformat.v4.new_notebook(), lineage)
    footer = html.split('id="lineage"', 1)[1]
    assert "None" not in footer  # was '<td>None</td>' for the seed
    assert "<td>— (no random draws)</td>" in footer
    assert "<th>since</th><td>— (empty: the notebook's default)</td>" in footer
    assert "<th>until</th><td>2026-01-06</td>" in footer


def test_history_tables_read_as_numbers_never_nan_or_0_000():
    import polars as pl

    from xbot_core.services.reporting.history_report import comparisons, markdown_table

    table = pl.DataFrame(
        {
            "metric": ["follows_per_1k"] * 3,
            "status": ["ok"] * 3,
            "feature": ["length_bucket", "weekday", "thread"],
            "level": ["short", "Mon", "single"],
            "posts": [33, 65, 325],
            "rate": [0.063, 0.02, 0.019],
            "ci_low": [-0.014, 0.011, math.nan],
            "ci_high": [0.140, 0.029, 0.028],
            "lift_vs_rest": [2.58, None, -0.22],
            "q_value": [0.577, 0.0002, 0.835],
        }
    )
    rows = comparisons(table, "follows_per_1k").sort("posts").to_dicts()
    # the negative lower end of a rate's delta-method interval is cut at 0; a missing end or lift is a dash
    assert rows[0]["rate (95% CI)"] == "0.063 (0.000 – 0.140)" and rows[0]["vs the other posts"] == "+258%"
    assert rows[1]["vs the other posts"] == DASH and rows[1]["q (BH)"] == "< 0.001"  # was '0.000'
    assert rows[2]["rate (95% CI)"] == f"0.019 ({DASH} – 0.028)"
    md = markdown_table(pl.DataFrame({"follows": [3, None], "rate": [0.5, math.nan]}))
    assert md.splitlines()[2:] == ["| 3 | 0.5 |", f"| {DASH} | {DASH} |"]  # was '|  | nan |'
