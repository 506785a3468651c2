"""The reward analysis' and bandit diagnostics' tables for people (great_tables, see report_tables): numbers
as text to a fixed number of places, intervals as ranges, a missing value as an em dash, no frame repr."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Any

import polars as pl
from great_tables import GT

from xbot_core.services.reporting.report_tables import DASH, _missing, count, num, table, when

Formatter = Callable[[Any], str]


def cell(value: Any) -> str:
    """A default text for any value: counts with separators, floats to 3 places, times in UTC."""
    if value is None:
        return DASH
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return count(value)
    if isinstance(value, float):
        return num(value)
    if isinstance(value, datetime):
        return when(value)
    return str(value) or DASH


def interval(low: float | None, high: float | None, digits: int = 3) -> str:
    """'0.120 to 0.450'; an em dash when either end is unknown."""
    if _missing(low) or _missing(high):
        return DASH
    return f"{num(low, digits)} to {num(high, digits)}"


def frame_table(
    frame: pl.DataFrame,
    title: str,
    columns: Mapping[str, str | tuple[str, ...]],
    *,
    formats: Mapping[str, Formatter] | None = None,
    notes: Sequence[str] = (),
    empty: str = "nothing to show yet",
) -> GT:
    """The frame's rows as a table with the given headers {header: column, or (low, high) for a range}."""
    formats = formats or {}
    rows = []
    for r in frame.iter_rows(named=True):
        row = {}
        for header, col in columns.items():
            if isinstance(col, tuple):
                row[header] = interval(r.get(col[0]), r.get(col[1]))
            else:
                row[header] = formats.get(header, cell)(r.get(col))
        rows.append(row)
    return table(rows, title, notes, empty=empty)


# ---- reward analysis ----

ARM_COLUMNS = {"scope": "scope", "arm": "arm", "posts": "n", "weighted reward": "weighted_reward"}


def reward_arms_table(arms: pl.DataFrame) -> GT:
    return frame_table(
        arms,
        "Reward per arm (active version)",
        {**ARM_COLUMNS, "FPKI": "fpki", "ER": "er"},
        formats={"FPKI": lambda v: num(v, 2), "ER": lambda v: num(v, 4)},
        notes=[
            "Exposure-weighted means over the window's posts (each post weighs min(1, impressions / cap))."
        ],
    )


def arm_values_table(arm_values: pl.DataFrame) -> GT:
    return frame_table(
        arm_values,
        "Always this arm: naive mean and off-policy estimates",
        {
            "scope": "scope",
            "arm": "arm",
            "posts": "n",
            "naive mean": "naive mean",
            "IPS": "ips",
            "SNIPS": "snips",
            "AIPW": "aipw",
            "AIPW 95 % CI": ("aipw_low", "aipw_high"),
            "shrunk AIPW": "shrunk",
            "shrunk 95 % CI": ("shrunk_low", "shrunk_high"),
            "no usable propensity": "excluded (no usable propensity)",
            "status": "status",
        },
        notes=["The naive mean is exact arithmetic; IPS, SNIPS and (shrunk) AIPW are estimates."],
    )


def versions_table(versions: pl.DataFrame) -> GT:
    """Each arm's rank within its scope under every stored reward version, one column per version."""
    if versions.is_empty():
        return table([], "Rank of each arm under every reward version")
    wide = versions.pivot(on="version", index=["scope", "arm"], values="rank").sort("scope", "arm")
    names = [c for c in wide.columns if c not in ("scope", "arm")]
    return frame_table(
        wide,
        "Rank of each arm under every reward version",
        {"scope": "scope", "arm": "arm", **{f"v{n}": n for n in names}},
        notes=["1 = the best arm of its scope under that version; every version re-scores the same posts."],
    )


def rescored_table(rescored: pl.DataFrame) -> GT:
    weights = ("w_fpki", "w_retweet", "w_reply", "w_novelty", "w_dup_penalty")
    return frame_table(
        rescored,
        "Re-scored mean (exact arithmetic, not a policy value)",
        {
            "weights": "weights",
            **{w: w for w in weights},
            "posts": "posts",
            "re-scored mean": "re-scored mean",
        },
        formats={w: lambda v: num(v, 2) for w in weights},
    )


def what_if_table(what_if: pl.DataFrame) -> GT:
    return frame_table(
        what_if,
        "What-if: off-policy estimates (95 % bootstrap intervals)",
        {
            "scope": "scope",
            "outcome": "outcome",
            "policy": "policy",
            "posts": "posts",
            "logged mean": "logged mean",
            "IPS": "ips",
            "SNIPS": "snips",
            "DR": "dr",
            "DR 95 % CI": ("dr_low", "dr_high"),
            "effective sample size": "ess",
            "no usable propensity": "excluded (no usable propensity)",
            "status": "status",
        },
        formats={"effective sample size": lambda v: num(v, 1)},
    )


def ranking_table(ranked: pl.DataFrame) -> GT:
    """rank_arms' result: each arm's reward under the slider weights, best first per scope."""
    return frame_table(
        ranked,
        "Arms ranked under the slider weights",
        {"scope": "scope", "rank": "rank", "arm": "arm", "posts": "n", "reward": "reward"},
        formats={"reward": lambda v: num(v, 4)},
    )


# ---- bandit diagnostics ----


def posteriors_table(current: pl.DataFrame) -> GT:
    if not current.is_empty():
        current = current.with_columns(posterior_mean=pl.col("alpha") / (pl.col("alpha") + pl.col("beta")))
    return frame_table(
        current,
        "Current posteriors (stored)",
        {
            "scope": "scope",
            "arm": "arm",
            "alpha": "alpha",
            "beta": "beta",
            "posterior mean": "posterior_mean",
            "pulls": "pulls",
            "updated": "updated_at",
        },
        empty="no bandit arms stored yet (the first learning run creates them)",
    )


def calibration_table(summary: pl.DataFrame) -> GT:
    columns: dict[str, str] = {c: c for c in summary.columns}
    return frame_table(summary, "Pass-1 → pass-2 calibration", columns)


def ope_table(ope: pl.DataFrame) -> GT:
    return frame_table(
        ope,
        "Off-policy value of alternative policies",
        {
            "scope": "scope",
            "policy": "policy",
            "posts": "n",
            "SNIPS": "snips",
            "SNIPS 95 % CI": ("snips_low", "snips_high"),
            "DR": "dr",
            "DR 95 % CI": ("dr_low", "dr_high"),
            "effective sample size": "ess",
            "no usable propensity": "excluded (no usable propensity)",
            "status": "status",
        },
        formats={"effective sample size": lambda v: num(v, 1)},
    )
