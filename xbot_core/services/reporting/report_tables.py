"""Report tables for people: great_tables over Polars, static HTML with no frame repr, no NaN, no dtype rows.

Numbers become text here (percentages with their CI as a range, p-values to 3 places); a missing value is an
em dash explained by a source note; the decision cell is coloured and the rule is printed under the table.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import polars as pl
from great_tables import GT, loc, style

from xbot_core.services.reporting import report_experiment as rx

DASH = "—"
DASH_NOTE = f"{DASH} not computed: too few mature posts, or no value to show (never a zero)."
DECISION_COLOURS = {
    rx.SHIP: "#c8e6c9",
    rx.ROLL_BACK: "#ffcdd2",
    rx.KEEP_TESTING: "#fff3c4",
    rx.NOT_ENOUGH: "#e0e0e0",
}


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and not math.isfinite(x))


def pct(x: float | None, digits: int = 0, signed: bool = False) -> str:
    if _missing(x):
        return DASH
    assert x is not None
    return f"{100 * x:{'+' if signed else ''}.{digits}f} %"


def pct_range(x: float | None, low: float | None, high: float | None, digits: int = 0) -> str:
    """'+12 % (−30 % to +54 %)'."""
    if _missing(x):
        return DASH
    head = pct(x, digits, signed=True)
    if _missing(low) or _missing(high):
        return head
    return f"{head} ({pct(low, digits, True)} to {pct(high, digits, True)})"


def pvalue(p: float | None) -> str:
    if _missing(p):
        return DASH
    assert p is not None
    return "< 0.001" if p < 0.001 else f"{p:.3f}"


def num(x: float | None, digits: int = 3) -> str:
    if _missing(x):
        return DASH
    assert x is not None
    return f"{x:,.{digits}f}"


def count(x: float | None) -> str:
    return DASH if _missing(x) else f"{int(x):,}"  # type: ignore[arg-type]


def when(x: datetime | None) -> str:
    return DASH if x is None else x.strftime("%Y-%m-%d %H:%M UTC")


def table(
    rows: Sequence[dict[str, str]], title: str, notes: Sequence[str] = (), empty: str = "nothing to show yet"
) -> GT:
    """A GT of already formatted text cells; an empty table says why in one row. The dash is explained under
    the table only when a cell shows one."""
    frame = pl.DataFrame(list(rows), infer_schema_length=None) if rows else pl.DataFrame({" ": [empty]})
    gt = GT(frame).tab_header(title=title).sub_missing(missing_text=DASH)
    dashed = any(v is None or v == DASH for r in rows for v in r.values())
    for note in (*notes, DASH_NOTE) if dashed else notes:
        gt = gt.tab_source_note(note)
    return gt


def colour_decisions(gt: GT, frame_rows: Sequence[dict[str, str]], column: str = "decision") -> GT:
    for decision, colour in DECISION_COLOURS.items():
        rows = [i for i, r in enumerate(frame_rows) if r.get(column) == decision]
        if rows:
            gt = gt.tab_style(
                style=[style.fill(color=colour), style.text(weight="bold")],
                locations=loc.body(columns=column, rows=rows),
            )
    return gt


# ---- the experiment report's tables ----


def power_table(report: rx.ExperimentReport) -> GT:
    rows = [
        {
            "experiment": r["experiment"],
            "share": pct(r["share"]),
            "target MDE": pct(r["target_mde"]),
            "planned posts": count(r["planned_posts"]),
            "mature posts (control / treatment)": f"{r['mature_posts']} ({r['mature_control']} / "
            f"{r['mature_treatment']})",
            "MDE now": pct(r["mde"]),
            "power at target": pct(r["power_at_target"]),
            "still maturing": f"{r['maturing_posts']} ({pct(r['maturing_share'])})"
            if r["maturing_posts"]
            else "none",
            "all mature by": when(r["mature_by"]),
            "status": rx.not_enough_text(r["more_posts"], r["more_days"])
            if not r["enough"]
            else "enough data",
        }
        for r in report.power.iter_rows(named=True)
    ]
    return table(
        rows,
        "Planned vs achieved: can this experiment decide anything yet?",
        [
            f"Planned posts: what the target MDE needs at 80 % power, α = 0.05, two-sided, at the reward CV "
            f"{report.cv.cv:.2f} ({report.cv.note}).",
            "MDE now: the smallest relative lift the mature posts so far would detect with 80 % power.",
            "Only posts whose T+24h pass is stored count; posts still maturing are left out until then.",
        ],
    )


def arms_table(report: rx.ExperimentReport) -> GT:
    rows = [
        {
            "experiment": r["experiment"],
            "variant": r["arm"],
            "assigned": count(r["assigned"]),
            "mature": count(r["mature"]),
            "weighted reward": num(r["weighted_reward"]),
            "FPKI": num(r["FPKI"], 2),
            "ER": pct(r["ER"], 2),
            "reply rate": pct(r["reply rate"], 2),
            "on the treatment arm": pct(r["on_treatment_arm"]) if r["variant"] == "control" else "all",
        }
        for r in report.arms.iter_rows(named=True)
    ]
    return table(
        rows,
        "Per variant (mature posts)",
        [
            f"Control is the {rx.CONTROL_LABEL}: the bandit may pick the treatment arm for control posts too "
            "(the last column), so the comparison is treatment vs the policy, not vs the other arms."
        ],
    )


def results_table(report: rx.ExperimentReport) -> GT:
    rows = [
        {
            "experiment": r["experiment"],
            "reward lift (95 % CI)": pct_range(r["lift"], r["ci_low"], r["ci_high"]),
            "adjusted lift (95 % CI)": pct_range(r["adjusted_lift"], r["adjusted_low"], r["adjusted_high"]),
            "randomization p": pvalue(r["p_randomization"]),
            "Welch p": pvalue(r["p_welch"]),
            "chance to win": pct(r["chance_to_win"]),
            "risk of shipping": pct(r["expected_loss"], 1),
            "anytime-valid 95 % CI": pct_range(r["lift"], r["av_low"], r["av_high"]),
            "SRM p": pvalue(r["srm_p"]),
            "decision": r["decision"],
        }
        for r in report.results.iter_rows(named=True)
    ]
    gt = table(
        rows,
        "Lift, p-values and the decision",
        [
            rx.DECISION_RULE,
            "Randomization p: the share of re-drawn assignments (the plan's hash rule at its share) whose "
            "reward difference is as large as the observed one; exact at small n, half of the decision rule.",
            "Adjusted lift: the same comparison with followers at post time, the other scopes' arms and the "
            "weekday as covariates (weighted least squares, HC2 robust errors).",
            "Chance to win and risk: Student t posterior of the reward difference (pooled, flat prior); "
            "risk is the relative loss expected from shipping.",
        ],
    )
    return colour_decisions(gt, rows)


def guardrails_table(report: rx.ExperimentReport) -> GT:
    rows = [
        {
            "experiment": r["experiment"],
            "guardrail": r["metric"],
            "bandit policy": num(r["control"], 2) if r["metric"] == "FPKI" else pct(r["control"], 2),
            "treatment": num(r["treatment"], 2) if r["metric"] == "FPKI" else pct(r["treatment"], 2),
            "relative change (95 % CI)": pct_range(r["lift"], r["ci_low"], r["ci_high"]),
        }
        for r in report.guardrails.iter_rows(named=True)
    ]
    return table(
        rows,
        "Guardrails",
        [
            "Ratio metrics from sums over posts (post as the cluster), CIs by the delta method; shown only "
            "for experiments with enough data."
        ],
        empty="no experiment has its planned number of mature posts yet",
    )
